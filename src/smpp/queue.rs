//! The queue of one SMSC: works ordered by dispatch order (so that a message sent back after
//! throttling or a lost link goes ahead of newer ones and the parts of one message stay
//! together), woken through a `Notify`, with the engine-wide depth kept in one counter.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::SystemTime;

use tokio::sync::Notify;

use super::message::Work;

/// Messages waiting across every queue, and the most `try_dispatch` admits.
#[derive(Debug)]
pub struct Depth {
    current: AtomicUsize,
    capacity: usize,
}

impl Depth {
    pub fn new(capacity: usize) -> Self {
        Self {
            current: AtomicUsize::new(0),
            capacity,
        }
    }
    pub fn get(&self) -> usize {
        self.current.load(Ordering::Relaxed)
    }
    pub fn capacity(&self) -> usize {
        self.capacity
    }
    /// No room for a new message now (`try_reserve` would fail).
    pub fn is_full(&self) -> bool {
        self.get() >= self.capacity
    }
    /// Reserves room for one new message; false when full.
    pub fn try_reserve(&self) -> bool {
        self.current
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |d| {
                (d < self.capacity).then_some(d + 1)
            })
            .is_ok()
    }
    /// Gives back room reserved for a message that was not queued after all.
    pub fn release_reserved(&self) {
        self.sub(1);
    }
    fn add(&self) {
        self.current.fetch_add(1, Ordering::AcqRel);
    }
    fn sub(&self, n: usize) {
        let _ = self
            .current
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |d| {
                Some(d.saturating_sub(n))
            });
    }
}

pub struct SmscQueue {
    items: Mutex<BTreeMap<(u64, u64), Work>>,
    notify: Notify,
    /// Binds in `wait_nonempty`: a push wakes them only when there are some (a bind that is
    /// busy takes the queue's works when it next looks, without a wake-up).
    waiting: AtomicUsize,
    depth: Arc<Depth>,
    tiebreak: AtomicU64,
}

impl SmscQueue {
    pub fn new(depth: Arc<Depth>) -> Self {
        Self {
            items: Mutex::new(BTreeMap::new()),
            notify: Notify::new(),
            waiting: AtomicUsize::new(0),
            depth,
            tiebreak: AtomicU64::new(0),
        }
    }

    fn items(&self) -> MutexGuard<'_, BTreeMap<(u64, u64), Work>> {
        self.items.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A new message whose room `Depth::try_reserve` already took.
    pub fn push_reserved(&self, work: Work) {
        let key = (
            work.msg.order,
            self.tiebreak.fetch_add(1, Ordering::Relaxed),
        );
        self.items().insert(key, work);
        self.wake_waiting();
    }

    /// Wakes the binds waiting for work, if any. Paired with `wait_nonempty`: the waiter counts
    /// itself before it looks at the queue, the pusher looks at the count after its insert
    /// (both sequentially consistent), so either the pusher sees the waiter or the waiter sees
    /// the work.
    fn wake_waiting(&self) {
        if self.waiting.load(Ordering::SeqCst) > 0 {
            self.notify.notify_waiters();
        }
    }

    /// A message (or some of its parts) coming back: placed by its dispatch order, merged with
    /// what of the same message already waits, admitted even when the queue is full.
    pub fn push(&self, work: Work) {
        {
            let mut items = self.items();
            let order = work.msg.order;
            let mut work = Some(work);
            for (_, queued) in items.range_mut((order, 0)..=(order, u64::MAX)) {
                if let Some(w) = work.take() {
                    if let Err(back) = queued.merge(w) {
                        work = Some(back);
                    }
                }
            }
            if let Some(w) = work {
                let key = (order, self.tiebreak.fetch_add(1, Ordering::Relaxed));
                items.insert(key, w);
                self.depth.add();
            }
        }
        self.wake_waiting();
    }

    pub fn pop(&self) -> Option<Work> {
        let w = self.items().pop_first().map(|(_, w)| w);
        if w.is_some() {
            self.depth.sub(1);
        }
        w
    }

    pub fn len(&self) -> usize {
        self.items().len()
    }

    pub fn is_empty(&self) -> bool {
        self.items().is_empty()
    }

    /// Waits until the queue holds something (another waiter may take it first).
    pub async fn wait_nonempty(&self) {
        let _counted = Waiting::new(&self.waiting);
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if !self.is_empty() {
                return;
            }
            notified.await;
        }
    }

    /// Wakes every waiter (shutdown, or a bind that should look again).
    pub fn wake(&self) {
        self.notify.notify_waiters();
    }

    /// Takes everything out.
    pub fn drain(&self) -> Vec<Work> {
        let taken = std::mem::take(&mut *self.items());
        self.depth.sub(taken.len());
        taken.into_values().collect()
    }

    /// Takes out the works whose message expired or was finished elsewhere.
    pub fn take_expired(&self, now: SystemTime) -> Vec<Work> {
        let mut items = self.items();
        let keys: Vec<(u64, u64)> = items
            .iter()
            .filter(|(_, w)| w.msg.is_expired(now) || w.msg.is_finished())
            .map(|(k, _)| *k)
            .collect();
        let taken: Vec<Work> = keys.iter().filter_map(|k| items.remove(k)).collect();
        drop(items);
        self.depth.sub(taken.len());
        taken
    }
}

/// One waiter counted in `SmscQueue::waiting` while it lives (its future may be dropped
/// unfinished, by a `select!`).
struct Waiting<'a>(&'a AtomicUsize);

impl<'a> Waiting<'a> {
    fn new(count: &'a AtomicUsize) -> Self {
        count.fetch_add(1, Ordering::SeqCst);
        Self(count)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::smpp::message::{test_sms, Message, PartSel};

    fn msg(order: u64) -> Arc<Message> {
        Arc::new(Message::new(order, test_sms(order as u32), 0))
    }

    #[test]
    fn retries_go_ahead_of_newer_messages_in_order() {
        let depth = Arc::new(Depth::new(10));
        let q = SmscQueue::new(depth.clone());
        let (m1, m2, m3) = (msg(1), msg(2), msg(3));
        assert!(depth.try_reserve());
        q.push_reserved(Work::fresh(m3.clone()));
        // 2 and 1 come back (in that order) after a lost link.
        q.push(Work::parts(m2.clone(), 0, vec![0]));
        q.push(Work::parts(m1.clone(), 0, vec![1]));
        q.push(Work::parts(m1.clone(), 0, vec![0]));
        assert_eq!(depth.get(), 3);
        let order: Vec<u64> = std::iter::from_fn(|| q.pop())
            .map(|w| w.msg.order)
            .collect();
        assert_eq!(order, vec![1, 2, 3]);
        assert_eq!(depth.get(), 0);
    }

    #[test]
    fn parts_of_one_message_merge() {
        let q = SmscQueue::new(Arc::new(Depth::new(10)));
        let m = msg(1);
        q.push(Work::parts(m.clone(), 0, vec![2]));
        q.push(Work::parts(m.clone(), 0, vec![1]));
        assert_eq!(q.len(), 1);
        let w = q.pop().unwrap();
        assert_eq!(
            w.sel,
            PartSel::Parts {
                generation: 0,
                parts: vec![1, 2]
            }
        );
    }

    #[test]
    fn capacity_is_enforced_for_new_messages_only() {
        let depth = Arc::new(Depth::new(1));
        let q = SmscQueue::new(depth.clone());
        assert!(depth.try_reserve());
        q.push_reserved(Work::fresh(msg(1)));
        assert!(!depth.try_reserve());
        q.push(Work::fresh(msg(0)));
        assert_eq!(depth.get(), 2);
        assert_eq!(q.drain().len(), 2);
        assert_eq!(depth.get(), 0);
    }

    #[tokio::test]
    async fn a_waiter_is_counted_while_it_waits_and_no_longer_once_dropped() {
        use futures::FutureExt;
        let q = SmscQueue::new(Arc::new(Depth::new(10)));
        {
            let waiting = q.wait_nonempty();
            tokio::pin!(waiting);
            assert!(waiting.as_mut().now_or_never().is_none());
            assert_eq!(q.waiting.load(Ordering::SeqCst), 1);
        }
        // dropped unfinished, as a `select!` drops it: a push wakes nobody
        assert_eq!(q.waiting.load(Ordering::SeqCst), 0);
        q.push(Work::fresh(msg(1)));
        assert!(q.wait_nonempty().now_or_never().is_some());
        assert_eq!(q.waiting.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn a_waiter_wakes_on_push() {
        let q = Arc::new(SmscQueue::new(Arc::new(Depth::new(10))));
        let q2 = q.clone();
        let waiter = tokio::spawn(async move { q2.wait_nonempty().await });
        tokio::task::yield_now().await;
        q.push(Work::fresh(msg(1)));
        tokio::time::timeout(std::time::Duration::from_secs(5), waiter)
            .await
            .unwrap()
            .unwrap();
    }
}
