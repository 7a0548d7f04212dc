//! Expiry without scans: ordered queues of (deadline, key) visited by one background task that
//! sleeps until the earliest deadline and is woken by a `Notify` when an earlier one arrives
//! (the mini-redis `db.rs` pattern). A queued deadline is a hint: the task re-reads the entry
//! and re-queues it when it must live longer.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::Notify;

use super::memory::MemoryStore;
use super::model::OtpId;
use super::store::IdemKey;

/// At most this many deadlines are handled per lock acquisition.
const BATCH: usize = 4096;

#[derive(Debug, Default)]
pub struct Queues {
    pub otps: BTreeSet<(u32, OtpId)>,
    pub phones: BTreeSet<(u32, u64)>,
    pub idem: BTreeSet<(u32, IdemKey)>,
}

impl Queues {
    fn earliest(&self) -> Option<u32> {
        [
            self.otps.first().map(|e| e.0),
            self.phones.first().map(|e| e.0),
            self.idem.first().map(|e| e.0),
        ]
        .into_iter()
        .flatten()
        .min()
    }
}

/// The queues plus the wake-up signal.
#[derive(Debug, Default)]
pub struct ExpiryQueue {
    queues: Mutex<Queues>,
    wake: Notify,
}

/// Due items popped from the queues.
#[derive(Debug, Default)]
pub struct Due {
    pub otps: Vec<OtpId>,
    pub phones: Vec<u64>,
    pub idem: Vec<IdemKey>,
}

impl ExpiryQueue {
    fn lock(&self) -> MutexGuard<'_, Queues> {
        self.queues.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn push_with(&self, at: u32, f: impl FnOnce(&mut Queues)) {
        let mut q = self.lock();
        let wake = q.earliest().is_none_or(|e| at < e);
        f(&mut q);
        drop(q);
        if wake {
            self.wake.notify_one();
        }
    }

    pub fn push_otp(&self, at: u32, id: OtpId) {
        self.push_with(at, |q| {
            q.otps.insert((at, id));
        });
    }

    pub fn push_phone(&self, at: u32, phone: u64) {
        self.push_with(at, |q| {
            q.phones.insert((at, phone));
        });
    }

    pub fn push_idem(&self, at: u32, key: IdemKey) {
        self.push_with(at, |q| {
            q.idem.insert((at, key));
        });
    }

    /// Pops up to [`BATCH`] items due at `now`.
    pub fn pop_due(&self, now: u32) -> Due {
        let mut q = self.lock();
        let mut due = Due::default();
        while due.otps.len() < BATCH {
            match q.otps.first() {
                Some(&(at, id)) if at <= now => {
                    q.otps.pop_first();
                    due.otps.push(id);
                }
                _ => break,
            }
        }
        while due.phones.len() < BATCH {
            match q.phones.first() {
                Some(&(at, p)) if at <= now => {
                    q.phones.pop_first();
                    due.phones.push(p);
                }
                _ => break,
            }
        }
        while due.idem.len() < BATCH {
            match q.idem.first() {
                Some((at, _)) if *at <= now => {
                    if let Some((_, k)) = q.idem.pop_first() {
                        due.idem.push(k);
                    }
                }
                _ => break,
            }
        }
        due
    }

    pub fn earliest(&self) -> Option<u32> {
        self.lock().earliest()
    }

    pub fn len(&self) -> usize {
        let q = self.lock();
        q.otps.len() + q.phones.len() + q.idem.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The background task that expires OTPs, phone entries and idempotency keys.
pub struct ExpiryTask {
    store: Arc<MemoryStore>,
}

impl ExpiryTask {
    pub fn new(store: Arc<MemoryStore>) -> Self {
        Self { store }
    }

    /// Runs until `shutdown` completes.
    pub async fn run(self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        let clock = self.store.clock().clone();
        let queue = self.store.expiry_queue();
        loop {
            // Register interest before looking, so a push between the look and the wait wakes
            // us.
            let woken = queue.wake.notified();
            let clock_moved = clock.changed.notified();
            tokio::pin!(woken, clock_moved);
            woken.as_mut().enable();
            clock_moved.as_mut().enable();
            loop {
                let handled = self.store.expire_due(clock.unix_secs());
                if handled < BATCH {
                    break;
                }
                tokio::task::yield_now().await;
            }
            let sleep = async {
                match queue.earliest() {
                    Some(at) => tokio::time::sleep_until(clock.instant_at(at)).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = &mut shutdown => return,
                _ = sleep => {}
                _ = &mut woken => {}
                _ = &mut clock_moved => {}
            }
        }
    }
}
