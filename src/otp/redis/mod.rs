//! The Redis `Store`, shared by every otpgate node using the same Redis (or Redis Cluster).
//!
//! Keys (`P` = `[store] key_prefix`; the part in braces is the cluster hash tag, so every key
//! a script touches is in one slot):
//! - `P:otp:{<otpId>}`: the OTP record (a hash, see [`record`]); expires `retain_after_expiry_s`
//!   after the OTP does. Verify, cancel, resend and delivery updates are one Lua script each.
//! - `P:smid:{<smsc>:<message id>}`: SMSC message id -> otpId, for receipts arriving on any
//!   node; expires with the OTP. `P:held:{<smsc>:<message id>}` and `P:held_due`: receipts
//!   that came before their id was indexed, see [`held`]. (`P:mid:{<message id>}`, without
//!   the SMSC, is the index of older versions, still read.)
//! - `P:ph:{<phone>}:latest` and `P:ph:{<phone>}:nl:<window start>`: the phone's latest OTP
//!   and its create-limit windows (sliding window over two fixed windows).
//! - `P:idem:{<tenant tag>:<sha256 of the key>}`: an idempotency key and its stored reply.
//! - `P:due`: a sorted set otpId -> next deadline (expiry, then end of retention), claimed
//!   by whichever node's housekeeping removes it first (see [`expiry`]): EXPIRED callbacks
//!   survive the node that created the OTP.
//! - `P:stats:pending`: PENDING OTPs (incremented at create, decremented by the node that
//!   makes an OTP leave PENDING).
//! - `P:usage:{<tenant tag>}:<day>`: usage per tenant and UTC day, see [`usage`].
//! - pumping-guard counters, see [`abuse`].

pub mod abuse;
mod conn;
mod credit;
mod expiry;
mod held;
pub mod rate;
pub mod record;
mod scripts;
mod single;
mod store_impl;
mod usage;

use std::borrow::Cow;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use otpgate_codec::dlr::canonical_message_id;
use sha2::{Digest, Sha256};

use super::clock::Clock;
use super::identity::TenantTag;
use super::model::{OtpId, Record};
use super::store::{ChangeObserver, IdemKey, ReceiptHold, StoreError};
use super::usage::DEFAULT_RETENTION_DAYS;
pub use conn::{Conn, Redis, Target};

use record::{from_flat, ID_END};

/// How the Redis store is reached and named.
#[derive(Debug, Clone)]
pub struct RedisOptions {
    pub target: Target,
    /// Prefix of every key (several deployments or test runs can share one Redis).
    pub key_prefix: String,
    /// Every request is answered within this time, or the operation answers 503.
    pub timeout: Duration,
    /// How long a finished OTP stays readable after its expiry time.
    pub retain_s: u32,
    /// OTPs stored at most, counted over every node (see [`RedisStore`]'s `insert`).
    pub max_live: usize,
}

/// What a record script answers: code, changed, HGETALL, extra.
pub(super) type ScriptReply = (String, i64, Vec<Vec<u8>>, String);

pub struct RedisStore {
    redis: Redis,
    prefix: String,
    retain_s: u32,
    max_live: usize,
    clock: Arc<Clock>,
    observer: Option<Arc<dyn ChangeObserver>>,
    /// The `[[tenants]]` tags in order: the tenant of a record of the older format (see
    /// [`record`]).
    legacy_tenants: Arc<[TenantTag]>,
    live: AtomicUsize,
    pending: AtomicUsize,
    hold: ReceiptHold,
    usage_retention_days: u32,
}

fn at_least_1(s: u32) -> u32 {
    s.max(1)
}

impl RedisStore {
    /// Connects; fails when Redis does not answer within the timeout.
    pub async fn connect(opts: RedisOptions, clock: Arc<Clock>) -> Result<Self, StoreError> {
        let conn = Conn::connect(&opts.target, opts.timeout).await?;
        let store = Self {
            redis: Redis::new(conn, opts.timeout),
            prefix: opts.key_prefix,
            retain_s: opts.retain_s,
            max_live: opts.max_live,
            clock,
            observer: None,
            legacy_tenants: Arc::from([]),
            live: AtomicUsize::new(0),
            pending: AtomicUsize::new(0),
            hold: ReceiptHold::default(),
            usage_retention_days: DEFAULT_RETENTION_DAYS,
        };
        store.redis.cmd::<String>(&redis::cmd("PING")).await?;
        // what the other nodes stored counts from the start
        let card = redis::cmd("ZCARD").arg(store.due_key()).clone();
        let live: usize = store.redis.cmd(&card).await?;
        store.live.store(live, Ordering::Relaxed);
        Ok(store)
    }

    pub(crate) fn redis(&self) -> &Redis {
        &self.redis
    }

    pub(crate) fn prefix(&self) -> &str {
        &self.prefix
    }

    pub fn clock(&self) -> &Arc<Clock> {
        &self.clock
    }

    pub(super) fn otp_key(&self, id: &OtpId) -> String {
        format!("{}:otp:{{{id}}}", self.prefix)
    }

    fn phone_key(&self, phone: u64, what: &str) -> String {
        format!("{}:ph:{{{phone}}}:{what}", self.prefix)
    }

    fn idem_key(&self, key: &IdemKey) -> String {
        let h = hex::encode(Sha256::digest(key.key.as_bytes()));
        format!("{}:idem:{{{}:{h}}}", self.prefix, key.tenant)
    }

    /// The first `limit` members of the sorted set `key` whose score (a UNIX second) is `now`
    /// or earlier: a housekeeping round's batch.
    pub(crate) async fn due_batch(
        &self,
        key: &str,
        now: u32,
        limit: usize,
    ) -> Result<Vec<String>, StoreError> {
        let list = redis::cmd("ZRANGEBYSCORE")
            .arg(key)
            .arg("-inf")
            .arg(now)
            .arg("LIMIT")
            .arg(0)
            .arg(limit)
            .clone();
        self.redis.cmd(&list).await
    }

    pub(crate) fn due_key(&self) -> String {
        format!("{}:due", self.prefix)
    }

    /// The same store, reading a record of the older format (which held its tenant's position)
    /// as belonging to the tenant at that position of `tenants`, the `[[tenants]]` tags in
    /// order.
    pub fn with_legacy_tenants(mut self, tenants: Vec<TenantTag>) -> Self {
        self.legacy_tenants = tenants.into();
        self
    }

    /// Reads a stored record (HGETALL's answer).
    pub(crate) fn decode(&self, flat: Vec<Vec<u8>>) -> Result<Record, StoreError> {
        from_flat(flat, &self.legacy_tenants).map_err(|e| StoreError::Unavailable(e.to_string()))
    }

    /// The same store, keeping usage per tenant and day `days` days (today included).
    pub fn with_usage_retention(mut self, days: u32) -> Self {
        self.usage_retention_days = days.max(1);
        self
    }

    /// The same store, holding early receipts as `hold` says.
    pub fn with_receipt_hold(mut self, hold: ReceiptHold) -> Self {
        self.hold = hold;
        self
    }

    pub(crate) fn receipt_hold(&self) -> ReceiptHold {
        self.hold
    }

    /// The same store, telling `observer` of every status or deliveryStatus change made
    /// through this node.
    pub fn with_observer(mut self, observer: Arc<dyn ChangeObserver>) -> Self {
        self.observer = Some(observer);
        self
    }

    pub(crate) fn pending_key(&self) -> String {
        format!("{}:stats:pending", self.prefix)
    }

    pub(crate) fn notify(&self, id: &OtpId, r: &Record) {
        if let Some(o) = &self.observer {
            o.changed(*id, r);
        }
    }

    /// Seconds from `now` until the end of `r`'s retention (at least 1).
    fn keep_s(&self, r: &Record, now: u32) -> u32 {
        at_least_1(
            r.expires()
                .saturating_add(self.retain_s)
                .saturating_sub(now),
        )
    }

    /// Runs a record script; `None` when the OTP does not exist.
    async fn run_record(
        &self,
        id: &OtpId,
        inv: &redis::ScriptInvocation<'_>,
    ) -> Result<Option<(String, bool, Record, String)>, StoreError> {
        let (code, changed, flat, extra): ScriptReply = self.redis.script(inv).await?;
        if code == "nf" {
            return Ok(None);
        }
        let r = self.decode(flat)?;
        let changed = changed != 0;
        if changed {
            self.notify(id, &r);
        }
        Ok(Some((code, changed, r, extra)))
    }

    /// The OTP left PENDING: one fewer pending (best effort, a gauge).
    async fn left_pending(&self) {
        let cmd = redis::cmd("DECR").arg(self.pending_key()).clone();
        if let Err(e) = self.redis.cmd::<i64>(&cmd).await {
            tracing::debug!(error = %e, "pending counter not updated");
        }
    }

    /// Forgets message ids `mids` of SMSC `smsc` (under both key formats) if they still lead
    /// to `id`.
    async fn unindex(&self, id: &OtpId, smsc: &str, mids: &str) {
        let id_text = id.to_string();
        for m in mids.split(ID_END).filter(|m| !m.is_empty()) {
            let canonical = index_key(m);
            for key in [self.mid_key(smsc, &canonical), self.old_mid_key(&canonical)] {
                let mut inv = scripts::UNINDEX.key(key);
                inv.arg(&id_text);
                if let Err(e) = self.redis.script::<i64>(&inv).await {
                    tracing::debug!(error = %e, "message id left indexed until it expires");
                }
            }
        }
    }

    pub(crate) fn max_live(&self) -> usize {
        self.max_live
    }

    /// Counts an OTP this node just stored, until the next snapshot has it.
    pub(crate) fn count_inserted(&self) {
        self.live.fetch_add(1, Ordering::Relaxed);
    }

    /// Uncounts an OTP this node just removed, until the next snapshot.
    pub(crate) fn count_removed(&self) {
        let _ = self
            .live
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1));
    }

    pub(crate) fn set_snapshot(&self, live: usize, pending: usize) {
        self.live.store(live, Ordering::Relaxed);
        self.pending.store(pending, Ordering::Relaxed);
    }

    /// Marks `id` EXPIRED if it is pending and past its expiry; returns the record (if any).
    pub(crate) async fn expire_one(
        &self,
        id: &OtpId,
        now: u32,
    ) -> Result<Option<Record>, StoreError> {
        let key = self.otp_key(id);
        let mut inv = scripts::EXPIRE.key(key);
        inv.arg(now);
        let Some((_, changed, r, _)) = self.run_record(id, &inv).await? else {
            return Ok(None);
        };
        if changed {
            metrics::counter!(crate::telemetry::names::OTPS_EXPIRED).increment(1);
            self.left_pending().await;
        }
        Ok(Some(r))
    }

    pub(crate) fn retain_s(&self) -> u32 {
        self.retain_s
    }
}

/// The key a submitted message id is indexed under (as the memory store does).
fn index_key(raw: &str) -> Cow<'_, str> {
    canonical_message_id(raw)
}
