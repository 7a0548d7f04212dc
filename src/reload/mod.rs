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
    /// The file's table and the effective table of the last reading applied.
    file: toml::Table,
    effective: toml::Table,
}

/// Reloads the configuration of one running otpgate, one reload at a time.
pub struct Reloader {
    source: ConfigSource,
    /// The effective table of the start: what the settings only a restart applies run with.
    started: toml::Table,
    in_force: tokio::sync::Mutex<InForce>,
    /// The configuration in force, for those who only look (the admin API's view).
    shown: std::sync::Mutex<Arc<Config>>,
    parts: Parts,
}

impl Reloader {
    /// `running` is the configuration in force, `loaded` the reading of `source` it came from.
    pub fn new(source: ConfigSource, loaded: Loaded, running: Config, parts: Parts) -> Self {
        Self {
            source,
            started: loaded.effective.clone(),
            shown: std::sync::Mutex::new(Arc::new(running.clone())),
            in_force: tokio::sync::Mutex::new(InForce {
                config: running,
                file: loaded.file,
                effective: loaded.effective,
            }),
            parts,
        }
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
            Err(e) => {
                metrics::counter!(CONFIG_RELOADS, "outcome" => "refused").increment(1);
                tracing::error!(
                    file = %self.source.path().display(),
                    error = %e,
                    "configuration reload refused; the running configuration stays"
                );
            }
        }
        result
    }

    async fn apply(&self, in_force: &mut InForce) -> Result<ReloadReport, ReloadError> {
        let refused = |e: crate::config::ConfigError| ReloadError::Invalid(e.to_string());
        let loaded = self.source.read().map_err(refused)?;
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
        for name in diff::env_overrides_hiding_changes(
            self.source.env_names(),
            &in_force.file,
            &loaded.file,
        ) {
            warnings.push(format!(
                "{name}: this environment override of the start still applies, over a key \
                 the file changed (overrides of a list go by position)"
            ));
        }
        diff::keep_restart_only(&mut config, &in_force.config);
        // the new set must hold with the settings that keep running (CORS origins...)
        config.validate().map_err(refused)?;
        let smsc = match &p.engine {
            Some(engine) => engine
                .apply_smscs(config.smsc.clone())
                .await
                .map_err(|e| ReloadError::Invalid(e.to_string()))?,
            None => SmscChanges::default(),
        };
        let tenants = diff::tenant_changes(&in_force.effective, &loaded.effective);
        let current = p.front.load();
        let service = app::service(&config, &p.prepared, p.dispatcher.clone());
        p.front
            .replace(current.renewed(&config, service, p.prepared.clock.instant()));
        p.secrets.replace(&config.tenants);
        p.prepared
            .default_senders
            .store(Arc::new(app::default_senders(&config)));
        p.prepared.credit.set_limits(app::credit_limits(&config));
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
        let tls_certificate = p.tls.as_ref().map(|certs| match certs.reload() {
            Ok(()) => "reloaded",
            Err(_) => "failed",
        });
        *self.shown.lock().unwrap_or_else(|e| e.into_inner()) = Arc::new(config.clone());
        *in_force = InForce {
            config,
            file: loaded.file,
            effective: loaded.effective,
        };
        Ok(ReloadReport {
            tenants,
            smsc,
            tls_certificate,
            warnings,
        })
    }
}

fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}
