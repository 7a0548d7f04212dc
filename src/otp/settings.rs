//! The OTP core's settings: `[otp]` (defaults of a created OTP), `[[tenants]]`, `[limits]`,
//! `[abuse]`, `[store]` and `[security]`. Deserialized into their types; the configuration
//! loader checks the ranges once.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::pin::PinType;

/// `[[tenants]]`: one API client, from the configuration file or provisioned through the
/// admin API (then its `token` is empty and `stored_tokens` hold its tokens' MACs). Serialized
/// without its token (the admin API's tenant records).
#[derive(Clone, Deserialize, Serialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct TenantConfig {
    pub name: String,
    /// The tenant's immutable identity, what its stored OTPs, idempotency keys, limit
    /// counters and callbacks belong to; `None` = the name. Never change it (nor, without it,
    /// the name) while the tenant has OTPs stored.
    pub id: Option<String>,
    /// Bearer / X-API-KEY token.
    #[serde(skip_serializing)]
    pub token: String,
    /// Sender IDs this tenant may use in `from`; empty = any valid sender ID.
    pub allowed_senders: Vec<String>,
    /// Sender used when the request has no `from`; empty = `[otp] default_sender`.
    pub default_sender: String,
    /// Creates per second (token bucket rate); 0 = unlimited.
    pub rate_limit_per_s: u32,
    /// Token bucket size; 0 = same as the rate.
    pub rate_limit_burst: u32,
    /// ISO 3166 alpha-2 destinations allowed; empty = every country.
    pub allowed_countries: Vec<String>,
    /// ISO 3166 alpha-2 destinations refused (applied after `allowed_countries`).
    pub denied_countries: Vec<String>,
    /// HMAC-SHA256 key of this tenant's callback signatures.
    pub callback_secret: Option<String>,
    /// Browser origins whose pages may read this tenant's answers: narrows `[http]
    /// cors_allowed_origins` (each must be listed there too); empty = the global list.
    pub cors_allowed_origins: Vec<String>,
    /// This tenant's numeric sender per destination country (ISO 3166 alpha-2), sent in place
    /// of a sender ID the country refuses (`[senders.countries.XX]`); wins over the
    /// country's `numeric_sender`.
    pub numeric_senders: BTreeMap<String, String>,
    /// Values of named TLVs (`[[smsc]] tlv_names`), e.g. India's DLT `pe_id`.
    pub tlv_values: BTreeMap<String, String>,
    /// Per template language (`default`: the generic template), values overriding
    /// `tlv_values`, e.g. the DLT `template_id` of each registered template.
    pub template_tlv_values: BTreeMap<String, BTreeMap<String, String>>,
    /// A prepaid balance or a monthly cap on what the tenant is charged (none: unlimited).
    pub credit: Option<super::credit::CreditConfig>,
    /// Number types accepted (`mobile`, `fixed_line_or_mobile`, `fixed_line`, `toll_free`,
    /// `premium_rate`, ...); empty = `["mobile", "fixed_line_or_mobile"]`.
    pub number_types: Vec<super::phone::NumberType>,
    /// `[[smsc]]` names this tenant's messages may go through (failover included); empty =
    /// every SMSC.
    pub smscs: Vec<String>,
    /// `[[smsc]]` names tried first, in this order, before the route's own priorities.
    pub route_preference: Vec<String>,
    /// Whether this tenant has metric series of its own (`tenant` label = its id); the others
    /// share the label `other`. `None` = yes when the configuration has at most
    /// [`PER_TENANT_METRICS_UP_TO`] tenants.
    pub metrics: Option<bool>,
    /// A provisioned tenant's tokens, as MACs (never in a file: see `tenants`).
    #[serde(skip)]
    pub stored_tokens: Vec<super::token_index::StoredToken>,
    /// A suspended tenant keeps its settings and stored OTPs; its tokens open nothing.
    #[serde(skip)]
    pub suspended: bool,
}

/// Up to this many tenants, each has its own metric series unless it sets `metrics = false`;
/// beyond, only those that set `metrics = true` (series stay bounded with 100,000 tenants).
pub const PER_TENANT_METRICS_UP_TO: usize = 100;

impl TenantConfig {
    /// Whether its tokens are stored MACs (provisioned through the admin API).
    pub fn provisioned(&self) -> bool {
        self.token.is_empty() && !self.stored_tokens.is_empty()
    }

    /// The identity: `id`, or the name when it is not set.
    pub fn id(&self) -> &str {
        self.id.as_deref().unwrap_or(&self.name)
    }

    /// Whether this tenant has series of its own in a configuration of `tenants` tenants.
    pub fn has_own_metrics(&self, tenants: usize) -> bool {
        self.metrics.unwrap_or(tenants <= PER_TENANT_METRICS_UP_TO)
    }

    /// The `tenant` label of this tenant's metrics in a configuration of `tenants` tenants:
    /// its id (immutable, unlike its name) when it has series of its own, else `other`.
    pub fn metric_label(&self, tenants: usize) -> &str {
        if self.has_own_metrics(tenants) {
            self.id()
        } else {
            crate::telemetry::names::labels::TENANT_OTHER
        }
    }
}

impl std::fmt::Debug for TenantConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TenantConfig")
            .field("name", &self.name)
            .field("id", &self.id())
            .field("token", &"<redacted>")
            .field("allowed_senders", &self.allowed_senders)
            .field("rate_limit_per_s", &self.rate_limit_per_s)
            .field("allowed_countries", &self.allowed_countries)
            .field("denied_countries", &self.denied_countries)
            .field("cors_allowed_origins", &self.cors_allowed_origins)
            .field("number_types", &self.number_types)
            .field("smscs", &self.smscs)
            .field("route_preference", &self.route_preference)
            .field("metrics", &self.metrics)
            .field("suspended", &self.suspended)
            .finish_non_exhaustive()
    }
}

/// `[otp]`: defaults of a created OTP.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OtpConfig {
    pub default_template: String,
    /// Default templates per language (`fr = "Votre code est {{pin}}"`), used when the request
    /// brings no template for the chosen language.
    pub templates: BTreeMap<String, String>,
    pub default_sender: String,
    pub default_ttl_s: u32,
    pub default_max_attempts: u8,
    pub default_pin_type: PinType,
    pub default_pin_length: u8,
    /// Longest rendered text, in SMS segments.
    pub max_segments: u8,
    /// Price of one SMS part, for `cost` where no `[[smsc]] prices` entry applies
    /// (0.0 = unpriced).
    pub price_per_part: f64,
    /// ISO 4217 code of the currency of every price and cost (one per deployment).
    pub currency: String,
    /// How long a finished (verified, cancelled, failed, expired) OTP stays readable by
    /// `GET /otp/{id}` after its expiry time, in seconds.
    pub retain_after_expiry_s: u32,
    /// Live OTPs kept at most; creates beyond answer 503.
    pub max_live: usize,
    /// How long a delivery receipt whose message id is not known yet (it overtook its
    /// submit_sm_resp) is held for it, in seconds.
    pub receipt_hold_s: u32,
    /// Receipts held at most; beyond, the oldest is dropped (`otpgate_receipts_shed_total`).
    pub receipt_hold_max: usize,
    /// Blocking threads that parse, at once, the numbers the fast paths cannot answer (the
    /// library serialises its pattern cache on one lock: more threads add CPU, little speed).
    pub phone_parse_threads: usize,
    /// How long a create waits for one of them before it is refused with 503 (code 1020).
    pub phone_parse_wait_ms: u64,
}

impl OtpConfig {
    pub fn receipt_hold(&self) -> super::store::ReceiptHold {
        super::store::ReceiptHold {
            hold_s: self.receipt_hold_s,
            max: self.receipt_hold_max,
        }
    }
}

impl Default for OtpConfig {
    fn default() -> Self {
        Self {
            default_template: "Your verification code is {{pin}}".into(),
            templates: BTreeMap::new(),
            default_sender: "Verify".into(),
            default_ttl_s: 600,
            default_max_attempts: 5,
            default_pin_type: PinType::Numbers,
            default_pin_length: 6,
            max_segments: 6,
            price_per_part: 0.0,
            currency: "EUR".into(),
            retain_after_expiry_s: 300,
            max_live: 5_000_000,
            receipt_hold_s: 60,
            receipt_hold_max: 100_000,
            phone_parse_threads: 1,
            phone_parse_wait_ms: 500,
        }
    }
}

/// `[limits]`: abuse limits.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    /// Creates per phone number per window; 0 = unlimited.
    pub per_number: u32,
    pub per_number_window_s: u32,
    /// Creates per phone number per window across all tenants (`per_number` counts each
    /// tenant's own); 0 = off. Its refusal always says "retry in one window".
    pub per_number_global: u32,
    /// How long an `Idempotency-Key` is remembered, in seconds.
    pub idempotency_ttl_s: u32,
    /// Resends (`POST /otp/{otpId}/resend`) allowed per OTP.
    pub max_resends: u8,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            per_number: 5,
            per_number_window_s: 600,
            per_number_global: 0,
            idempotency_ttl_s: 86_400,
            max_resends: 3,
        }
    }
}

/// `[abuse]`: SMS-pumping protection beyond the per-number limit.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AbuseConfig {
    /// A prefix is the country calling code plus this many digits of the national number.
    pub prefix_digits: u8,
    /// Creates per prefix per `prefix_window_s` (sliding); 0 = unlimited.
    pub prefix_limit: u32,
    pub prefix_window_s: u32,
    /// Creates per destination country per UTC day, by ISO 3166 alpha-2 code.
    pub country_daily_caps: BTreeMap<String, u32>,
    /// Daily cap of every country not listed; 0 = unlimited.
    pub country_daily_default: u32,
    /// Conversion guard: a prefix whose verified / created ratio over the sliding window falls
    /// under `conversion_min_ratio`, with at least `conversion_min_sample` creates, is refused
    /// until the ratio recovers or the window slides past. 0.0 = off.
    pub conversion_min_ratio: f64,
    pub conversion_min_sample: u32,
    pub conversion_window_s: u32,
    /// Prefixes tracked at most (the idle ones are forgotten first).
    pub max_tracked_prefixes: usize,
}

impl Default for AbuseConfig {
    fn default() -> Self {
        Self {
            prefix_digits: 4,
            prefix_limit: 0,
            prefix_window_s: 60,
            country_daily_caps: BTreeMap::new(),
            country_daily_default: 0,
            conversion_min_ratio: 0.0,
            conversion_min_sample: 50,
            conversion_window_s: 3_600,
            max_tracked_prefixes: 1_000_000,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum StoreKind {
    #[default]
    Memory,
    Redis,
}

impl StoreKind {
    /// As written in the configuration (and in the `store` label of the store gauges).
    pub fn as_str(self) -> &'static str {
        match self {
            StoreKind::Memory => "memory",
            StoreKind::Redis => "redis",
        }
    }
}

/// `[store]`: where OTP state lives. `memory` (the default) is this node's own; `redis` is
/// shared by every node pointing at the same Redis (`url`) or Redis Cluster
/// (`cluster_nodes`, which wins when not empty) with the same `key_prefix`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StoreConfig {
    pub kind: StoreKind,
    pub url: String,
    /// Seed nodes of a Redis Cluster (`redis://host:port` each).
    pub cluster_nodes: Vec<String>,
    /// Prefix of every Redis key.
    pub key_prefix: String,
    /// Every Redis request is answered within this time, or the API answers 503.
    pub timeout_ms: u64,
    /// Where this node keeps state that outlives a restart with the memory store (the SMSCs
    /// an operator stopped); unset = such state lasts until the restart.
    pub state_dir: Option<std::path::PathBuf>,
    /// Days (today included) the usage per tenant and UTC day is kept, for invoicing.
    pub usage_retention_days: u32,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            kind: StoreKind::Memory,
            url: "redis://127.0.0.1:6379".into(),
            cluster_nodes: Vec::new(),
            key_prefix: "otpgate".into(),
            timeout_ms: 1_000,
            state_dir: None,
            usage_retention_days: crate::otp::usage::DEFAULT_RETENTION_DAYS,
        }
    }
}

/// `[security]`.
#[derive(Clone, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct SecurityConfig {
    /// HMAC key of stored PINs; generated at start (with a warning) when absent.
    pub pin_secret: Option<String>,
}

impl SecurityConfig {
    /// The key of provisioned tenants' token MACs, derived from `pin_secret`.
    pub fn token_key(&self) -> Option<super::token_index::TokenKey> {
        self.pin_secret
            .as_deref()
            .map(super::token_index::TokenKey::derive)
    }
}

impl std::fmt::Debug for SecurityConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown = self.pin_secret.as_ref().map(|_| "<redacted>");
        f.debug_struct("SecurityConfig")
            .field("pin_secret", &shown)
            .finish()
    }
}
