//! Operations endpoints: `/healthz`, `/readyz`, `/metrics`, `/openapi.json`.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::App;

/// The process is up.
pub async fn healthz() -> Response {
    json_ok(StatusCode::OK, json!({"status": "ok"}).to_string())
}

/// Ready when the engine has a bind up and room in its queue.
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

pub async fn metrics(State(app): State<Arc<App>>) -> Response {
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
