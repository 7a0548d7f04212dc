//! The clock behind delayed answers. tokio's timer counts whole milliseconds: it rounds each
//! deadline up to the next tick and then parks for whole ticks, so an answer held for 20 ms
//! left after 21 ms or more on average, which caps any client's window at ~95 % of W/L. This
//! timer is one thread per simulator that waits on a condvar for the earliest registered
//! deadline (the OS timer resolves microseconds) and completes that deadline's oneshot.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Instant;

use tokio::sync::oneshot;

/// Handle to the timer thread; the thread ends when the handle is dropped.
pub struct PreciseTimer {
    inner: Arc<Inner>,
}

struct Inner {
    state: Mutex<State>,
    changed: Condvar,
}

#[derive(Default)]
struct State {
    heap: BinaryHeap<Reverse<Entry>>,
    next_order: u64,
    stop: bool,
}

struct Entry {
    due: Instant,
    order: u64,
    tx: oneshot::Sender<()>,
}

impl PartialEq for Entry {
    fn eq(&self, o: &Self) -> bool {
        (self.due, self.order) == (o.due, o.order)
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Entry {
    fn cmp(&self, o: &Self) -> Ordering {
        (self.due, self.order).cmp(&(o.due, o.order))
    }
}

impl PreciseTimer {
    /// Starts the timer thread.
    pub fn start() -> std::io::Result<Self> {
        let inner = Arc::new(Inner {
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
        });
        let thread_inner = inner.clone();
        std::thread::Builder::new()
            .name("smsc-sim-timer".into())
            .spawn(move || thread_inner.run())?;
        Ok(Self { inner })
    }

    /// Completes at `due` (within the OS timer's slack, typically tens of microseconds).
    /// Dropping the receiver cancels nothing but costs nothing: the entry is discarded when
    /// its time comes.
    pub fn at(&self, due: tokio::time::Instant) -> oneshot::Receiver<()> {
        let due = due.into_std();
        let (tx, rx) = oneshot::channel();
        let mut state = self.inner.lock();
        let earliest = state.heap.peek().map(|Reverse(e)| e.due);
        let order = state.next_order;
        state.next_order = order.wrapping_add(1);
        state.heap.push(Reverse(Entry { due, order, tx }));
        drop(state);
        if earliest.is_none_or(|e| due < e) {
            self.inner.changed.notify_one();
        }
        rx
    }
}

impl Drop for PreciseTimer {
    fn drop(&mut self) {
        self.inner.lock().stop = true;
        self.inner.changed.notify_one();
    }
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn run(&self) {
        let mut state = self.lock();
        while !state.stop {
            let now = Instant::now();
            while state.heap.peek().is_some_and(|Reverse(e)| e.due <= now) {
                if let Some(Reverse(e)) = state.heap.pop() {
                    // The session may have re-armed for an earlier deadline; then nobody
                    // listens any more.
                    let _ = e.tx.send(());
                }
            }
            state = match state.heap.peek().map(|Reverse(e)| e.due) {
                Some(due) => {
                    let wait = due.saturating_duration_since(now);
                    self.changed
                        .wait_timeout(state, wait)
                        .map(|(s, _)| s)
                        .unwrap_or_else(|e| e.into_inner().0)
                }
                None => self.changed.wait(state).unwrap_or_else(|e| e.into_inner()),
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn fires_in_deadline_order_and_not_before() {
        let timer = PreciseTimer::start().unwrap();
        let base = tokio::time::Instant::now();
        let late = timer.at(base + Duration::from_millis(30));
        let early = timer.at(base + Duration::from_millis(10));
        early.await.unwrap();
        assert!(base.elapsed() >= Duration::from_millis(10));
        late.await.unwrap();
        assert!(base.elapsed() >= Duration::from_millis(30));
    }

    #[tokio::test]
    async fn a_dropped_receiver_does_not_stop_the_others() {
        let timer = PreciseTimer::start().unwrap();
        let base = tokio::time::Instant::now();
        drop(timer.at(base + Duration::from_millis(1)));
        timer.at(base + Duration::from_millis(2)).await.unwrap();
        assert!(
            timer.at(base).await.is_ok(),
            "a past deadline completes at once"
        );
    }
}
