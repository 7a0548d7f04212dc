//! The engine's reports on their way to the store, settling the queue entries they are
//! about: once an SMS's fate is known (`Submitted`, `Rejected`, `Failed`) and recorded, its
//! entry is acknowledged and deleted, in batches (one round trip per stream and batch). At
//! shutdown, what the engine still had queued goes back to the shared queue for the other
//! nodes instead of ending FAILED.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;
use tokio::sync::{mpsc, oneshot};

use super::held::{Held, Outcome};
use super::Queue;
use crate::dispatch::{DeliverySink, DeliveryUpdate, NotRecorded};
use crate::telemetry::names;

/// The engine's reason for what it still had queued at shutdown.
const SHUTDOWN_REASON: &str = "shutdown";
/// Entries settled in one round trip at most.
const BATCH: usize = 512;
const TRIES: u32 = 3;

pub enum Job {
    Outcome(Outcome),
    /// Resolves once every outcome sent before it was applied.
    Flush(oneshot::Sender<()>),
}

/// The [`DeliverySink`] the engine reports to when the send queue is shared.
pub struct SettlingSink {
    pub(super) queue: Arc<Queue>,
    /// While stopping: the zero charge of an OTP whose `Failed` may be a hand-back.
    stashed: Mutex<HashMap<String, DeliveryUpdate>>,
}

impl SettlingSink {
    pub fn new(queue: Arc<Queue>) -> Self {
        Self {
            queue,
            stashed: Mutex::new(HashMap::new()),
        }
    }

    fn stash(&self) -> std::sync::MutexGuard<'_, HashMap<String, DeliveryUpdate>> {
        self.stashed.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl DeliverySink for SettlingSink {
    fn on_update(&self, update: DeliveryUpdate) {
        let q = &self.queue;
        let stopping = q.stopping.load(Ordering::Acquire);
        match &update {
            // a send that took nothing, reported just before its Failed: held back while
            // stopping, since that Failed may be a hand-back that must leave no trace
            DeliveryUpdate::Charged {
                otp_id,
                smsc: None,
                parts: 0,
                ..
            } if stopping => {
                self.stash().insert(otp_id.clone(), update);
                return;
            }
            DeliveryUpdate::Failed { otp_id, reason } if stopping && reason == SHUTDOWN_REASON => {
                self.stash().remove(otp_id);
                if let Some(held) = q.held.take(otp_id) {
                    tracing::info!(otp_id = %otp_id, smsc = %held.smsc, "unsent SMS handed back to the shared queue");
                    q.outcome(Outcome::Requeue(held));
                    return;
                }
            }
            _ => {}
        }
        let settled = fate_of(&update);
        if let Some(otp_id) = &settled {
            if let Some(charge) = self.stash().remove(otp_id) {
                q.sink.on_update(charge);
            }
        }
        q.sink.on_update(update);
        self.settle(settled);
    }

    fn on_fate(&self, charged: DeliveryUpdate, fate: DeliveryUpdate) {
        if self.queue.stopping.load(Ordering::Acquire) {
            // while stopping, each update has its own rules (above)
            self.on_update(charged);
            self.on_update(fate);
            return;
        }
        let settled = fate_of(&fate);
        self.queue.sink.on_fate(charged, fate);
        self.settle(settled);
    }

    fn record(&self, update: DeliveryUpdate) -> BoxFuture<'_, Result<(), NotRecorded>> {
        // receipts: nothing to settle
        self.queue.sink.record(update)
    }
}

impl SettlingSink {
    /// Once the fate of OTP `otp_id` is reported: its queue entry settled.
    fn settle(&self, otp_id: Option<String>) {
        let q = &self.queue;
        if let Some(held) = otp_id.and_then(|id| q.held.take(&id)) {
            q.outcome(Outcome::Settle(held));
        }
    }
}

/// The OTP whose fate `update` is, if it is one.
fn fate_of(update: &DeliveryUpdate) -> Option<String> {
    match update {
        DeliveryUpdate::Submitted { otp_id, .. }
        | DeliveryUpdate::Rejected { otp_id, .. }
        | DeliveryUpdate::Failed { otp_id, .. } => Some(otp_id.clone()),
        _ => None,
    }
}

/// Applies the outcomes, in batches, until a `Flush` finds the channel closed.
pub async fn run(queue: Arc<Queue>, mut rx: mpsc::UnboundedReceiver<Job>) {
    while let Some(first) = rx.recv().await {
        let mut outcomes = Vec::new();
        let mut flushes = Vec::new();
        let mut next = Some(first);
        while let Some(job) = next.take() {
            match job {
                Job::Outcome(o) => outcomes.push(o),
                Job::Flush(done) => flushes.push(done),
            }
            if outcomes.len() < BATCH {
                next = rx.try_recv().ok();
            }
        }
        if !outcomes.is_empty() {
            // the fates are in the store before their entries go: a node that takes an entry
            // over finds its OTP settled and does not send it again
            queue.sink.flush().await;
            apply(&queue, outcomes).await;
        }
        for done in flushes {
            let _ = done.send(());
        }
    }
}

async fn apply(queue: &Queue, outcomes: Vec<Outcome>) {
    let mut settle: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut requeue: Vec<Held> = Vec::new();
    for o in outcomes {
        match o {
            Outcome::Settle(h) => settle.entry(h.smsc).or_default().push(h.entry),
            Outcome::Requeue(h) => requeue.push(h),
        }
    }
    for held in requeue {
        // past the capacity: it was already counted in it
        let back = queue
            .streams
            .append(&held.smsc, u64::MAX, &held.otp_id, &held.sealed)
            .await;
        match back {
            Ok(_) => settle
                .entry(held.smsc.clone())
                .or_default()
                .push(held.entry),
            // left pending under this node's id: taken over once it is idle
            Err(e) => {
                tracing::warn!(smsc = %held.smsc, error = %e, "entry not handed back; another node takes it over later");
                queue.held.settled(&held.smsc, &[held.entry]);
            }
        }
    }
    for (smsc, ids) in settle {
        let mut tries = 0;
        loop {
            tries += 1;
            match queue.streams.settle(&smsc, &ids).await {
                Ok(()) => break,
                Err(e) => {
                    metrics::counter!(names::SENDQ_REDIS_ERRORS, "op" => "settle").increment(1);
                    if tries >= TRIES {
                        // their OTPs are settled in the store: whoever takes them over drops them
                        tracing::warn!(smsc = %smsc, entries = ids.len(), error = %e, "queue entries left unsettled");
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(100 * u64::from(tries))).await;
                }
            }
        }
        // room for the consumer only now: until here a kill would leave them to be resent
        queue.held.settled(&smsc, &ids);
        queue.wake(&smsc);
    }
}
