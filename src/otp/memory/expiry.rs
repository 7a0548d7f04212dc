//! Expiry without scans: deadlines queued by second, visited by one background task that
//! sleeps until the earliest deadline and is woken by a `Notify` when an earlier one arrives
//! (the mini-redis `db.rs` pattern). OTPs and phone entries are queued by their 4-byte table
//! handle in a calendar (second -> handles); the task re-reads the entry and decides.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::Notify;

use super::slab::Handle;
use super::MemoryStore;
use crate::otp::store::IdemKey;

/// At most this many deadlines are handled per lock acquisition.
pub(super) const BATCH: usize = 4096;

/// Handles by the second they are due.
#[derive(Debug, Default)]
pub struct Calendar {
    seconds: BTreeMap<u32, Vec<Handle>>,
    len: usize,
}

impl Calendar {
    fn push(&mut self, at: u32, h: Handle) {
        self.seconds.entry(at).or_default().push(h);
        self.len += 1;
    }

    fn earliest(&self) -> Option<u32> {
        self.seconds.keys().next().copied()
    }

    /// Moves up to `max` handles due at `now` into `out`, as (due second, handle).
    fn pop_due(&mut self, now: u32, max: usize, out: &mut Vec<(u32, Handle)>) {
        while out.len() < max {
            let Some(mut second) = self.seconds.first_entry() else {
                break;
            };
            let at = *second.key();
            if at > now {
                break;
            }
            let bucket = second.get_mut();
            let take = bucket.len().min(max - out.len());
            out.extend(bucket.drain(bucket.len() - take..).map(|h| (at, h)));
            self.len -= take;
            if bucket.is_empty() {
                second.remove();
            }
        }
    }
}

#[derive(Debug, Default)]
pub struct Queues {
    otps: Calendar,
    phones: Calendar,
    idem: BTreeSet<(u32, IdemKey)>,
}

impl Queues {
    fn earliest(&self) -> Option<u32> {
        [
            self.otps.earliest(),
            self.phones.earliest(),
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

/// Due items popped from the queues, OTPs and phone entries with the second they were queued
/// for (a handle whose entry has other deadlines was queued for an entry since removed).
#[derive(Debug, Default)]
pub struct Due {
    pub otps: Vec<(u32, Handle)>,
    pub phones: Vec<(u32, Handle)>,
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

    /// Wakes the task to look at the held receipts' first deadline.
    pub fn nudge(&self) {
        self.wake.notify_one();
    }

    pub fn push_otp(&self, at: u32, h: Handle) {
        self.push_with(at, |q| q.otps.push(at, h));
    }

    pub fn push_phone(&self, at: u32, h: Handle) {
        self.push_with(at, |q| q.phones.push(at, h));
    }

    pub fn push_idem(&self, at: u32, key: IdemKey) {
        self.push_with(at, |q| {
            q.idem.insert((at, key));
        });
    }

    /// Pops up to [`BATCH`] items of each kind due at `now`.
    pub fn pop_due(&self, now: u32) -> Due {
        let mut q = self.lock();
        let mut due = Due::default();
        q.otps.pop_due(now, BATCH, &mut due.otps);
        q.phones.pop_due(now, BATCH, &mut due.phones);
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
        q.otps.len + q.phones.len + q.idem.len()
    }
}

/// The background task that expires OTPs, phone entries and idempotency keys.
pub struct ExpiryTask {
    store: Arc<MemoryStore>,
}

impl ExpiryTask {
    pub(super) fn new(store: Arc<MemoryStore>) -> Self {
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
                let held = self.store.held_earliest();
                match queue.earliest().into_iter().chain(held).min() {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_pops_in_order_in_bounded_batches() {
        let mut c = Calendar::default();
        for i in 0..10u32 {
            c.push(100 + i % 3, Handle::from_raw(i));
        }
        c.push(200, Handle::from_raw(99));
        let mut out = Vec::new();
        c.pop_due(99, 100, &mut out);
        assert!(out.is_empty());
        c.pop_due(101, 5, &mut out);
        assert_eq!(out.len(), 5);
        assert!(out.iter().all(|(at, _)| *at <= 101));
        assert_eq!(c.len, 6);
        out.clear();
        c.pop_due(150, 100, &mut out);
        let mut seconds: Vec<u32> = out.iter().map(|(at, _)| *at).collect();
        assert!(seconds.windows(2).all(|w| w[0] <= w[1]), "{seconds:?}");
        seconds.dedup();
        assert_eq!(seconds.last(), Some(&102));
        assert_eq!(c.earliest(), Some(200));
        assert_eq!(c.len, 1);
    }
}
