//! Operations endpoints: `/healthz`, `/readyz`, `/metrics`, `/openapi.json`.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::error::{codes, ApiError};
use super::App;

/// The process is up.
pub async fn healthz() -> Response {
    json_ok(StatusCode::OK, json!({"status": "ok"}).to_string())
}

/// Ready when the engine has a bind up and room in its queue (with the shared queue: when
/// every route has a bind up somewhere in the cluster).
pub async fn readyz(State(app): State<Arc<App>>) -> Response {
    let r = app.service.dispatcher().readiness();
    let status = if r.ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = json!({
        "ready": r.ready,
        "bindsUp": r.binds_up,
        "queueDepth": r.queue_depth,
        "queueCapacity": r.queue_capacity,
        "reasons": r.reasons,
        "uncoveredRoutes": r.uncovered_routes,
        "otpsPending": app.service.store().pending(),
    });
    let mut res = json_ok(status, body.to_string());
    if !r.ready {
        res.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from(app.config.http.retry_after_s),
        );
    }
    res
}

/// The scrape; with `[http] metrics_token` set, only for `Authorization: Bearer <token>`
/// (tenant tokens do not open it).
pub async fn metrics(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    if let Some(expected) = &app.config.http.metrics_token {
        if !bearer_matches(&headers, expected) {
            return ApiError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_api_key",
                codes::INVALID_API_KEY,
                "missing or invalid metrics token (Authorization: Bearer)",
            )
            .into_response();
        }
    }
    // The store's sizes as of this scrape (a verify or a cancel changes them between the
    // store's own updates).
    let store = app.service.store();
    let kind = app.config.store_kind.as_str();
    crate::telemetry::store_sizes(kind, store.pending(), store.len());
    let mut res = (StatusCode::OK, crate::telemetry::render()).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    res
}

/// Whether the request carries `Authorization: Bearer <expected>`, compared in constant time.
fn bearer_matches(headers: &HeaderMap, expected: &str) -> bool {
    let Some(auth) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let Some((scheme, token)) = auth.trim().split_once(' ') else {
        return false;
    };
    scheme.eq_ignore_ascii_case("bearer")
        && bool::from(subtle::ConstantTimeEq::ct_eq(
            token.trim().as_bytes(),
            expected.as_bytes(),
        ))
}

pub async fn openapi() -> Response {
    json_ok(StatusCode::OK, super::openapi::document().to_string())
}

fn json_ok(status: StatusCode, body: String) -> Response {
    let mut res = (status, body).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    res
}
