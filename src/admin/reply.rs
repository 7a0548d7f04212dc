//! Admin answers: JSON bodies, errors as `{code, message}` with a stable `code`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::telemetry::names::ADMIN_REQUESTS;

/// What an admin handler answers before it is counted: a response, or an error answered as
/// JSON.
pub type Reply = Result<Response, AdminError>;

#[derive(Debug, Serialize)]
pub struct AdminError {
    #[serde(skip)]
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl AdminError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "an admin token is required: Authorization: Bearer <[admin] token or read_token>",
        )
    }

    pub fn forbidden() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "read_only_token",
            "the read token may only look: this needs [admin] token",
        )
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "no such admin endpoint")
    }

    /// The `outcome` label of the request counter.
    pub fn outcome(&self) -> &'static str {
        match self.status.as_u16() {
            401 => "unauthorized",
            403 => "forbidden",
            404 => "not_found",
            400..=499 => "refused",
            _ => "error",
        }
    }
}

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        let status = self.status;
        let mut r = (status, axum::Json(&self)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            r.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer realm=\"otpgate-admin\""),
            );
        }
        r
    }
}

/// Counts the request (bounded labels) and turns an error into its JSON answer.
pub fn counted(endpoint: &'static str, reply: Reply) -> Response {
    let outcome = match &reply {
        Ok(_) => "ok",
        Err(e) => e.outcome(),
    };
    metrics::counter!(ADMIN_REQUESTS, "endpoint" => endpoint, "outcome" => outcome).increment(1);
    reply.unwrap_or_else(IntoResponse::into_response)
}

pub fn no_store(mut r: Response) -> Response {
    r.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    r
}
