//! The accept loop of the HTTP front: HTTP/1.1 and HTTP/2 on one listener, in cleartext
//! (HTTP/2 with prior knowledge) or, with `[http] tls_cert`/`tls_key`, over TLS (HTTP/2 or
//! HTTP/1.1 by ALPN). Hardened against slow, stalled and greedy clients, whatever the protocol:
//! - a TLS handshake must finish within `tls_handshake_timeout_ms`;
//! - a connection without a request in progress for `header_read_timeout_ms` (to a quarter
//!   more) is closed: no request is in progress until its header is read, so a header that
//!   never completes is bounded by it too, over HTTP/1.1 or HTTP/2 (HTTP/1.1 waits for a
//!   header begun: it is cut a quarter later);
//! - a read or a write that makes no progress for `idle_timeout_ms` fails and closes the
//!   connection ([`IdleIo`]): a client that never reads its answers would otherwise keep its
//!   slot for ever;
//! - what a client can make the server buffer is bounded by `max_header_bytes` (HTTP/1.1: read
//!   and write buffers, pipeline flushing off; HTTP/2: header list and send buffer per
//!   stream) and, on HTTP/2, by `http2_max_concurrent_streams` and flow-control windows sized
//!   from `body_limit_bytes`;
//! - a connection older than `max_connection_age_ms` is closed once its requests in progress
//!   are answered;
//! - at most `max_connections` are open at once (a permit is taken before `accept`, so the
//!   excess waits in the kernel's backlog rather than in memory), and at most
//!   `max_connections_per_ip` from one client address (the extra one is closed at once),
//!   TLS handshakes included;
//! - a failed accept (out of file descriptors) backs off instead of spinning.
//!
//! On shutdown, idle connections close at once and requests in progress finish.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::Service;

use super::early_refusal::EarlyRefusal;
use super::idle_io::IdleIo;
use super::per_address::{AddressSlot, PerAddress};
use super::routes::{is_create, DirectCreate};
use super::settings::HttpConfig;
use super::tls::TlsCerts;
use super::wake_gate::Gated;
use crate::telemetry::names::HTTP_TLS_HANDSHAKE_FAILURES;

/// How long requests in progress may take to finish once shutdown starts.
use super::SHUTDOWN_GRACE;

/// What every connection task shares.
struct Shared {
    builder: auto::Builder<TokioExecutor>,
    router: Router,
    shortcuts: Shortcuts,
    stop: CancellationToken,
    idle: Duration,
    no_request: Duration,
    /// How long a connection told to close may take to finish its requests and say goodbye.
    close_grace: Duration,
    max_age: Option<Duration>,
    handshake: Duration,
}

/// The API's ways around its router (none on the admin listener).
#[derive(Default)]
pub struct Shortcuts {
    /// The cheap refusals of creates.
    pub early: Option<EarlyRefusal>,
    /// Creates taken without the router.
    pub direct: Option<DirectCreate>,
}

/// Serves `router` on `listener` (over TLS with `tls`) until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shortcuts: Shortcuts,
    config: &HttpConfig,
    tls: Option<Arc<TlsCerts>>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let shared = Arc::new(Shared {
        builder: connection_builder(config),
        router,
        shortcuts,
        stop: CancellationToken::new(),
        idle: Duration::from_millis(config.idle_timeout_ms),
        no_request: Duration::from_millis(config.header_read_timeout_ms),
        close_grace: Duration::from_millis(
            config
                .request_timeout_ms
                .saturating_add(config.header_read_timeout_ms),
        ),
        max_age: (config.max_connection_age_ms > 0)
            .then(|| Duration::from_millis(config.max_connection_age_ms)),
        handshake: Duration::from_millis(config.tls_handshake_timeout_ms),
    });
    let permits = Arc::new(Semaphore::new(config.max_connections));
    let per_address = Arc::new(PerAddress::new(config.max_connections_per_ip));
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
        let io = IdleIo::new(stream, shared.idle);
        let held = Held {
            _slot: slot,
            _permit: permit,
        };
        let shared = shared.clone();
        match &tls {
            None => connections.spawn(serve_connection(io, shared, held)),
            Some(certs) => {
                connections.spawn(handshake_then_serve(certs.acceptor(), io, shared, held))
            }
        };
    }
    drop(listener);
    shared.stop.cancel();
    connections.close();
    if tokio::time::timeout(SHUTDOWN_GRACE, connections.wait())
        .await
        .is_err()
    {
        tracing::warn!("HTTP connections still open after {SHUTDOWN_GRACE:?}; closing them");
    }
    Ok(())
}

/// The HTTP/1.1 and HTTP/2 settings of every connection.
fn connection_builder(config: &HttpConfig) -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        // The connection's no-request timer bounds a header's arrival (no request is in
        // progress until its header is read); hyper's own would arm a runtime timer at each
        // request (a read of the clock, an allocation, the timer wheel's lock).
        .header_read_timeout(None)
        .max_buf_size(config.max_header_bytes)
        // Flushing pipelined answers together would let the write buffer grow past
        // `max_buf_size`; off, hyper stops taking requests while its answers are not read.
        .pipeline_flush(false)
        .keep_alive(true);
    // A stream may hold one whole request body unread; the connection a few of them.
    let stream_window = u32::try_from(config.body_limit_bytes)
        .unwrap_or(u32::MAX)
        .clamp(65_535, 1 << 20);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(config.http2_max_concurrent_streams)
        .max_header_list_size(u32::try_from(config.max_header_bytes).unwrap_or(u32::MAX))
        .max_send_buf_size(config.max_header_bytes)
        .initial_stream_window_size(stream_window)
        .initial_connection_window_size(stream_window.saturating_mul(4));
    builder
}

/// What a connection holds until it ends: its place in the per-address and global caps.
struct Held {
    _slot: AddressSlot,
    _permit: OwnedSemaphorePermit,
}

/// The TLS handshake (within `tls_handshake_timeout_ms`, holding the connection's slot),
/// then the connection.
async fn handshake_then_serve(
    acceptor: tokio_rustls::TlsAcceptor,
    io: IdleIo<tokio::net::TcpStream>,
    shared: Arc<Shared>,
    held: Held,
) {
    let handshake = tokio::select! {
        r = tokio::time::timeout(shared.handshake, acceptor.accept(io)) => r,
        () = shared.stop.cancelled() => return,
    };
    match handshake {
        Ok(Ok(tls)) => serve_connection(tls, shared, held).await,
        Ok(Err(e)) => {
            metrics::counter!(HTTP_TLS_HANDSHAKE_FAILURES, "reason" => "error").increment(1);
            tracing::debug!(error = %e, "TLS handshake failed");
        }
        Err(_) => {
            metrics::counter!(HTTP_TLS_HANDSHAKE_FAILURES, "reason" => "timeout").increment(1);
            tracing::debug!("TLS handshake timed out");
        }
    }
}

/// A connection's requests: how many are in progress and whether one ended since the
/// no-request timer last looked, read by that timer when it ticks (plain atomics: nothing
/// wakes the connection's task per request, and no request reads the clock).
struct Activity {
    in_progress: AtomicUsize,
    ended: AtomicBool,
}

/// Ticks of the no-request timer in `no_request`: a connection closes between `no_request`
/// and a quarter more after its last request ended (or after it opened).
const NO_REQUEST_TICKS: u8 = 4;

impl Activity {
    fn new() -> Self {
        Self {
            in_progress: AtomicUsize::new(0),
            ended: AtomicBool::new(false),
        }
    }

    /// One tick of the no-request timer, `quiet` the ticks in a row before it that saw no
    /// request: whether the connection has been without one for `NO_REQUEST_TICKS` now.
    fn idle_after_tick(&self, quiet: &mut u8) -> bool {
        *quiet = if self.busy_since_tick() {
            0
        } else {
            quiet.saturating_add(1)
        };
        *quiet >= NO_REQUEST_TICKS
    }

    /// Whether a request is in progress or ended since the last tick.
    fn busy_since_tick(&self) -> bool {
        self.in_progress.load(Ordering::Acquire) > 0 || self.ended.swap(false, Ordering::AcqRel)
    }
}

/// Counts a request in progress on its connection while it lives.
struct InProgress(Arc<Activity>);

impl InProgress {
    fn new(activity: &Arc<Activity>) -> Self {
        activity.in_progress.fetch_add(1, Ordering::AcqRel);
        Self(activity.clone())
    }
}

impl Drop for InProgress {
    fn drop(&mut self) {
        // the end is marked before the count falls, so a tick reading 0 sees it (a store,
        // not a read-modify-write)
        self.0.ended.store(true, Ordering::Release);
        self.0.in_progress.fetch_sub(1, Ordering::AcqRel);
    }
}

/// How a request is answered.
enum Way {
    /// At once, by an early refusal.
    Answered(axum::response::Response),
    /// By a create taken without the router.
    Direct(DirectCreate),
    Router(Router),
}

/// Serves one connection (HTTP/1.1 or HTTP/2, as the client speaks) until it ends.
async fn serve_connection<I>(io: I, shared: Arc<Shared>, held: Held)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let activity = Arc::new(Activity::new());
    let on_service = shared.clone();
    let counted = activity.clone();
    let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
        let guard = InProgress::new(&counted);
        let shortcuts = &on_service.shortcuts;
        // a create is answered on the spot when the engine would refuse it, else without the
        // router; anything else goes through the router
        let way = if !is_create(&req) {
            Way::Router(on_service.router.clone())
        } else if let Some(res) = shortcuts.early.as_ref().and_then(|e| e.answer(&req)) {
            Way::Answered(res)
        } else if let Some(direct) = &shortcuts.direct {
            Way::Direct(direct.clone())
        } else {
            Way::Router(on_service.router.clone())
        };
        async move {
            let res = match way {
                Way::Answered(res) => Ok(res),
                Way::Direct(direct) => Ok(direct.answer(req.map(axum::body::Body::new)).await),
                Way::Router(mut router) => router.call(req).await,
            };
            drop(guard);
            res
        }
    });
    let conn = shared.builder.serve_connection(TokioIo::new(io), service);
    tokio::pin!(conn);
    // The connection's timers and stop token are gated: polled again only once they woke
    // (each poll of a waiting one is an atomic write), not on every wake of this task.
    let max_age = shared.max_age;
    let mut old = Gated::new(async move {
        match max_age {
            Some(age) => tokio::time::sleep(age).await,
            None => std::future::pending().await,
        }
    });
    // Ticks every quarter of `no_request`; closes the connection once no request has been
    // in progress for as many ticks in a row as make `no_request`.
    let tick = shared.no_request / u32::from(NO_REQUEST_TICKS);
    let mut no_request = Gated::new(tokio::time::sleep(tick));
    let mut quiet_ticks = 0;
    // Told to close for want of a request: HTTP/1.1 still waits for a header it has begun to
    // read, so one more tick with no request in progress ends the connection.
    let mut closed_for_no_request = false;
    // Made once: a fresh one per wake would register with the token each time. On a token of
    // its own: a waiting token's poll takes its waiter list's lock, which on the shared token
    // every connection of every worker would take.
    let mut stopped = Gated::new(shared.stop.child_token().cancelled_owned());
    let mut closing = false;
    // Armed once the connection is told to close: an HTTP/2 client that never acknowledges
    // the goodbye (nor lets its streams end) does not keep the connection.
    let give_up = tokio::time::sleep(Duration::MAX);
    tokio::pin!(give_up);
    let result = loop {
        if closing && give_up.deadline() > tokio::time::Instant::now() + shared.close_grace {
            give_up
                .as_mut()
                .reset(tokio::time::Instant::now() + shared.close_grace);
        }
        tokio::select! {
            // the connection first: the others are polled only when it waits
            biased;
            r = conn.as_mut() => break r,
            () = &mut give_up, if closing => {
                tracing::debug!("HTTP connection closed: it did not finish closing in time");
                break Ok(());
            }
            () = &mut no_request, if !closing || closed_for_no_request => {
                if closed_for_no_request {
                    if !activity.busy_since_tick() {
                        tracing::debug!("HTTP connection closed: a request header never ended");
                        break Ok(());
                    }
                    // a request got in before the close: it finishes as any other would
                    closed_for_no_request = false;
                    continue;
                }
                if activity.idle_after_tick(&mut quiet_ticks) {
                    conn.as_mut().graceful_shutdown();
                    closing = true;
                    closed_for_no_request = true;
                }
                no_request.inner_mut().reset(tokio::time::Instant::now() + tick);
            }
            () = &mut old, if !closing => {
                conn.as_mut().graceful_shutdown();
                closing = true;
            }
            () = &mut stopped, if !closing => {
                conn.as_mut().graceful_shutdown();
                closing = true;
            }
        }
    };
    if let Err(e) = result {
        tracing::debug!(error = %e, "HTTP connection ended");
    }
    drop(held);
}

/// `/metrics` shows tenant names and volumes: say so when anyone who can reach the listener
/// can read it.
pub(super) fn warn_if_metrics_open(listener: &TcpListener, config: &HttpConfig) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connection_is_idle_after_as_many_quiet_ticks_as_make_no_request() {
        let activity = Arc::new(Activity::new());
        // the connection's count of quiet ticks, as its task keeps it
        let quiet = std::cell::Cell::new(0);
        let tick = || {
            let mut q = quiet.get();
            let idle = activity.idle_after_tick(&mut q);
            quiet.set(q);
            idle
        };
        // the answer of the last of `n` ticks
        let idle_after = |n: u8| (0..n).fold(None, |_, _| Some(tick()));
        assert_eq!(idle_after(NO_REQUEST_TICKS - 1), Some(false));
        // a request that began and ended between two ticks starts the count again
        drop(InProgress::new(&activity));
        assert!(!tick());
        assert_eq!(idle_after(NO_REQUEST_TICKS - 1), Some(false));
        assert!(tick());
        // a request in progress keeps it busy however many ticks pass
        let held = InProgress::new(&activity);
        assert_eq!(idle_after(3 * NO_REQUEST_TICKS), Some(false));
        drop(held);
        assert_eq!(idle_after(NO_REQUEST_TICKS), Some(false));
        assert!(tick());
    }
}
