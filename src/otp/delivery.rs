//! The engine's reports, applied to the store: the OTP core's [`DeliverySink`]. It needs only
//! the store, so it can be built before the engine and handed to it.

use crate::telemetry::names;
use otpgate_codec::dlr::message_id_variants;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use super::delivery_lanes::{Lanes, NotQueued};
use crate::dispatch::{DeliverySink, DeliveryUpdate, NotRecorded, ReceiptOutcome};
use futures::future::BoxFuture;
use futures::FutureExt;

use super::clock::Clock;
use super::credit::Credit;
use super::model::{DeliveryStatus, OtpId};
use super::store::{DeliveryChange, HeldReceipt, ReceiptMatch, Store, StoreError};
use super::text::Encoding;

/// Updates waiting for a shared store, at most (over every lane); beyond, `on_update` drops
/// (and counts) them while `record` waits for room.
const QUEUE: usize = 65_536;
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

/// Applies [`DeliveryUpdate`]s to a [`Store`]. With an in-process store each update is applied
/// before `on_update` returns; with a shared store they go through bounded lanes (see
/// [`super::delivery_lanes`]): the updates of one OTP, and the receipts of the ids it
/// submitted, in order, different OTPs concurrently. `record` waits for room and resolves
/// once its update is applied, `on_update` never waits and drops (counted) what a full lane
/// cannot take.
pub struct StoreSink {
    apply: Arc<Apply>,
    lanes: Option<Lanes>,
}

pub(super) struct Apply {
    store: Arc<dyn Store>,
    clock: Arc<Clock>,
    /// `[otp] price_per_part` in micro-units: the price of a part whose SMSC has none.
    fallback_price: AtomicU64,
    /// The tenants' credit, whose reservations a settled send replaces by its charge.
    credit: OnceLock<Arc<Credit>>,
}

impl StoreSink {
    /// With a shared store, spawns the lanes' tasks: call within a tokio runtime.
    pub fn new(store: Arc<dyn Store>, clock: Arc<Clock>) -> Self {
        let inline = store.completes_inline();
        let apply = Arc::new(Apply::new(store, clock));
        let lanes = (!inline).then(|| Lanes::spawn(apply.clone(), QUEUE));
        Self { apply, lanes }
    }

    /// Prices the parts of an SMSC without a price for their destination at `micros` per part
    /// (`[otp] price_per_part`; 0 until set).
    pub fn set_fallback_price(&self, micros: u64) {
        self.apply.fallback_price.store(micros, Ordering::Relaxed);
    }

    /// Settles the credit reservations of the tenants that have credit (set once).
    pub fn set_credit(&self, credit: Arc<Credit>) {
        if !credit.is_empty() {
            let _ = self.apply.credit.set(credit);
        }
    }

    /// Resolves once every update given before this call was applied (or given up): for an
    /// orderly shutdown, after the engine stopped reporting.
    pub async fn flush(&self) {
        if let Some(lanes) = &self.lanes {
            lanes.flush().await;
        }
    }
}

impl Apply {
    pub(super) fn new(store: Arc<dyn Store>, clock: Arc<Clock>) -> Self {
        Self {
            store,
            clock,
            fallback_price: AtomicU64::new(0),
            credit: OnceLock::new(),
        }
    }

    pub(super) async fn apply_retrying(&self, update: DeliveryUpdate) -> Result<(), NotRecorded> {
        let mut delay = RETRY_BASE;
        for attempt in 1..=TRIES {
            match self.apply(update.clone()).await {
                Ok(()) => return Ok(()),
                Err(e) if attempt == TRIES => {
                    tracing::error!(error = %e, ?update, "delivery update lost: the store stayed unavailable");
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

fn outcome_label(outcome: ReceiptOutcome) -> &'static str {
    match outcome {
        ReceiptOutcome::Delivered => "delivered",
        ReceiptOutcome::Undelivered => "undelivered",
        ReceiptOutcome::Expired => "expired",
        ReceiptOutcome::Rejected => "rejected",
        ReceiptOutcome::Pending => "pending",
    }
}

impl DeliverySink for StoreSink {
    fn on_update(&self, update: DeliveryUpdate) {
        let Some(lanes) = &self.lanes else {
            // logged where it failed; an in-process store does not fail for lack of a network
            let _ = self.apply_inline(update);
            return;
        };
        if let Err(NotQueued { closed }) = lanes.try_send(update) {
            // Full only when the store has been unavailable for a long while: the update is
            // dropped rather than queued without bound or applied out of order.
            metrics::counter!(names::DELIVERY_QUEUE_OVERFLOW).increment(1);
            tracing::error!(
                closed,
                "delivery update dropped: the delivery queue is full"
            );
        }
    }

    fn record(&self, update: DeliveryUpdate) -> BoxFuture<'_, Result<(), NotRecorded>> {
        let Some(lanes) = &self.lanes else {
            return Box::pin(std::future::ready(self.apply_inline(update)));
        };
        Box::pin(async move {
            // waits for room: the caller (a deliver_sm) is held back rather than dropped
            match lanes.send(update).await {
                Ok(applied) => applied.await.unwrap_or(Err(NotRecorded)),
                Err(update) => self.apply.apply_retrying(update).await,
            }
        })
    }
}

impl StoreSink {
    /// Applies `update` at once (an in-process store's futures are ready when first polled).
    fn apply_inline(&self, update: DeliveryUpdate) -> Result<(), NotRecorded> {
        match self.apply.apply(update).now_or_never() {
            Some(Ok(())) => Ok(()),
            Some(Err(e)) => {
                tracing::error!(error = %e, "delivery update not recorded");
                Err(NotRecorded)
            }
            None => {
                tracing::error!("delivery update not recorded: the store did not answer inline");
                Err(NotRecorded)
            }
        }
    }
}

impl Apply {
    async fn apply(&self, update: DeliveryUpdate) -> Result<(), StoreError> {
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
                // after indexing: a receipt that came first was held, and is applied now
                let (known, held) = self.store.submitted(&id, &smsc, message_ids, now).await?;
                for held in held {
                    if known {
                        self.apply_receipt(&id, held, now).await?;
                    } else {
                        metrics::counter!(names::RECEIPTS_UNMATCHED).increment(1);
                    }
                }
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
                let sent_as = sent_as.and_then(|sent| {
                    let encoding = Encoding::from_name(sent.encoding)?;
                    Some((encoding, u8::try_from(sent.parts).unwrap_or(u8::MAX)))
                });
                let fallback = self.fallback_price.load(Ordering::Relaxed);
                let price = price_per_part.unwrap_or(fallback);
                let charge = u64::from(parts).saturating_mul(price);
                // the reservation is the estimate the send replaces (counted in the parts the
                // SMSC that took it sent)
                let before = match self.credit.get() {
                    Some(_) => self.store.get(&id).await?,
                    None => None,
                };
                self.store.charged(&id, charge, parts, sent_as, now).await?;
                if let (Some(credit), Some(mut b)) = (self.credit.get(), before) {
                    if let Some((_, parts)) = sent_as {
                        b.parts = parts;
                    }
                    let reserved = b.pending_micros(fallback);
                    credit.settle(b.tenant, b.created, reserved, charge).await?;
                }
                if let Some(smsc) = smsc {
                    metrics::counter!(names::PARTS_CHARGED, "smsc" => smsc.clone())
                        .increment(parts.into());
                    metrics::counter!(names::COST_CHARGED, "smsc" => smsc).increment(charge);
                }
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
                metrics::counter!(names::RECEIPTS_SEEN, "outcome" => outcome_label(outcome))
                    .increment(1);
                let variants: Vec<String> = message_id_variants(&message_id).collect();
                if variants.first().is_none_or(|v| v.is_empty()) {
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
                if self.store.receipt(&smsc, &variants, held, now).await? == ReceiptMatch::Held {
                    tracing::debug!(%smsc, %message_id, "receipt held: its message id is not known yet");
                }
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
    use super::*;
    use crate::otp::memory::MemoryStore;
    use crate::otp::model::Record;
    use crate::otp::pin::PinHash;
    use futures::executor::block_on;

    #[test]
    fn a_receipt_err_text_is_stored_cut_to_its_cap() {
        let clock = Arc::new(Clock::new());
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new(clock.clone(), 1000, 300));
        let sink = StoreSink::new(store.clone(), clock.clone());
        let id = OtpId::random();
        let now = clock.unix_secs();
        let record = Record::pending(PinHash([1; 16]), 33_612_345_678, *b"FR", now, 600, 3);
        block_on(store.insert(id, record)).unwrap();
        for update in [
            DeliveryUpdate::Submitted {
                otp_id: id.to_string(),
                smsc: "sim".into(),
                message_ids: vec!["abc123".into()],
            },
            DeliveryUpdate::Receipt {
                smsc: "sim".into(),
                message_id: "abc123".into(),
                outcome: ReceiptOutcome::Undelivered,
                // multi-byte characters, so that the cut must find a boundary
                error: Some("é".repeat(5 * 1024)),
            },
        ] {
            block_on(sink.record(update)).unwrap();
        }
        let stored = block_on(store.get(&id)).unwrap().unwrap();
        let err = stored
            .extra
            .as_deref()
            .and_then(|e| e.smpp_error.as_deref())
            .expect("the receipt's error is stored");
        assert!(err.starts_with("receipt err: é"), "{err}");
        assert!(
            err.len() <= "receipt err: ".len() + RECEIPT_ERR_MAX,
            "{} bytes of receipt error stored",
            err.len()
        );
    }
}
