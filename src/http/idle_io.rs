//! A stream that fails a read or a write making no progress for a while: what keeps a
//! stalled client (one that stops sending, or stops reading its answers) from holding its
//! connection for ever.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

/// A stream whose reads and writes fail with `TimedOut` when they make no progress for
/// `idle`. A write's clock starts when it first has to wait; a read's too, and it restarts
/// whenever a write progresses (hyper keeps a read pending while it sends an answer, and a
/// long download is not an idle connection).
pub struct IdleIo<S> {
    inner: S,
    idle: Duration,
    read_waiting_since: Option<Instant>,
    write_waiting_since: Option<Instant>,
    read_timer: Option<Pin<Box<Sleep>>>,
    write_timer: Option<Pin<Box<Sleep>>>,
}

impl<S> IdleIo<S> {
    pub fn new(inner: S, idle: Duration) -> Self {
        Self {
            inner,
            idle,
            read_waiting_since: None,
            write_waiting_since: None,
            read_timer: None,
            write_timer: None,
        }
    }
}

/// `Ready(Err(TimedOut))` once `since + idle` has passed; registers the task's waker for
/// that moment otherwise. The timer moves only when it fires before the deadline: a keep-alive
/// connection's read waits after every request, and moving the timer each time costs a trip
/// through the runtime's timer wheel per request.
fn stalled(
    timer: &mut Option<Pin<Box<Sleep>>>,
    since: &mut Option<Instant>,
    idle: Duration,
    cx: &mut Context<'_>,
) -> Poll<io::Error> {
    let deadline = *since.get_or_insert_with(Instant::now) + idle;
    let sleep = timer.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
    if sleep.deadline() > deadline {
        sleep.as_mut().reset(deadline);
    }
    loop {
        match sleep.as_mut().poll(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(()) if sleep.deadline() < deadline => sleep.as_mut().reset(deadline),
            Poll::Ready(()) => {
                return Poll::Ready(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "connection made no progress within idle_timeout_ms",
                ))
            }
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for IdleIo<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(r) => {
                this.read_waiting_since = None;
                Poll::Ready(r)
            }
            Poll::Pending => stalled(
                &mut this.read_timer,
                &mut this.read_waiting_since,
                this.idle,
                cx,
            )
            .map(Err),
        }
    }
}

impl<S: AsyncWrite + Unpin> IdleIo<S> {
    fn after_write(
        &mut self,
        cx: &mut Context<'_>,
        polled: Poll<io::Result<usize>>,
    ) -> Poll<io::Result<usize>> {
        match polled {
            Poll::Ready(r) => {
                self.write_waiting_since = None;
                if matches!(r, Ok(n) if n > 0) && self.read_waiting_since.is_some() {
                    self.read_waiting_since = Some(Instant::now());
                }
                Poll::Ready(r)
            }
            Poll::Pending => stalled(
                &mut self.write_timer,
                &mut self.write_waiting_since,
                self.idle,
                cx,
            )
            .map(Err),
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for IdleIo<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_write(cx, buf);
        this.after_write(cx, polled)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        this.after_write(cx, polled)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}
