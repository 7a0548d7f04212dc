//! Bind leases on Redis: the `binds` of an `[[smsc]]` account are shared by every node, each
//! slot held by one node at a time.
//!
//! - `P:lease:{<smsc>}:<slot>` = the holder's node id, `SET NX PX ttl`; `…:last` remembers
//!   the last holder (a take from another node counts as a takeover).
//! - Every ttl/3 the renewal task renews the leases this node holds with a compare-and-pexpire
//!   script (never a key another node holds) and refreshes this node's heartbeat in
//!   `P:nodes` (a sorted set node id -> expiry), which counts the live nodes.
//! - A lease not confirmed for ttl − ttl/4 (Redis unreachable or slow), or whose key another
//!   node holds, is lost: its binds get ttl/8 to drain and unbind, so they are closed before
//!   the key can expire and another node bind.
//! - A slot is tried every ttl/6 to ttl/3 (jittered): a dead node's slots are taken within
//!   about ttl + ttl/3. A node takes at most ceil(binds / live nodes) slots of an SMSC at
//!   once; it takes more only when a slot stays free for a whole period (no other node wants
//!   it). Slots are not moved away from a live node: moving a bind costs an unbind and a bind.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::future::BoxFuture;
use redis::Script;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::otp::redis::{Conn, Redis, Target};
use crate::otp::store::StoreError;
use crate::smpp::permits::{BindPermits, Lease, SlotId};
use crate::telemetry::names::{BIND_LEASES_HELD, BIND_LEASE_LOST, BIND_LEASE_TAKEOVERS};

/// Takes a free slot, or keeps it when this node still holds it: 0 = held by another node,
/// 1 = taken, 2 = taken over from another node.
static TAKE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if holder then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
local last = redis.call('GET', KEYS[2])
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[3])
if last and last ~= ARGV[1] then return 2 end
return 1
"#,
    )
});

/// Renews a lease this node holds: 1 = renewed, 0 = not ours (any more).
static RENEW: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"#,
    )
});

/// Deletes a lease this node holds.
static RELEASE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"#,
    )
});

/// Refreshes this node's heartbeat, forgets the expired ones, answers the live nodes.
static HEARTBEAT: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return redis.call('ZCARD', KEYS[1])
"#,
    )
});

/// How long the last holder of a slot is remembered (for the takeover count).
const LAST_HOLDER_MS: u64 = 86_400_000;

/// Where the leases live and how long they last.
#[derive(Debug, Clone)]
pub struct LeaseOptions {
    pub target: Target,
    pub key_prefix: String,
    pub node_id: String,
    pub ttl: Duration,
    /// Longest wait for one Redis answer (at most a sixth of the TTL is used).
    pub timeout: Duration,
}

struct Held {
    lost: CancellationToken,
    /// Until when Redis is known to keep the lease ours (the renewal's send time + ttl).
    confirmed_until: Instant,
}

struct Inner {
    redis: Redis,
    prefix: String,
    node: String,
    ttl: Duration,
    held: Mutex<HashMap<SlotId, Held>>,
    live_nodes: AtomicUsize,
    /// One take at a time, so that the quota counts what was just taken.
    taking: tokio::sync::Mutex<()>,
}

/// [`BindPermits`] from Redis leases; the renewal and watchdog tasks stop when it is dropped.
pub struct RedisLeases {
    inner: Arc<Inner>,
    stop: CancellationToken,
}

impl Drop for RedisLeases {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

impl RedisLeases {
    /// Connects (its own connection: renewals never wait behind store traffic), announces
    /// this node and starts renewing. `smscs`: the SMSC names, whose metrics start at zero.
    pub async fn start(opts: LeaseOptions, smscs: &[String]) -> Result<Self, StoreError> {
        let timeout = opts.timeout.min(opts.ttl / 6);
        let conn = Conn::connect(&opts.target, timeout).await?;
        for smsc in smscs {
            crate::telemetry::register_bind_leases(smsc);
        }
        let inner = Arc::new(Inner {
            redis: Redis::new(conn, timeout),
            prefix: opts.key_prefix,
            node: opts.node_id,
            ttl: opts.ttl,
            held: Mutex::new(HashMap::new()),
            live_nodes: AtomicUsize::new(1),
            taking: tokio::sync::Mutex::new(()),
        });
        inner.heartbeat().await?;
        let stop = CancellationToken::new();
        tokio::spawn(renew_loop(inner.clone(), stop.clone()));
        tokio::spawn(watchdog(inner.clone(), stop.clone()));
        tracing::info!(node = %inner.node, ttl = ?inner.ttl, live_nodes = inner.live_nodes(), "bind leases on Redis");
        Ok(Self { inner, stop })
    }
}

impl BindPermits for RedisLeases {
    fn acquire(&self, id: SlotId) -> BoxFuture<'_, Lease> {
        Box::pin(self.inner.clone().acquire(id))
    }

    fn release(&self, lease: Lease) -> BoxFuture<'_, ()> {
        Box::pin(self.inner.clone().release(lease))
    }
}

impl Inner {
    fn period(&self) -> Duration {
        self.ttl / 3
    }

    fn key(&self, id: &SlotId) -> String {
        format!("{}:lease:{{{}}}:{}", self.prefix, id.smsc, id.slot)
    }

    fn live_nodes(&self) -> usize {
        self.live_nodes.load(Ordering::Relaxed).max(1)
    }

    fn held(&self) -> std::sync::MutexGuard<'_, HashMap<SlotId, Held>> {
        self.held.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn held_of(&self, smsc: &str) -> usize {
        self.held().keys().filter(|k| k.smsc == smsc).count()
    }

    fn publish_held(&self, smsc: &str) {
        let n = self.held_of(smsc);
        metrics::gauge!(BIND_LEASES_HELD, "smsc" => smsc.to_owned()).set(n as f64);
    }

    fn ms(d: Duration) -> u64 {
        u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
    }

    async fn acquire(self: Arc<Self>, id: SlotId) -> Lease {
        let key = self.key(&id);
        let mut free_since: Option<Instant> = None;
        loop {
            match self.try_take(&id, &key, &mut free_since).await {
                Ok(Some(lease)) => return lease,
                Ok(None) => {}
                Err(e) => {
                    tracing::debug!(smsc = %id.smsc, slot = id.slot, error = %e, "bind lease not taken")
                }
            }
            let period = self.period();
            let jitter = rand::random::<f64>() * 0.5 + 0.5;
            tokio::time::sleep(period.mul_f64(jitter)).await;
        }
    }

    /// Takes the slot when this node is under its share of the SMSC's slots, or when the
    /// slot has stayed free for a whole period.
    async fn try_take(
        &self,
        id: &SlotId,
        key: &str,
        free_since: &mut Option<Instant>,
    ) -> Result<Option<Lease>, StoreError> {
        let _one = self.taking.lock().await;
        let now = Instant::now();
        let share = id.slots.div_ceil(self.live_nodes());
        let long_free =
            free_since.is_some_and(|t| now.saturating_duration_since(t) >= self.period());
        if self.held_of(&id.smsc) >= share && !long_free {
            let holder: Option<String> = self.redis.cmd(redis::cmd("GET").arg(key)).await?;
            *free_since = match holder {
                None => Some(free_since.unwrap_or(now)),
                Some(_) => None,
            };
            return Ok(None);
        }
        let mut inv = TAKE.prepare_invoke();
        inv.key(key)
            .key(format!("{key}:last"))
            .arg(&self.node)
            .arg(Self::ms(self.ttl))
            .arg(LAST_HOLDER_MS);
        let sent = Instant::now();
        let taken: u8 = self.redis.script(&inv).await?;
        if taken == 0 {
            *free_since = None;
            return Ok(None);
        }
        let lost = CancellationToken::new();
        self.held().insert(
            id.clone(),
            Held {
                lost: lost.clone(),
                confirmed_until: sent + self.ttl,
            },
        );
        self.publish_held(&id.smsc);
        if taken == 2 {
            metrics::counter!(BIND_LEASE_TAKEOVERS, "smsc" => id.smsc.clone()).increment(1);
        }
        tracing::info!(smsc = %id.smsc, slot = id.slot, takeover = taken == 2, "bind lease taken");
        Ok(Some(Lease::new(id.clone(), lost, self.ttl / 8)))
    }

    async fn release(self: Arc<Self>, lease: Lease) {
        let id = lease.id.clone();
        let was_held = self.held().remove(&id).is_some();
        self.publish_held(&id.smsc);
        if !was_held {
            return;
        }
        let mut inv = RELEASE.prepare_invoke();
        inv.key(self.key(&id)).arg(&self.node);
        match self.redis.script::<u8>(&inv).await {
            Ok(_) => tracing::info!(smsc = %id.smsc, slot = id.slot, "bind lease released"),
            Err(e) => {
                tracing::warn!(smsc = %id.smsc, slot = id.slot, error = %e, "bind lease not released: it expires")
            }
        }
    }

    /// The lease of `id` is lost: its binds close now.
    fn revoke(&self, id: &SlotId, why: &'static str) {
        let Some(held) = self.held().remove(id) else {
            return;
        };
        held.lost.cancel();
        self.publish_held(&id.smsc);
        metrics::counter!(BIND_LEASE_LOST, "smsc" => id.smsc.clone()).increment(1);
        tracing::warn!(smsc = %id.smsc, slot = id.slot, why, "bind lease lost");
    }

    async fn heartbeat(&self) -> Result<(), StoreError> {
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, Self::ms);
        let ttl = Self::ms(self.ttl);
        let mut inv = HEARTBEAT.prepare_invoke();
        inv.key(format!("{}:nodes", self.prefix))
            .arg(&self.node)
            .arg(now_ms.saturating_add(ttl))
            .arg(now_ms)
            .arg(ttl.saturating_mul(10));
        let live: usize = self.redis.script(&inv).await?;
        self.live_nodes.store(live, Ordering::Relaxed);
        Ok(())
    }

    async fn renew(&self, id: SlotId) {
        let mut inv = RENEW.prepare_invoke();
        inv.key(self.key(&id))
            .arg(&self.node)
            .arg(Self::ms(self.ttl));
        let sent = Instant::now();
        match self.redis.script::<u8>(&inv).await {
            Ok(1) => {
                if let Some(h) = self.held().get_mut(&id) {
                    h.confirmed_until = sent + self.ttl;
                }
            }
            Ok(_) => self.revoke(&id, "held by another node or expired"),
            Err(e) => {
                tracing::warn!(smsc = %id.smsc, slot = id.slot, error = %e, "bind lease not renewed")
            }
        }
    }
}

/// Renews every held lease and the heartbeat every ttl/3.
async fn renew_loop(inner: Arc<Inner>, stop: CancellationToken) {
    loop {
        let next = Instant::now() + inner.period();
        if let Err(e) = inner.heartbeat().await {
            tracing::warn!(error = %e, "cluster heartbeat not written");
        }
        let ids: Vec<SlotId> = inner.held().keys().cloned().collect();
        futures::future::join_all(ids.into_iter().map(|id| inner.renew(id))).await;
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep_until(next) => {}
        }
    }
}

/// Revokes the leases not confirmed for ttl − ttl/4, whatever the renewals are waiting
/// for: it looks every ttl/40.
async fn watchdog(inner: Arc<Inner>, stop: CancellationToken) {
    let margin = inner.ttl / 4;
    let tick = inner.ttl / 40;
    loop {
        let now = Instant::now();
        let overdue: Vec<SlotId> = inner
            .held()
            .iter()
            .filter(|(_, h)| now + margin >= h.confirmed_until)
            .map(|(id, _)| id.clone())
            .collect();
        for id in overdue {
            inner.revoke(&id, "not renewed in time");
        }
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(tick) => {}
        }
    }
}
