//! Starting the admin listener beside the engine: bind it and read the SMSCs an operator
//! stopped before the engine starts (so that their binds do not come up first), then serve.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use super::stopped::{self, StoppedSmscs};
use super::usage::UsageAccess;
use super::{Admin, AdminConfig, ConfigReload, ConfigView, Provisioning};
use crate::http::HttpConfig;
use crate::otp::settings::{StoreConfig, StoreKind};
use crate::smpp::EngineHandle;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("admin.listen: not an IP:port socket address")]
    Address,
    #[error("admin.listen: cannot listen on {0}: {1}")]
    Listen(SocketAddr, std::io::Error),
    #[error("admin.token: required with admin.listen")]
    NoToken,
    #[error(transparent)]
    State(#[from] stopped::PersistError),
    #[error("admin listener: {0}")]
    Io(#[from] std::io::Error),
}

/// The admin listener, bound, and the SMSCs to keep stopped.
pub struct Prepared {
    config: AdminConfig,
    listener: TcpListener,
    stopped: Arc<dyn StoppedSmscs>,
    remembered: BTreeSet<String>,
    usage: Option<UsageAccess>,
}

/// `None` without `[admin] listen`.
pub async fn prepare(
    admin: &AdminConfig,
    store: &StoreConfig,
) -> Result<Option<Prepared>, StartError> {
    let Some(addr) = admin.listen_addr() else {
        return Ok(None);
    };
    let addr = addr.map_err(|_| StartError::Address)?;
    if admin.token.is_none() {
        return Err(StartError::NoToken);
    }
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| StartError::Listen(addr, e))?;
    let stopped: Arc<dyn StoppedSmscs> = match (store.kind, &store.state_dir) {
        (StoreKind::Redis, _) => Arc::new(
            stopped::InRedis::connect(
                &store.url,
                &store.cluster_nodes,
                &store.key_prefix,
                Duration::from_millis(store.timeout_ms),
            )
            .await?,
        ),
        (StoreKind::Memory, Some(dir)) => Arc::new(stopped::InFile::new(dir.clone())),
        (StoreKind::Memory, None) => Arc::new(stopped::InMemory),
    };
    let remembered = stopped.load().await?;
    Ok(Some(Prepared {
        config: admin.clone(),
        listener,
        stopped,
        remembered,
        usage: None,
    }))
}

/// The admin listener serving, and its follower of the cluster's stopped set.
pub struct Running {
    addr: SocketAddr,
    stop: CancellationToken,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Prepared {
    /// The SMSCs an operator stopped that stay stopped: the engine starts with them stopped.
    pub fn remembered(&self) -> &BTreeSet<String> {
        &self.remembered
    }

    /// Serves the tenants' usage from `usage`.
    pub fn with_usage(mut self, usage: UsageAccess) -> Self {
        self.usage = Some(usage);
        self
    }

    /// Serves (the engine started with the remembered SMSCs stopped: see
    /// [`Prepared::remembered`]).
    pub fn start(
        self,
        http: &HttpConfig,
        engine: &EngineHandle,
        config_view: ConfigView,
        reload: Arc<dyn ConfigReload>,
        tenants: Provisioning,
    ) -> Result<Running, StartError> {
        let admin = Admin::new(
            &self.config,
            engine.clone(),
            self.stopped,
            reload,
            config_view,
            tenants,
        )
        .ok_or(StartError::NoToken)?;
        if let Some(usage) = self.usage {
            let _ = admin.usage.set(usage);
        }
        let addr = self.listener.local_addr()?;
        let stop = CancellationToken::new();
        let http = http.clone();
        let serve_stop = stop.clone();
        let listener = self.listener;
        let served = tokio::spawn({
            let admin = admin.clone();
            async move {
                let shutdown = async move { serve_stop.cancelled().await };
                if let Err(e) = super::serve(admin, listener, &http, shutdown).await {
                    tracing::error!(error = %e, "admin listener failed");
                }
            }
        });
        let follow = tokio::spawn(admin.follow_cluster(stop.clone()));
        Ok(Running {
            addr,
            stop,
            tasks: vec![served, follow],
        })
    }
}

impl Running {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops serving (requests in progress finish) and following the cluster.
    pub async fn stop(self) {
        self.stop.cancel();
        for t in self.tasks {
            let _ = t.await;
        }
    }
}
