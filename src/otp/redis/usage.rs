//! Usage in Redis: one hash per tenant and UTC day, `P:usage:{<tenant tag>}:<day>` (fields
//! `c` created, `p` parts, `co` cost in micro-units, `v` verified), expiring at the end of the
//! retention. Every node adds to the same hashes: the counts are the cluster's. A tenant's
//! days share its hash tag, so one script reads a whole range, on a cluster too.

use std::sync::LazyLock;

use redis::Script;

use super::RedisStore;
use crate::otp::identity::TenantTag;
use crate::otp::store::StoreError;
use crate::otp::usage::{DayUsage, UsageEvent, UsageStore, DAY_S};

/// KEYS: the day's hash. ARGV: UNIX second it expires at, then field and amount pairs. A
/// count taken back never goes below 0.
static ADD: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
for i = 2, #ARGV, 2 do
  if redis.call('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1]) < 0 then
    redis.call('HSET', KEYS[1], ARGV[i], 0)
  end
end
redis.call('EXPIREAT', KEYS[1], ARGV[1])
return 1
"#,
    )
});

/// KEYS: the days' hashes. Answers each one's fields c, p, co, v.
static READ: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local out = {}
for i = 1, #KEYS do
  out[i] = redis.call('HMGET', KEYS[i], 'c', 'p', 'co', 'v')
end
return out
"#,
    )
});

impl RedisStore {
    pub(super) fn usage_key(&self, tenant: TenantTag, day: u32) -> String {
        format!("{}:usage:{{{tenant}}}:{day}", self.prefix)
    }

    /// The UNIX second `day`'s counters are dropped at: when it leaves the retention.
    pub(super) fn usage_expires_at(&self, day: u32) -> u64 {
        (u64::from(day) + u64::from(self.usage_retention_days)) * u64::from(DAY_S)
    }

    /// Adds `event` to `tenant`'s counters of `day` (one script on one key). Best effort: the
    /// change it counts is made already, so a failure is logged, not returned.
    pub(super) async fn count_usage(&self, tenant: TenantTag, day: u32, event: UsageEvent) {
        let mut inv = ADD.key(self.usage_key(tenant, day));
        inv.arg(self.usage_expires_at(day));
        match event {
            UsageEvent::Created => {
                inv.arg("c").arg(1);
            }
            UsageEvent::CreateUndone => {
                inv.arg("c").arg(-1);
            }
            UsageEvent::Charged { parts, cost_micros } => {
                inv.arg("p").arg(parts).arg("co").arg(cost_micros);
            }
            UsageEvent::Verified => {
                inv.arg("v").arg(1);
            }
        }
        if let Err(e) = self.redis.script::<i64>(&inv).await {
            tracing::warn!(error = %e, %tenant, ?event, "usage not counted");
        }
    }
}

/// A day's fields c, p, co, v (absent: 0).
type Row = (Option<u64>, Option<u64>, Option<u64>, Option<u64>);

fn count(v: &Option<u64>) -> u64 {
    v.unwrap_or(0)
}

#[async_trait::async_trait]
impl UsageStore for RedisStore {
    async fn usage(
        &self,
        tenant: TenantTag,
        first: u32,
        last: u32,
    ) -> Result<Vec<(u32, DayUsage)>, StoreError> {
        if first > last {
            return Ok(Vec::new());
        }
        let mut inv = READ.prepare_invoke();
        for day in first..=last {
            inv.key(self.usage_key(tenant, day));
        }
        let rows: Vec<Row> = self.redis.script(&inv).await?;
        Ok((first..=last)
            .zip(rows)
            .map(|(day, (c, p, co, v))| {
                let u = DayUsage {
                    created: count(&c),
                    parts: count(&p),
                    cost_micros: count(&co),
                    verified: count(&v),
                };
                (day, u)
            })
            .filter(|(_, u)| !u.is_zero())
            .collect())
    }

    fn usage_retention_days(&self) -> u32 {
        self.usage_retention_days
    }
}
