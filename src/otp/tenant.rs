//! Tenants (API clients from the configuration): lookup by token in constant time, and each
//! tenant's create rate limit (a token bucket), counted in this process or, behind
//! [`TenantRate`], shared by every node.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use subtle::ConstantTimeEq;
use tokio::time::Instant;

use super::clock::Clock;
use super::settings::TenantConfig;
use super::store::StoreError;

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

/// What a tenant's own limit counters (per number, per number prefix) are keyed by. Built in
/// [`Tenant::limit_key`] only: the stores derive their keys from it, so changing what
/// identifies a tenant is one edit there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LimitKey(u16);

impl LimitKey {
    /// The first tenant's key.
    pub const ZERO: Self = Self(0);

    /// Tenant keys the in-memory phone table can tell apart (it packs the key into the spare
    /// high bits of a phone number); the configuration refuses more tenants.
    pub const MAX_TENANTS: usize = (1 << 14) - 1;

    /// The key of the tenant at `index` in the configuration (for tools and tests; the
    /// engine takes [`Tenant::limit_key`]).
    pub fn from_raw(index: u16) -> Self {
        Self(index)
    }

    /// The key as a number: `0..MAX_TENANTS` for a valid configuration.
    pub fn get(self) -> u16 {
        self.0
    }
}

impl std::fmt::Display for LimitKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "t{}", self.0)
    }
}

#[derive(Debug)]
pub struct Tenant {
    pub index: u16,
    pub config: TenantConfig,
    bucket: Mutex<Bucket>,
}

impl Tenant {
    pub fn name(&self) -> &str {
        &self.config.name
    }

    /// The key of this tenant's limit counters: its position in the configuration for now
    /// (reordering tenants starts their counters afresh).
    pub fn limit_key(&self) -> LimitKey {
        LimitKey(self.index)
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
}

/// All tenants of the configuration.
#[derive(Debug, Default)]
pub struct Tenants {
    list: Vec<Tenant>,
}

impl Tenants {
    pub fn new(configs: &[TenantConfig], now: Instant) -> Self {
        let list = configs
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let mut t = Tenant {
                    index: u16::try_from(i).unwrap_or(u16::MAX),
                    config: c.clone(),
                    bucket: Mutex::new(Bucket {
                        tokens: 0.0,
                        last: now,
                    }),
                };
                let full = t.burst();
                t.bucket.get_mut().unwrap_or_else(|p| p.into_inner()).tokens = full;
                t
            })
            .collect();
        Self { list }
    }

    /// The tenant owning `token`; every token is compared in constant time.
    pub fn by_token(&self, token: &str) -> Option<&Tenant> {
        let mut found = None;
        for t in &self.list {
            let same: bool = t.config.token.as_bytes().ct_eq(token.as_bytes()).into();
            if same && found.is_none() {
                found = Some(t);
            }
        }
        found
    }

    pub fn get(&self, index: u16) -> Option<&Tenant> {
        self.list.get(usize::from(index))
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
}
