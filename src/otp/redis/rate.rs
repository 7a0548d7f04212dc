//! The tenants' create rate counted in Redis, so that the configured rate holds for the whole
//! cluster of nodes: GCRA (the token bucket as one "theoretical arrival time" per tenant), one
//! script per create. Times come from the calling node's clock, in microseconds (exact in a
//! Lua number until the year 2255).

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use async_trait::async_trait;
use redis::Script;

use super::RedisStore;
use crate::otp::store::StoreError;
use crate::otp::tenant::{RateInfo, Taken, Tenant, TenantRate};

/// KEYS: the tenant's arrival time. ARGV: now (µs), interval between tokens (µs), burst.
/// Answers {1, remaining, reset µs} (taken) or {0, retry µs, reset µs}.
static TAKE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local now, interval, burst = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local tat = math.max(tonumber(redis.call('GET', KEYS[1]) or '0'), now)
local new_tat = tat + interval
local allow_at = new_tat - burst * interval
if now < allow_at then
  return {0, allow_at - now, tat - now}
end
redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', math.max(math.ceil((new_tat - now) / 1000), 1))
return {1, math.floor((now - allow_at) / interval), new_tat - now}
"#,
    )
});

pub struct RedisRate {
    store: Arc<RedisStore>,
}

impl RedisRate {
    pub fn new(store: Arc<RedisStore>) -> Self {
        Self { store }
    }
}

#[async_trait]
impl TenantRate for RedisRate {
    async fn take(&self, tenant: &Tenant) -> Result<Taken, StoreError> {
        let rate = f64::from(tenant.config.rate_limit_per_s);
        if rate <= 0.0 {
            return Ok(Ok(None));
        }
        let burst = tenant.burst().max(1.0);
        let interval_us = (1e6 / rate).max(1.0).round() as u64;
        let now_us = u64::try_from(self.store.clock().unix().as_micros()).unwrap_or(u64::MAX);
        // by identity: renaming a tenant or reordering the list keeps its bucket
        let key = format!("{}:rate:{}", self.store.prefix(), tenant.tag());
        let mut inv = TAKE.key(key);
        inv.arg(now_us).arg(interval_us).arg(burst as u64);
        let (taken, figure, reset_us): (i64, i64, i64) = self.store.redis().script(&inv).await?;
        let us = |v: i64| u64::try_from(v).unwrap_or(0);
        let info = |remaining: u64| RateInfo {
            limit: burst as u32,
            remaining: u32::try_from(remaining).unwrap_or(u32::MAX),
            reset_s: us(reset_us).div_ceil(1_000_000),
        };
        Ok(if taken == 1 {
            Ok(Some(info(us(figure))))
        } else {
            Err((info(0), Duration::from_micros(us(figure).max(1))))
        })
    }
}
