//! The cheapest answer of the front: `POST /otp` refused 503 while the engine refuses every
//! SMS (its send queue is full, it is shutting down), given by the connection's service before
//! the request envelope, the router and the handler. Under overload most requests get this
//! answer, so it must cost no more than a bare HTTP exchange: the body and its headers are
//! prepared once per cause, the metrics are handles taken once, nothing is allocated but the
//! response itself.
//!
//! The answer is the one the handler gives (`admission::refuse_early`): same status, body,
//! `Retry-After`, `X-Request-Id` and counts. Anything it would not answer the same way takes
//! the ordinary path: another route or method, an `Idempotency-Key` (the retry of an admitted
//! create gets its stored reply), an `Origin` (the CORS layers add their headers), an unknown
//! token (401 comes first: a client without a valid key learns nothing of the queue), the
//! in-flight limit reached.

use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwapOption;
use axum::body::Body;
use axum::http::{header, HeaderValue, Request, StatusCode};
use axum::response::Response;
use bytes::Bytes;

use super::error::ApiError;
use super::header_names::X_REQUEST_ID;
use super::metrics::{request_counter, request_duration};
use super::request_headers::RequestHeaders;
use super::{auth, routes, Front};
use crate::dispatch::DispatchError;
use crate::otp::service::dispatch_unavailable;
use crate::telemetry::names::BLOCKED;
use crate::telemetry::spread::{SpreadCounter, SpreadHistogram};

/// Answers the refusals of creates on a connection's behalf (shared by every connection).
pub struct EarlyRefusal {
    front: Front,
    /// The answer of the last cause seen, rebuilt when the cause or its delay changes.
    prepared: ArcSwapOption<Prepared>,
    /// The handler's own series of POST /otp (5xx), kept per thread as the handler keeps them.
    requests: Arc<SpreadCounter>,
    duration: Arc<SpreadHistogram>,
    blocked: metrics::Counter,
}

/// A refusal's status, body and `Retry-After`, ready to be sent again.
struct Prepared {
    cause: &'static str,
    retry_after: Duration,
    status: StatusCode,
    body: Bytes,
    retry_after_header: Option<HeaderValue>,
}

impl EarlyRefusal {
    /// Takes the metric handles now: call it once the metrics recorder is installed.
    pub fn new(front: Front) -> Self {
        Self {
            front,
            prepared: ArcSwapOption::empty(),
            requests: request_counter(routes::OTP, "POST", "5xx"),
            duration: request_duration(routes::OTP, "POST"),
            blocked: metrics::counter!(BLOCKED, "reason" => "dispatch"),
        }
    }

    /// The 503 of a create the engine would refuse now, or `None` when `req` takes the
    /// ordinary path. `req` is a create ([`routes::is_create`], which the connection checks
    /// once for both of its shortcuts).
    pub fn answer<B>(&self, req: &Request<B>) -> Option<Response> {
        // the engine's verdict first (an atomic read): an admitted create pays for nothing
        // else here, neither the look at its headers nor the token check
        let app = self.front.current();
        let refusal = app.service.dispatcher().refuses_any()?;
        let headers = RequestHeaders::of(req.headers());
        if answered_otherwise(&headers) || app.in_flight.available_permits() == 0 {
            return None;
        }
        // timed from here: every create passes the checks above, only a refusal the rest
        let started = Instant::now();
        auth::tenant_by(&app.tenants, headers.api_key, headers.authorization)?;
        let prepared = self.prepared_for(&refusal);
        let request_id = headers
            .request_id
            .and_then(routes::sane_request_id)
            .unwrap_or_else(routes::new_request_id);
        let mut res = Response::new(Body::from(prepared.body.clone()));
        *res.status_mut() = prepared.status;
        let h = res.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if let Some(v) = &prepared.retry_after_header {
            h.insert(header::RETRY_AFTER, v.clone());
        }
        h.insert(X_REQUEST_ID, request_id);
        self.blocked.increment(1);
        self.requests.increment(1);
        self.duration.record(started.elapsed().as_secs_f64());
        Some(res)
    }

    /// The prepared answer of `refusal`'s cause, built the first time it is seen.
    fn prepared_for(&self, refusal: &DispatchError) -> Arc<Prepared> {
        let (cause, retry_after) = (refusal.cause(), refusal.retry_after());
        if let Some(p) = self.prepared.load_full() {
            if p.cause == cause && p.retry_after == retry_after {
                return p;
            }
        }
        let p = Arc::new(Prepared::of(refusal));
        self.prepared.store(Some(p.clone()));
        p
    }
}

/// Whether the handler would answer a create with these headers otherwise: the retry of an
/// admitted create (`Idempotency-Key`) gets its stored reply, and the CORS layers add their
/// headers to an answer to an `Origin`.
fn answered_otherwise(headers: &RequestHeaders<'_>) -> bool {
    headers.idempotency_key.is_some() || headers.origin.is_some()
}

impl Prepared {
    fn of(refusal: &DispatchError) -> Self {
        // Built as the handler builds it; counted per answer instead (see `answer`).
        let error = ApiError::from(dispatch_unavailable(refusal));
        let retry_after_header = error
            .headers
            .iter()
            .find(|(k, _)| *k == "retry-after")
            .and_then(|(_, v)| HeaderValue::from_str(v).ok());
        Self {
            cause: refusal.cause(),
            retry_after: refusal.retry_after(),
            status: error.status,
            body: Bytes::from(error.body()),
            retry_after_header,
        }
    }
}

#[cfg(test)]
mod tests {
    use axum::http::{header, HeaderMap, HeaderValue};

    use super::answered_otherwise;
    use crate::http::header_names::{IDEMPOTENCY_KEY, X_API_KEY, X_REQUEST_ID};
    use crate::http::request_headers::RequestHeaders;

    #[test]
    fn an_idempotency_key_or_an_origin_takes_the_ordinary_path() {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer t"));
        headers.insert(X_API_KEY, HeaderValue::from_static("k"));
        headers.insert(X_REQUEST_ID, HeaderValue::from_static("id"));
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        assert!(!answered_otherwise(&RequestHeaders::of(&headers)));
        for name in [IDEMPOTENCY_KEY, header::ORIGIN] {
            let mut with = headers.clone();
            with.insert(name.clone(), HeaderValue::from_static("x"));
            assert!(answered_otherwise(&RequestHeaders::of(&with)), "{name}");
        }
    }
}
