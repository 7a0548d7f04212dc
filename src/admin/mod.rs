//! The operators' surface, on a listener of its own (`[admin] listen`): the engine's status
//! per SMSC and bind, stopping and starting an SMSC, the reload, the effective configuration
//! with its secrets masked, its OpenAPI document and a status page (`GET /`).
//!
//! - `settings`: `[admin]`; `auth`: the write and read tokens;
//! - `routes`: the router and handlers; `reply`: JSON answers and errors `{code, message}`;
//! - `stopped`: where stopped SMSCs are remembered (Redis set, state file, nowhere);
//! - `start`: binding the listener and applying the stopped set at start;
//! - `usage`: a tenant's usage per UTC day, for invoicing;
//! - `reload`: the seam to the configuration reload; `openapi`, `page`: documents served;
//! - `tenants`: provisioning tenants (create, read, update, suspend, delete, rotate a token),
//!   `tenant_change`: one change's checks, record, application and audit; `tenant_view`: what
//!   is shown of a tenant (never a token or a secret).

mod auth;
pub mod openapi;
mod page;
pub mod reload;
mod reply;
mod routes;
pub mod settings;
pub mod start;
pub mod stopped;
mod tenant_change;
mod tenant_view;
mod tenants;
pub mod usage;

use std::future::Future;
use std::sync::Arc;

use tokio::net::TcpListener;

pub use reload::{ConfigReload, ReloadNotAvailable, ReloadRefused, ReloadReport};
pub use settings::AdminConfig;
pub use stopped::{Persistence, StoppedSmscs};

use crate::http::HttpConfig;
use crate::smpp::EngineHandle;

/// The effective configuration, secrets masked, as JSON (rebuilt at each request, so that a
/// reload shows).
pub type ConfigView = Arc<dyn Fn() -> serde_json::Value + Send + Sync>;

/// What provisioning tenants works with: where records live, who puts a set in force, and
/// the key of the tokens' MACs (`None` without `[security] pin_secret`: provisioning is
/// refused, since no stored token would open anything after a restart).
pub struct Provisioning {
    pub registry: Arc<dyn crate::tenants::TenantRegistry>,
    pub in_force: Arc<dyn crate::tenants::TenantsInForce>,
    pub token_key: Option<crate::otp::token_index::TokenKey>,
}

/// What the admin handlers work with.
pub struct Admin {
    tokens: auth::AdminTokens,
    engine: EngineHandle,
    stopped: Arc<dyn StoppedSmscs>,
    reload: Arc<dyn ConfigReload>,
    config_view: ConfigView,
    /// Held while the stopped set is changed or applied, so that a refresh that read the set
    /// before a change never undoes it.
    switching: tokio::sync::Mutex<()>,
    tenants: Provisioning,
    /// Held while a tenant is changed: one change at a time on this node.
    provisioning: tokio::sync::Mutex<()>,
    /// What `GET /admin/tenants/{id}/usage` reads (set once, at start).
    usage: std::sync::OnceLock<usage::UsageAccess>,
}

impl Admin {
    /// `None` when `config` has no token (the configuration check refuses that before).
    pub fn new(
        config: &AdminConfig,
        engine: EngineHandle,
        stopped: Arc<dyn StoppedSmscs>,
        reload: Arc<dyn ConfigReload>,
        config_view: ConfigView,
        tenants: Provisioning,
    ) -> Option<Arc<Self>> {
        let token = config.token.as_deref()?;
        Some(Arc::new(Self {
            tokens: auth::AdminTokens::new(token, config.read_token.as_deref()),
            engine,
            stopped,
            reload,
            config_view,
            switching: tokio::sync::Mutex::new(()),
            tenants,
            provisioning: tokio::sync::Mutex::new(()),
            usage: std::sync::OnceLock::new(),
        }))
    }

    /// Applies the remembered stopped set to the engine: every SMSC it names is stopped,
    /// every other started. Names this node does not know are left alone.
    pub async fn apply_remembered(&self) -> Result<(), stopped::PersistError> {
        let _switching = self.switching.lock().await;
        let names = self.stopped.load().await?;
        for smsc in self.engine.smsc_names() {
            let stop = names.contains(&smsc);
            if let Ok(true) = self.engine.set_smsc_stopped(&smsc, stop) {
                tracing::warn!(smsc = %smsc, stopped = stop, by = "cluster state", "SMSC {}", if stop { "stopped" } else { "started" });
            }
        }
        Ok(())
    }

    /// Follows the cluster's stopped set (Redis) every [`stopped::REDIS_REFRESH`] until
    /// `stop`; returns at once when the set is not shared.
    pub async fn follow_cluster(self: Arc<Self>, stop: tokio_util::sync::CancellationToken) {
        if self.stopped.persistence() != Persistence::Cluster {
            return;
        }
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tokio::time::sleep(stopped::REDIS_REFRESH) => {}
            }
            if let Err(e) = self.apply_remembered().await {
                tracing::warn!(error = %e, "cannot read the cluster's stopped SMSCs");
            }
        }
    }
}

/// Serves the admin API on `listener` until `shutdown` completes, with the HTTP front's
/// connection limits and timeouts (`http`), without TLS.
pub async fn serve(
    admin: Arc<Admin>,
    listener: TcpListener,
    http: &HttpConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    if let Ok(addr) = listener.local_addr() {
        tracing::info!(%addr, "admin API listening");
    }
    let router = routes::router(admin);
    crate::http::listener::serve(
        listener,
        router,
        crate::http::listener::Shortcuts::default(),
        http,
        None,
        shutdown,
    )
    .await
}
