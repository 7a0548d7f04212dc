//! The in-memory `Store`: OTPs, phone numbers and SMSC message ids in sharded slabs ([`slab`])
//! that point at each other by 4-byte handles, idempotency keys in a `dashmap`, all expired by
//! the [`ExpiryTask`](expiry::ExpiryTask) without scans.

mod expiry;
mod held;
mod message_ids;
mod phones;
mod slab;

use std::borrow::Cow;
use std::hash::BuildHasher;
use std::sync::Arc;

use foldhash::fast::RandomState;
use futures::future::BoxFuture;
use futures::FutureExt;
use otpgate_codec::dlr::{canonical_message_id, message_id_other_forms, message_id_variants};

use self::expiry::{ExpiryQueue, ExpiryTask};
use self::held::HeldReceipts;
use self::message_ids::{MessageIndex, SmscNumbers};
use self::phones::PhoneIndex;
use self::slab::{Handle, Keyed, Locked, Slab};
use super::clock::Clock;
use super::idempotency::IdempotencyTable;
use super::model::{DeliveryStatus, OtpId, OtpStatus, Record};
use super::pin::PinHash;
use super::store::{
    CancelError, ChangeObserver, DeliveryChange, HeldReceipt, IdemKey, IdemReply, IdemReserve,
    IdempotencyStore, NumberLimit, NumberLimitStore, NumberScope, OtpStore, ReceiptHold,
    ReceiptMatch, ResendError, SendCharge, StoreError, VerifyError,
};
use super::usage::{day_of, DayUsage, UsageBook, UsageEvent, UsageStore, DEFAULT_RETENTION_DAYS};
use crate::telemetry::names;
use crate::telemetry::spread::SpreadCount;

/// One stored OTP: its id, its record and the head of its chain of SMSC message ids.
#[derive(Debug)]
struct OtpEntry {
    id: OtpId,
    record: Record,
    messages: Handle,
}

impl Keyed for OtpEntry {
    fn key_hash(&self, hasher: &RandomState) -> u64 {
        hasher.hash_one(self.id)
    }
}

pub struct MemoryStore {
    otps: Slab<OtpEntry>,
    phones: PhoneIndex,
    message_ids: MessageIndex,
    smscs: SmscNumbers,
    held: HeldReceipts,
    hold: ReceiptHold,
    idem: IdempotencyTable,
    queue: ExpiryQueue,
    /// OTPs PENDING now: counted in cells per thread (both workers add, the engine takes).
    pending: SpreadCount,
    max_live: usize,
    retain_s: u32,
    clock: Arc<Clock>,
    observer: Option<Arc<dyn ChangeObserver>>,
    usage: Arc<UsageBook>,
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStore")
            .field("otps", &self.otps.len())
            .field("pending", &self.pending())
            .field("max_live", &self.max_live)
            .finish_non_exhaustive()
    }
}

/// The key a submitted message id is indexed under: its canonical form (lowercase, without
/// leading zeros). A receipt is looked up by each of its `message_id_variants`, the first of
/// which is this same canonical form, so hex/decimal disagreements still match.
fn index_key(raw: &str) -> Cow<'_, str> {
    canonical_message_id(raw)
}

impl MemoryStore {
    /// `max_live`: OTPs stored at most; `retain_s`: how long a finished OTP stays readable
    /// after its expiry time.
    pub fn new(clock: Arc<Clock>, max_live: usize, retain_s: u32) -> Self {
        Self {
            otps: Slab::default(),
            phones: PhoneIndex::default(),
            message_ids: MessageIndex::default(),
            smscs: SmscNumbers::default(),
            held: HeldReceipts::default(),
            hold: ReceiptHold::default(),
            idem: IdempotencyTable::default(),
            queue: ExpiryQueue::default(),
            pending: SpreadCount::default(),
            max_live,
            retain_s,
            clock,
            observer: None,
            usage: Arc::new(UsageBook::new(DEFAULT_RETENTION_DAYS)),
        }
    }

    /// The same store, counting usage in `book` (its retention, its state file).
    pub fn with_usage(mut self, book: Arc<UsageBook>) -> Self {
        self.usage = book;
        self
    }

    /// The same store, telling `observer` of every status or deliveryStatus change.
    pub fn with_observer(mut self, observer: Arc<dyn ChangeObserver>) -> Self {
        self.observer = Some(observer);
        self
    }

    /// The same store, holding early receipts as `hold` says.
    pub fn with_receipt_hold(mut self, hold: ReceiptHold) -> Self {
        self.hold = hold;
        self
    }

    fn notify(&self, id: &OtpId, r: &Record) {
        if let Some(o) = &self.observer {
            o.changed(*id, r);
        }
    }

    pub fn clock(&self) -> &Arc<Clock> {
        &self.clock
    }

    fn expiry_queue(&self) -> &ExpiryQueue {
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

    /// Receipts held for message ids not indexed yet.
    pub fn held_receipts(&self) -> usize {
        self.held.len()
    }

    fn held_earliest(&self) -> Option<u32> {
        self.held.earliest()
    }

    /// Stores a new OTP and makes it its phone number's latest.
    fn insert_record(&self, id: OtpId, record: Record) -> Result<(), StoreError> {
        if self.otps.holds_at_least(self.max_live) {
            return Err(StoreError::Full(self.max_live));
        }
        let (phone, expires) = (record.phone, record.expires());
        let (tenant, created) = (record.tenant, record.created);
        let pending = record.status == OtpStatus::Pending;
        let (mut shard, hash, found) = self.otps.locate(id, |e| e.id == id);
        if found.is_some() {
            return Err(StoreError::Duplicate);
        }
        let entry = OtpEntry {
            id,
            record,
            messages: Handle::NONE,
        };
        let h = shard
            .insert(hash, entry)
            .map_err(|_| StoreError::Full(self.max_live))?;
        if pending {
            self.pending.add(1);
        }
        self.usage
            .count(tenant, day_of(created), UsageEvent::Created);
        let keep = expires.saturating_add(self.retain_s);
        // under the shard lock, so that the handle still names this OTP
        if let Ok(Some(entry)) = self.phones.set_latest(phone, h, keep) {
            self.queue.push_phone(keep, entry);
        }
        drop(shard);
        self.queue.push_otp(expires, h);
        Ok(())
    }

    /// The OTP canonical id `message_id` of SMSC number `smsc` leads to.
    fn find_message(&self, smsc: u16, message_id: &str) -> Option<OtpId> {
        let h = self.message_ids.find(smsc, message_id)?;
        let id = self.otps.lock_handle(h).get(h).map(|e| e.id);
        // looked up again: the OTP may have left (and its slot been reused) in between
        id.filter(|_| self.message_ids.find(smsc, message_id) == Some(h))
    }

    /// A receipt from `smsc` whose message id reads as `first` (the canonical form) or one of
    /// `others`: the OTP found, or else a copy of `receipt` held under `first`. The other forms
    /// are made only when `first` is not found.
    fn find_or_hold_now<S: AsRef<str>>(
        &self,
        smsc: &str,
        first: &str,
        others: impl Iterator<Item = S>,
        receipt: &HeldReceipt,
        now: u32,
    ) -> ReceiptMatch {
        let n = self.smscs.number(smsc);
        // under the held receipts' lock: a `take_held` cannot run between the look and the hold
        let mut held = self.held.lock();
        let exact = self.find_message(n, first);
        // Another form matches only an OTP still waiting for its receipt: once ids are reused
        // across forms (hex "a" and decimal "10"), a receipt whose own id is not indexed yet
        // must not land on an older OTP that was already told its fate.
        let other = || {
            others.into_iter().find_map(|v| {
                let id = self.find_message(n, v.as_ref())?;
                let open = self.with_otp(&id, |_, e| e.record.delivery == DeliveryStatus::Sent);
                open.unwrap_or(false).then_some(id)
            })
        };
        if let Some(id) = exact.or_else(other) {
            return ReceiptMatch::Found(id);
        }
        let was_empty = held.len() == 0;
        let deadline = now.saturating_add(self.hold.hold_s);
        let shed = held.hold(n, first, receipt.clone(), deadline, self.hold.max);
        let len = held.len();
        drop(held);
        if shed > 0 {
            metrics::counter!(names::RECEIPTS_SHED).increment(shed as u64);
        }
        metrics::gauge!(names::RECEIPTS_HELD).set(len as f64);
        if was_empty {
            self.queue.nudge();
        }
        ReceiptMatch::Held
    }

    fn take_held_now(&self, smsc: &str, message_ids: &[String]) -> Vec<HeldReceipt> {
        if self.held.len() == 0 {
            return Vec::new();
        }
        let n = self.smscs.number(smsc);
        // every form a receipt's id may take for these ids (the relation is symmetric)
        let forms: Vec<String> = message_ids
            .iter()
            .flat_map(|m| message_id_variants(m))
            .collect();
        let taken = self.held.take(n, &forms);
        if !taken.is_empty() {
            metrics::gauge!(names::RECEIPTS_HELD).set(self.held.len() as f64);
        }
        taken
    }

    /// Runs `f` on OTP `id` (with its handle) while its shard is locked.
    fn with_otp<R>(&self, id: &OtpId, f: impl FnOnce(Handle, &mut OtpEntry) -> R) -> Option<R> {
        let (mut shard, _, found) = self.otps.locate(id, |e| e.id == *id);
        let h = found?;
        shard.get_mut(h).map(|e| f(h, e))
    }

    /// Sets the status; false (and nothing touched) when it is already `status`.
    fn set_status(pending: &SpreadCount, r: &mut Record, status: OtpStatus, now: u32) -> bool {
        if r.status == status {
            return false;
        }
        if r.status == OtpStatus::Pending {
            pending.add(-1);
            if status == OtpStatus::Expired {
                metrics::counter!(crate::telemetry::names::OTPS_EXPIRED).increment(1);
            }
        }
        r.status = status;
        r.status_at = r.since_created(now);
        true
    }

    /// Removes OTP `h` from its locked shard and from the phone and message id indexes (still
    /// under the shard lock, so the slot cannot be reused before they forget it).
    fn unlink(&self, shard: &mut Locked<'_, OtpEntry>, h: Handle) -> Option<OtpEntry> {
        let e = shard.remove(h)?;
        if e.record.status == OtpStatus::Pending {
            self.pending.add(-1);
        }
        self.phones.clear_latest(e.record.phone, h);
        self.message_ids.drop_chain(e.messages);
        Some(e)
    }

    fn drop_otp(&self, id: &OtpId) -> Option<Record> {
        let (mut shard, _, found) = self.otps.locate(id, |e| e.id == *id);
        self.unlink(&mut shard, found?).map(|e| e.record)
    }

    /// Handles the deadlines due at `now`; returns how many it handled.
    pub fn expire_due(&self, now: u32) -> usize {
        let due = self.queue.pop_due(now);
        let handled = due.otps.len().max(due.phones.len()).max(due.idem.len());
        let unmatched = self.held.expire(now);
        if unmatched > 0 {
            // their hold time ended before any submit_sm_resp told their message id
            metrics::counter!(names::RECEIPTS_UNMATCHED).increment(unmatched as u64);
            metrics::gauge!(names::RECEIPTS_HELD).set(self.held.len() as f64);
        }
        for (at, h) in due.otps {
            self.visit_otp(at, h, now);
        }
        for (_, h) in due.phones {
            if let Some(at) = self.phones.expire(h, now) {
                self.queue.push_phone(at, h);
            }
        }
        for key in due.idem {
            if let Some(at) = self.idem.expire(&key, now) {
                self.queue.push_idem(at, key);
            }
        }
        handled
    }

    /// An OTP is queued at its expiry time, then at the end of its retention. A handle due at
    /// another second was queued for an OTP removed early, whose slot was reused: skipped.
    fn visit_otp(&self, at: u32, h: Handle, now: u32) {
        let mut shard = self.otps.lock_handle(h);
        let Some(e) = shard.get_mut(h) else {
            return;
        };
        let expires = e.record.expires();
        let gone_at = expires.saturating_add(self.retain_s);
        if at != expires && at != gone_at {
            return;
        }
        if now >= gone_at {
            self.unlink(&mut shard, h);
            return;
        }
        if e.record.status == OtpStatus::Pending
            && Self::set_status(&self.pending, &mut e.record, OtpStatus::Expired, now)
        {
            self.notify(&e.id, &e.record);
        }
        drop(shard);
        self.queue.push_otp(gone_at, h);
    }
}

/// The store's steps, synchronous (the `Store` methods wrap them).
impl MemoryStore {
    fn verify_now(&self, id: &OtpId, candidate: &PinHash, now: u32) -> Result<Record, VerifyError> {
        self.with_otp(id, |_, e| {
            self.verify_record(id, &mut e.record, candidate, now)
        })
        .unwrap_or(Err(VerifyError::NotFound))
    }

    fn verify_record(
        &self,
        id: &OtpId,
        r: &mut Record,
        candidate: &PinHash,
        now: u32,
    ) -> Result<Record, VerifyError> {
        match r.status_at_time(now) {
            OtpStatus::Verified => return Err(VerifyError::AlreadyVerified),
            OtpStatus::Cancelled => return Err(VerifyError::Cancelled),
            OtpStatus::Failed => return Err(VerifyError::AlreadyFailed),
            OtpStatus::Expired => {
                if Self::set_status(&self.pending, r, OtpStatus::Expired, now) {
                    self.notify(id, r);
                }
                return Err(VerifyError::Expired);
            }
            OtpStatus::Pending => {}
        }
        if r.attempts >= r.max_attempts {
            if Self::set_status(&self.pending, r, OtpStatus::Failed, now) {
                self.notify(id, r);
            }
            return Err(VerifyError::AlreadyFailed);
        }
        // both comparisons always run, in constant time: the timing tells neither
        let current = r.pin_hash.matches(candidate);
        let replaced = r
            .extra
            .as_ref()
            .and_then(|e| e.replaced_pin.as_ref())
            .is_some_and(|old| old.matches(candidate));
        if current {
            Self::set_status(&self.pending, r, OtpStatus::Verified, now);
            self.usage
                .count(r.tenant, day_of(now), UsageEvent::Verified);
            self.notify(id, r);
            return Ok(r.clone());
        }
        r.attempts = r.attempts.saturating_add(1);
        if r.attempts >= r.max_attempts {
            Self::set_status(&self.pending, r, OtpStatus::Failed, now);
            self.notify(id, r);
            return Err(VerifyError::LastAttemptFailed);
        }
        let remaining = r.max_attempts - r.attempts;
        Err(if replaced {
            VerifyError::ReplacedPin { remaining }
        } else {
            VerifyError::WrongPin { remaining }
        })
    }

    fn cancel_now(&self, id: &OtpId, now: u32) -> Result<Record, CancelError> {
        self.with_otp(id, |_, e| {
            let r = &mut e.record;
            match r.status_at_time(now) {
                OtpStatus::Cancelled => Err(CancelError::AlreadyCancelled),
                OtpStatus::Pending => {
                    Self::set_status(&self.pending, r, OtpStatus::Cancelled, now);
                    self.notify(id, r);
                    Ok(r.clone())
                }
                _ => Err(CancelError::NotPending),
            }
        })
        .unwrap_or(Err(CancelError::NotFound))
    }

    fn resend_now(
        &self,
        id: &OtpId,
        pin_hash: PinHash,
        max_resends: u8,
        now: u32,
    ) -> Result<Record, ResendError> {
        self.with_otp(id, |_, e| {
            let r = &mut e.record;
            let status = r.status_at_time(now);
            if status != OtpStatus::Pending {
                return Err(ResendError::NotPending(status));
            }
            if r.extra.as_ref().map_or(0, |e| e.resends) >= max_resends {
                return Err(ResendError::Limit);
            }
            let replaced = std::mem::replace(&mut r.pin_hash, pin_hash);
            let at = r.since_created(now);
            let extra = r.extra_mut();
            extra.resends = extra.resends.saturating_add(1);
            extra.replaced_pin = Some(replaced);
            extra.smpp_error = None;
            r.sent = None;
            // the old SMS's receipts no longer concern this OTP
            self.message_ids
                .drop_chain(std::mem::replace(&mut e.messages, Handle::NONE));
            let changed = r.delivery != DeliveryStatus::Queued;
            r.delivery = DeliveryStatus::Queued;
            r.delivery_at = at;
            if changed {
                self.notify(id, r);
            }
            Ok(r.clone())
        })
        .unwrap_or(Err(ResendError::NotFound))
    }

    fn apply_delivery_now(&self, id: &OtpId, change: DeliveryChange, now: u32) -> Option<Record> {
        self.with_otp(id, |h, e| {
            self.change_locked(id, h, e, &change, now);
            e.record.clone()
        })
    }

    /// Records a `Submitted` on OTP `id` (handle `h`), its shard locked: SENT, and its
    /// message ids indexed for their receipts.
    fn submitted_locked(
        &self,
        id: &OtpId,
        h: Handle,
        e: &mut OtpEntry,
        smsc: &str,
        message_ids: &[String],
        now: u32,
    ) {
        let smsc = self.smscs.number(smsc);
        let r = &mut e.record;
        let at = r.since_created(now);
        let changed = r.delivery == DeliveryStatus::Queued;
        if changed {
            r.delivery = DeliveryStatus::Sent;
            r.delivery_at = at;
        }
        r.set_sent_at(at);
        for m in message_ids {
            match self.message_ids.add(smsc, &index_key(m), h, e.messages) {
                Ok(head) => e.messages = head,
                Err(_) => tracing::warn!("message id index full: a receipt will not be matched"),
            }
        }
        if changed {
            self.notify(id, r);
        }
    }

    /// Records `change` on OTP `id` (handle `h`), its shard locked.
    fn change_locked(
        &self,
        id: &OtpId,
        h: Handle,
        e: &mut OtpEntry,
        change: &DeliveryChange,
        now: u32,
    ) {
        let r = &mut e.record;
        match *change {
            DeliveryChange::Submitted {
                ref smsc,
                ref message_ids,
            } => self.submitted_locked(id, h, e, smsc, message_ids, now),
            DeliveryChange::SentAs { encoding, parts } => {
                r.parts = parts;
                r.set_encoding(encoding);
            }
            DeliveryChange::Cost { charge, pending } => {
                let cost = r.extra_mut().cost.get_or_insert_default();
                cost.charged = cost.charged.saturating_add(charge);
                cost.pending = pending;
            }
            DeliveryChange::Charged {
                charge,
                parts: accepted,
                sent_as,
            } => {
                if let Some((encoding, parts)) = sent_as {
                    r.parts = parts;
                    r.set_encoding(encoding);
                }
                let charged = UsageEvent::Charged {
                    parts: accepted.into(),
                    cost_micros: charge,
                };
                self.usage.count(r.tenant, day_of(now), charged);
                // A send settled at no cost, on an OTP charged nothing so far, moves no figure
                // (see `Record::estimate_micros`): no cost stored, no `Extra` allocated for it.
                if charge != 0 || r.extra.as_deref().is_some_and(|e| e.cost.is_some()) {
                    let cost = r.extra_mut().cost.get_or_insert_default();
                    cost.charged = cost.charged.saturating_add(charge);
                    cost.pending = 0;
                }
            }
            DeliveryChange::Status {
                status, ref error, ..
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
                    r.delivery_at = r.since_created(now);
                }
                if let Some(e) = error {
                    r.extra_mut().smpp_error = Some(e.as_str().into());
                }
                if changed {
                    self.notify(id, r);
                }
            }
        }
    }
}

#[async_trait::async_trait]
impl OtpStore for MemoryStore {
    fn insert_now(&self, id: OtpId, record: Record) -> Result<Result<(), StoreError>, Record> {
        Ok(self.insert_record(id, record))
    }

    async fn insert(&self, id: OtpId, record: Record) -> Result<(), StoreError> {
        self.insert_record(id, record)
    }

    async fn remove(&self, id: &OtpId) -> Result<Option<Record>, StoreError> {
        let removed = self.drop_otp(id);
        if let Some(r) = &removed {
            self.usage
                .count(r.tenant, day_of(r.created), UsageEvent::CreateUndone);
        }
        Ok(removed)
    }

    async fn get(&self, id: &OtpId) -> Result<Option<Record>, StoreError> {
        Ok(self.with_otp(id, |_, e| e.record.clone()))
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

    async fn charged(&self, id: &OtpId, charge: SendCharge, now: u32) -> Result<bool, StoreError> {
        let change = charge.change();
        Ok(self
            .with_otp(id, |h, e| self.change_locked(id, h, e, &change, now))
            .is_some())
    }

    fn charges_with_submit(&self) -> bool {
        true
    }

    /// Under one lock of the OTP's shard.
    async fn charged_and_submitted(
        &self,
        id: &OtpId,
        charge: SendCharge,
        smsc: &str,
        message_ids: &[String],
        now: u32,
    ) -> Result<(bool, Vec<HeldReceipt>), StoreError> {
        let known = self
            .with_otp(id, |h, e| {
                self.change_locked(id, h, e, &charge.change(), now);
                self.submitted_locked(id, h, e, smsc, message_ids, now);
            })
            .is_some();
        Ok((known, self.take_held_now(smsc, message_ids)))
    }

    async fn submitted(
        &self,
        id: &OtpId,
        smsc: &str,
        message_ids: Vec<String>,
        now: u32,
    ) -> Result<(bool, Vec<HeldReceipt>), StoreError> {
        let known = self
            .with_otp(id, |h, e| {
                self.submitted_locked(id, h, e, smsc, &message_ids, now)
            })
            .is_some();
        Ok((known, self.take_held_now(smsc, &message_ids)))
    }

    async fn find_by_message_id(
        &self,
        smsc: &str,
        message_id: &str,
    ) -> Result<Option<OtpId>, StoreError> {
        Ok(self.find_message(self.smscs.number(smsc), message_id))
    }

    async fn find_or_hold(
        &self,
        smsc: &str,
        variants: &[String],
        receipt: HeldReceipt,
        now: u32,
    ) -> Result<ReceiptMatch, StoreError> {
        let Some(first) = variants.first() else {
            return Ok(ReceiptMatch::Held);
        };
        Ok(self.find_or_hold_now(smsc, first, variants.iter().skip(1), &receipt, now))
    }

    /// In one call (no future per step), the forms after the first made only when it is not
    /// found: nearly every receipt is found under its first form.
    async fn receipt_for(
        &self,
        smsc: &str,
        message_id: &str,
        receipt: HeldReceipt,
        now: u32,
    ) -> Result<ReceiptMatch, StoreError> {
        let first = canonical_message_id(message_id);
        let others = message_id_other_forms(message_id);
        let found = self.find_or_hold_now(smsc, &first, others, &receipt, now);
        if let (ReceiptMatch::Found(id), Some(change)) = (&found, receipt.final_change()) {
            self.apply_delivery_now(id, change, now);
        }
        Ok(found)
    }

    async fn take_held(
        &self,
        smsc: &str,
        message_ids: &[String],
    ) -> Result<Vec<HeldReceipt>, StoreError> {
        Ok(self.take_held_now(smsc, message_ids))
    }

    async fn latest_for_phone(&self, phone: u64) -> Result<Option<OtpId>, StoreError> {
        let Some(h) = self.phones.latest(phone) else {
            return Ok(None);
        };
        let shard = self.otps.lock_handle(h);
        Ok(shard
            .get(h)
            .filter(|e| e.record.phone == phone)
            .map(|e| e.id))
    }

    fn housekeeping(self: Arc<Self>, shutdown: BoxFuture<'static, ()>) -> BoxFuture<'static, ()> {
        let shutdown = shutdown.shared();
        let usage = self
            .usage
            .clone()
            .keep(self.clock.clone(), shutdown.clone());
        let expiry = ExpiryTask::new(self).run(shutdown);
        Box::pin(async move {
            futures::join!(expiry, usage);
        })
    }

    fn completes_inline(&self) -> bool {
        true
    }

    fn len(&self) -> usize {
        self.otps.len()
    }

    fn pending(&self) -> usize {
        self.pending.get()
    }
}

#[async_trait::async_trait]
impl IdempotencyStore for MemoryStore {
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
        reply: IdemReply,
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
}

#[async_trait::async_trait]
impl UsageStore for MemoryStore {
    async fn usage(
        &self,
        tenant: super::identity::TenantTag,
        first: u32,
        last: u32,
    ) -> Result<Vec<(u32, DayUsage)>, StoreError> {
        Ok(self.usage.read(tenant, first, last))
    }

    fn usage_retention_days(&self) -> u32 {
        self.usage.retention_days()
    }

    fn persist_usage(&self) {
        if let Err(e) = self.usage.persist() {
            tracing::error!(error = %e, "usage counters not written");
        }
    }
}

#[async_trait::async_trait]
impl NumberLimitStore for MemoryStore {
    async fn hit_number_limit(
        &self,
        scope: NumberScope,
        phone: u64,
        limit: u32,
        window_s: u32,
        now: u32,
    ) -> Result<NumberLimit, StoreError> {
        Ok(self.count_number(scope, phone, limit, window_s, now))
    }

    fn hit_number_limit_now(
        &self,
        scope: NumberScope,
        phone: u64,
        limit: u32,
        window_s: u32,
        now: u32,
    ) -> Option<Result<NumberLimit, StoreError>> {
        Some(Ok(self.count_number(scope, phone, limit, window_s, now)))
    }
}

impl MemoryStore {
    /// Counts one create for `phone` in `scope` unless `limit` creates happened in the
    /// sliding window.
    fn count_number(
        &self,
        scope: NumberScope,
        phone: u64,
        limit: u32,
        window_s: u32,
        now: u32,
    ) -> NumberLimit {
        if limit == 0 {
            return NumberLimit::Allowed;
        }
        // a full phone table (tens of millions of numbers) limits nobody rather than everybody
        let Ok((verdict, new_entry)) =
            self.phones
                .hit(phones::counter_key(scope, phone), limit, window_s, now)
        else {
            return NumberLimit::Allowed;
        };
        if let Some((h, at)) = new_entry {
            self.queue.push_phone(at, h);
        }
        verdict
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::executor::block_on;
    use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

    const T0: u32 = 1_800_000_000;
    /// The first tenant's counters, kept in the number's own entry.
    const FIRST: NumberScope = NumberScope::Tenant(crate::otp::tenant::LimitKey::ZERO);
    const RETAIN: u32 = 300;

    fn record(phone: u64, ttl: u16) -> Record {
        Record::pending(PinHash([1; 16]), phone, *b"FR", T0, ttl, 3)
    }

    /// Counts EXPIRED notifications.
    #[derive(Default)]
    struct Expirations(AtomicU32);

    impl ChangeObserver for Expirations {
        fn changed(&self, _: OtpId, record: &Record) {
            if record.status == OtpStatus::Expired {
                self.0.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    fn store() -> (MemoryStore, Arc<Expirations>) {
        let seen = Arc::new(Expirations::default());
        let store =
            MemoryStore::new(Arc::new(Clock::new()), 1_000_000, RETAIN).with_observer(seen.clone());
        (store, seen)
    }

    fn expire_all_due(store: &MemoryStore, now: u32) {
        while store.expire_due(now) >= expiry::BATCH {}
    }

    /// A send charged nothing, then its `Submitted`: the record keeps no `Extra` (it would
    /// double what a live OTP holds), its figures as a stored zero cost would give them.
    #[test]
    fn a_send_charged_nothing_allocates_no_extra() {
        let (store, _) = store();
        let id = OtpId::random();
        block_on(store.insert(id, record(33_612_345_678, 600))).unwrap();
        let free = SendCharge {
            charge: 0,
            parts: 1,
            sent_as: None,
        };
        let ids = ["1f".to_owned()];
        let taken = block_on(store.charged_and_submitted(&id, free, "sim", &ids, T0)).unwrap();
        assert_eq!(taken, (true, Vec::new()));
        let r = block_on(store.get(&id)).unwrap().unwrap();
        assert!(r.extra.is_none());
        assert_eq!(r.delivery, DeliveryStatus::Sent);
        assert_eq!((r.cost_micros(50_000), r.pending_micros(50_000)), (0, 0));
    }

    #[test]
    fn expiry_marks_then_forgets_every_index_entry() {
        let (store, seen) = store();
        let n = 3000u64;
        let mut ids = Vec::new();
        for i in 0..n {
            let phone = 33_600_000_000 + i;
            let id = OtpId::random();
            block_on(store.hit_number_limit(FIRST, phone, 5, 600, T0)).unwrap();
            block_on(store.insert(id, record(phone, 60))).unwrap();
            let parts = DeliveryChange::Submitted {
                smsc: "sim".into(),
                message_ids: vec![format!("{:x}", 0xa000 + i), format!("id-{i}")],
            };
            block_on(store.apply_delivery(&id, parts, T0)).unwrap();
            ids.push(id);
        }
        assert_eq!(store.sizes(), (3000, 3000, 6000, 0, 6000));
        expire_all_due(&store, T0 + 59);
        assert_eq!(store.pending(), 3000);
        expire_all_due(&store, T0 + 60);
        assert_eq!(store.pending(), 0);
        assert_eq!(seen.0.load(Ordering::Relaxed), 3000);
        // retained, readable, still found by receipt and by phone
        let r = block_on(store.get(&ids[7])).unwrap().unwrap();
        assert_eq!(r.status, OtpStatus::Expired);
        assert_eq!(
            block_on(store.find_by_message_id("sim", "id-7")).unwrap(),
            Some(ids[7])
        );
        assert_eq!(
            block_on(store.latest_for_phone(33_600_000_007)).unwrap(),
            Some(ids[7])
        );
        expire_all_due(&store, T0 + 60 + RETAIN);
        let (otps, _, message_ids, _, _) = store.sizes();
        assert_eq!((otps, message_ids), (0, 0));
        assert!(block_on(store.get(&ids[7])).unwrap().is_none());
        assert_eq!(
            block_on(store.find_by_message_id("sim", "id-7")).unwrap(),
            None
        );
        assert_eq!(
            block_on(store.latest_for_phone(33_600_000_007)).unwrap(),
            None
        );
        // the create counters matter until the end of the next window, then go too
        expire_all_due(&store, T0 - T0 % 600 + 1200);
        assert_eq!(store.sizes(), (0, 0, 0, 0, 0));
        assert_eq!(
            seen.0.load(Ordering::Relaxed),
            3000,
            "each OTP expired once"
        );
    }

    #[test]
    fn a_slot_freed_early_does_not_expire_its_next_tenant() {
        let (store, seen) = store();
        let removed: Vec<OtpId> = (0..2000)
            .map(|i| {
                let id = OtpId::random();
                block_on(store.insert(id, record(44_700_000_000 + i, 60))).unwrap();
                id
            })
            .collect();
        for id in &removed {
            assert!(block_on(store.remove(id)).unwrap().is_some());
        }
        // the new OTPs take the freed slots, whose old deadline (T0 + 60) is still queued
        let kept: Vec<OtpId> = (0..2000)
            .map(|i| {
                let id = OtpId::random();
                block_on(store.insert(id, record(44_800_000_000 + i, 120))).unwrap();
                id
            })
            .collect();
        expire_all_due(&store, T0 + 60);
        assert_eq!(store.pending(), 2000);
        assert_eq!(seen.0.load(Ordering::Relaxed), 0);
        expire_all_due(&store, T0 + 120);
        assert_eq!(store.pending(), 0);
        assert_eq!(seen.0.load(Ordering::Relaxed), 2000);
        for id in &kept {
            let r = block_on(store.get(id)).unwrap().unwrap();
            assert_eq!(r.status, OtpStatus::Expired);
        }
        expire_all_due(&store, T0 + 120 + RETAIN);
        assert_eq!(store.len(), 0);
        let (_, _, _, _, queued) = store.sizes();
        assert_eq!(queued, 0, "no deadline left behind or duplicated");
    }

    /// Four threads create, submit, look up, verify and remove while a fifth expires and drops
    /// an older generation of OTPs, whose freed slots the new ones take: every index must agree
    /// at every step and be empty at the end, and each OTP must reach one final status once.
    #[test]
    fn concurrent_steps_keep_every_index_consistent() {
        let (store, seen) = store();
        let store = Arc::new(store);
        let old_created = T0 - 400; // expires at T0 - 340, leaves at T0 - 40
        for i in 0..4000 {
            let mut r = record(31_600_000_000 + i, 60);
            r.created = old_created;
            block_on(store.insert(OtpId::random(), r)).unwrap();
        }
        let per_thread = 3000u64;
        let total = 4 * per_thread;
        let progress = Arc::new(AtomicUsize::new(0));
        let verified = Arc::new(AtomicU32::new(0));
        let workers: Vec<_> = (0..4u64)
            .map(|t| {
                let (store, verified, progress) =
                    (store.clone(), verified.clone(), progress.clone());
                std::thread::spawn(move || {
                    for i in 0..per_thread {
                        let phone = 49_150_000_000 + t * per_thread + i;
                        let id = OtpId::random();
                        let ttl = 60 + (i % 3) as u16 * 30;
                        block_on(store.insert(id, record(phone, ttl))).unwrap();
                        let mid = format!("{}f{i:x}", t + 1); // canonical: no leading zero
                        let sub = DeliveryChange::Submitted {
                            smsc: "sim".into(),
                            message_ids: vec![mid.clone()],
                        };
                        block_on(store.apply_delivery(&id, sub, T0 + 1)).unwrap();
                        assert_eq!(
                            block_on(store.find_by_message_id("sim", &mid)).unwrap(),
                            Some(id)
                        );
                        assert_eq!(block_on(store.latest_for_phone(phone)).unwrap(), Some(id));
                        match i % 4 {
                            0 => {
                                let r = block_on(store.verify(&id, &PinHash([1; 16]), T0 + 2));
                                assert!(r.unwrap().is_ok());
                                verified.fetch_add(1, Ordering::Relaxed);
                            }
                            1 => {
                                assert!(block_on(store.remove(&id)).unwrap().is_some());
                                assert_eq!(
                                    block_on(store.find_by_message_id("sim", &mid)).unwrap(),
                                    None
                                );
                            }
                            _ => {}
                        }
                        progress.fetch_add(1, Ordering::Relaxed);
                    }
                })
            })
            .collect();
        // the expiry clock moves with the workers' progress, so the two interleave
        let expirer = {
            let (store, progress) = (store.clone(), progress.clone());
            std::thread::spawn(move || loop {
                let done = progress.load(Ordering::Relaxed) as u64;
                expire_all_due(&store, old_created + (400 * done / total) as u32);
                if done == total {
                    break;
                }
                std::thread::yield_now();
            })
        };
        for w in workers {
            w.join().expect("worker");
        }
        expirer.join().expect("expirer");
        assert_eq!(
            seen.0.load(Ordering::Relaxed),
            4000,
            "the old generation expired once"
        );
        assert_eq!(
            store.len() as u64,
            total - total / 4,
            "old ones gone, removed ones gone"
        );
        assert_eq!(u64::from(verified.load(Ordering::Relaxed)), total / 4);
        // the rest of the new ones expire, each once, then everything leaves
        expire_all_due(&store, T0 + 150);
        assert_eq!(store.pending(), 0);
        assert_eq!(u64::from(seen.0.load(Ordering::Relaxed)), 4000 + total / 2);
        expire_all_due(&store, T0 + 150 + RETAIN);
        expire_all_due(&store, T0 - T0 % 600 + 1800);
        assert_eq!(store.sizes(), (0, 0, 0, 0, 0));
    }

    #[test]
    fn a_receipt_id_reused_by_the_smsc_leads_to_the_newer_otp() {
        let (store, _) = store();
        let (old, new) = (OtpId::random(), OtpId::random());
        for (id, phone) in [(old, 33_611_111_111), (new, 33_622_222_222)] {
            block_on(store.insert(id, record(phone, 60))).unwrap();
            let sub = DeliveryChange::Submitted {
                smsc: "sim".into(),
                message_ids: vec!["0042".into()],
            };
            block_on(store.apply_delivery(&id, sub, T0)).unwrap();
        }
        assert_eq!(
            block_on(store.find_by_message_id("sim", "42")).unwrap(),
            Some(new)
        );
        assert!(block_on(store.remove(&old)).unwrap().is_some());
        assert_eq!(
            block_on(store.find_by_message_id("sim", "42")).unwrap(),
            Some(new)
        );
    }
}
