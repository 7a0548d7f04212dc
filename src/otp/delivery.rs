//! The engine's reports, applied to the store: the OTP core's [`DeliverySink`]. It needs only
//! the store, so it can be built before the engine and handed to it.

use std::future::Future;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use futures::future::BoxFuture;
use futures::FutureExt;

use super::clock::Clock;
use super::credit::Credit;
use super::delivery_apply::Apply;
use super::delivery_lanes::{Lanes, NotQueued};
use super::store::{Store, StoreError};
use crate::dispatch::{DeliverySink, DeliveryUpdate, NotRecorded};
use crate::telemetry::names;

/// Updates waiting for a shared store, at most (over every lane); beyond, `on_update` drops
/// (and counts) them while `record` waits for room.
const QUEUE: usize = 65_536;

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

    fn on_fate(&self, charged: DeliveryUpdate, fate: DeliveryUpdate) {
        let Some(lanes) = &self.lanes else {
            // logged where it failed, as in `on_update`
            let _ = inline(self.apply.apply_fate(charged, fate));
            return;
        };
        if let Err(NotQueued { closed }) = lanes.try_send_fate(charged, fate) {
            // two updates
            metrics::counter!(names::DELIVERY_QUEUE_OVERFLOW).increment(2);
            tracing::error!(
                closed,
                "delivery updates dropped: the delivery queue is full"
            );
        }
    }

    fn record_now(
        &self,
        update: DeliveryUpdate,
    ) -> Result<Result<(), NotRecorded>, DeliveryUpdate> {
        match &self.lanes {
            None => Ok(self.apply_inline(update)),
            Some(_) => Err(update),
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
        inline(self.apply.apply(update))
    }
}

/// The outcome of `applied`, an in-process store's work, ready when first polled.
fn inline(applied: impl Future<Output = Result<(), StoreError>>) -> Result<(), NotRecorded> {
    match applied.now_or_never() {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dispatch::ReceiptOutcome;
    use crate::otp::delivery_apply::RECEIPT_ERR_MAX;
    use crate::otp::memory::MemoryStore;
    use crate::otp::model::OtpId;
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
