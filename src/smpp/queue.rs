//! The queue of one SMSC: works ordered by dispatch order (so that a message sent back after
//! throttling or a lost link goes ahead of newer ones and the parts of one message stay
//! together), woken through a `Notify`, with the engine-wide depth kept in one counter.

use std::collections::{BTreeMap, VecDeque};
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

/// A queue's works: fresh messages in the order their dispatches queued them (an append, where
/// a search of an ordered map on every create missed the cache at each level), and the works
/// that came back ordered by dispatch order. The next work is the one of the lower order at
/// the front of either.
#[derive(Default)]
struct Items {
    fresh: VecDeque<Work>,
    back: BTreeMap<(u64, u64), Work>,
}

impl Items {
    fn len(&self) -> usize {
        self.fresh.len() + self.back.len()
    }

    fn pop(&mut self) -> Option<Work> {
        let back_first = match (self.fresh.front(), self.back.first_key_value()) {
            (Some(fresh), Some(((order, _), _))) => *order < fresh.msg.order,
            (None, _) => true,
            (Some(_), None) => false,
        };
        if back_first {
            self.back.pop_first().map(|(_, w)| w)
        } else {
            self.fresh.pop_front()
        }
    }

    /// Every work, by dispatch order.
    fn into_ordered(self) -> Vec<Work> {
        let mut all: Vec<Work> = self.back.into_values().chain(self.fresh).collect();
        all.sort_by_key(|w| w.msg.order);
        all
    }
}

pub struct SmscQueue {
    items: Mutex<Items>,
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
            items: Mutex::new(Items::default()),
            notify: Notify::new(),
            waiting: AtomicUsize::new(0),
            depth,
            tiebreak: AtomicU64::new(0),
        }
    }

    fn items(&self) -> MutexGuard<'_, Items> {
        self.items.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A new message whose room `Depth::try_reserve` already took.
    pub fn push_reserved(&self, work: Work) {
        self.items().fresh.push_back(work);
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
            // what came back of a message merges with what of it waits (a fresh message waits
            // whole: nothing of it was sent to come back)
            for (_, queued) in items.back.range_mut((order, 0)..=(order, u64::MAX)) {
                if let Some(w) = work.take() {
                    if let Err(back) = queued.merge(w) {
                        work = Some(back);
                    }
                }
            }
            if let Some(w) = work {
                let key = (order, self.tiebreak.fetch_add(1, Ordering::Relaxed));
                items.back.insert(key, w);
                self.depth.add();
            }
        }
        self.wake_waiting();
    }

    pub fn pop(&self) -> Option<Work> {
        let w = self.items().pop();
        if w.is_some() {
            self.depth.sub(1);
        }
        w
    }

    pub fn len(&self) -> usize {
        self.items().len()
    }

    pub fn is_empty(&self) -> bool {
        self.items().len() == 0
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
        taken.into_ordered()
    }

    /// Takes out the works whose message expired or was finished elsewhere.
    pub fn take_expired(&self, now: SystemTime) -> Vec<Work> {
        let gone = |w: &Work| w.msg.is_expired(now) || w.msg.is_finished();
        let mut items = self.items();
        let keys: Vec<(u64, u64)> = items
            .back
            .iter()
            .filter(|(_, w)| gone(w))
            .map(|(k, _)| *k)
            .collect();
        let mut taken: Vec<Work> = keys.iter().filter_map(|k| items.back.remove(k)).collect();
        if items.fresh.iter().any(gone) {
            let (out, kept): (VecDeque<Work>, VecDeque<Work>) =
                std::mem::take(&mut items.fresh).into_iter().partition(gone);
            items.fresh = kept;
            taken.extend(out);
        }
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
    fn fresh_and_returned_works_leave_by_dispatch_order() {
        let depth = Arc::new(Depth::new(10));
        let q = SmscQueue::new(depth.clone());
        let (m1, m2, m3, m4) = (msg(1), msg(2), msg(3), msg(4));
        for m in [&m1, &m2, &m3] {
            assert!(depth.try_reserve());
            q.push_reserved(Work::fresh(m.clone()));
        }
        assert_eq!(q.pop().unwrap().msg.order, 1);
        assert_eq!(q.pop().unwrap().msg.order, 2);
        // 1 and 2 come back (2 first) while 3 waits, then 4 is dispatched
        q.push(Work::parts(m2.clone(), 0, vec![0]));
        q.push(Work::parts(m1.clone(), 0, vec![0]));
        assert!(depth.try_reserve());
        q.push_reserved(Work::fresh(m4.clone()));
        assert_eq!(q.len(), 4);
        assert_eq!(depth.get(), 4);
        assert_eq!(q.pop().unwrap().msg.order, 1);
        // what is left drains in dispatch order, fresh and returned together
        let drained: Vec<u64> = q.drain().iter().map(|w| w.msg.order).collect();
        assert_eq!(drained, vec![2, 3, 4]);
        assert_eq!(depth.get(), 0);
        assert!(q.is_empty());
    }

    #[test]
    fn expired_works_leave_from_fresh_and_returned_alike() {
        let depth = Arc::new(Depth::new(10));
        let q = SmscQueue::new(depth.clone());
        let (m1, m2, m3) = (msg(1), msg(2), msg(3));
        for m in [&m1, &m2, &m3] {
            assert!(depth.try_reserve());
            q.push_reserved(Work::fresh(m.clone()));
        }
        let first = q.pop().unwrap();
        q.push(first);
        assert!(m1.finish() && m3.finish());
        let taken: Vec<u64> = q
            .take_expired(SystemTime::now())
            .iter()
            .map(|w| w.msg.order)
            .collect();
        assert_eq!(taken, vec![1, 3]);
        assert_eq!(depth.get(), 1);
        assert_eq!(q.pop().unwrap().msg.order, 2);
        assert!(q.pop().is_none());
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
