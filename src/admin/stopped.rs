//! Where the SMSCs an operator stopped are remembered, so that a stop lasts until `/start`:
//! - with the Redis store, in one Redis set (`{key_prefix}:admin:stopped_smscs`) that every
//!   node reads at start and every [`REDIS_REFRESH`]: the stop holds for the whole cluster;
//! - with the memory store and `[store] state_dir`, in `stopped-smscs.json` there (written to
//!   a temporary file, then renamed): the stop survives a restart of this node;
//! - otherwise nowhere: the stop lasts until this node restarts.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use crate::state_dir::replace_file;
pub use crate::state_dir::Persistence;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::cluster_async::ClusterConnection;

/// How often a node reads the cluster's stopped set (a stop made on another node reaches this
/// one within this bound).
pub const REDIS_REFRESH: Duration = Duration::from_secs(2);

const FILE_NAME: &str = "stopped-smscs.json";

#[derive(Debug, thiserror::Error)]
#[error("the stopped SMSCs could not be recorded: {0}")]
pub struct PersistError(pub String);

#[async_trait::async_trait]
pub trait StoppedSmscs: Send + Sync {
    fn persistence(&self) -> Persistence;
    async fn load(&self) -> Result<BTreeSet<String>, PersistError>;
    async fn set(&self, smsc: &str, stopped: bool) -> Result<(), PersistError>;
}

/// Remembers nothing.
pub struct InMemory;

#[async_trait::async_trait]
impl StoppedSmscs for InMemory {
    fn persistence(&self) -> Persistence {
        Persistence::UntilRestart
    }
    async fn load(&self) -> Result<BTreeSet<String>, PersistError> {
        Ok(BTreeSet::new())
    }
    async fn set(&self, _: &str, _: bool) -> Result<(), PersistError> {
        Ok(())
    }
}

/// `stopped-smscs.json` in a directory of this node.
pub struct InFile {
    dir: PathBuf,
    /// Serialises writers: each writes the whole set.
    names: Mutex<Option<BTreeSet<String>>>,
}

impl InFile {
    pub fn new(dir: PathBuf) -> Self {
        Self {
            dir,
            names: Mutex::new(None),
        }
    }

    fn read(&self) -> Result<BTreeSet<String>, PersistError> {
        let path = self.dir.join(FILE_NAME);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| PersistError(format!("{}: {e}", path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeSet::new()),
            Err(e) => Err(PersistError(format!("{}: {e}", path.display()))),
        }
    }

    fn write(&self, names: &BTreeSet<String>) -> Result<(), PersistError> {
        let bytes = serde_json::to_vec(names).map_err(|e| PersistError(e.to_string()))?;
        replace_file(&self.dir, FILE_NAME, &bytes)
            .map_err(|e| PersistError(format!("{}: {e}", self.dir.display())))
    }
}

#[async_trait::async_trait]
impl StoppedSmscs for InFile {
    fn persistence(&self) -> Persistence {
        Persistence::Node
    }

    async fn load(&self) -> Result<BTreeSet<String>, PersistError> {
        let names = self.read()?;
        *self.names.lock().unwrap_or_else(|e| e.into_inner()) = Some(names.clone());
        Ok(names)
    }

    async fn set(&self, smsc: &str, stopped: bool) -> Result<(), PersistError> {
        let mut guard = self.names.lock().unwrap_or_else(|e| e.into_inner());
        let mut names = match guard.take() {
            Some(n) => n,
            None => self.read()?,
        };
        if stopped {
            names.insert(smsc.to_owned());
        } else {
            names.remove(smsc);
        }
        let written = self.write(&names);
        *guard = Some(names);
        written
    }
}

#[derive(Clone)]
enum Conn {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
}

/// One Redis set shared by every node.
pub struct InRedis {
    conn: Conn,
    key: String,
    timeout: Duration,
}

fn unavailable(e: impl std::fmt::Display) -> PersistError {
    PersistError(format!("Redis: {e}"))
}

impl InRedis {
    /// Connects to the single server `url` or to the cluster `nodes` (when not empty).
    pub async fn connect(
        url: &str,
        nodes: &[String],
        key_prefix: &str,
        timeout: Duration,
    ) -> Result<Self, PersistError> {
        let connect = async {
            if nodes.is_empty() {
                let client = redis::Client::open(url)?;
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(timeout))
                    .set_response_timeout(Some(timeout))
                    .set_number_of_retries(2);
                Ok::<_, redis::RedisError>(Conn::Single(
                    ConnectionManager::new_with_config(client, config).await?,
                ))
            } else {
                let client = redis::cluster::ClusterClientBuilder::new(nodes.to_vec())
                    .connection_timeout(timeout)
                    .response_timeout(timeout)
                    .build()?;
                Ok(Conn::Cluster(client.get_async_connection().await?))
            }
        };
        let conn = tokio::time::timeout(timeout, connect)
            .await
            .map_err(|_| unavailable("connect timed out"))?
            .map_err(unavailable)?;
        Ok(Self {
            conn,
            key: format!("{key_prefix}:admin:stopped_smscs"),
            timeout,
        })
    }

    async fn query<T: redis::FromRedisValue>(&self, cmd: redis::Cmd) -> Result<T, PersistError> {
        let run = async {
            match self.conn.clone() {
                Conn::Single(mut c) => cmd.query_async(&mut c).await,
                Conn::Cluster(mut c) => cmd.query_async(&mut c).await,
            }
        };
        tokio::time::timeout(self.timeout, run)
            .await
            .map_err(|_| unavailable("request timed out"))?
            .map_err(unavailable)
    }
}

#[async_trait::async_trait]
impl StoppedSmscs for InRedis {
    fn persistence(&self) -> Persistence {
        Persistence::Cluster
    }

    async fn load(&self) -> Result<BTreeSet<String>, PersistError> {
        let mut cmd = redis::cmd("SMEMBERS");
        cmd.arg(&self.key);
        self.query(cmd).await
    }

    async fn set(&self, smsc: &str, stopped: bool) -> Result<(), PersistError> {
        let mut cmd = redis::cmd(if stopped { "SADD" } else { "SREM" });
        cmd.arg(&self.key).arg(smsc);
        self.query::<i64>(cmd).await.map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_file_keeps_the_set_across_instances() {
        let dir = std::env::temp_dir().join(format!("otpgate-stopped-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let first = InFile::new(dir.clone());
        assert!(first.load().await.unwrap().is_empty());
        first.set("a", true).await.unwrap();
        first.set("b", true).await.unwrap();
        first.set("a", false).await.unwrap();
        let second = InFile::new(dir.clone());
        assert_eq!(
            second.load().await.unwrap().into_iter().collect::<Vec<_>>(),
            vec!["b".to_string()]
        );
        assert!(!dir.join(format!("{FILE_NAME}.tmp")).exists());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
