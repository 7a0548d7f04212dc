//! The delivery queue of a shared store, in lanes: updates of one OTP (and the receipts of
//! the message ids its `Submitted` indexed) share an order key and are applied in the order
//! given; updates of different keys are applied concurrently, so a store across the network
//! has many round trips in flight (pipelined on its connection) instead of one at a time.
//!
//! Each lane is a bounded queue worked by one task; the task takes what is waiting (up to a
//! batch), applies the batch's keys concurrently, each key's updates one after the other, then
//! takes the next batch. A receipt whose message id this node did not submit recently gets a
//! key of its own: should it overtake the `Submitted` of its id (sent by another node, or
//! forgotten here), the store holds it until that `Submitted` takes it, as across nodes.

use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, VecDeque};
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};

use otpgate_codec::dlr::canonical_message_id;
use tokio::sync::{mpsc, oneshot};

use super::delivery_apply::Apply;
use crate::dispatch::{DeliveryUpdate, NotRecorded};

/// Lanes, each with its own queue and task.
const LANES: usize = 16;
/// Updates taken from a lane at once at most: with `LANES`, bounds the keys being applied
/// concurrently (and so the requests in flight to the store).
const BATCH: usize = 256;
/// Message ids remembered with their OTP's key, at most (oldest forgotten first), so that
/// their receipts follow their `Submitted`.
const RECENT_IDS: usize = 65_536;

pub(super) enum Job {
    /// An update, its order key, and who waits for its outcome.
    Update {
        key: u64,
        update: DeliveryUpdate,
        done: Option<oneshot::Sender<Result<(), NotRecorded>>>,
    },
    /// A send's `Charged` and its fate, reported together (see [`Lanes::try_send_fate`]).
    Fate {
        key: u64,
        charged: DeliveryUpdate,
        fate: DeliveryUpdate,
    },
    /// Resolves once every job queued in this lane before it was applied.
    Flush(oneshot::Sender<()>),
}

/// What a lane applies for one key, in order.
enum Step {
    One(
        DeliveryUpdate,
        Option<oneshot::Sender<Result<(), NotRecorded>>>,
    ),
    Fate(DeliveryUpdate, DeliveryUpdate),
}

/// Why a job was not queued: its lane was full or closed.
pub(super) struct NotQueued {
    pub(super) closed: bool,
}

pub(super) struct Lanes {
    lanes: Vec<mpsc::Sender<Job>>,
    recent: Mutex<RecentIds>,
}

impl Lanes {
    /// Spawns a task per lane, each queue holding `capacity / LANES` updates: call within a
    /// tokio runtime.
    pub(super) fn spawn(apply: Arc<Apply>, capacity: usize) -> Self {
        let per_lane = (capacity / LANES).max(1);
        let lanes = (0..LANES)
            .map(|lane| {
                let (tx, rx) = mpsc::channel(per_lane);
                tokio::spawn(tracing::Instrument::instrument(
                    run_lane(apply.clone(), rx),
                    tracing::info_span!("delivery_sink", lane),
                ));
                tx
            })
            .collect();
        Self {
            lanes,
            recent: Mutex::new(RecentIds::default()),
        }
    }

    /// The order key of `update`: its OTP's, or for a receipt the OTP's that submitted its
    /// message id here lately, else the message id's own.
    fn key_of(&self, update: &DeliveryUpdate) -> u64 {
        match update {
            DeliveryUpdate::Submitted {
                otp_id,
                smsc,
                message_ids,
            } => {
                let key = hash_of(otp_id);
                if let Ok(mut recent) = self.recent.lock() {
                    for m in message_ids {
                        recent.remember(id_hash(smsc, m), key);
                    }
                }
                key
            }
            DeliveryUpdate::Rejected { otp_id, .. }
            | DeliveryUpdate::Failed { otp_id, .. }
            | DeliveryUpdate::Charged { otp_id, .. } => hash_of(otp_id),
            DeliveryUpdate::Receipt {
                smsc, message_id, ..
            } => {
                let id = id_hash(smsc, message_id);
                self.recent
                    .lock()
                    .ok()
                    .and_then(|r| r.map.get(&id).copied())
                    .unwrap_or(id)
            }
        }
    }

    fn lane(&self, key: u64) -> &mpsc::Sender<Job> {
        // LANES is small: the remainder fits any usize
        &self.lanes[(key % LANES as u64) as usize]
    }

    /// Queues `update` without waiting.
    pub(super) fn try_send(&self, update: DeliveryUpdate) -> Result<(), NotQueued> {
        let key = self.key_of(&update);
        let job = Job::Update {
            key,
            update,
            done: None,
        };
        self.lane(key).try_send(job).map_err(|e| NotQueued {
            closed: matches!(e, mpsc::error::TrySendError::Closed(_)),
        })
    }

    /// Queues a send's `Charged` and its fate as one job without waiting, so that the lane
    /// takes them together: a `Submitted` and its charge are then one store step where the
    /// store has one.
    pub(super) fn try_send_fate(
        &self,
        charged: DeliveryUpdate,
        fate: DeliveryUpdate,
    ) -> Result<(), NotQueued> {
        // a fate is keyed by its OTP, as its charge is
        let key = self.key_of(&fate);
        let job = Job::Fate { key, charged, fate };
        self.lane(key).try_send(job).map_err(|e| NotQueued {
            closed: matches!(e, mpsc::error::TrySendError::Closed(_)),
        })
    }

    /// Queues `update`, waiting for room; the receiver resolves once it is applied. Gives the
    /// update back when its lane is closed.
    pub(super) async fn send(
        &self,
        update: DeliveryUpdate,
    ) -> Result<oneshot::Receiver<Result<(), NotRecorded>>, DeliveryUpdate> {
        let key = self.key_of(&update);
        let (tx, rx) = oneshot::channel();
        let job = Job::Update {
            key,
            update,
            done: Some(tx),
        };
        match self.lane(key).send(job).await {
            Ok(()) => Ok(rx),
            Err(mpsc::error::SendError(Job::Update { update, .. })) => Err(update),
            // only updates are sent here
            Err(mpsc::error::SendError(Job::Flush(_) | Job::Fate { .. })) => Ok(rx),
        }
    }

    /// Resolves once every update queued before the call was applied (or given up).
    pub(super) async fn flush(&self) {
        let waits = self.lanes.iter().map(|lane| async move {
            let (tx, rx) = oneshot::channel();
            if lane.send(Job::Flush(tx)).await.is_ok() {
                let _ = rx.await;
            }
        });
        futures::future::join_all(waits).await;
    }
}

fn hash_of(value: impl Hash) -> u64 {
    let mut h = DefaultHasher::new();
    value.hash(&mut h);
    h.finish()
}

/// A message id of `smsc` as a receipt and its `Submitted` both name it (canonical form).
fn id_hash(smsc: &str, message_id: &str) -> u64 {
    hash_of((smsc, canonical_message_id(message_id)))
}

/// Message id -> order key of the OTP that submitted it, bounded (oldest first out).
#[derive(Default)]
struct RecentIds {
    map: HashMap<u64, u64>,
    order: VecDeque<u64>,
}

impl RecentIds {
    fn remember(&mut self, id: u64, key: u64) {
        if self.map.insert(id, key).is_none() {
            self.order.push_back(id);
        }
        while self.order.len() > RECENT_IDS {
            if let Some(old) = self.order.pop_front() {
                self.map.remove(&old);
            }
        }
    }
}

async fn run_lane(apply: Arc<Apply>, mut rx: mpsc::Receiver<Job>) {
    let mut batch = Vec::with_capacity(BATCH);
    while rx.recv_many(&mut batch, BATCH).await > 0 {
        // the batch's updates by key, in the order given; flushes answered after all of them
        let mut groups: Vec<Vec<Step>> = Vec::new();
        let mut group_of: HashMap<u64, usize> = HashMap::new();
        let mut flushes = Vec::new();
        let mut add = |key: u64, step: Step| {
            let g = *group_of.entry(key).or_insert_with(|| {
                groups.push(Vec::new());
                groups.len() - 1
            });
            groups[g].push(step);
        };
        for job in batch.drain(..) {
            match job {
                Job::Update { key, update, done } => add(key, Step::One(update, done)),
                Job::Fate { key, charged, fate } => add(key, Step::Fate(charged, fate)),
                Job::Flush(done) => flushes.push(done),
            }
        }
        let apply = &apply;
        futures::future::join_all(groups.into_iter().map(|group| async move {
            for step in group {
                match step {
                    Step::One(update, done) => {
                        let outcome = apply.apply_retrying(update).await;
                        if let Some(done) = done {
                            let _ = done.send(outcome);
                        }
                    }
                    Step::Fate(charged, fate) => {
                        // counted and logged where it failed; nobody waits for it
                        let _ = apply.apply_fate_retrying(charged, fate).await;
                    }
                }
            }
        }))
        .await;
        for done in flushes {
            let _ = done.send(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recent_ids_stay_bounded_and_forget_the_oldest_first() {
        let mut recent = RecentIds::default();
        for id in 0..(RECENT_IDS as u64 + 10) {
            recent.remember(id, id + 1);
        }
        assert_eq!(recent.map.len(), RECENT_IDS);
        assert_eq!(recent.order.len(), RECENT_IDS);
        assert!(!recent.map.contains_key(&0));
        assert_eq!(
            recent.map.get(&(RECENT_IDS as u64 + 9)),
            Some(&(RECENT_IDS as u64 + 10))
        );
    }

    #[test]
    fn a_receipt_takes_the_key_of_the_otp_that_submitted_its_id() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let clock = Arc::new(crate::otp::clock::Clock::new());
            let store: Arc<dyn crate::otp::store::Store> = Arc::new(
                crate::otp::memory::MemoryStore::new(clock.clone(), 1000, 300),
            );
            let lanes = Lanes::spawn(Arc::new(Apply::new(store, clock)), 64);
            let submitted = DeliveryUpdate::Submitted {
                otp_id: "otp-a".into(),
                smsc: "sim".into(),
                message_ids: vec!["00ff".into()],
            };
            let receipt = |smsc: &str, id: &str| DeliveryUpdate::Receipt {
                smsc: smsc.into(),
                message_id: id.into(),
                outcome: crate::dispatch::ReceiptOutcome::Delivered,
                error: None,
            };
            let otp_key = lanes.key_of(&submitted);
            // the canonical form: case and leading zeros do not matter
            assert_eq!(lanes.key_of(&receipt("sim", "FF")), otp_key);
            // another SMSC's id, or an id nobody submitted here, keys on itself
            assert_ne!(lanes.key_of(&receipt("other", "ff")), otp_key);
            assert_ne!(lanes.key_of(&receipt("sim", "fe")), otp_key);
        });
    }
}
