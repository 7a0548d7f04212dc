//! The pumping guard with counters in Redis, shared by every node: prefix velocity and the
//! conversion guard as sliding windows per number prefix (one hash tag per prefix, so one
//! script checks and counts atomically), country daily caps as a counter per country and UTC
//! day. The limits and their retry times are the in-memory guard's ([`AbuseGuard`]): prefix
//! counters per tenant, the country counters shared by all tenants.
//!
//! [`AbuseGuard`]: crate::otp::abuse::AbuseGuard

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use async_trait::async_trait;
use redis::Script;

use super::scripts::SLIDING_ESTIMATE_LUA;
use super::RedisStore;
use crate::otp::abuse::{Blocked, CountryCaps, DAY_S};
use crate::otp::guard::PumpingGuard;
use crate::otp::phone::Phone;
use crate::otp::settings::AbuseConfig;
use crate::otp::store::StoreError;
use crate::otp::tenant::LimitKey;
use crate::otp::window::fixed_window;

/// KEYS: creates cur/prev, conversion-created cur/prev, conversion-verified cur/prev.
/// ARGV: now, prefix window, its start, prefix limit, conversion window, its start,
/// min ratio, min sample. Answers {0, 0} (counted) or {reason, retry seconds}.
static ADMIT: LazyLock<Script> = LazyLock::new(|| {
    Script::new(&format!(
        "{SLIDING_ESTIMATE_LUA}{}",
        r#"
local now, pw, ps, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local cw, cs, ratio, sample = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
if limit > 0 and estimate(KEYS[1], KEYS[2], now, pw, ps) + 1 > limit then
  return {1, math.max(ps + pw - now, 1)}
end
if ratio > 0 then
  local created = estimate(KEYS[3], KEYS[4], now, cw, cs)
  local verified = estimate(KEYS[5], KEYS[6], now, cw, cs)
  if created >= sample and verified / created < ratio then
    return {2, math.max(cs + cw - now, 1)}
  end
end
redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], 2 * pw)
redis.call('INCR', KEYS[3])
redis.call('EXPIRE', KEYS[3], 2 * cw)
return {0, 0}
"#
    ))
});

/// KEYS: creates cur, conversion-created cur. Takes back a create the country cap refused.
static UNDO: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
for _, k in ipairs(KEYS) do
  if tonumber(redis.call('GET', k) or '0') > 0 then redis.call('DECR', k) end
end
return 0
"#,
    )
});

/// KEYS: the country's counter of the day. ARGV: cap, ttl. 1 counted, 0 refused.
static COUNTRY: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
if tonumber(redis.call('GET', KEYS[1]) or '0') >= tonumber(ARGV[1]) then return 0 end
redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
return 1
"#,
    )
});

/// The shared pumping guard.
pub struct RedisGuard {
    store: Arc<RedisStore>,
    cfg: AbuseConfig,
    caps: CountryCaps,
}

impl RedisGuard {
    pub fn new(store: Arc<RedisStore>, cfg: AbuseConfig) -> Self {
        Self {
            store,
            caps: CountryCaps::new(&cfg),
            cfg,
        }
    }

    /// A prefix counter of `tenant`; the hash tag holds both, so one script reaches all of
    /// them. Keys from before per-tenant counters (`pf:{prefix}`) are no longer read and
    /// expire within two windows.
    fn key(&self, tenant: LimitKey, prefix: u64, what: &str, start: u32) -> String {
        format!(
            "{}:pf:{{{tenant}:{prefix}}}:{what}:{start}",
            self.store.prefix()
        )
    }
}

#[async_trait]
impl PumpingGuard for RedisGuard {
    async fn admit(
        &self,
        tenant: LimitKey,
        phone: &Phone,
        now: u32,
    ) -> Result<Result<(), Blocked>, StoreError> {
        let c = &self.cfg;
        let prefix = phone.prefix(c.prefix_digits);
        let (pw, ps) = fixed_window(now, c.prefix_window_s);
        let (cw, cs) = fixed_window(now, c.conversion_window_s);
        let mut inv = ADMIT.key(self.key(tenant, prefix, "c", ps));
        inv.key(self.key(tenant, prefix, "c", ps.saturating_sub(pw)))
            .key(self.key(tenant, prefix, "cc", cs))
            .key(self.key(tenant, prefix, "cc", cs.saturating_sub(cw)))
            .key(self.key(tenant, prefix, "cv", cs))
            .key(self.key(tenant, prefix, "cv", cs.saturating_sub(cw)));
        inv.arg(now)
            .arg(pw)
            .arg(ps)
            .arg(c.prefix_limit)
            .arg(cw)
            .arg(cs)
            .arg(c.conversion_min_ratio.to_string())
            .arg(c.conversion_min_sample);
        let (reason, wait): (u8, u64) = self.store.redis().script(&inv).await?;
        let retry_after = Duration::from_secs(wait.max(1));
        match reason {
            0 => {}
            1 => return Ok(Err(Blocked::PrefixVelocity { retry_after })),
            _ => return Ok(Err(Blocked::LowConversion { retry_after })),
        }
        let cap = self.caps.cap(phone.country);
        if cap == 0 {
            return Ok(Ok(()));
        }
        let day = CountryCaps::day(now);
        let cc = String::from_utf8_lossy(&phone.country).into_owned();
        let key = format!("{}:cc:{{{cc}}}:{day}", self.store.prefix());
        let mut inv = COUNTRY.key(key);
        inv.arg(cap).arg(2 * DAY_S);
        let counted: i64 = self.store.redis().script(&inv).await?;
        if counted == 1 {
            return Ok(Ok(()));
        }
        let mut undo = UNDO.key(self.key(tenant, prefix, "c", ps));
        undo.key(self.key(tenant, prefix, "cc", cs));
        self.store.redis().script::<i64>(&undo).await?;
        Ok(Err(CountryCaps::reached(now)))
    }

    async fn verified(&self, tenant: LimitKey, phone: &Phone, now: u32) -> Result<(), StoreError> {
        if self.cfg.conversion_min_ratio <= 0.0 {
            return Ok(());
        }
        let prefix = phone.prefix(self.cfg.prefix_digits);
        let (cw, cs) = fixed_window(now, self.cfg.conversion_window_s);
        let key = self.key(tenant, prefix, "cv", cs);
        let incr = redis::cmd("INCR").arg(&key).clone();
        let expire = redis::cmd("EXPIRE").arg(&key).arg(2 * cw).clone();
        self.store.redis().cmd::<i64>(&incr).await?;
        self.store.redis().cmd::<i64>(&expire).await.map(drop)
    }
}
