//! The in-memory `Store`: sharded maps (`dashmap`) by otpId, by phone number and by SMSC
//! message id, plus idempotency keys, all expired by the [`ExpiryTask`](super::expiry).

use otpgate_codec::dlr::message_id_variants;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use dashmap::DashMap;
use futures::future::BoxFuture;

use super::clock::Clock;
use super::expiry::{ExpiryQueue, ExpiryTask};
use super::idempotency::IdempotencyTable;
use super::limits::PhoneIndex;
use super::model::{DeliveryStatus, OtpId, OtpStatus, Record};
use super::pin::PinHash;
use super::store::{
    CancelError, ChangeObserver, DeliveryChange, IdemKey, IdemReserve, NumberLimit, ResendError,
    Store, StoreError, StoredReply, VerifyError,
};

#[derive(Debug)]
pub struct MemoryStore {
    otps: DashMap<OtpId, Record>,
    phones: PhoneIndex,
    message_ids: DashMap<Box<str>, OtpId>,
    idem: IdempotencyTable,
    queue: ExpiryQueue,
    pending: AtomicUsize,
    max_live: usize,
    retain_s: u32,
    clock: Arc<Clock>,
    observer: std::sync::OnceLock<Arc<dyn ChangeObserver>>,
}

impl std::fmt::Debug for dyn ChangeObserver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChangeObserver")
    }
}

fn leave_pending(pending: &AtomicUsize) {
    let _ = pending.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1));
}

/// The key a submitted message id is indexed under: its canonical form (lowercase, without
/// leading zeros). A receipt is looked up by each of its `message_id_variants`, the first of
/// which is this same canonical form, so hex/decimal disagreements still match.
fn index_key(raw: &str) -> String {
    message_id_variants(raw).next().unwrap_or_default()
}

impl MemoryStore {
    /// `max_live`: OTPs stored at most; `retain_s`: how long a finished OTP stays readable
    /// after its expiry time.
    pub fn new(clock: Arc<Clock>, max_live: usize, retain_s: u32) -> Self {
        Self {
            otps: DashMap::new(),
            phones: PhoneIndex::default(),
            message_ids: DashMap::new(),
            idem: IdempotencyTable::default(),
            queue: ExpiryQueue::default(),
            pending: AtomicUsize::new(0),
            max_live,
            retain_s,
            clock,
            observer: std::sync::OnceLock::new(),
        }
    }

    fn notify(&self, id: &OtpId, r: &Record) {
        if let Some(o) = self.observer.get() {
            o.changed(*id, r);
        }
    }

    pub fn clock(&self) -> &Arc<Clock> {
        &self.clock
    }

    pub(crate) fn expiry_queue(&self) -> &ExpiryQueue {
        &self.queue
    }

    /// Entries of each index: (otps, phones, message ids, idempotency keys, queued deadlines).
    pub fn sizes(&self) -> (usize, usize, usize, usize, usize) {
        (
            self.otps.len(),
            self.phones.len(),
            self.message_ids.len(),
            self.idem.len(),
            self.queue.len(),
        )
    }

    /// Sets the status; false (and nothing touched) when it is already `status`.
    fn set_status(pending: &AtomicUsize, r: &mut Record, status: OtpStatus, now: u32) -> bool {
        if r.status == status {
            return false;
        }
        if r.status == OtpStatus::Pending {
            leave_pending(pending);
            if status == OtpStatus::Expired {
                metrics::counter!("otpgate_otps_expired_total").increment(1);
            }
        }
        r.status = status;
        r.status_at = r.since_created(now);
        true
    }

    fn drop_otp(&self, id: &OtpId) {
        if let Some((_, r)) = self.otps.remove(id) {
            if r.status == OtpStatus::Pending {
                leave_pending(&self.pending);
            }
            self.phones.clear_latest(r.phone, id);
            if let Some(extra) = r.extra {
                for m in extra.message_ids.iter() {
                    self.message_ids
                        .remove_if(index_key(m).as_str(), |_, v| v == id);
                }
            }
        }
    }

    /// Handles the deadlines due at `now`; returns how many it handled.
    pub fn expire_due(&self, now: u32) -> usize {
        let due = self.queue.pop_due(now);
        let handled = due.otps.len().max(due.phones.len()).max(due.idem.len());
        for id in due.otps {
            let next = match self.otps.get_mut(&id) {
                None => None,
                Some(mut r) => {
                    if r.status == OtpStatus::Pending
                        && now >= r.expires()
                        && Self::set_status(&self.pending, &mut r, OtpStatus::Expired, now)
                    {
                        self.notify(&id, &r);
                    }
                    let gone_at = r.expires().saturating_add(self.retain_s);
                    if now >= gone_at {
                        Some(None)
                    } else if now >= r.expires() {
                        Some(Some(gone_at))
                    } else {
                        Some(Some(r.expires()))
                    }
                }
            };
            match next {
                Some(None) => self.drop_otp(&id),
                Some(Some(at)) => self.queue.push_otp(at, id),
                None => {}
            }
        }
        for phone in due.phones {
            if let Some(at) = self.phones.expire(phone, now) {
                self.queue.push_phone(at, phone);
            }
        }
        for key in due.idem {
            if let Some(at) = self.idem.expire(&key, now) {
                self.queue.push_idem(at, key);
            }
        }
        metrics::gauge!("otpgate_otps_live").set(self.pending() as f64);
        handled
    }
}

/// The store's steps, synchronous (the `Store` methods wrap them).
impl MemoryStore {
    fn verify_now(&self, id: &OtpId, candidate: &PinHash, now: u32) -> Result<Record, VerifyError> {
        let mut r = self.otps.get_mut(id).ok_or(VerifyError::NotFound)?;
        match r.status_at_time(now) {
            OtpStatus::Verified => return Err(VerifyError::AlreadyVerified),
            OtpStatus::Cancelled => return Err(VerifyError::Cancelled),
            OtpStatus::Failed => return Err(VerifyError::AlreadyFailed),
            OtpStatus::Expired => {
                if Self::set_status(&self.pending, &mut r, OtpStatus::Expired, now) {
                    self.notify(id, &r);
                }
                return Err(VerifyError::Expired);
            }
            OtpStatus::Pending => {}
        }
        if r.attempts >= r.max_attempts {
            if Self::set_status(&self.pending, &mut r, OtpStatus::Failed, now) {
                self.notify(id, &r);
            }
            return Err(VerifyError::AlreadyFailed);
        }
        if r.pin_hash.matches(candidate) {
            Self::set_status(&self.pending, &mut r, OtpStatus::Verified, now);
            self.notify(id, &r);
            return Ok(r.clone());
        }
        r.attempts = r.attempts.saturating_add(1);
        if r.attempts >= r.max_attempts {
            Self::set_status(&self.pending, &mut r, OtpStatus::Failed, now);
            self.notify(id, &r);
            return Err(VerifyError::LastAttemptFailed);
        }
        Err(VerifyError::WrongPin {
            remaining: r.max_attempts - r.attempts,
        })
    }

    fn cancel_now(&self, id: &OtpId, now: u32) -> Result<Record, CancelError> {
        let mut r = self.otps.get_mut(id).ok_or(CancelError::NotFound)?;
        match r.status_at_time(now) {
            OtpStatus::Cancelled => Err(CancelError::AlreadyCancelled),
            OtpStatus::Pending => {
                Self::set_status(&self.pending, &mut r, OtpStatus::Cancelled, now);
                self.notify(id, &r);
                Ok(r.clone())
            }
            _ => Err(CancelError::NotPending),
        }
    }

    fn resend_now(
        &self,
        id: &OtpId,
        pin_hash: PinHash,
        max_resends: u8,
        now: u32,
    ) -> Result<Record, ResendError> {
        let mut r = self.otps.get_mut(id).ok_or(ResendError::NotFound)?;
        let status = r.status_at_time(now);
        if status != OtpStatus::Pending {
            return Err(ResendError::NotPending(status));
        }
        if r.extra.as_ref().map_or(0, |e| e.resends) >= max_resends {
            return Err(ResendError::Limit);
        }
        r.pin_hash = pin_hash;
        let at = r.since_created(now);
        let extra = r.extra_mut();
        extra.resends = extra.resends.saturating_add(1);
        extra.smpp_error = None;
        extra.sent_at = None;
        let old_ids = std::mem::take(&mut extra.message_ids);
        let changed = r.delivery != DeliveryStatus::Queued;
        r.delivery = DeliveryStatus::Queued;
        r.delivery_at = at;
        if changed {
            self.notify(id, &r);
        }
        let out = r.clone();
        drop(r);
        for m in old_ids.iter() {
            self.message_ids
                .remove_if(index_key(m).as_str(), |_, v| v == id);
        }
        Ok(out)
    }

    fn apply_delivery_now(&self, id: &OtpId, change: DeliveryChange, now: u32) -> Option<Record> {
        let mut r = self.otps.get_mut(id)?;
        let at = r.since_created(now);
        match change {
            DeliveryChange::Submitted { smsc, message_ids } => {
                let changed = r.delivery == DeliveryStatus::Queued;
                if changed {
                    r.delivery = DeliveryStatus::Sent;
                    r.delivery_at = at;
                }
                let extra = r.extra_mut();
                extra.smsc = Some(smsc.into());
                if extra.sent_at.is_none() {
                    extra.sent_at = Some(at);
                }
                for m in &message_ids {
                    extra.message_ids.push(m.as_str().into());
                }
                if changed {
                    self.notify(id, &r);
                }
                let out = r.clone();
                drop(r);
                for m in message_ids {
                    self.message_ids.insert(index_key(&m).into(), *id);
                }
                Some(out)
            }
            DeliveryChange::Status {
                status,
                smsc,
                error,
            } => {
                // a later "delivered" receipt of one part does not hide another part's failure
                let keep_failure = status == DeliveryStatus::Delivered
                    && matches!(
                        r.delivery,
                        DeliveryStatus::Undelivered | DeliveryStatus::Rejected
                    );
                let changed = !keep_failure && r.delivery != status;
                if changed {
                    r.delivery = status;
                    r.delivery_at = at;
                }
                if smsc.is_some() || error.is_some() {
                    let extra = r.extra_mut();
                    if let Some(s) = smsc {
                        extra.smsc = Some(s.into());
                    }
                    if let Some(e) = error {
                        extra.smpp_error = Some(e.into());
                    }
                }
                if changed {
                    self.notify(id, &r);
                }
                Some(r.clone())
            }
        }
    }
}

#[async_trait::async_trait]
impl Store for MemoryStore {
    async fn insert(&self, id: OtpId, record: Record) -> Result<(), StoreError> {
        if self.otps.len() >= self.max_live {
            return Err(StoreError::Full(self.max_live));
        }
        let (phone, expires) = (record.phone, record.expires());
        let pending = record.status == OtpStatus::Pending;
        match self.otps.entry(id) {
            dashmap::Entry::Occupied(_) => return Err(StoreError::Duplicate),
            dashmap::Entry::Vacant(v) => {
                v.insert(record);
            }
        }
        if pending {
            self.pending.fetch_add(1, Ordering::Relaxed);
        }
        let keep = expires.saturating_add(self.retain_s);
        if self.phones.set_latest(phone, id, keep) {
            self.queue.push_phone(keep, phone);
        }
        self.queue.push_otp(expires, id);
        metrics::gauge!("otpgate_otps_live").set(self.pending() as f64);
        Ok(())
    }

    async fn remove(&self, id: &OtpId) -> Result<Option<Record>, StoreError> {
        let r = self.otps.get(id).map(|r| r.clone());
        self.drop_otp(id);
        Ok(r)
    }

    async fn get(&self, id: &OtpId) -> Result<Option<Record>, StoreError> {
        Ok(self.otps.get(id).map(|r| r.clone()))
    }

    async fn verify(
        &self,
        id: &OtpId,
        candidate: &PinHash,
        now: u32,
    ) -> Result<Result<Record, VerifyError>, StoreError> {
        Ok(self.verify_now(id, candidate, now))
    }

    async fn cancel(
        &self,
        id: &OtpId,
        now: u32,
    ) -> Result<Result<Record, CancelError>, StoreError> {
        Ok(self.cancel_now(id, now))
    }

    async fn resend(
        &self,
        id: &OtpId,
        pin_hash: PinHash,
        max_resends: u8,
        now: u32,
    ) -> Result<Result<Record, ResendError>, StoreError> {
        Ok(self.resend_now(id, pin_hash, max_resends, now))
    }

    async fn apply_delivery(
        &self,
        id: &OtpId,
        change: DeliveryChange,
        now: u32,
    ) -> Result<Option<Record>, StoreError> {
        Ok(self.apply_delivery_now(id, change, now))
    }

    async fn find_by_message_id(&self, message_id: &str) -> Result<Option<OtpId>, StoreError> {
        Ok(self.message_ids.get(message_id).map(|v| *v))
    }

    async fn latest_for_phone(&self, phone: u64) -> Result<Option<OtpId>, StoreError> {
        Ok(self.phones.latest(phone))
    }

    async fn hit_number_limit(
        &self,
        phone: u64,
        limit: u32,
        window_s: u32,
        now: u32,
    ) -> Result<NumberLimit, StoreError> {
        if limit == 0 {
            return Ok(NumberLimit::Allowed);
        }
        let (verdict, new_entry_until) = self.phones.hit(phone, limit, window_s, now);
        if let Some(at) = new_entry_until {
            self.queue.push_phone(at, phone);
        }
        Ok(verdict)
    }

    async fn idempotency_reserve(
        &self,
        key: &IdemKey,
        fingerprint: [u8; 32],
        now: u32,
    ) -> Result<IdemReserve, StoreError> {
        let (verdict, expires) = self.idem.reserve(key, fingerprint, now);
        if let Some(at) = expires {
            self.queue.push_idem(at, key.clone());
        }
        Ok(verdict)
    }

    async fn idempotency_complete(
        &self,
        key: &IdemKey,
        reply: StoredReply,
        now: u32,
        ttl_s: u32,
    ) -> Result<(), StoreError> {
        let at = self.idem.complete(key, reply, now, ttl_s);
        self.queue.push_idem(at, key.clone());
        Ok(())
    }

    async fn idempotency_release(&self, key: &IdemKey) -> Result<(), StoreError> {
        self.idem.release(key);
        Ok(())
    }

    fn set_observer(&self, observer: Arc<dyn ChangeObserver>) -> bool {
        self.observer.set(observer).is_ok()
    }

    fn housekeeping(self: Arc<Self>, shutdown: BoxFuture<'static, ()>) -> BoxFuture<'static, ()> {
        Box::pin(ExpiryTask::new(self).run(shutdown))
    }

    fn completes_inline(&self) -> bool {
        true
    }

    fn len(&self) -> usize {
        self.otps.len()
    }

    fn pending(&self) -> usize {
        self.pending.load(Ordering::Relaxed)
    }
}
