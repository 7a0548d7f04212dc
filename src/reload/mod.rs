//! Configuration reload without a restart (`SIGHUP`): the file is read again with the
//! environment overrides of the process's start, checked exactly as at start (a refusal
//! carries the error `check-config` prints), and the difference applied:
//! - the request-facing set (tenants and their tokens, senders, limits, countries, credit,
//!   routes, number types, TLV values, CORS narrowing, callback secrets; templates and OTP
//!   defaults; `[limits]`; `[senders]`) is swapped as one snapshot: a request sees the old
//!   set or the new one, never a mix;
//! - the `[[smsc]]` list goes to the engine (see `smpp::reconfigure`);
//! - settings only a restart applies keep their running value and are named in a warning,
//!   as is an environment override of a key whose value changed in the file.
//!
//! The TLS certificate is read again from its files, as before.
//!
//! The tenants in force are the file's (a seed) merged with the provisioned ones of the
//! tenant registry (see `tenants`): a reload keeps the registry's, a registry change keeps
//! the file's; both go through the same swap.

pub mod diff;

use std::sync::Arc;

use serde::Serialize;

use crate::app::{self, Prepared};
use crate::callbacks::TenantSecrets;
use crate::config::{Config, ConfigSource, Loaded, TenantConfig};
use crate::dispatch::Dispatcher;
use crate::http::tls::TlsCerts;
use crate::http::Front;
use crate::smpp::{EngineHandle, SmscChanges, SmscConfig};
use crate::telemetry::names::{CONFIG_LAST_RELOAD, CONFIG_RELOADS};
use crate::tenants::{self, Refused, Snapshot, TenantsInForce};
use diff::TenantChanges;

/// What a reload applied, part by part, and what it could not.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ReloadReport {
    pub tenants: TenantChanges,
    pub smsc: SmscChanges,
    /// `reloaded` or `failed` (the certificate in use stays); absent without TLS.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_certificate: Option<&'static str>,
    /// Settings left as they run (a restart applies them), overrides hiding a change.
    pub warnings: Vec<String>,
}

impl ReloadReport {
    /// The report as the admin API gives it: one line per change, and the warnings.
    pub fn for_admin(self) -> crate::admin::ReloadReport {
        let mut applied = Vec::new();
        let lines = [
            ("tenant", "added", &self.tenants.added),
            ("tenant", "removed", &self.tenants.removed),
            ("tenant", "changed", &self.tenants.changed),
            ("smsc", "kept", &self.smsc.kept),
            ("smsc", "rebound with new settings", &self.smsc.changed),
            ("smsc", "added", &self.smsc.added),
            ("smsc", "removed", &self.smsc.removed),
        ];
        for (what, how, names) in lines {
            applied.extend(names.iter().map(|n| format!("{what} \"{n}\" {how}")));
        }
        if let Some(tls) = self.tls_certificate {
            applied.push(format!("TLS certificate {tls}"));
        }
        crate::admin::ReloadReport {
            applied,
            warnings: self.warnings,
        }
    }
}

/// Why a reload was refused: the configuration in force stays.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ReloadError {
    /// The file does not read, parse or validate: the message `check-config` prints (the
    /// field named, no secret shown).
    #[error("{0}")]
    Invalid(String),
    /// Started from a configuration built in code: no file to read again.
    #[error("no configuration file to read again")]
    NotAvailable,
}

/// What a reload acts on.
pub struct Parts {
    pub front: Front,
    pub prepared: Prepared,
    pub dispatcher: Arc<dyn Dispatcher>,
    /// The SMPP engine (absent when the front sends through another dispatcher).
    pub engine: Option<EngineHandle>,
    pub secrets: Arc<TenantSecrets>,
    pub tls: Option<Arc<TlsCerts>>,
    /// What the start added for the demo, added again while the file still leaves it out.
    pub demo_smsc: Option<SmscConfig>,
    pub demo_tenant: Option<TenantConfig>,
}

struct InForce {
    config: Config,
    /// The file's tenants (with the demo one), before the registry's are merged in.
    seed: Vec<TenantConfig>,
    /// The tenant registry as last applied.
    snapshot: Snapshot,
    /// The file's table and the effective table of the last reading applied.
    file: toml::Table,
    effective: toml::Table,
}

/// Reloads the configuration of one running otpgate, one reload at a time.
pub struct Reloader {
    source: Option<ConfigSource>,
    /// The effective table of the start: what the settings only a restart applies run with.
    started: toml::Table,
    in_force: tokio::sync::Mutex<InForce>,
    /// The configuration in force, for those who only look (the admin API's view).
    shown: std::sync::Mutex<Arc<Config>>,
    parts: Parts,
    /// The version of the tenant registry in force.
    registry_version: std::sync::atomic::AtomicU64,
}

impl Reloader {
    /// `running` is the configuration in force, `source` the file it was read from with that
    /// reading (`None`: built in code, nothing to reload, the tenant registry still applies).
    pub fn new(source: Option<(ConfigSource, Loaded)>, running: Config, parts: Parts) -> Self {
        let (source, file, effective) = match source {
            Some((source, loaded)) => (Some(source), loaded.file, loaded.effective),
            None => (None, toml::Table::new(), toml::Table::new()),
        };
        Self {
            source,
            started: effective.clone(),
            shown: std::sync::Mutex::new(Arc::new(running.clone())),
            in_force: tokio::sync::Mutex::new(InForce {
                seed: running.tenants.clone(),
                snapshot: Snapshot::default(),
                config: running,
                file,
                effective,
            }),
            parts,
            registry_version: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// Whether there is a file to read again.
    pub fn reloadable(&self) -> bool {
        self.source.is_some()
    }

    /// The configuration in force.
    pub fn config(&self) -> Arc<Config> {
        self.shown.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Reads the file again and applies the difference; refused (counted and logged) when it
    /// does not validate: the running configuration stays in force.
    pub async fn reload(&self) -> Result<ReloadReport, ReloadError> {
        let mut in_force = self.in_force.lock().await;
        let result = self.apply(&mut in_force).await;
        match &result {
            Ok(report) => {
                metrics::counter!(CONFIG_RELOADS, "outcome" => "applied").increment(1);
                metrics::gauge!(CONFIG_LAST_RELOAD).set(unix_now());
                for w in &report.warnings {
                    tracing::warn!(warning = %w, "configuration reload: not applied as written");
                }
                tracing::info!(
                    tenants_added = ?report.tenants.added,
                    tenants_removed = ?report.tenants.removed,
                    tenants_changed = ?report.tenants.changed,
                    smsc_kept = ?report.smsc.kept,
                    smsc_changed = ?report.smsc.changed,
                    smsc_added = ?report.smsc.added,
                    smsc_removed = ?report.smsc.removed,
                    warnings = report.warnings.len(),
                    "configuration reloaded"
                );
            }
            Err(ReloadError::NotAvailable) => {}
            Err(e) => {
                metrics::counter!(CONFIG_RELOADS, "outcome" => "refused").increment(1);
                let file = self.source.as_ref().map(|s| s.path().display().to_string());
                tracing::error!(
                    file = file.unwrap_or_default(),
                    error = %e,
                    "configuration reload refused; the running configuration stays"
                );
            }
        }
        result
    }

    async fn apply(&self, in_force: &mut InForce) -> Result<ReloadReport, ReloadError> {
        let refused = |e: crate::config::ConfigError| ReloadError::Invalid(e.to_string());
        let source = self.source.as_ref().ok_or(ReloadError::NotAvailable)?;
        let loaded = off_the_workers(|| source.read()).map_err(refused)?;
        let p = &self.parts;
        let mut config = loaded.config.clone();
        if config.tenants.is_empty() {
            config.tenants.extend(p.demo_tenant.clone());
        }
        if config.smsc.is_empty() {
            config.smsc.extend(p.demo_smsc.clone());
        }
        let mut warnings = Vec::new();
        let restart = diff::restart_only(&self.started, &loaded.effective);
        if !restart.is_empty() {
            warnings.push(format!(
                "only a restart applies these settings; they keep their running value: {}",
                restart.join(", ")
            ));
        }
        for name in
            diff::env_overrides_hiding_changes(source.env_names(), &in_force.file, &loaded.file)
        {
            warnings.push(format!(
                "{name}: this environment override of the start still applies, over a key \
                 the file changed (overrides of a list go by position)"
            ));
        }
        diff::keep_restart_only(&mut config, &in_force.config);
        let seed = std::mem::take(&mut config.tenants);
        config.tenants = tenants::effective(&seed, &in_force.snapshot);
        // the new set must hold with the settings that keep running (CORS origins...)
        off_the_workers(|| config.validate()).map_err(refused)?;
        let smsc = match &p.engine {
            Some(engine) => engine
                .apply_smscs(config.smsc.clone())
                .await
                .map_err(|e| ReloadError::Invalid(e.to_string()))?,
            None => SmscChanges::default(),
        };
        let tenants = diff::tenant_changes(&in_force.effective, &loaded.effective);
        off_the_workers(|| self.swap(&config));
        let tls_certificate = p.tls.as_ref().map(|certs| match certs.reload() {
            Ok(()) => "reloaded",
            Err(_) => "failed",
        });
        *self.shown.lock().unwrap_or_else(|e| e.into_inner()) = Arc::new(config.clone());
        in_force.config = config;
        in_force.seed = seed;
        in_force.file = loaded.file;
        in_force.effective = loaded.effective;
        Ok(ReloadReport {
            tenants,
            smsc,
            tls_certificate,
            warnings,
        })
    }
}

impl Reloader {
    /// Puts `config`'s request-facing set in force: the front's snapshot, the callback
    /// secrets, the default senders, the credit limits and the tenants' metric labels.
    fn swap(&self, config: &Config) {
        let p = &self.parts;
        let current = p.front.load();
        let service = app::service(config, &p.prepared, p.dispatcher.clone());
        p.front
            .replace(current.renewed(config, service, p.prepared.clock.instant()));
        p.secrets.replace(&config.tenants);
        p.prepared
            .default_senders
            .store(Arc::new(app::default_senders(config)));
        p.prepared.credit.set_limits(app::credit_limits(config));
        // the bounded label of each tenant (its id, or the shared `other`)
        let count = config.tenants.len();
        let labels: std::collections::BTreeSet<&str> = config
            .tenants
            .iter()
            .map(|t| t.metric_label(count))
            .collect();
        for label in labels {
            crate::telemetry::register_tenant(label);
        }
    }

    /// The configuration in force with the tenants of `snapshot`, checked.
    fn with_snapshot(in_force: &InForce, snapshot: &Snapshot) -> Result<Config, Refused> {
        let mut config = in_force.config.clone();
        config.tenants = tenants::effective(&in_force.seed, snapshot);
        match config.validate() {
            Ok(()) => Ok(config),
            Err(crate::config::ConfigError::Invalid { field, message }) => {
                let tenant = field
                    .strip_prefix("tenants[")
                    .and_then(|rest| rest.split_once(']'))
                    .and_then(|(n, _)| n.parse::<usize>().ok())
                    .and_then(|n| config.tenants.get(n))
                    .map(|t| t.id().to_owned());
                Err(Refused::Invalid {
                    field,
                    message,
                    tenant,
                })
            }
            Err(e) => Err(Refused::Invalid {
                field: "tenants".into(),
                message: e.to_string(),
                tenant: None,
            }),
        }
    }
}

#[async_trait::async_trait]
impl TenantsInForce for Reloader {
    fn current(&self) -> Vec<TenantConfig> {
        self.config().tenants.clone()
    }

    async fn check(&self, snapshot: &Snapshot) -> Result<(), Refused> {
        let in_force = self.in_force.lock().await;
        off_the_workers(|| Self::with_snapshot(&in_force, snapshot).map(|_| ()))
    }

    async fn apply(&self, snapshot: Snapshot) -> Result<(), Refused> {
        let mut in_force = self.in_force.lock().await;
        // a slower reader's older snapshot never undoes a newer one
        if snapshot.version < in_force.snapshot.version {
            return Ok(());
        }
        let config = off_the_workers(|| {
            let config = Self::with_snapshot(&in_force, &snapshot)?;
            self.swap(&config);
            *self.shown.lock().unwrap_or_else(|e| e.into_inner()) = Arc::new(config.clone());
            Ok::<_, Refused>(config)
        })?;
        self.registry_version
            .store(snapshot.version, std::sync::atomic::Ordering::Release);
        in_force.config = config;
        in_force.snapshot = snapshot;
        Ok(())
    }

    fn version(&self) -> u64 {
        self.registry_version
            .load(std::sync::atomic::Ordering::Acquire)
    }

    fn token_taken(&self, token: &str) -> bool {
        self.parts.front.load().tenants.token_taken(token)
    }
}

/// Runs work that takes long with a large tenant set (checking and building 100,000 tenants
/// takes about a second) without holding up a runtime worker: on the multi-thread runtime the
/// worker's other tasks move to another thread meanwhile, so requests keep being served.
fn off_the_workers<R>(work: impl FnOnce() -> R) -> R {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current() {
        Ok(h) if h.runtime_flavor() == RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(work)
        }
        _ => work(),
    }
}

fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}
