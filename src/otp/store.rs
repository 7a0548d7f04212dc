//! The `Store` trait: every OTP state change as one atomic operation, so that the in-memory
//! store (the default) and a shared store (Redis, for several nodes) can both implement it.
//! Methods are async (a shared store answers over the network); an outer `Err(StoreError)`
//! means the store could not be asked, an inner result is its answer.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::future::BoxFuture;
use otpgate_codec::dlr::message_id_variants;

use super::identity::LimitKey;
use super::identity::TenantTag;
use super::model::{DeliveryStatus, OtpId, OtpStatus, Record};
use super::pin::PinHash;
pub use super::store_error::StoreError;
use super::text::Encoding;
use super::usage::UsageStore;

/// Why a verification failed (the store has already counted the attempt where one was used).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerifyError {
    NotFound,
    AlreadyVerified,
    Cancelled,
    Expired,
    /// maxAttempts wrong tries were used before this one.
    AlreadyFailed,
    /// This wrong try used the last attempt: the OTP is now FAILED.
    LastAttemptFailed,
    /// Wrong PIN; `remaining` attempts left.
    WrongPin {
        remaining: u8,
    },
    /// The PIN the last resend replaced: a wrong try like any other (counted, and the last
    /// attempt still fails the OTP), told apart so that the user is asked for the newest SMS.
    ReplacedPin {
        remaining: u8,
    },
}

/// Why a resend was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResendError {
    NotFound,
    /// The OTP is no longer pending (its status as of now).
    NotPending(OtpStatus),
    /// The OTP was resent its maximum number of times already.
    Limit,
}

/// Told of every status or deliveryStatus change, in order per OTP, while the change is being
/// made: it must not block (the callback queue only enqueues).
pub trait ChangeObserver: Send + Sync + 'static {
    fn changed(&self, id: OtpId, record: &Record);
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelError {
    NotFound,
    AlreadyCancelled,
    NotPending,
}

/// A delivery event, as the store records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryChange {
    /// Accepted by `smsc`; `message_ids` get indexed for receipts.
    Submitted {
        smsc: String,
        message_ids: Vec<String>,
    },
    /// What a send was charged (added to the cost) and the estimate of the send now pending
    /// (replaces the previous one). Not a status change: nobody is notified.
    Cost { charge: u64, pending: u64 },
    /// The encoding and parts of the SMS as the SMSC that took it split it (after a failover
    /// they may differ from the estimate's). Not a status change: nobody is notified.
    SentAs { encoding: Encoding, parts: u8 },
    /// One send settled: `charge` added to the cost and nothing left pending (as `Cost` with
    /// `pending` 0), and, when an SMSC took it, how it split the SMS (as `SentAs`), in one
    /// step. Not a status change: nobody is notified.
    Charged {
        charge: u64,
        /// The parts the SMSC accepted (those `charge` pays for), counted in the usage.
        parts: u32,
        sent_as: Option<(Encoding, u8)>,
    },
    /// Refused, failed, or a final receipt: the new delivery status and an error text.
    Status {
        status: DeliveryStatus,
        smsc: Option<String>,
        error: Option<String>,
    },
}

/// One send settled, as [`DeliveryChange::Charged`] records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendCharge {
    pub charge: u64,
    pub parts: u32,
    pub sent_as: Option<(Encoding, u8)>,
}

impl SendCharge {
    pub fn change(self) -> DeliveryChange {
        DeliveryChange::Charged {
            charge: self.charge,
            parts: self.parts,
            sent_as: self.sent_as,
        }
    }
}

/// A delivery receipt as the store keeps it while its message id is not indexed yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldReceipt {
    /// The deliveryStatus it reports; `None` for an intermediate state (ENROUTE, ACCEPTD).
    pub status: Option<DeliveryStatus>,
    pub error: Option<String>,
}

impl HeldReceipt {
    /// The change a final receipt makes to the OTP it was found for; `None` for an
    /// intermediate one.
    pub fn final_change(self) -> Option<DeliveryChange> {
        Some(DeliveryChange::Status {
            status: self.status?,
            smsc: None,
            error: self.error,
        })
    }
}

/// What became of a receipt given to [`OtpStore::find_or_hold`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReceiptMatch {
    /// Its message id is indexed for this OTP.
    Found(OtpId),
    /// Not indexed (yet): held until the `Submitted` that indexes it, or its hold time ends.
    Held,
}

/// How long and how many receipts a store holds for ids not indexed yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReceiptHold {
    pub hold_s: u32,
    /// Beyond, the oldest held receipt is shed (counted in `otpgate_receipts_shed_total`).
    pub max: usize,
}

impl Default for ReceiptHold {
    fn default() -> Self {
        Self {
            hold_s: 60,
            max: 100_000,
        }
    }
}

/// An `Idempotency-Key` as scoped to its tenant.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IdemKey {
    pub tenant: TenantTag,
    pub key: Box<str>,
}

/// The outcome remembered for an idempotency key: a code and a body, opaque to the store (the
/// front end that saved it gives them their meaning).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdemReply {
    pub status: u16,
    pub body: Bytes,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdemReserve {
    /// The caller owns the key: it must `complete` or `release` it.
    Reserved,
    /// Another request with the same key and body is being handled: wait and ask again.
    InFlight,
    /// A request with the same key and body was answered: send this reply again.
    Replay(IdemReply),
    /// The key was used with another body.
    Conflict,
}

/// Per-phone-number create limit verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberLimit {
    Allowed,
    Limited { retry_after: Duration },
}

/// OTP state. Every method is one atomic step; none blocks for long.
#[async_trait::async_trait]
pub trait OtpStore: Send + Sync + 'static {
    /// Stores a new OTP and makes it its phone number's latest.
    async fn insert(&self, id: OtpId, record: Record) -> Result<(), StoreError>;
    /// [`insert`](Self::insert) at once, when that needs no waiting (a store in this
    /// process): a create spares the boxed future of the call. Else the record is given back,
    /// for `insert`.
    fn insert_now(&self, id: OtpId, record: Record) -> Result<Result<(), StoreError>, Record> {
        let _ = id;
        Err(record)
    }
    /// Forgets an OTP whose SMS was never queued.
    async fn remove(&self, id: &OtpId) -> Result<Option<Record>, StoreError>;
    async fn get(&self, id: &OtpId) -> Result<Option<Record>, StoreError>;
    /// Checks `candidate` against the stored hash, counting a wrong try and changing the
    /// status, all at once. `now` in UNIX seconds.
    async fn verify(
        &self,
        id: &OtpId,
        candidate: &PinHash,
        now: u32,
    ) -> Result<Result<Record, VerifyError>, StoreError>;
    async fn cancel(&self, id: &OtpId, now: u32)
        -> Result<Result<Record, CancelError>, StoreError>;
    /// Replaces the PIN of a pending OTP (the old one stops verifying), counts the resend
    /// unless `max_resends` were made, and puts its delivery back to QUEUED (the old SMS's
    /// message ids are forgotten). Returns the updated record.
    async fn resend(
        &self,
        id: &OtpId,
        pin_hash: PinHash,
        max_resends: u8,
        now: u32,
    ) -> Result<Result<Record, ResendError>, StoreError>;
    /// Records a delivery event; `None` when the OTP is gone.
    async fn apply_delivery(
        &self,
        id: &OtpId,
        change: DeliveryChange,
        now: u32,
    ) -> Result<Option<Record>, StoreError>;
    /// The OTP whose part had this message id (canonical, as indexed) from this SMSC.
    async fn find_by_message_id(
        &self,
        smsc: &str,
        message_id: &str,
    ) -> Result<Option<OtpId>, StoreError>;
    /// A receipt from `smsc`: the OTP one of `variants` (its message id's forms, canonical
    /// first, see `otpgate_codec::dlr::message_id_variants`) is indexed for, or else `receipt`
    /// held under the first variant. Atomic with respect to [`OtpStore::take_held`], so that a
    /// receipt racing the `Submitted` of its id is either found or taken, never lost.
    async fn find_or_hold(
        &self,
        smsc: &str,
        variants: &[String],
        receipt: HeldReceipt,
        now: u32,
    ) -> Result<ReceiptMatch, StoreError>;
    /// The receipts held for these message ids (raw, as submitted) of `smsc`, oldest first,
    /// removed. Called once the `Submitted` that carried the ids has indexed them.
    async fn take_held(
        &self,
        smsc: &str,
        message_ids: &[String],
    ) -> Result<Vec<HeldReceipt>, StoreError>;
    /// A send's charge ([`DeliveryChange::Charged`]) for a caller that needs no record back:
    /// whether the OTP is still stored. A shared store then answers less.
    async fn charged(&self, id: &OtpId, charge: SendCharge, now: u32) -> Result<bool, StoreError> {
        Ok(self
            .apply_delivery(id, charge.change(), now)
            .await?
            .is_some())
    }
    /// Whether [`OtpStore::charged_and_submitted`] is one atomic step here.
    fn charges_with_submit(&self) -> bool {
        false
    }
    /// A send's charge and the `Submitted` it comes just before (the engine reports them back
    /// to back for every message sent): [`OtpStore::charged`] then
    /// [`OtpStore::submitted`]'s answer, in one atomic step where
    /// [`OtpStore::charges_with_submit`] says so, else the two steps one after the other.
    async fn charged_and_submitted(
        &self,
        id: &OtpId,
        charge: SendCharge,
        smsc: &str,
        message_ids: &[String],
        now: u32,
    ) -> Result<(bool, Vec<HeldReceipt>), StoreError> {
        self.charged(id, charge, now).await?;
        self.submitted(id, smsc, message_ids.to_vec(), now).await
    }
    /// A `Submitted`: records it (as [`OtpStore::apply_delivery`]) then takes the receipts
    /// held for its ids (as [`OtpStore::take_held`]). Whether the OTP is still stored, and
    /// the receipts taken. A shared store may do both in one round trip.
    async fn submitted(
        &self,
        id: &OtpId,
        smsc: &str,
        message_ids: Vec<String>,
        now: u32,
    ) -> Result<(bool, Vec<HeldReceipt>), StoreError> {
        submitted_in_steps(self, id, smsc, message_ids, now).await
    }
    /// A receipt: [`OtpStore::find_or_hold`], and when its OTP is found and the receipt is
    /// final, its deliveryStatus applied (as [`OtpStore::apply_delivery`] with
    /// [`DeliveryChange::Status`]). A shared store may do both in one round trip.
    async fn receipt(
        &self,
        smsc: &str,
        variants: &[String],
        receipt: HeldReceipt,
        now: u32,
    ) -> Result<ReceiptMatch, StoreError> {
        receipt_in_steps(self, smsc, variants, receipt, now).await
    }
    /// [`OtpStore::receipt`] for a message id as the receipt carried it, its forms
    /// (`otpgate_codec::dlr::message_id_variants`) made here. A store that looks the first
    /// form up before the others overrides it to make the others only when that one fails.
    async fn receipt_for(
        &self,
        smsc: &str,
        message_id: &str,
        receipt: HeldReceipt,
        now: u32,
    ) -> Result<ReceiptMatch, StoreError> {
        let variants: Vec<String> = message_id_variants(message_id).collect();
        self.receipt(smsc, &variants, receipt, now).await
    }
    /// The latest OTP created for this number that is still stored.
    async fn latest_for_phone(&self, phone: u64) -> Result<Option<OtpId>, StoreError>;
    /// The store's housekeeping (expiry of OTPs, counters and keys), run until `shutdown`.
    fn housekeeping(self: Arc<Self>, shutdown: BoxFuture<'static, ()>) -> BoxFuture<'static, ()>;
    /// Whether every future of this store is ready when first polled (an in-process store):
    /// the delivery sink then records inline instead of through its ordered queue.
    fn completes_inline(&self) -> bool {
        false
    }
    /// OTPs stored (any status); a shared store answers from its last snapshot.
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// OTPs in status PENDING; a shared store answers from its last snapshot.
    fn pending(&self) -> usize;
}

/// [`OtpStore::submitted`] as two steps of `store`.
pub async fn submitted_in_steps<S: OtpStore + ?Sized>(
    store: &S,
    id: &OtpId,
    smsc: &str,
    message_ids: Vec<String>,
    now: u32,
) -> Result<(bool, Vec<HeldReceipt>), StoreError> {
    let change = DeliveryChange::Submitted {
        smsc: smsc.to_owned(),
        message_ids: message_ids.clone(),
    };
    let known = store.apply_delivery(id, change, now).await?.is_some();
    Ok((known, store.take_held(smsc, &message_ids).await?))
}

/// [`OtpStore::receipt`] as two steps of `store`.
pub async fn receipt_in_steps<S: OtpStore + ?Sized>(
    store: &S,
    smsc: &str,
    variants: &[String],
    receipt: HeldReceipt,
    now: u32,
) -> Result<ReceiptMatch, StoreError> {
    let found = store
        .find_or_hold(smsc, variants, receipt.clone(), now)
        .await?;
    if let (ReceiptMatch::Found(id), Some(change)) = (&found, receipt.final_change()) {
        store.apply_delivery(id, change, now).await?;
    }
    Ok(found)
}

/// Idempotency keys: the first outcome of a request, remembered per tenant and key with the
/// request's fingerprint, replayed to its retries.
#[async_trait::async_trait]
pub trait IdempotencyStore: Send + Sync + 'static {
    async fn idempotency_reserve(
        &self,
        key: &IdemKey,
        fingerprint: [u8; 32],
        now: u32,
    ) -> Result<IdemReserve, StoreError>;
    async fn idempotency_complete(
        &self,
        key: &IdemKey,
        reply: IdemReply,
        now: u32,
        ttl_s: u32,
    ) -> Result<(), StoreError>;
    async fn idempotency_release(&self, key: &IdemKey) -> Result<(), StoreError>;
}

/// Whose creates to a number a per-number counter counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberScope {
    /// One tenant's (`[limits] per_number`).
    Tenant(LimitKey),
    /// Every tenant's together (`[limits] per_number_global`).
    Global,
}

/// The per-phone-number create limit (a sliding window per number and scope).
#[async_trait::async_trait]
pub trait NumberLimitStore: Send + Sync + 'static {
    /// Counts one create for `phone` in `scope` unless `limit` creates happened in the
    /// sliding window.
    async fn hit_number_limit(
        &self,
        scope: NumberScope,
        phone: u64,
        limit: u32,
        window_s: u32,
        now: u32,
    ) -> Result<NumberLimit, StoreError>;
    /// [`hit_number_limit`](Self::hit_number_limit) at once, when that needs no waiting (a
    /// store in this process): a create spares the boxed future of the call. `None` sends the
    /// caller to `hit_number_limit`.
    fn hit_number_limit_now(
        &self,
        scope: NumberScope,
        phone: u64,
        limit: u32,
        window_s: u32,
        now: u32,
    ) -> Option<Result<NumberLimit, StoreError>> {
        let _ = (scope, phone, limit, window_s, now);
        None
    }
}

/// Everything one engine keeps: OTP state, idempotency keys, per-number limits and usage per
/// tenant and day, in one place (in memory, or shared through Redis). A consumer that needs
/// only one of them takes that trait.
pub trait Store: OtpStore + IdempotencyStore + NumberLimitStore + UsageStore {}

impl<T: OtpStore + IdempotencyStore + NumberLimitStore + UsageStore> Store for T {}
