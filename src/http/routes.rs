//! The router and the middleware every request passes: request id, in-flight limit, timeout,
//! metrics, and JSON bodies for the errors a layer produces bare (404, 405...).

use std::future::Future;
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

use super::error::{codes, ApiError};
use super::header_names::X_REQUEST_ID;
use super::metrics::RequestMetrics;
use super::{cors, handlers, ops, Front};

/// Every route template of the API (also the `route` label of the HTTP metrics).
pub(super) const OTP: &str = "/otp";
const OTP_ID: &str = "/otp/{otpId}";
const OTP_VERIFY: &str = "/otp/{otpId}/verify";
const OTP_RESEND: &str = "/otp/{otpId}/resend";
const HEALTHZ: &str = "/healthz";
const READYZ: &str = "/readyz";
const METRICS: &str = "/metrics";
const OPENAPI: &str = "/openapi.json";
const ROUTES: [&str; 8] = [
    OTP, OTP_ID, OTP_VERIFY, OTP_RESEND, HEALTHZ, READYZ, METRICS, OPENAPI,
];

/// Every route template and the methods it answers (as the router below declares them).
const ROUTE_METHODS: [(&str, &[&str]); 8] = [
    (OTP, &["POST"]),
    (OTP_ID, &["GET", "POST", "DELETE"]),
    (OTP_VERIFY, &["POST"]),
    (OTP_RESEND, &["POST"]),
    (HEALTHZ, &["GET"]),
    (READYZ, &["GET"]),
    (METRICS, &["GET"]),
    (OPENAPI, &["GET"]),
];

/// All routes of the API on `app`.
pub fn router(front: Front) -> Router {
    router_and_direct_create(front).0
}

/// All routes of the API on `app`, and the way `POST /otp` is taken without the router when
/// nothing but the envelope stands between the router and the create handler (no CORS layers).
pub fn router_and_direct_create(front: Front) -> (Router, Option<DirectCreate>) {
    let app = front.load();
    let metrics = Arc::new(RequestMetrics::register(&ROUTE_METHODS));
    let envelope = Envelope {
        front: front.clone(),
        metrics,
    };
    let mut router = Router::new()
        .route(OTP, post(handlers::create))
        .route(
            OTP_ID,
            get(handlers::get)
                .post(handlers::verify)
                .delete(handlers::cancel),
        )
        .route(OTP_VERIFY, post(handlers::verify))
        .route(OTP_RESEND, post(handlers::resend))
        .route(HEALTHZ, get(ops::healthz))
        .route(READYZ, get(ops::readyz))
        .route(METRICS, get(ops::metrics))
        .route(OPENAPI, get(ops::openapi))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed);
    let mut direct = Some(DirectCreate {
        envelope: envelope.clone(),
    });
    // Inside the envelope: preflights are counted and carry a request id too.
    if let Some(cors) = cors::layer(&app.config.http) {
        router = router
            .layer(cors)
            .layer(middleware::from_fn_with_state(front.clone(), cors::narrow));
        // the CORS layers answer every request (a `Vary` at least): through the router
        direct = None;
    }
    let router = router
        .layer(middleware::from_fn_with_state(envelope, self::envelope))
        .with_state(front);
    (router, direct)
}

/// `POST /otp` taken by the connection without the router: the envelope around the create
/// handler, as the router would run them. Under load most requests are creates, and the
/// router's layers cost a create a boxed service clone, boxed futures and request extensions
/// each: 16 allocations and about 4 500 instructions per create (`loadtest/instructions.sh`).
#[derive(Clone)]
pub struct DirectCreate {
    envelope: Envelope,
}

/// Whether `req` is a create (`POST /otp`, a query or not): what the connection's shortcuts
/// take.
pub fn is_create<B>(req: &axum::http::Request<B>) -> bool {
    req.method() == axum::http::Method::POST && req.uri().path() == OTP
}

impl DirectCreate {
    /// The create's answer, in the request envelope.
    pub async fn answer(&self, req: Request) -> Response {
        // one look at the snapshot for the envelope and the handler, without a reference
        // count of its own (as the router's `State` would take)
        let app = self.envelope.front.current();
        self.envelope
            .around(&app, req, OTP, |req| async {
                handlers::create_with(&app, req).await.into_response()
            })
            .await
    }
}

async fn not_found() -> Response {
    ApiError::for_status(StatusCode::NOT_FOUND).into_response()
}

async fn method_not_allowed() -> Response {
    ApiError::for_status(StatusCode::METHOD_NOT_ALLOWED).into_response()
}

/// A client's `X-Request-Id` is kept when it is 1-128 characters of `[A-Za-z0-9._:-]`.
pub(super) fn sane_request_id(v: &HeaderValue) -> Option<HeaderValue> {
    let s = v.to_str().ok()?;
    let ok = !s.is_empty()
        && s.len() <= 128
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._:-".contains(&b));
    ok.then(|| v.clone())
}

/// The route template that matched (`/otp/{otpId}`, never the id itself), `unmatched` for
/// a path no route knows. Axum sets [`MatchedPath`] before this layer runs.
fn route_label(req: &Request) -> &'static str {
    let matched = req
        .extensions()
        .get::<MatchedPath>()
        .map(MatchedPath::as_str);
    matched
        .and_then(|m| ROUTES.into_iter().find(|r| *r == m))
        .unwrap_or("unmatched")
}

/// A fresh request id in the form of a random (v4) UUID, formatted without allocating. It
/// names a request in logs and answers; it is not a secret, so it is not drawn from the CSPRNG
/// per request (a draw cost as much as the rest of a refused create's answer).
pub(super) fn new_request_id() -> HeaderValue {
    let id = uuid::Builder::from_random_bytes(request_id_bytes()).into_uuid();
    let mut buf = [0u8; uuid::fmt::Hyphenated::LENGTH];
    HeaderValue::from_str(id.hyphenated().encode_lower(&mut buf))
        .unwrap_or(HeaderValue::from_static("-"))
}

/// The low 62 bits: what the UUID's variant bits leave of its second half.
const LOW_62: u64 = (1 << 62) - 1;

/// 16 bytes no other call returns: the high half is a random key drawn once per thread (from
/// the CSPRNG), the low half the thread's count of ids through a bijection of 62 bits (times
/// an odd number, a shift folded in, a random key added by xor), so a thread never repeats one
/// within 2^62 ids and two threads differ by their keys. The UUID's version and variant bits,
/// set over these bytes, fall on the high half's key and on the two bits above the 62.
fn request_id_bytes() -> [u8; 16] {
    thread_local! {
        static IDS: std::cell::Cell<(u64, u64, u64)> =
            std::cell::Cell::new((rand::random(), rand::random::<u64>() & LOW_62, 0));
    }
    IDS.with(|ids| {
        let (high, low_key, count) = ids.get();
        ids.set((high, low_key, count.wrapping_add(1)));
        let mut low = count.wrapping_mul(0x9e37_79b9_7f4a_7c15) & LOW_62;
        low ^= low >> 29;
        low ^= low_key;
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&high.to_be_bytes());
        bytes[8..].copy_from_slice(&low.to_be_bytes());
        bytes
    })
}

/// What the envelope of every request needs: the snapshot in force and the request metrics.
#[derive(Clone)]
struct Envelope {
    front: Front,
    metrics: Arc<RequestMetrics>,
}

async fn envelope(State(envelope): State<Envelope>, req: Request, next: Next) -> Response {
    let route = route_label(&req);
    let app = envelope.front.load();
    envelope.around(&app, req, route, |req| next.run(req)).await
}

impl Envelope {
    /// `inner`'s answer to `req` (of `route`) on `app`, with the request id, the in-flight
    /// limit, the timeout, the JSON error shape and the metrics of every request.
    async fn around<F, Fut>(
        &self,
        app: &super::App,
        req: Request,
        route: &'static str,
        inner: F,
    ) -> Response
    where
        F: FnOnce(Request) -> Fut,
        Fut: Future<Output = Response>,
    {
        let started = Instant::now();
        let request_id = req
            .headers()
            .get(X_REQUEST_ID)
            .and_then(sane_request_id)
            .unwrap_or_else(new_request_id);
        let method = super::metrics::method_label(req.method().as_str());
        let span = tracing::info_span!("http", request_id = %request_id.to_str().unwrap_or("-"), method = %req.method(), %route);
        let _permit = app.in_flight.try_acquire().ok();
        let mut res = if _permit.is_none() {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "server_error",
                codes::OVERLOADED,
                "too many requests in progress",
            )
            .retry_after(Duration::from_secs(app.config.http.retry_after_s))
            .into_response()
        } else {
            let timeout = Duration::from_millis(app.config.http.request_timeout_ms);
            // What `Instrument` and `tokio::time::timeout` do, without moving the handler's
            // future into them: it is made in place here, and a create's is about 3.6 KB,
            // copied whole at each move. The timer is made only when the handler waits: with
            // the memory store a create answers at its first poll, and a `Sleep` made for it
            // read the clock and took the runtime's handle (a shared count) for nothing.
            let handler = inner(req);
            tokio::pin!(handler);
            let mut deadline = None;
            let answered = std::future::poll_fn(|cx| {
                if let Poll::Ready(res) = span.in_scope(|| handler.as_mut().poll(cx)) {
                    return Poll::Ready(Some(res));
                }
                deadline
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)))
                    .as_mut()
                    .poll(cx)
                    .map(|()| None)
            })
            .await;
            match answered {
                Some(res) => res,
                None => ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "server_error",
                    codes::TIMEOUT,
                    "the request took too long",
                )
                .retry_after(Duration::from_secs(app.config.http.retry_after_s))
                .into_response(),
            }
        };
        // Errors produced by a layer without a body get the JSON error shape.
        if (res.status().is_client_error() || res.status().is_server_error())
            && !res.headers().contains_key(header::CONTENT_TYPE)
        {
            let allow = res.headers().get(header::ALLOW).cloned();
            res = ApiError::for_status(res.status()).into_response();
            if let Some(a) = allow {
                res.headers_mut().insert(header::ALLOW, a);
            }
        }
        res.headers_mut().insert(X_REQUEST_ID, request_id);
        let status = res.status().as_u16();
        self.metrics
            .record(route, method, status, started.elapsed().as_secs_f64());
        span.in_scope(|| tracing::debug!(status, "request answered"));
        res
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::new_request_id;

    #[test]
    fn request_ids_are_v4_uuids_that_no_thread_repeats() {
        let per_thread: Vec<Vec<String>> = std::thread::scope(|s| {
            let threads: Vec<_> = (0..4)
                .map(|_| {
                    s.spawn(|| {
                        (0..50_000)
                            .map(|_| new_request_id().to_str().unwrap_or_default().to_owned())
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            threads.into_iter().filter_map(|t| t.join().ok()).collect()
        });
        assert_eq!(per_thread.len(), 4);
        let mut seen = HashSet::new();
        for id in per_thread.iter().flatten() {
            let uuid = uuid::Uuid::parse_str(id).unwrap_or_else(|e| panic!("{id}: {e}"));
            assert_eq!(uuid.get_version_num(), 4, "{id}");
            assert_eq!(uuid.get_variant(), uuid::Variant::RFC4122, "{id}");
            assert!(seen.insert(id.clone()), "{id} given twice");
        }
        assert_eq!(seen.len(), 200_000);
    }
}
