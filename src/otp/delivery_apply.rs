//! One delivery update applied to the store: the status, index and receipt changes of a
//! submit, a rejection, a charge or a receipt, with the credit settled and retries while the
//! store is unavailable. [`super::delivery::StoreSink`] runs it inline or in lanes.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use super::clock::Clock;
use super::credit::Credit;
use super::delivery_counters::DeliveryCounters;
use super::model::{DeliveryStatus, OtpId, Record};
use super::store::{DeliveryChange, HeldReceipt, ReceiptMatch, SendCharge, Store, StoreError};
use super::text::Encoding;
use crate::dispatch::{DeliveryUpdate, NotRecorded, ReceiptOutcome, SentAs};
use crate::telemetry::names;

/// Tries of one update against an unavailable store before it is given up (and counted).
const TRIES: u32 = 5;
const RETRY_BASE: Duration = Duration::from_millis(100);
/// Most bytes of a receipt's `err:` text kept with the OTP: the SMSC sends what it likes, up
/// to a whole short message, and every OTP would store it.
pub const RECEIPT_ERR_MAX: usize = 64;

/// `text` cut to at most `max` bytes, at a character boundary.
fn truncated(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// A send's charge as priced for the store, and what settling it needs after.
struct Priced<'a> {
    /// The SMSC that took the send, when one did.
    smsc: Option<&'a str>,
    /// `[otp] price_per_part` when it was priced.
    fallback: u64,
    charge: SendCharge,
}

/// A send's charge and its `Submitted`, recorded in one store step.
struct Together<'a> {
    id: OtpId,
    priced: Priced<'a>,
    smsc: &'a str,
    message_ids: &'a [String],
}

/// What applies updates to the store (shared by the inline path and the lanes).
pub(super) struct Apply {
    store: Arc<dyn Store>,
    clock: Arc<Clock>,
    /// `[otp] price_per_part` in micro-units: the price of a part whose SMSC has none.
    pub(super) fallback_price: AtomicU64,
    /// The tenants' credit, whose reservations a settled send replaces by its charge.
    pub(super) credit: OnceLock<Arc<Credit>>,
    counters: DeliveryCounters,
}

impl Apply {
    pub(super) fn new(store: Arc<dyn Store>, clock: Arc<Clock>) -> Self {
        Self {
            store,
            clock,
            fallback_price: AtomicU64::new(0),
            credit: OnceLock::new(),
            counters: DeliveryCounters::default(),
        }
    }

    pub(super) async fn apply_retrying(&self, update: DeliveryUpdate) -> Result<(), NotRecorded> {
        self.retrying(&update, || self.apply(update.clone())).await
    }

    /// [`Apply::apply_fate`], each store step retried on its own.
    pub(super) async fn apply_fate_retrying(
        &self,
        charged: DeliveryUpdate,
        fate: DeliveryUpdate,
    ) -> Result<(), NotRecorded> {
        let Some(pair) = self.together(&charged, &fate) else {
            let first = self.apply_retrying(charged).await;
            let second = self.apply_retrying(fate).await;
            return first.and(second);
        };
        let what = (&charged, &fate);
        let now = self.clock.unix_secs();
        // each part retried on its own: a later part's failure never records the charge again
        let (before, taken) = self
            .retrying(&what, || self.record_together(&pair, now))
            .await?;
        let settled = self
            .retrying(&what, || self.after_charge(&pair.priced, before.clone()))
            .await;
        let applied = self
            .retrying(&what, || self.apply_held(&pair.id, taken.clone(), now))
            .await;
        settled.and(applied)
    }

    /// Runs `step` until it succeeds, at most [`TRIES`] times, backing off between tries.
    async fn retrying<T, F, Fut>(
        &self,
        what: &(dyn std::fmt::Debug + Sync),
        step: F,
    ) -> Result<T, NotRecorded>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<T, StoreError>>,
    {
        let mut delay = RETRY_BASE;
        for attempt in 1..=TRIES {
            match step().await {
                Ok(done) => return Ok(done),
                Err(e) if attempt == TRIES => {
                    tracing::error!(error = %e, update = ?what, "delivery update lost: the store stayed unavailable");
                    metrics::counter!(names::DELIVERY_UPDATES_LOST).increment(1);
                }
                Err(e) => {
                    tracing::warn!(error = %e, attempt, "delivery update not recorded yet, retrying");
                    tokio::time::sleep(delay).await;
                    delay = delay.saturating_mul(2);
                }
            }
        }
        Err(NotRecorded)
    }
}

fn receipt_status(outcome: ReceiptOutcome) -> Option<DeliveryStatus> {
    match outcome {
        ReceiptOutcome::Delivered => Some(DeliveryStatus::Delivered),
        ReceiptOutcome::Undelivered | ReceiptOutcome::Expired => Some(DeliveryStatus::Undelivered),
        ReceiptOutcome::Rejected => Some(DeliveryStatus::Rejected),
        ReceiptOutcome::Pending => None,
    }
}

impl Apply {
    pub(super) async fn apply(&self, update: DeliveryUpdate) -> Result<(), StoreError> {
        let now = self.clock.unix_secs();
        match update {
            DeliveryUpdate::Submitted {
                otp_id,
                smsc,
                message_ids,
            } => {
                let Some(id) = OtpId::parse(&otp_id) else {
                    return Ok(());
                };
                let taken = self.store.submitted(&id, &smsc, message_ids, now).await?;
                self.apply_held(&id, taken, now).await?;
            }
            DeliveryUpdate::Rejected {
                otp_id,
                smsc,
                command_status,
                reason,
            } => {
                let Some(id) = OtpId::parse(&otp_id) else {
                    return Ok(());
                };
                let change = DeliveryChange::Status {
                    status: DeliveryStatus::Rejected,
                    smsc: Some(smsc),
                    error: Some(format!("0x{command_status:08X}: {reason}")),
                };
                self.store.apply_delivery(&id, change, now).await?;
            }
            DeliveryUpdate::Charged {
                otp_id,
                smsc,
                parts,
                price_per_part,
                sent_as,
            } => {
                let Some(id) = OtpId::parse(&otp_id) else {
                    return Ok(());
                };
                let priced = self.priced(smsc.as_deref(), parts, price_per_part, sent_as.as_ref());
                let before = self.before_charge(&id).await?;
                self.store.charged(&id, priced.charge, now).await?;
                self.after_charge(&priced, before).await?;
            }
            DeliveryUpdate::Failed { otp_id, reason } => {
                let Some(id) = OtpId::parse(&otp_id) else {
                    return Ok(());
                };
                let change = DeliveryChange::Status {
                    status: DeliveryStatus::Failed,
                    smsc: None,
                    error: Some(reason),
                };
                self.store.apply_delivery(&id, change, now).await?;
            }
            DeliveryUpdate::Receipt {
                smsc,
                message_id,
                outcome,
                error,
            } => {
                self.counters.receipt(outcome);
                // the canonical form is empty exactly when the id is blank
                if message_id.trim().is_empty() {
                    metrics::counter!(names::RECEIPTS_UNMATCHED).increment(1);
                    return Ok(());
                }
                let held = HeldReceipt {
                    status: receipt_status(outcome),
                    error: error
                        .map(|e| format!("receipt err: {}", truncated(&e, RECEIPT_ERR_MAX))),
                };
                // found and applied, or held: counted as unmatched by the store if its hold
                // time ends first
                if self
                    .store
                    .receipt_for(&smsc, &message_id, held, now)
                    .await?
                    == ReceiptMatch::Held
                {
                    tracing::debug!(%smsc, %message_id, "receipt held: its message id is not known yet");
                }
            }
        }
        Ok(())
    }

    /// A send's `Charged` and the fate reported right after it: a `Submitted` of the same OTP
    /// is recorded with its charge in one store step where the store has one (the engine
    /// reports this pair for every message sent), anything else one update after the other.
    pub(super) async fn apply_fate(
        &self,
        charged: DeliveryUpdate,
        fate: DeliveryUpdate,
    ) -> Result<(), StoreError> {
        let Some(pair) = self.together(&charged, &fate) else {
            self.apply(charged).await?;
            return self.apply(fate).await;
        };
        let now = self.clock.unix_secs();
        let (before, taken) = self.record_together(&pair, now).await?;
        self.after_charge(&pair.priced, before).await?;
        self.apply_held(&pair.id, taken, now).await
    }

    /// A `Charged` and the `Submitted` of the same OTP after it, when the store records them
    /// in one step; `None` when they are not such a pair or the store has no such step.
    fn together<'a>(
        &self,
        charged: &'a DeliveryUpdate,
        fate: &'a DeliveryUpdate,
    ) -> Option<Together<'a>> {
        let (
            DeliveryUpdate::Charged {
                otp_id,
                smsc: charged_by,
                parts,
                price_per_part,
                sent_as,
            },
            DeliveryUpdate::Submitted {
                otp_id: submitted_id,
                smsc,
                message_ids,
            },
        ) = (charged, fate)
        else {
            return None;
        };
        if otp_id != submitted_id || !self.store.charges_with_submit() {
            return None;
        }
        Some(Together {
            id: OtpId::parse(otp_id)?,
            priced: self.priced(
                charged_by.as_deref(),
                *parts,
                *price_per_part,
                sent_as.as_ref(),
            ),
            smsc,
            message_ids,
        })
    }

    /// The store step of a charge and its `Submitted`, with the record as it was before when
    /// the charge settles a credit: the receipts held for the ids, taken.
    async fn record_together(
        &self,
        pair: &Together<'_>,
        now: u32,
    ) -> Result<(Option<Record>, (bool, Vec<HeldReceipt>)), StoreError> {
        let before = self.before_charge(&pair.id).await?;
        let taken = self
            .store
            .charged_and_submitted(
                &pair.id,
                pair.priced.charge,
                pair.smsc,
                pair.message_ids,
                now,
            )
            .await?;
        Ok((before, taken))
    }

    /// A `Charged`'s figures priced: the parts at their SMSC's price, else at the fallback.
    fn priced<'a>(
        &self,
        smsc: Option<&'a str>,
        parts: u32,
        price_per_part: Option<u64>,
        sent_as: Option<&SentAs>,
    ) -> Priced<'a> {
        let sent_as = sent_as.and_then(|sent| {
            let encoding = Encoding::from_name(sent.encoding)?;
            Some((encoding, u8::try_from(sent.parts).unwrap_or(u8::MAX)))
        });
        let fallback = self.fallback_price.load(Ordering::Relaxed);
        let price = price_per_part.unwrap_or(fallback);
        Priced {
            smsc,
            fallback,
            charge: SendCharge {
                charge: u64::from(parts).saturating_mul(price),
                parts,
                sent_as,
            },
        }
    }

    /// The record before a charge, when a tenant's credit is settled by it: its reservation
    /// is the estimate the send replaces.
    async fn before_charge(&self, id: &OtpId) -> Result<Option<Record>, StoreError> {
        match self.credit.get() {
            Some(_) => self.store.get(id).await,
            None => Ok(None),
        }
    }

    /// Once a charge is recorded: the credit reserved for the send settled (counted in the
    /// parts the SMSC that took it sent), the charge counted.
    async fn after_charge(
        &self,
        priced: &Priced<'_>,
        before: Option<Record>,
    ) -> Result<(), StoreError> {
        let charge = priced.charge;
        if let (Some(credit), Some(mut b)) = (self.credit.get(), before) {
            if let Some((_, parts)) = charge.sent_as {
                b.parts = parts;
            }
            let reserved = b.pending_micros(priced.fallback);
            credit
                .settle(b.tenant, b.created, reserved, charge.charge)
                .await?;
        }
        if let Some(smsc) = &priced.smsc {
            self.counters
                .charged(smsc, charge.parts.into(), charge.charge);
        }
        Ok(())
    }

    /// After a `Submitted` indexed its ids: the receipts that came first and were held,
    /// applied now (`known`: whether the OTP is still stored).
    async fn apply_held(
        &self,
        id: &OtpId,
        (known, held): (bool, Vec<HeldReceipt>),
        now: u32,
    ) -> Result<(), StoreError> {
        for held in held {
            if known {
                self.apply_receipt(id, held, now).await?;
            } else {
                metrics::counter!(names::RECEIPTS_UNMATCHED).increment(1);
            }
        }
        Ok(())
    }

    /// Moves the deliveryStatus on for a final receipt; an intermediate one changes nothing
    /// (whenever it comes, it never takes a final status back).
    async fn apply_receipt(
        &self,
        id: &OtpId,
        held: HeldReceipt,
        now: u32,
    ) -> Result<(), StoreError> {
        if let Some(status) = held.status {
            let change = DeliveryChange::Status {
                status,
                smsc: None,
                error: held.error,
            };
            self.store.apply_delivery(id, change, now).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicU32;

    use super::*;
    use crate::otp::credit::{CreditLedger, CreditLimit, MemoryLedger, OverCredit};
    use crate::otp::identity::TenantTag;
    use crate::otp::memory::MemoryStore;
    use crate::otp::pin::PinHash;
    use crate::otp::usage::day_of;

    /// A ledger whose first adjustment fails, as a shared store that is briefly unavailable.
    #[derive(Default)]
    struct FirstAdjustFails {
        inner: MemoryLedger,
        adjusts: AtomicU32,
    }

    #[async_trait::async_trait]
    impl CreditLedger for FirstAdjustFails {
        async fn reserve(
            &self,
            tenant: TenantTag,
            period: u32,
            limit: u64,
            amount: u64,
        ) -> Result<Result<(), OverCredit>, StoreError> {
            self.inner.reserve(tenant, period, limit, amount).await
        }

        async fn adjust(
            &self,
            tenant: TenantTag,
            period: u32,
            delta: i64,
        ) -> Result<(), StoreError> {
            if self.adjusts.fetch_add(1, Ordering::Relaxed) == 0 {
                return Err(StoreError::Unavailable("the ledger is briefly away".into()));
            }
            self.inner.adjust(tenant, period, delta).await
        }

        async fn spent(&self, tenant: TenantTag, period: u32) -> Result<u64, StoreError> {
            self.inner.spent(tenant, period).await
        }
    }

    /// The credit's settlement fails once after a charge and its `Submitted` were recorded in
    /// one step: only the settlement is tried again, so the charge is recorded, counted and
    /// settled once.
    #[tokio::test]
    async fn a_failed_settlement_does_not_record_the_charge_again() {
        let tenant = TenantTag::of("settles-once");
        let clock = Arc::new(Clock::new());
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new(clock.clone(), 100, 300));
        let ledger = Arc::new(FirstAdjustFails::default());
        let apply = Apply::new(store.clone(), clock.clone());
        let credit = Credit::new([(tenant, CreditLimit::Balance(1_000_000))], ledger.clone());
        let _ = apply.credit.set(Arc::new(credit));
        let now = clock.unix_secs();
        let id = OtpId::random();
        let record = Record {
            tenant,
            ..Record::pending(PinHash([7; 16]), 33_612_345_678, *b"FR", now, 600, 3)
        };
        store.insert(id, record).await.unwrap();
        let charged = DeliveryUpdate::Charged {
            otp_id: id.to_string(),
            smsc: Some("sim".into()),
            parts: 1,
            price_per_part: Some(10_000),
            sent_as: None,
        };
        let submitted = DeliveryUpdate::Submitted {
            otp_id: id.to_string(),
            smsc: "sim".into(),
            message_ids: vec!["5eed".into()],
        };
        assert_eq!(apply.apply_fate_retrying(charged, submitted).await, Ok(()));
        assert_eq!(
            ledger.adjusts.load(Ordering::Relaxed),
            2,
            "settled on the second try"
        );
        assert_eq!(ledger.inner.spent(tenant, 0).await.unwrap(), 10_000);
        let r = store.get(&id).await.unwrap().unwrap();
        assert_eq!(r.delivery, DeliveryStatus::Sent);
        let cost = r.extra.as_deref().and_then(|e| e.cost);
        assert_eq!(cost.map(|c| (c.charged, c.pending)), Some((10_000, 0)));
        let usage = store.usage(tenant, day_of(now), day_of(now)).await.unwrap();
        let day = usage.first().map(|(_, u)| *u).unwrap_or_default();
        assert_eq!((day.parts, day.cost_micros), (1, 10_000));
    }
}
