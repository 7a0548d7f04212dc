//! The credit ledger in Redis: what each tenant spent per period, one key per tenant and
//! period changed by one script, so that every node reserves against the same amount.

use std::sync::LazyLock;

use redis::Script;

use super::RedisStore;
use crate::otp::credit::{CreditLedger, OverCredit};
use crate::otp::identity::TenantTag;
use crate::otp::store::StoreError;

/// A month's key outlives its month: it can still be settled and read a while after.
const MONTH_KEY_TTL_S: u64 = 62 * 86_400;

/// KEYS: the tenant's key for the period. ARGV: limit, amount, TTL (0: none). Adds the amount
/// unless it would pass the limit: `{1, 0}`, or `{0, available}`.
static RESERVE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local spent = tonumber(redis.call('GET', KEYS[1]) or '0')
local limit, amount, ttl = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
if spent + amount > limit then
  local left = limit - spent
  if left < 0 then left = 0 end
  return {0, left}
end
redis.call('INCRBY', KEYS[1], ARGV[2])
if ttl > 0 then redis.call('EXPIRE', KEYS[1], ttl) end
return {1, 0}
"#,
    )
});

/// KEYS: the tenant's key for the period. ARGV: delta, TTL (0: none). Never below 0.
static ADJUST: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local v = redis.call('INCRBY', KEYS[1], ARGV[1])
if v < 0 then redis.call('SET', KEYS[1], 0, 'KEEPTTL') end
if tonumber(ARGV[2]) > 0 and redis.call('TTL', KEYS[1]) < 0 then
  redis.call('EXPIRE', KEYS[1], ARGV[2])
end
return 1
"#,
    )
});

impl RedisStore {
    fn credit_key(&self, tenant: TenantTag, period: u32) -> String {
        format!("{}:credit:{{{}}}:{period}", self.prefix, tenant.get())
    }
}

fn ttl(period: u32) -> u64 {
    if period == 0 {
        0
    } else {
        MONTH_KEY_TTL_S
    }
}

#[async_trait::async_trait]
impl CreditLedger for RedisStore {
    async fn reserve(
        &self,
        tenant: TenantTag,
        period: u32,
        limit: u64,
        amount: u64,
    ) -> Result<Result<(), OverCredit>, StoreError> {
        let mut inv = RESERVE.key(self.credit_key(tenant, period));
        inv.arg(limit).arg(amount).arg(ttl(period));
        let (ok, available): (u8, u64) = self.redis.script(&inv).await?;
        Ok(if ok == 1 {
            Ok(())
        } else {
            Err(OverCredit {
                needed: amount,
                available,
            })
        })
    }

    async fn adjust(&self, tenant: TenantTag, period: u32, delta: i64) -> Result<(), StoreError> {
        let mut inv = ADJUST.key(self.credit_key(tenant, period));
        inv.arg(delta).arg(ttl(period));
        let _: u8 = self.redis.script(&inv).await?;
        Ok(())
    }

    async fn spent(&self, tenant: TenantTag, period: u32) -> Result<u64, StoreError> {
        let cmd = redis::cmd("GET")
            .arg(self.credit_key(tenant, period))
            .clone();
        let v: Option<u64> = self.redis.cmd(&cmd).await?;
        Ok(v.unwrap_or(0))
    }
}
