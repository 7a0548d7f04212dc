//! The configuration: one TOML file, every field defaulted, overridable by `OTPGATE_*`
//! environment variables (see [`load`]), checked by [`Config::validate`]. Each section's type
//! belongs to the subsystem it configures; this module only gathers them (its imports point
//! outward) and checks them once.

mod error;
mod load;
mod regulatory;
mod source;
mod view;

use std::net::SocketAddr;

use serde::Deserialize;

pub use crate::admin::AdminConfig;
pub use crate::callbacks::CallbacksConfig;
pub use crate::cluster::ClusterSettings;
pub use crate::http::HttpConfig;
pub use crate::logging::LogConfig;
pub use crate::otp::sender_rules::SendersConfig;
pub use crate::otp::settings::{
    AbuseConfig, LimitsConfig, OtpConfig, SecurityConfig, StoreConfig, StoreKind, TenantConfig,
};
pub use crate::serve::DemoConfig;
pub use crate::smpp::{EngineSettings, SmscConfig};
pub use error::ConfigError;
pub use load::{apply_env_overrides, check_token, load_file, load_str};
pub use source::{ConfigSource, Loaded};

/// The whole configuration file.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub http: HttpConfig,
    /// The operators' listener (off without `listen`).
    pub admin: AdminConfig,
    pub tenants: Vec<TenantConfig>,
    pub otp: OtpConfig,
    pub smsc: Vec<SmscConfig>,
    pub engine: EngineSettings,
    pub limits: LimitsConfig,
    pub abuse: AbuseConfig,
    pub callbacks: CallbacksConfig,
    pub store: StoreConfig,
    /// The nodes sharing one Redis (`[store] kind = "redis"`): names, bind leases, the
    /// shared send queue.
    pub cluster: ClusterSettings,
    pub security: SecurityConfig,
    pub log: LogConfig,
    pub demo: DemoConfig,
    /// Sender rules per destination country.
    pub senders: SendersConfig,
}

impl Config {
    /// The listening address (validated by [`Config::validate`]).
    pub fn listen_addr(&self) -> Result<SocketAddr, ConfigError> {
        self.http
            .listen
            .parse()
            .map_err(|_| ConfigError::invalid("http.listen", "not an IP:port socket address"))
    }

    /// Checks everything serde cannot: ranges, uniqueness, formats. The error names the field.
    pub fn validate(&self) -> Result<(), ConfigError> {
        load::validate(self)
    }

    /// What an explicit configuration file must have that the built-in defaults do not: at
    /// least one tenant and one SMSC, unless `[demo] enabled` asks for the demo parts.
    pub fn check_not_demo_by_accident(&self) -> Result<(), ConfigError> {
        load::check_not_demo_by_accident(self)
    }

    /// The effective configuration as JSON, every secret masked (for the admin API).
    pub fn masked_json(&self) -> serde_json::Value {
        view::masked_json(self)
    }

    /// A human summary with every secret redacted (for `check-config`).
    pub fn summary(&self) -> String {
        load::summary(self)
    }
}

impl From<&Config> for crate::http::FrontSettings {
    fn from(c: &Config) -> Self {
        Self {
            http: c.http.clone(),
            otp: c.otp.clone(),
            limits: c.limits.clone(),
            callbacks: c.callbacks.clone(),
            tenants: c.tenants.clone(),
            store_kind: c.store.kind,
            token_key: c.security.token_key(),
        }
    }
}

impl From<Config> for crate::http::FrontSettings {
    fn from(c: Config) -> Self {
        Self::from(&c)
    }
}
