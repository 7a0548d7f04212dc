//! The engine's reports, applied to the store: the OTP core's [`DeliverySink`]. It needs only
//! the store, so it can be built before the engine and handed to it.

use otpgate_codec::dlr::message_id_variants;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use futures::FutureExt;
use tokio::sync::{mpsc, oneshot};

use crate::dispatch::{DeliverySink, DeliveryUpdate, NotRecorded, ReceiptOutcome};

use super::clock::Clock;
use super::model::{DeliveryStatus, OtpId};
use super::store::{DeliveryChange, Store, StoreError};

/// Updates waiting for a shared store, at most; beyond, `on_update` applies out of order.
const QUEUE: usize = 65_536;
/// Tries of one update against an unavailable store before it is given up (and counted).
const TRIES: u32 = 5;
const RETRY_BASE: Duration = Duration::from_millis(100);

struct Job {
    update: DeliveryUpdate,
    /// Told whether the update was recorded.
    done: Option<oneshot::Sender<bool>>,
}

/// Applies [`DeliveryUpdate`]s to a [`Store`]. With an in-process store each update is applied
/// before `on_update` returns; with a shared store they go through one ordered queue (so a
/// receipt never overtakes the `Submitted` that indexed its message id), and `record` resolves
/// once its update is applied.
pub struct StoreSink {
    apply: Arc<Apply>,
    queue: Option<mpsc::Sender<Job>>,
}

struct Apply {
    store: Arc<dyn Store>,
    clock: Arc<Clock>,
}

impl StoreSink {
    /// With a shared store, spawns the queue's worker: call within a tokio runtime.
    pub fn new(store: Arc<dyn Store>, clock: Arc<Clock>) -> Self {
        let inline = store.completes_inline();
        let apply = Arc::new(Apply { store, clock });
        let queue = (!inline).then(|| {
            let (tx, rx) = mpsc::channel(QUEUE);
            tokio::spawn(tracing::Instrument::instrument(
                run_queue(apply.clone(), rx),
                tracing::info_span!("delivery_sink"),
            ));
            tx
        });
        Self { apply, queue }
    }
}

async fn run_queue(apply: Arc<Apply>, mut rx: mpsc::Receiver<Job>) {
    while let Some(job) = rx.recv().await {
        let recorded = apply.apply_retrying(job.update).await;
        if let Some(done) = job.done {
            let _ = done.send(recorded);
        }
    }
}

impl Apply {
    /// Whether `update` was recorded.
    async fn apply_retrying(&self, update: DeliveryUpdate) -> bool {
        let mut delay = RETRY_BASE;
        for attempt in 1..=TRIES {
            match self.apply(update.clone()).await {
                Ok(()) => return true,
                Err(e) if attempt == TRIES => {
                    tracing::error!(error = %e, ?update, "delivery update lost: the store stayed unavailable");
                    metrics::counter!("otpgate_delivery_updates_lost_total").increment(1);
                }
                Err(e) => {
                    tracing::warn!(error = %e, attempt, "delivery update not recorded yet, retrying");
                    tokio::time::sleep(delay).await;
                    delay = delay.saturating_mul(2);
                }
            }
        }
        false
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
        match &self.queue {
            None => {
                self.apply_inline(update);
            }
            Some(q) => {
                if let Err(
                    mpsc::error::TrySendError::Full(job) | mpsc::error::TrySendError::Closed(job),
                ) = q.try_send(Job { update, done: None })
                {
                    metrics::counter!("otpgate_delivery_queue_overflow_total").increment(1);
                    let apply = self.apply.clone();
                    tokio::spawn(async move {
                        apply.apply_retrying(job.update).await;
                    });
                }
            }
        }
    }

    fn record(&self, update: DeliveryUpdate) -> BoxFuture<'_, Result<(), NotRecorded>> {
        let Some(q) = &self.queue else {
            let recorded = self.apply_inline(update);
            return Box::pin(std::future::ready(
                recorded.then_some(()).ok_or(NotRecorded),
            ));
        };
        Box::pin(async move {
            let (tx, rx) = oneshot::channel();
            let recorded = match q
                .send(Job {
                    update,
                    done: Some(tx),
                })
                .await
            {
                Ok(()) => rx.await.unwrap_or(false),
                Err(mpsc::error::SendError(job)) => self.apply.apply_retrying(job.update).await,
            };
            recorded.then_some(()).ok_or(NotRecorded)
        })
    }
}

impl StoreSink {
    /// Applies `update` at once (an in-process store's futures are ready when first polled);
    /// whether it was recorded.
    fn apply_inline(&self, update: DeliveryUpdate) -> bool {
        let fut = self.apply.apply(update);
        if let Some(Err(e)) = fut.now_or_never() {
            tracing::error!(error = %e, "delivery update not recorded");
            return false;
        }
        true
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
                let change = DeliveryChange::Submitted { smsc, message_ids };
                self.store.apply_delivery(&id, change, now).await?;
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
                message_id,
                outcome,
                error,
            } => {
                metrics::counter!("otpgate_receipts_total", "outcome" => outcome_label(outcome))
                    .increment(1);
                let mut found = None;
                for v in message_id_variants(&message_id) {
                    found = self.store.find_by_message_id(&v).await?;
                    if found.is_some() {
                        break;
                    }
                }
                let Some(id) = found else {
                    tracing::debug!(message_id = %message_id, "receipt for an unknown message id");
                    metrics::counter!("otpgate_receipts_unmatched_total").increment(1);
                    return Ok(());
                };
                if let Some(status) = receipt_status(outcome) {
                    let error = error.map(|e| format!("receipt err: {e}"));
                    let change = DeliveryChange::Status {
                        status,
                        smsc: None,
                        error,
                    };
                    self.store.apply_delivery(&id, change, now).await?;
                }
            }
        }
        Ok(())
    }
}
