//! Housekeeping of the Redis store, run by every node: deadlines are claimed from the shared
//! sorted set `P:due` (ZREM succeeds on exactly one node), so each OTP is expired, and its
//! EXPIRED status change reported to its callback URL, exactly once, by whichever node gets
//! there first, even when the node that created it is gone. Records, message ids and counters
//! are deleted by Redis itself through their key expiry. Also refreshes the `len` / `pending`
//! snapshot.

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;

use super::RedisStore;
use crate::otp::model::OtpId;

/// Deadlines claimed per round.
const BATCH: usize = 256;
/// Rounds happen at least this often (EXPIRED lags the expiry time by at most this).
const TICK: Duration = Duration::from_millis(500);
/// After a failed round (Redis unavailable), the next one waits this long.
const BACKOFF: Duration = Duration::from_secs(2);

pub struct Housekeeping {
    store: Arc<RedisStore>,
}

impl Housekeeping {
    pub fn new(store: Arc<RedisStore>) -> Self {
        Self { store }
    }

    pub async fn run(self, shutdown: BoxFuture<'static, ()>) {
        let mut shutdown = shutdown;
        let clock = self.store.clock().clone();
        loop {
            let clock_moved = clock.changed.notified();
            tokio::pin!(clock_moved);
            clock_moved.as_mut().enable();
            let pause = match self.round(clock.unix_secs()).await {
                Ok(full) if full => Duration::ZERO,
                Ok(_) => TICK,
                Err(e) => {
                    tracing::warn!(error = %e, "store housekeeping failed, retrying");
                    BACKOFF
                }
            };
            tokio::select! {
                _ = &mut shutdown => return,
                _ = tokio::time::sleep(pause) => {}
                _ = &mut clock_moved => {}
            }
        }
    }

    /// One round; true when a whole batch was due (more may be waiting).
    async fn round(&self, now: u32) -> Result<bool, crate::otp::store::StoreError> {
        let s = &self.store;
        let due_key = s.due_key();
        let due = s.due_batch(&due_key, now, BATCH).await?;
        let full = due.len() >= BATCH;
        for member in due {
            let zrem = redis::cmd("ZREM").arg(&due_key).arg(&member).clone();
            let claimed: i64 = s.redis().cmd(&zrem).await?;
            if claimed != 1 {
                continue; // another node took it
            }
            let Some(id) = OtpId::parse(&member) else {
                continue;
            };
            let Some(r) = s.expire_one(&id, now).await? else {
                continue; // gone already
            };
            // next look: at expiry if it is not there yet (clock skew), else end of retention
            let gone_at = r.expires().saturating_add(s.retain_s());
            let next = if now < r.expires() {
                Some(r.expires())
            } else if now < gone_at {
                Some(gone_at)
            } else {
                None
            };
            if let Some(at) = next {
                let zadd = redis::cmd("ZADD")
                    .arg(&due_key)
                    .arg(at)
                    .arg(&member)
                    .clone();
                s.redis().cmd::<()>(&zadd).await?;
            }
        }
        let held_full = s.expire_held(now).await?;
        let card = redis::cmd("ZCARD").arg(&due_key).clone();
        let pending = redis::cmd("GET").arg(s.pending_key()).clone();
        let (live, pending) = futures::join!(
            s.redis().cmd::<usize>(&card),
            s.redis().cmd::<Option<i64>>(&pending)
        );
        let pending = usize::try_from(pending?.unwrap_or(0)).unwrap_or(0);
        s.set_snapshot(live?, pending);
        Ok(full || held_full)
    }
}
