//! A future polled again only once it asked to be: what keeps a connection's timers and stop
//! signal off the path of its every wake-up.
//!
//! A connection's task wakes for each read and write of its requests, and each wake polled
//! every future it waits on: the connection, its no-request timer, its stop token, its idle
//! watch. A timer's poll writes its waker with an atomic exchange, a token's takes its waiter
//! list's lock: two or three atomic writes per request that tell nothing new. A [`Gated`]
//! future is polled with a waker of its own, which marks the gate open before it wakes the
//! task; while the gate is shut, a poll of the `Gated` answers `Pending` after a plain read.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Wake, Waker};

/// What the inner future's waker reaches: a flag, then the task that polls the `Gated`.
struct Gate {
    open: AtomicBool,
    task: Mutex<Option<Waker>>,
}

impl Wake for Gate {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        // open before the wake, so that the task's next poll sees it
        self.open.store(true, Ordering::Release);
        let task = self
            .task
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        if let Some(task) = task {
            task.wake();
        }
    }
}

/// `inner`, polled only on the first poll, after its own waker fired, after a change through
/// [`Gated::inner_mut`], or when the polling task's waker changed.
pub struct Gated<F> {
    inner: Pin<Box<F>>,
    gate: Arc<Gate>,
    /// The gate as a waker, made once.
    waker: Waker,
    /// The task's waker the gate forwards to, as last stored (compared without an atomic).
    task: Option<Waker>,
}

impl<F: Future> Gated<F> {
    pub fn new(inner: F) -> Self {
        let gate = Arc::new(Gate {
            open: AtomicBool::new(true),
            task: Mutex::new(None),
        });
        Self {
            inner: Box::pin(inner),
            waker: Waker::from(gate.clone()),
            gate,
            task: None,
        }
    }

    /// The inner future, for a change (a timer's new deadline) that it must see on its next
    /// poll: the gate opens.
    pub fn inner_mut(&mut self) -> Pin<&mut F> {
        self.gate.open.store(true, Ordering::Release);
        self.inner.as_mut()
    }
}

impl<F: Future> Future for Gated<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.get_mut();
        if this.task.as_ref().is_some_and(|t| t.will_wake(cx.waker())) {
            if !this.gate.open.load(Ordering::Acquire) {
                return Poll::Pending;
            }
        } else {
            *this
                .gate
                .task
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = Some(cx.waker().clone());
            this.task = Some(cx.waker().clone());
        }
        // shut before the poll: a wake during or after it opens the gate again
        this.gate.open.store(false, Ordering::Release);
        this.inner
            .as_mut()
            .poll(&mut Context::from_waker(&this.waker))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::time::Duration;

    /// A future that counts its polls, ready once `ready` is set, waking whoever polled it
    /// last when it is set.
    struct Probe {
        polls: Arc<AtomicUsize>,
        ready: Arc<AtomicBool>,
        waker: Arc<Mutex<Option<Waker>>>,
    }

    impl Future for Probe {
        type Output = ();
        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            self.polls.fetch_add(1, Ordering::SeqCst);
            if self.ready.load(Ordering::SeqCst) {
                return Poll::Ready(());
            }
            *self.waker.lock().unwrap() = Some(cx.waker().clone());
            Poll::Pending
        }
    }

    struct CountWakes(AtomicUsize);
    impl Wake for CountWakes {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn polled_only_after_its_own_wake() {
        let polls = Arc::new(AtomicUsize::new(0));
        let ready = Arc::new(AtomicBool::new(false));
        let inner_waker = Arc::new(Mutex::new(None::<Waker>));
        let mut gated = Gated::new(Probe {
            polls: polls.clone(),
            ready: ready.clone(),
            waker: inner_waker.clone(),
        });
        let task = Arc::new(CountWakes(AtomicUsize::new(0)));
        let waker = Waker::from(task.clone());
        let mut cx = Context::from_waker(&waker);
        assert!(Pin::new(&mut gated).poll(&mut cx).is_pending());
        assert_eq!(polls.load(Ordering::SeqCst), 1);
        // the task wakes for other reasons: the inner future is not polled
        for _ in 0..5 {
            assert!(Pin::new(&mut gated).poll(&mut cx).is_pending());
        }
        assert_eq!(polls.load(Ordering::SeqCst), 1);
        // its own wake reaches the task and opens the gate
        ready.store(true, Ordering::SeqCst);
        inner_waker.lock().unwrap().take().unwrap().wake();
        assert_eq!(task.0.load(Ordering::SeqCst), 1);
        assert!(Pin::new(&mut gated).poll(&mut cx).is_ready());
        assert_eq!(polls.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn a_change_or_another_task_polls_it_again() {
        let polls = Arc::new(AtomicUsize::new(0));
        let mut gated = Gated::new(Probe {
            polls: polls.clone(),
            ready: Arc::new(AtomicBool::new(false)),
            waker: Arc::new(Mutex::new(None)),
        });
        let first = Waker::from(Arc::new(CountWakes(AtomicUsize::new(0))));
        let second = Waker::from(Arc::new(CountWakes(AtomicUsize::new(0))));
        assert!(Pin::new(&mut gated)
            .poll(&mut Context::from_waker(&first))
            .is_pending());
        // a change made through the gate: the next poll reaches the inner future
        assert_eq!(gated.inner_mut().polls.load(Ordering::SeqCst), 1);
        assert!(Pin::new(&mut gated)
            .poll(&mut Context::from_waker(&first))
            .is_pending());
        assert_eq!(polls.load(Ordering::SeqCst), 2);
        assert!(Pin::new(&mut gated)
            .poll(&mut Context::from_waker(&second))
            .is_pending());
        assert_eq!(polls.load(Ordering::SeqCst), 3);
        assert!(Pin::new(&mut gated)
            .poll(&mut Context::from_waker(&second))
            .is_pending());
        assert_eq!(polls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn a_gated_timer_fires_and_fires_again_after_a_reset() {
        let mut timer = Gated::new(tokio::time::sleep(Duration::from_secs(10)));
        let start = tokio::time::Instant::now();
        (&mut timer).await;
        assert_eq!(start.elapsed(), Duration::from_secs(10));
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        timer.inner_mut().reset(deadline);
        // the reset must reach the timer: a gate left shut would never see it fire again
        tokio::time::timeout(Duration::from_secs(60), &mut timer)
            .await
            .expect("the timer fires again after its reset");
        assert_eq!(start.elapsed(), Duration::from_secs(15));
    }

    #[tokio::test]
    async fn a_gated_token_wakes_its_task_when_cancelled() {
        let token = tokio_util::sync::CancellationToken::new();
        let mut stopped = Gated::new(token.clone().cancelled_owned());
        let cancel = tokio::spawn({
            let token = token.clone();
            async move {
                tokio::time::sleep(Duration::from_millis(20)).await;
                token.cancel();
            }
        });
        tokio::time::timeout(Duration::from_secs(5), &mut stopped)
            .await
            .expect("woken by the cancel");
        cancel.await.unwrap();
    }
}
