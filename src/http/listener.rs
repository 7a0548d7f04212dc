//! The accept loop of the HTTP front, hardened against slow, stalled and greedy clients:
//! - a connection must deliver a request's whole header within `[http] header_read_timeout_ms`
//!   (which also closes idle keep-alive connections);
//! - a read or a write that makes no progress for `idle_timeout_ms` fails and closes the
//!   connection ([`IdleIo`]): a client that pipelines requests and never reads the answers
//!   blocks the server's writes, and would otherwise keep its slot for ever;
//! - what a pipelining client can make the server hold is bounded by `max_header_bytes`: hyper
//!   buffers at most that much of requests and of answers per connection (with pipeline
//!   flushing off) and stops reading while its answers are not being taken;
//! - a connection older than `max_connection_age_ms` is closed once its request in progress
//!   is answered;
//! - at most `max_connections` are open at once (a permit is taken before `accept`, so the
//!   excess waits in the kernel's backlog rather than in memory), and at most
//!   `max_connections_per_ip` from one client address (the extra one is closed at once);
//! - a failed accept (out of file descriptors) backs off instead of spinning.
//!
//! HTTP/1.1 only. On shutdown, idle connections close at once and requests in progress finish.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv6Addr};
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::time::{Instant, Sleep};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::settings::HttpConfig;

/// How long requests in progress may take to finish once shutdown starts.
use super::SHUTDOWN_GRACE;

/// Serves `router` on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    config: &HttpConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    warn_if_metrics_open(&listener, config);
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_millis(config.header_read_timeout_ms))
        .max_buf_size(config.max_header_bytes)
        // Flushing pipelined answers together would let the write buffer grow past
        // `max_buf_size`; off, hyper stops taking requests while its answers are not read.
        .pipeline_flush(false)
        .keep_alive(true);
    let builder = Arc::new(builder);
    let idle = Duration::from_millis(config.idle_timeout_ms);
    let max_age = (config.max_connection_age_ms > 0)
        .then(|| Duration::from_millis(config.max_connection_age_ms));
    let permits = Arc::new(Semaphore::new(config.max_connections));
    let per_address = Arc::new(PerAddress::new(config.max_connections_per_ip));
    let stop = CancellationToken::new();
    let connections = TaskTracker::new();
    let mut backoff = Duration::from_millis(5);
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            () = &mut shutdown => break,
            p = permits.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
        };
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => {
                    backoff = Duration::from_millis(5);
                    accepted
                }
                Err(e) => {
                    // EMFILE/ENFILE and friends: wait for connections to close.
                    tracing::warn!(error = %e, "accept failed; backing off {backoff:?}");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(1));
                    continue;
                }
            },
        };
        let Some(slot) = per_address.take(peer.ip()) else {
            // Debug only: a client hammering the cap must not flood the log either.
            tracing::debug!(peer = %peer.ip(), "connection refused: too many from this address");
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let conn = builder.serve_connection(
            TokioIo::new(IdleIo::new(stream, idle)),
            TowerToHyperService::new(router.clone()),
        );
        let stop = stop.clone();
        connections.spawn(async move {
            tokio::pin!(conn);
            let old = async {
                match max_age {
                    Some(age) => tokio::time::sleep(age).await,
                    None => std::future::pending().await,
                }
            };
            tokio::pin!(old);
            let mut closing = false;
            let result = loop {
                tokio::select! {
                    r = conn.as_mut() => break r,
                    () = &mut old, if !closing => {
                        conn.as_mut().graceful_shutdown();
                        closing = true;
                    }
                    () = stop.cancelled(), if !closing => {
                        conn.as_mut().graceful_shutdown();
                        closing = true;
                    }
                }
            };
            if let Err(e) = result {
                tracing::debug!(error = %e, "HTTP connection ended");
            }
            drop(slot);
            drop(permit);
        });
    }
    drop(listener);
    stop.cancel();
    connections.close();
    if tokio::time::timeout(SHUTDOWN_GRACE, connections.wait())
        .await
        .is_err()
    {
        tracing::warn!("HTTP connections still open after {SHUTDOWN_GRACE:?}; closing them");
    }
    Ok(())
}

/// `/metrics` shows tenant names and volumes: say so when anyone who can reach the listener
/// can read it.
fn warn_if_metrics_open(listener: &TcpListener, config: &HttpConfig) {
    let public = listener
        .local_addr()
        .map(|a| !a.ip().to_canonical().is_loopback())
        .unwrap_or(true);
    if public && config.metrics_token.is_none() {
        tracing::warn!(
            "GET /metrics is open to every client of a non-loopback listener; set [http] \
             metrics_token to require a Bearer token"
        );
    }
}

/// Counts the open connections of each client address. An IPv6 client counts by its /64,
/// the block a single host is usually given.
struct PerAddress {
    cap: usize,
    open: Mutex<HashMap<IpAddr, usize>>,
}

/// One counted connection; uncounted on drop.
struct AddressSlot {
    owner: Option<(Arc<PerAddress>, IpAddr)>,
}

impl PerAddress {
    fn new(cap: usize) -> Self {
        Self {
            cap,
            open: Mutex::new(HashMap::new()),
        }
    }

    fn key(ip: IpAddr) -> IpAddr {
        match ip.to_canonical() {
            IpAddr::V6(v6) => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
            v4 => v4,
        }
    }

    /// A slot for a connection from `ip`, `None` when the address is at its cap. The map
    /// holds only addresses with a connection open, so it is bounded by `max_connections`.
    fn take(self: &Arc<Self>, ip: IpAddr) -> Option<AddressSlot> {
        if self.cap == 0 {
            return Some(AddressSlot { owner: None });
        }
        let key = Self::key(ip);
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let n = open.entry(key).or_insert(0);
        if *n >= self.cap {
            return None;
        }
        *n += 1;
        Some(AddressSlot {
            owner: Some((self.clone(), key)),
        })
    }
}

impl Drop for AddressSlot {
    fn drop(&mut self) {
        let Some((owner, key)) = self.owner.take() else {
            return;
        };
        let mut open = owner.open.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(n) = open.get_mut(&key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.remove(&key);
            }
        }
    }
}

/// A stream whose reads and writes fail with `TimedOut` when they make no progress for
/// `idle`. A write's clock starts when it first has to wait; a read's too, and it restarts
/// whenever a write progresses (hyper keeps a read pending while it sends an answer, and a
/// long download is not an idle connection).
struct IdleIo<S> {
    inner: S,
    idle: Duration,
    read_waiting_since: Option<Instant>,
    write_waiting_since: Option<Instant>,
    read_timer: Option<Pin<Box<Sleep>>>,
    write_timer: Option<Pin<Box<Sleep>>>,
}

impl<S> IdleIo<S> {
    fn new(inner: S, idle: Duration) -> Self {
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
/// that moment otherwise.
fn stalled(
    timer: &mut Option<Pin<Box<Sleep>>>,
    since: &mut Option<Instant>,
    idle: Duration,
    cx: &mut Context<'_>,
) -> Poll<io::Error> {
    let deadline = *since.get_or_insert_with(Instant::now) + idle;
    let sleep = timer.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
    if sleep.deadline() != deadline {
        sleep.as_mut().reset(deadline);
    }
    match sleep.as_mut().poll(cx) {
        Poll::Ready(()) => Poll::Ready(io::Error::new(
            io::ErrorKind::TimedOut,
            "connection made no progress within idle_timeout_ms",
        )),
        Poll::Pending => Poll::Pending,
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

/// Raises this process's soft limit of open files to its hard limit, so that
/// `max_connections` is not cut short by a low default (1024 on many systems). Returns the
/// limit in force.
pub fn raise_fd_limit() -> Option<u64> {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(n) => Some(n),
        Err(e) => {
            tracing::warn!(error = %e, "could not raise the open-files limit");
            rlimit::getrlimit(rlimit::Resource::NOFILE)
                .ok()
                .map(|(soft, _)| soft)
        }
    }
}
