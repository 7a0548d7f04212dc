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

use super::wake_gate::Gated;

/// A stream whose reads and writes fail with `TimedOut` when they make no progress for
/// `idle` (to a quarter more: see [`Watch`]). A read's progress is a read that completes or
/// a write that progresses (hyper keeps a read pending while it sends an answer, and a long
/// download is not an idle connection); a write's, a write that progresses.
pub struct IdleIo<S> {
    inner: S,
    idle: Duration,
    read: Watch,
    write: Watch,
}

impl<S> IdleIo<S> {
    pub fn new(inner: S, idle: Duration) -> Self {
        Self {
            inner,
            idle,
            read: Watch::default(),
            write: Watch::default(),
        }
    }
}

/// Ticks of a watch in `idle`.
const TICKS: u8 = 4;

/// One direction's watch, without a read of the clock per request: a timer made when the
/// direction first waits ticks every `idle / TICKS` from then on, and the direction fails once
/// `TICKS` ticks in a row saw no progress: between `idle` and `idle` and a quarter after its
/// last progress. Progress is a flag set as it happens; the clock is read once per tick.
/// The timer is gated: polled again only once it fired, not on every read that waits.
#[derive(Default)]
struct Watch {
    timer: Option<Gated<Sleep>>,
    progressed: bool,
    quiet_ticks: u8,
}

impl Watch {
    fn progress(&mut self) {
        self.progressed = true;
    }

    /// `Ready(TimedOut)` once `TICKS` ticks in a row passed without progress; registers the
    /// task's waker for the next tick otherwise.
    fn stalled(&mut self, idle: Duration, cx: &mut Context<'_>) -> Poll<io::Error> {
        let tick = idle / u32::from(TICKS);
        let timer = self
            .timer
            .get_or_insert_with(|| Gated::new(tokio::time::sleep(tick)));
        while Pin::new(&mut *timer).poll(cx).is_ready() {
            if std::mem::take(&mut self.progressed) {
                self.quiet_ticks = 0;
            } else {
                self.quiet_ticks = self.quiet_ticks.saturating_add(1);
            }
            if self.quiet_ticks >= TICKS {
                return Poll::Ready(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "connection made no progress within idle_timeout_ms",
                ));
            }
            timer.inner_mut().reset(Instant::now() + tick);
        }
        Poll::Pending
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
                this.read.progress();
                Poll::Ready(r)
            }
            Poll::Pending => this.read.stalled(this.idle, cx).map(Err),
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
                if matches!(r, Ok(n) if n > 0) {
                    self.write.progress();
                    self.read.progress();
                }
                Poll::Ready(r)
            }
            Poll::Pending => self.write.stalled(self.idle, cx).map(Err),
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

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{duplex, AsyncReadExt, AsyncWriteExt};

    const IDLE: Duration = Duration::from_secs(8);

    /// `waited` is what a watch allows: `idle`, to a quarter more.
    fn within_the_watch(waited: Duration) -> bool {
        waited >= IDLE && waited <= IDLE + IDLE / u32::from(TICKS)
    }

    #[tokio::test(start_paused = true)]
    async fn a_read_without_progress_fails_within_idle_and_a_quarter() {
        let (_client, server) = duplex(64);
        let mut io = IdleIo::new(server, IDLE);
        let start = Instant::now();
        let err = io.read(&mut [0u8; 8]).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert!(within_the_watch(start.elapsed()), "{:?}", start.elapsed());
    }

    #[tokio::test(start_paused = true)]
    async fn reads_that_keep_coming_keep_it_alive_until_they_stop() {
        let (mut client, server) = duplex(64);
        let mut io = IdleIo::new(server, IDLE);
        let start = Instant::now();
        let mut buf = [0u8; 8];
        // a byte every half of `idle` (and at odd moments of the ticks) for ten times `idle`
        for i in 0..20u32 {
            let writer = async {
                tokio::time::sleep(IDLE / 2 + Duration::from_millis(u64::from(i * 37))).await;
                client.write_all(b"x").await.unwrap();
            };
            let (read, ()) = tokio::join!(io.read(&mut buf), writer);
            assert_eq!(read.unwrap(), 1, "read {i}");
        }
        assert!(start.elapsed() >= IDLE * 10);
        let last = Instant::now();
        let err = io.read(&mut buf).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert!(within_the_watch(last.elapsed()), "{:?}", last.elapsed());
    }

    #[tokio::test(start_paused = true)]
    async fn a_write_the_peer_never_reads_fails_within_idle_and_a_quarter() {
        let (_client, server) = duplex(16);
        let mut io = IdleIo::new(server, IDLE);
        io.write_all(&[0; 16]).await.unwrap();
        let start = Instant::now();
        let err = io.write_all(b"more").await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert!(within_the_watch(start.elapsed()), "{:?}", start.elapsed());
    }

    #[tokio::test(start_paused = true)]
    async fn a_read_waits_while_answers_go_out() {
        let (mut client, server) = duplex(16);
        let mut io = IdleIo::new(server, IDLE);
        let (mut rd, mut wr) = tokio::io::split(&mut io);
        // the server sends for three times `idle`, a chunk each half `idle`, while its read
        // waits: the read must not fail
        let writer = async {
            for _ in 0..6 {
                tokio::time::sleep(IDLE / 2).await;
                wr.write_all(&[1; 8]).await.unwrap();
            }
        };
        let reader = async {
            let mut got = 0;
            while got < 48 {
                got += client.read(&mut [0u8; 16]).await.unwrap();
            }
        };
        let read = async { rd.read(&mut [0u8; 8]).await };
        tokio::select! {
            r = read => panic!("the read ended while answers went out: {r:?}"),
            ((), ()) = async { tokio::join!(writer, reader) } => {}
        }
    }
}
