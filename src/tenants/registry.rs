//! Where tenant records live:
//! - with the Redis store, in one Redis hash (`{key_prefix}:{tenants}:records`, JSON per id)
//!   beside a version counter, each change published on `{key_prefix}:tenants:changed`: every
//!   node reads them at start, on each notification and every [`REFRESH`];
//! - with the memory store and `[store] state_dir`, in `tenants.json` there (written to a
//!   temporary file, synced, then renamed): the changes survive a restart of this node;
//! - otherwise in memory: the changes last until this node restarts.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use crate::state_dir::replace_file;
pub use crate::state_dir::Persistence;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::cluster_async::ClusterConnection;

use super::{Snapshot, TenantRecord};

/// How often a node reads the registry's version without a notification (the bound within
/// which a change made on another node is in force here, even when a notification is lost).
pub const REFRESH: Duration = Duration::from_secs(2);

const FILE_NAME: &str = "tenants.json";

#[derive(Debug, thiserror::Error)]
#[error("the tenant registry is unavailable: {0}")]
pub struct PersistError(pub String);

#[async_trait::async_trait]
pub trait TenantRegistry: Send + Sync {
    fn persistence(&self) -> Persistence;
    async fn load(&self) -> Result<Snapshot, PersistError>;
    /// The version of the registry (raised by every change).
    async fn version(&self) -> Result<u64, PersistError>;
    /// Writes `record`; with `create`, only when no live record has its id (`Ok(false)`).
    async fn put(&self, record: &TenantRecord, create: bool) -> Result<bool, PersistError>;
    /// Notifications of changes made by other nodes (none when the registry is not shared).
    async fn subscribe(&self) -> Option<tokio::sync::mpsc::Receiver<()>> {
        None
    }
}

/// The records of this process, in memory or in a state file.
pub struct Local {
    file: Option<PathBuf>,
    snapshot: Mutex<Snapshot>,
}

impl Local {
    /// In memory only.
    pub fn in_memory() -> Self {
        Self {
            file: None,
            snapshot: Mutex::new(Snapshot::default()),
        }
    }

    /// In `dir/tenants.json`, read now.
    pub fn in_dir(dir: PathBuf) -> Result<Self, PersistError> {
        let path = dir.join(FILE_NAME);
        let snapshot = match std::fs::read(&path) {
            Ok(bytes) => {
                let records: Vec<TenantRecord> = serde_json::from_slice(&bytes)
                    .map_err(|e| PersistError(format!("{}: {e}", path.display())))?;
                Snapshot {
                    version: 1,
                    records: records
                        .into_iter()
                        .map(|r| (r.id().to_owned(), r))
                        .collect(),
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Snapshot::default(),
            Err(e) => return Err(PersistError(format!("{}: {e}", path.display()))),
        };
        Ok(Self {
            file: Some(dir),
            snapshot: Mutex::new(snapshot),
        })
    }

    fn write(dir: &std::path::Path, snapshot: &Snapshot) -> Result<(), PersistError> {
        let records: Vec<&TenantRecord> = snapshot.records.values().collect();
        let bytes = serde_json::to_vec_pretty(&records).map_err(|e| PersistError(e.to_string()))?;
        replace_file(dir, FILE_NAME, &bytes)
            .map_err(|e| PersistError(format!("{}: {e}", dir.display())))
    }
}

#[async_trait::async_trait]
impl TenantRegistry for Local {
    fn persistence(&self) -> Persistence {
        match self.file {
            Some(_) => Persistence::Node,
            None => Persistence::UntilRestart,
        }
    }

    async fn load(&self) -> Result<Snapshot, PersistError> {
        Ok(self
            .snapshot
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone())
    }

    async fn version(&self) -> Result<u64, PersistError> {
        Ok(self
            .snapshot
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .version)
    }

    async fn put(&self, record: &TenantRecord, create: bool) -> Result<bool, PersistError> {
        let mut guard = self.snapshot.lock().unwrap_or_else(|e| e.into_inner());
        if create && guard.records.get(record.id()).is_some_and(|r| !r.deleted) {
            return Ok(false);
        }
        let mut next = guard.clone();
        next.version += 1;
        next.records.insert(record.id().to_owned(), record.clone());
        if let Some(dir) = &self.file {
            Self::write(dir, &next)?;
        }
        *guard = next;
        Ok(true)
    }
}

#[derive(Clone)]
enum Conn {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
}

/// One Redis hash shared by every node.
pub struct InRedis {
    conn: Conn,
    /// The single server's client, for the notifications' subscription.
    client: Option<redis::Client>,
    records: String,
    version: String,
    channel: String,
    timeout: Duration,
}

fn unavailable(e: impl std::fmt::Display) -> PersistError {
    PersistError(format!("Redis: {e}"))
}

/// Writes a record (unless `create` finds a live one), raises the version and publishes it.
const PUT: &str = r"
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if ARGV[3] == '1' and cur then
  local ok, rec = pcall(cjson.decode, cur)
  if not ok or not rec.deleted then return 0 end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
local v = redis.call('INCR', KEYS[2])
redis.call('PUBLISH', ARGV[4], v)
return 1
";

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
                let conn = ConnectionManager::new_with_config(client.clone(), config).await?;
                Ok::<_, redis::RedisError>((Conn::Single(conn), Some(client)))
            } else {
                let client = redis::cluster::ClusterClientBuilder::new(nodes.to_vec())
                    .connection_timeout(timeout)
                    .response_timeout(timeout)
                    .build()?;
                Ok((Conn::Cluster(client.get_async_connection().await?), None))
            }
        };
        let (conn, client) = tokio::time::timeout(timeout, connect)
            .await
            .map_err(|_| unavailable("connect timed out"))?
            .map_err(unavailable)?;
        Ok(Self {
            conn,
            client,
            // one hash slot for both keys (a Redis Cluster runs the script on one node)
            records: format!("{key_prefix}:{{tenants}}:records"),
            version: format!("{key_prefix}:{{tenants}}:version"),
            channel: format!("{key_prefix}:tenants:changed"),
            timeout,
        })
    }

    async fn run<T: redis::FromRedisValue>(
        &self,
        run: impl std::future::Future<Output = redis::RedisResult<T>>,
    ) -> Result<T, PersistError> {
        tokio::time::timeout(self.timeout, run)
            .await
            .map_err(|_| unavailable("request timed out"))?
            .map_err(unavailable)
    }

    async fn query<T: redis::FromRedisValue>(&self, cmd: redis::Cmd) -> Result<T, PersistError> {
        let conn = self.conn.clone();
        self.run(async move {
            match conn {
                Conn::Single(mut c) => cmd.query_async(&mut c).await,
                Conn::Cluster(mut c) => cmd.query_async(&mut c).await,
            }
        })
        .await
    }
}

#[async_trait::async_trait]
impl TenantRegistry for InRedis {
    fn persistence(&self) -> Persistence {
        Persistence::Cluster
    }

    async fn load(&self) -> Result<Snapshot, PersistError> {
        // the version first: a change between the two reads is read again at the next refresh
        let version = self.version().await?;
        let mut cmd = redis::cmd("HGETALL");
        cmd.arg(&self.records);
        let all: Vec<(String, String)> = self.query(cmd).await?;
        let mut records = std::collections::BTreeMap::new();
        for (id, json) in all {
            match serde_json::from_str::<TenantRecord>(&json) {
                Ok(r) if r.id() == id => {
                    records.insert(id, r);
                }
                _ => tracing::error!(tenant = %id, "unreadable tenant record in Redis: skipped"),
            }
        }
        Ok(Snapshot { version, records })
    }

    async fn version(&self) -> Result<u64, PersistError> {
        let mut cmd = redis::cmd("GET");
        cmd.arg(&self.version);
        Ok(self.query::<Option<u64>>(cmd).await?.unwrap_or(0))
    }

    async fn put(&self, record: &TenantRecord, create: bool) -> Result<bool, PersistError> {
        let json = serde_json::to_string(record).map_err(|e| PersistError(e.to_string()))?;
        let script = redis::Script::new(PUT);
        let mut invocation = script.key(&self.records);
        invocation
            .key(&self.version)
            .arg(record.id())
            .arg(json)
            .arg(if create { "1" } else { "0" })
            .arg(&self.channel);
        let conn = self.conn.clone();
        let written: i64 = self
            .run(async move {
                match conn {
                    Conn::Single(mut c) => invocation.invoke_async(&mut c).await,
                    Conn::Cluster(mut c) => invocation.invoke_async(&mut c).await,
                }
            })
            .await?;
        Ok(written == 1)
    }

    async fn subscribe(&self) -> Option<tokio::sync::mpsc::Receiver<()>> {
        use futures::StreamExt;
        let client = self.client.clone()?;
        let channel = self.channel.clone();
        let (tx, rx) = tokio::sync::mpsc::channel(1);
        tokio::spawn(async move {
            // reconnects after a failure (the periodic refresh covers the gap); ends with the
            // follower
            let listen = async {
                loop {
                    if let Ok(mut pubsub) = client.get_async_pubsub().await {
                        if pubsub.subscribe(&channel).await.is_ok() {
                            let mut messages = pubsub.on_message();
                            while messages.next().await.is_some() {
                                // one pending wake-up is enough: the follower reads everything
                                let _ = tx.try_send(());
                            }
                        }
                    }
                    tokio::time::sleep(REFRESH).await;
                }
            };
            tokio::select! {
                _ = tx.closed() => {}
                _ = listen => {}
            }
        });
        Some(rx)
    }
}

/// The registry `[store]` asks for: Redis, the state directory, or memory.
pub async fn open(
    store: &crate::otp::settings::StoreConfig,
) -> Result<std::sync::Arc<dyn TenantRegistry>, PersistError> {
    use crate::otp::settings::StoreKind;
    Ok(match (store.kind, &store.state_dir) {
        (StoreKind::Redis, _) => std::sync::Arc::new(
            InRedis::connect(
                &store.url,
                &store.cluster_nodes,
                &store.key_prefix,
                Duration::from_millis(store.timeout_ms),
            )
            .await?,
        ),
        (StoreKind::Memory, Some(dir)) => std::sync::Arc::new(Local::in_dir(dir.clone())?),
        (StoreKind::Memory, None) => std::sync::Arc::new(Local::in_memory()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::otp::settings::TenantConfig;

    fn record(id: &str, deleted: bool) -> TenantRecord {
        TenantRecord {
            settings: TenantConfig {
                name: id.into(),
                id: Some(id.into()),
                callback_secret: Some("callback-secret-0123456".into()),
                ..TenantConfig::default()
            },
            tokens: Vec::new(),
            suspended: false,
            deleted,
            created_at: 1,
            updated_at: 1,
            revision: 1,
        }
    }

    #[tokio::test]
    async fn the_state_file_keeps_the_records_across_instances() {
        let dir = std::env::temp_dir().join(format!("otpgate-tenants-{}", uuid::Uuid::new_v4()));
        let first = Local::in_dir(dir.clone()).unwrap();
        assert_eq!(first.persistence(), Persistence::Node);
        assert!(first.put(&record("a", false), true).await.unwrap());
        assert!(!first.put(&record("a", false), true).await.unwrap());
        assert!(first.put(&record("a", true), false).await.unwrap());
        // a deleted id may be created again
        assert!(first.put(&record("b", true), false).await.unwrap());
        assert!(first.put(&record("b", false), true).await.unwrap());
        let second = Local::in_dir(dir.clone()).unwrap().load().await.unwrap();
        assert!(second.records["a"].deleted);
        assert!(!second.records["b"].deleted);
        assert!(!dir.join(format!("{FILE_NAME}.tmp")).exists());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
