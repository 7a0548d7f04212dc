//! Tenants (API clients from the configuration): lookup by token in constant time per request
//! whatever their number (a keyed index, see [`super::token_index`]), and each tenant's create
//! rate limit (a token bucket), counted in this process or, behind
//! [`TenantRate`], shared by every node.

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use async_trait::async_trait;
use tokio::time::Instant;

use super::clock::Clock;
pub use super::identity::LimitKey;
use super::identity::TenantTag;
use super::phone::{NumberType, NumberTypes};
use super::settings::TenantConfig;
use super::store_error::StoreError;
use super::text::Encoding;
use super::token_index::{TokenEntry, TokenIndex, TokenKey};
use crate::dispatch::SmscChoice;
use crate::telemetry::names;
use crate::telemetry::spread::{self, SpreadCounter};

/// The rate-limit state reported in `X-Rate-Limit-*` headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateInfo {
    pub limit: u32,
    pub remaining: u32,
    /// Seconds until the bucket is full again.
    pub reset_s: u64,
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

#[derive(Debug)]
pub struct Tenant {
    tag: TenantTag,
    /// Unique per tenant in this process (see [`LimitKey`]).
    dense: u32,
    pub config: TenantConfig,
    /// The `tenant` label of its metrics: its id, or the shared label of the tenants without
    /// series of their own (see [`TenantConfig::metric_label`]).
    metric_label: String,
    bucket: Mutex<Bucket>,
    number_types: NumberTypes,
    /// Built once: every message of the tenant shares it.
    smscs: Option<Arc<SmscChoice>>,
    /// `otpgate_otps_created_total` of this tenant by encoding (in [`Encoding`]'s order),
    /// each looked up on first use and kept: a lookup by labels allocates the tenant's label
    /// and takes the registry's lock on every create.
    created: [OnceLock<Arc<SpreadCounter>>; 3],
}

impl Tenant {
    pub fn name(&self) -> &str {
        &self.config.name
    }

    /// The immutable `[[tenants]] id` (the name unless set).
    pub fn id(&self) -> &str {
        self.config.id()
    }

    /// The value of the `tenant` label of this tenant's metrics (bounded: see
    /// [`TenantConfig::metric_label`]).
    pub fn metric_label(&self) -> &str {
        &self.metric_label
    }

    /// Counts an OTP created for this tenant, its SMS in `encoding`.
    pub fn count_created(&self, encoding: Encoding) {
        let slot = match encoding {
            Encoding::Gsm7 => &self.created[0],
            Encoding::Ucs2 => &self.created[1],
            Encoding::Latin1 => &self.created[2],
        };
        // kept per thread: both HTTP workers count every create (`telemetry::spread`)
        slot.get_or_init(|| {
            spread::counter(
                names::OTPS_CREATED,
                &[
                    ("tenant", &self.metric_label),
                    ("encoding", encoding.as_str()),
                ],
            )
        })
        .increment(1);
    }

    /// What records, idempotency keys and callbacks of this tenant carry.
    pub fn tag(&self) -> TenantTag {
        self.tag
    }

    /// The key of this tenant's limit counters.
    pub fn limit_key(&self) -> LimitKey {
        LimitKey::new(self.dense, self.tag)
    }

    /// Tokens the bucket holds when full.
    pub fn burst(&self) -> f64 {
        let c = &self.config;
        f64::from(if c.rate_limit_burst == 0 {
            c.rate_limit_per_s
        } else {
            c.rate_limit_burst
        })
    }

    /// Takes one create token; `Err` carries the wait before the next one.
    pub fn take(&self, now: Instant) -> Result<Option<RateInfo>, (RateInfo, Duration)> {
        let rate = f64::from(self.config.rate_limit_per_s);
        if rate <= 0.0 {
            return Ok(None);
        }
        let burst = self.burst().max(1.0);
        let mut b = self.bucket.lock().unwrap_or_else(|p| p.into_inner());
        let elapsed = now.saturating_duration_since(b.last).as_secs_f64();
        b.tokens = (b.tokens + elapsed * rate).min(burst);
        b.last = now;
        let info = |tokens: f64| RateInfo {
            limit: burst as u32,
            remaining: tokens.max(0.0).floor() as u32,
            reset_s: ((burst - tokens) / rate).max(0.0).ceil() as u64,
        };
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(Some(info(b.tokens)))
        } else {
            let wait = Duration::from_secs_f64(((1.0 - b.tokens) / rate).max(0.001));
            Err((info(b.tokens), wait))
        }
    }

    pub fn country_allowed(&self, country: &str) -> bool {
        let c = &self.config;
        let allowed =
            c.allowed_countries.is_empty() || c.allowed_countries.iter().any(|a| a == country);
        allowed && !c.denied_countries.iter().any(|d| d == country)
    }

    pub fn number_type_allowed(&self, kind: NumberType) -> bool {
        self.number_types.contains(kind)
    }

    /// The SMSCs this tenant's messages may use; `None` = any, in the routes' order.
    pub fn smscs(&self) -> Option<&Arc<SmscChoice>> {
        self.smscs.as_ref()
    }

    pub fn sender_allowed(&self, sender: &str) -> bool {
        let list = &self.config.allowed_senders;
        list.is_empty() || list.iter().any(|s| s == sender)
    }
}

/// A create's verdict: allowed (with the headers' figures, `None` when the tenant has no
/// limit), or refused with the figures and the wait before the next token.
pub type Taken = Result<Option<RateInfo>, (RateInfo, Duration)>;

/// Where the tenants' create tokens are counted.
#[async_trait]
pub trait TenantRate: Send + Sync + 'static {
    async fn take(&self, tenant: &Tenant) -> Result<Taken, StoreError>;
    /// [`take`](Self::take) at once, when that needs no waiting (this node's own buckets): a
    /// create spares the boxed future of the call. `None` sends the caller to `take`.
    fn take_now(&self, tenant: &Tenant) -> Option<Result<Taken, StoreError>> {
        let _ = tenant;
        None
    }
}

/// Each node counts its own creates (N nodes allow N times the rate).
pub struct LocalRate {
    clock: Arc<Clock>,
}

impl LocalRate {
    pub fn new(clock: Arc<Clock>) -> Self {
        Self { clock }
    }
}

#[async_trait]
impl TenantRate for LocalRate {
    async fn take(&self, tenant: &Tenant) -> Result<Taken, StoreError> {
        Ok(tenant.take(self.clock.instant()))
    }

    fn take_now(&self, tenant: &Tenant) -> Option<Result<Taken, StoreError>> {
        Some(Ok(tenant.take(self.clock.instant())))
    }
}

/// All tenants of the configuration: an immutable value built once with its token index, so
/// that a new set replaces it whole.
#[derive(Debug, Default)]
pub struct Tenants {
    list: Vec<Tenant>,
    by_token: TokenIndex,
}

impl Tenants {
    /// The tenants of `configs` (a validated configuration: unique ids, at most
    /// [`LimitKey::MAX_TENANTS`]); each gets its dense key in list order, which only this
    /// process's memory tables use.
    pub fn new(configs: &[TenantConfig], now: Instant) -> Self {
        Self::build(configs, None, now)
    }

    /// As [`Tenants::new`], the tokens MACed under `key`: provisioned tenants' stored tokens
    /// are found too (without a key they open nothing).
    pub fn keyed(configs: &[TenantConfig], key: Option<&TokenKey>, now: Instant) -> Self {
        Self::build(configs, key, now)
    }

    fn build(configs: &[TenantConfig], key: Option<&TokenKey>, now: Instant) -> Self {
        let count = configs.len();
        let list: Vec<Tenant> = configs
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let mut t = Tenant {
                    tag: TenantTag::of(c.id()),
                    // the configuration allows at most MAX_TENANTS: never saturates
                    dense: u32::try_from(i).unwrap_or(u32::MAX),
                    config: c.clone(),
                    metric_label: c.metric_label(count).to_owned(),
                    bucket: Mutex::new(Bucket {
                        tokens: 0.0,
                        last: now,
                    }),
                    number_types: NumberTypes::or_default(&c.number_types),
                    smscs: (!c.smscs.is_empty() || !c.route_preference.is_empty()).then(|| {
                        Arc::new(SmscChoice {
                            allowed: c.smscs.clone(),
                            preference: c.route_preference.clone(),
                        })
                    }),
                    created: Default::default(),
                };
                let full = t.burst();
                t.bucket.get_mut().unwrap_or_else(|p| p.into_inner()).tokens = full;
                t
            })
            .collect();
        let by_token = match key {
            None => TokenIndex::new(list.iter().map(|t| t.config.token.as_str())),
            Some(key) => {
                let entries = list.iter().enumerate().flat_map(|(i, t)| {
                    let clear = (!t.config.token.is_empty())
                        .then_some((i, TokenEntry::Clear(t.config.token.as_str())));
                    let stored = t
                        .config
                        .stored_tokens
                        .iter()
                        .map(move |s| (i, TokenEntry::Stored(s)));
                    clear.into_iter().chain(stored)
                });
                TokenIndex::keyed_by(key, entries)
            }
        };
        Self { list, by_token }
    }

    /// The tenant owning `token`: one keyed hash, one lookup and one constant-time compare,
    /// whatever the number of tenants. A suspended tenant, or a rotated token past its
    /// overlap, opens nothing.
    pub fn by_token(&self, token: &str) -> Option<&Tenant> {
        let now = || {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs())
        };
        self.list
            .get(self.by_token.find_then(token, now)?)
            .filter(|t| !t.config.suspended)
    }

    /// Whether some tenant (suspended or not) has `token`, its overlap over or not: a new
    /// token must not be one of those.
    pub fn token_taken(&self, token: &str) -> bool {
        self.by_token.holds(token)
    }

    /// The tenants, in their order.
    pub fn iter(&self) -> impl Iterator<Item = &Tenant> {
        self.list.iter()
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
}
