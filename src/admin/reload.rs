//! The seam of `POST /admin/reload`: the admin API asks, whoever owns the configuration
//! reload answers.

use serde::Serialize;

/// What a reload changed.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ReloadReport {
    /// One line per change applied (`tenant "shop" added`, `smsc "a" tps 50 -> 80`...).
    pub applied: Vec<String>,
    /// Changes that need a restart, and other things worth knowing.
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum ReloadRefused {
    /// This engine cannot reload its configuration.
    #[error("configuration reload is not available in this build")]
    NotAvailable,
    /// The new configuration is invalid; nothing changed. The text is `check-config`'s.
    #[error("{0}")]
    Invalid(String),
}

#[async_trait::async_trait]
pub trait ConfigReload: Send + Sync {
    async fn reload(&self) -> Result<ReloadReport, ReloadRefused>;
}

/// Answers every reload with [`ReloadRefused::NotAvailable`].
pub struct ReloadNotAvailable;

#[async_trait::async_trait]
impl ConfigReload for ReloadNotAvailable {
    async fn reload(&self) -> Result<ReloadReport, ReloadRefused> {
        Err(ReloadRefused::NotAvailable)
    }
}
