//! The one error shape of the API, `{"error":{"type","code","message","uri","field"}}`, with
//! the status, type and code of every failure (sms.cx's where they exist).

use std::time::Duration;

use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::otp::abuse::Blocked;
use crate::otp::tenant::RateInfo;
use crate::otp::OtpError;

/// Codes of the errors sms.cx does not number (its own are 2001-2031).
pub mod codes {
    pub const INVALID_API_KEY: u16 = 1001;
    pub const INVALID_BODY: u16 = 1002;
    pub const BODY_TOO_LARGE: u16 = 1003;
    pub const UNSUPPORTED_MEDIA_TYPE: u16 = 1004;
    pub const ROUTE_NOT_FOUND: u16 = 1005;
    pub const METHOD_NOT_ALLOWED: u16 = 1006;
    pub const TENANT_RATE_LIMIT: u16 = 1007;
    pub const NUMBER_RATE_LIMIT: u16 = 1008;
    pub const UNAVAILABLE: u16 = 1009;
    pub const STORE_FULL: u16 = 1010;
    pub const DUPLICATE_ID: u16 = 1011;
    pub const COUNTRY_NOT_ALLOWED: u16 = 1012;
    pub const TIMEOUT: u16 = 1013;
    pub const OVERLOADED: u16 = 1014;
    pub const INVALID_IDEMPOTENCY_KEY: u16 = 1015;
    pub const RESEND_LIMIT: u16 = 1016;
    pub const PREFIX_VELOCITY: u16 = 1017;
    pub const COUNTRY_DAILY_CAP: u16 = 1018;
    pub const LOW_CONVERSION: u16 = 1019;
    pub const PHONE_PARSER_BUSY: u16 = 1020;
    pub const ORIGIN_NOT_ALLOWED: u16 = 1021;
    /// The destination country refuses the sender ID and no numeric sender replaces it.
    pub const SENDER_REFUSED: u16 = 1022;
    /// The number's type (premium rate, landline...) is not accepted for this API key.
    pub const NUMBER_TYPE_NOT_ALLOWED: u16 = 1023;
    /// No SMSC this API key may use has a route to the destination.
    pub const NO_ALLOWED_ROUTE: u16 = 1024;
    /// The tenant's prepaid balance or monthly cap does not cover the SMS's estimated cost.
    pub const CREDIT_EXCEEDED: u16 = 1030;
}

/// An error reply.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub kind: &'static str,
    pub code: u16,
    pub message: String,
    pub field: Option<String>,
    /// Why an abuse limit refused the request (`number_limit`, `prefix_velocity`...).
    pub reason: Option<&'static str>,
    pub headers: Vec<(&'static str, String)>,
}

#[derive(Serialize)]
struct Body<'a> {
    error: Inner<'a>,
}

#[derive(Serialize)]
struct Inner<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    code: u16,
    message: &'a str,
    uri: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
}

/// Base of the `uri` field; set once at start from `[http] error_doc_url`.
static DOC_URL: std::sync::OnceLock<String> = std::sync::OnceLock::new();

pub fn set_doc_url(url: &str) {
    let _ = DOC_URL.set(url.to_owned());
}

impl ApiError {
    pub fn new(
        status: StatusCode,
        kind: &'static str,
        code: u16,
        message: impl Into<String>,
    ) -> Self {
        Self {
            status,
            kind,
            code,
            message: message.into(),
            field: None,
            reason: None,
            headers: Vec::new(),
        }
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    pub fn with_reason(mut self, reason: &'static str) -> Self {
        self.reason = Some(reason);
        self
    }

    pub fn with_header(mut self, name: &'static str, value: impl ToString) -> Self {
        self.headers.push((name, value.to_string()));
        self
    }

    pub fn retry_after(self, d: Duration) -> Self {
        let secs = d.as_secs() + u64::from(d.subsec_nanos() > 0);
        self.with_header("retry-after", secs.max(1))
    }

    pub fn rate_headers(self, info: &RateInfo) -> Self {
        self.with_header("x-rate-limit-limit", info.limit)
            .with_header("x-rate-limit-remaining", info.remaining)
            .with_header("x-rate-limit-reset", info.reset_s)
    }

    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "invalid_api_key",
            codes::INVALID_API_KEY,
            "missing or invalid API key (Authorization: Bearer or X-API-KEY)",
        )
    }

    pub fn invalid_body(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_body",
            codes::INVALID_BODY,
            message,
        )
    }

    /// The JSON body of this error.
    pub fn body(&self) -> String {
        let doc = DOC_URL
            .get()
            .map(String::as_str)
            .unwrap_or("https://sms.cx/docs/errors");
        let body = Body {
            error: Inner {
                kind: self.kind,
                code: self.code,
                message: &self.message,
                uri: format!("{doc}#{}", self.kind),
                field: self.field.as_deref(),
                reason: self.reason,
            },
        };
        serde_json::to_string(&body).unwrap_or_else(|_| "{}".into())
    }

    /// The error for a bare status that a layer produced without a body.
    pub fn for_status(status: StatusCode) -> Self {
        match status {
            StatusCode::NOT_FOUND => {
                Self::new(status, "not_found", codes::ROUTE_NOT_FOUND, "no such route")
            }
            StatusCode::METHOD_NOT_ALLOWED => Self::new(
                status,
                "invalid_method",
                codes::METHOD_NOT_ALLOWED,
                "method not allowed on this route",
            ),
            StatusCode::PAYLOAD_TOO_LARGE => Self::new(
                status,
                "invalid_body",
                codes::BODY_TOO_LARGE,
                "the request body is too large",
            ),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => Self::new(
                status,
                "invalid_request",
                codes::UNSUPPORTED_MEDIA_TYPE,
                "the body must be application/json",
            ),
            s if s.is_client_error() => {
                Self::new(s, "invalid_request", codes::INVALID_BODY, "invalid request")
            }
            s => Self::new(
                s,
                "server_error",
                codes::UNAVAILABLE,
                "the server cannot answer now",
            ),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status == StatusCode::TOO_MANY_REQUESTS {
            super::metrics::rate_limited(self.reason.unwrap_or("other"));
        }
        let body = self.body();
        let mut res = (self.status, body).into_response();
        res.headers_mut().insert(
            axum::http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        for (k, v) in self.headers {
            if let Ok(v) = HeaderValue::from_str(&v) {
                res.headers_mut().insert(HeaderName::from_static(k), v);
            }
        }
        res
    }
}

impl From<OtpError> for ApiError {
    fn from(e: OtpError) -> Self {
        let msg = e.to_string();
        let bad = StatusCode::BAD_REQUEST;
        match e {
            OtpError::SenderNotAllowed(_) => {
                ApiError::new(bad, "invalid_param", 2005, msg).with_field("from")
            }
            OtpError::CreditExceeded { .. } => ApiError::new(
                StatusCode::PAYMENT_REQUIRED,
                "insufficient_credit",
                codes::CREDIT_EXCEEDED,
                msg,
            )
            .with_reason("credit"),
            OtpError::SenderRefused(_) => {
                ApiError::new(bad, "invalid_param", codes::SENDER_REFUSED, msg)
                    .with_field("from")
                    .with_reason("sender_refused")
            }
            OtpError::TooManyParts { .. } => {
                ApiError::new(bad, "invalid_param", 2006, msg).with_field("template")
            }
            OtpError::CountryNotAllowed(_) => {
                ApiError::new(bad, "no_coverage", codes::COUNTRY_NOT_ALLOWED, msg)
                    .with_field("phoneNumber")
                    .with_reason("country_not_allowed")
            }
            OtpError::NumberTypeNotAllowed(kind) => {
                ApiError::new(bad, "invalid_param", codes::NUMBER_TYPE_NOT_ALLOWED, msg)
                    .with_field("phoneNumber")
                    .with_reason(kind.as_str())
            }
            OtpError::NoAllowedRoute => {
                ApiError::new(bad, "no_coverage", codes::NO_ALLOWED_ROUTE, msg)
                    .with_field("phoneNumber")
                    .with_reason("no_allowed_route")
            }
            OtpError::Blocked(b) => {
                let (status, kind, code) = match b {
                    Blocked::PrefixVelocity { .. } => (
                        StatusCode::TOO_MANY_REQUESTS,
                        "rate_limit",
                        codes::PREFIX_VELOCITY,
                    ),
                    Blocked::CountryDailyCap { .. } => (
                        StatusCode::TOO_MANY_REQUESTS,
                        "rate_limit",
                        codes::COUNTRY_DAILY_CAP,
                    ),
                    Blocked::LowConversion { .. } => (
                        StatusCode::FORBIDDEN,
                        "access_denied",
                        codes::LOW_CONVERSION,
                    ),
                };
                ApiError::new(status, kind, code, msg)
                    .with_field("phoneNumber")
                    .with_reason(b.reason())
                    .retry_after(b.retry_after())
            }
            OtpError::ResendLimit { .. } => ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limit",
                codes::RESEND_LIMIT,
                msg,
            )
            .with_reason("resend_limit"),
            OtpError::NumberLimited { retry_after } => ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limit",
                codes::NUMBER_RATE_LIMIT,
                msg,
            )
            .with_field("phoneNumber")
            .with_reason("number_limit")
            .retry_after(retry_after),
            OtpError::TenantLimited { info, retry_after } => ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limit",
                codes::TENANT_RATE_LIMIT,
                msg,
            )
            .rate_headers(&info)
            .with_reason("tenant_rate")
            .retry_after(retry_after),
            OtpError::NotFound => ApiError::new(StatusCode::NOT_FOUND, "not_found", 2021, msg),
            OtpError::PinMissing => {
                ApiError::new(bad, "invalid_param", 2022, msg).with_field("pin")
            }
            OtpError::AlreadyVerified => ApiError::new(bad, "otp_verified", 2023, msg),
            OtpError::Cancelled => ApiError::new(bad, "otp_cancelled", 2024, msg),
            OtpError::Expired => ApiError::new(bad, "otp_expired", 2025, msg),
            OtpError::AlreadyFailed => ApiError::new(bad, "otp_failed", 2026, msg),
            OtpError::LastAttemptFailed => ApiError::new(bad, "otp_failed", 2027, msg),
            OtpError::PinReplaced { .. } => {
                ApiError::new(bad, "otp_expired", 2028, msg).with_field("pin")
            }
            OtpError::WrongPin { .. } => {
                ApiError::new(bad, "invalid_pin", 2029, msg).with_field("pin")
            }
            OtpError::AlreadyCancelled => {
                ApiError::new(StatusCode::FORBIDDEN, "access_denied", 2030, msg)
            }
            OtpError::NotPending => {
                ApiError::new(StatusCode::FORBIDDEN, "access_denied", 2031, msg)
            }
            OtpError::StoreFull => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "server_error",
                codes::STORE_FULL,
                msg,
            )
            .with_reason("store_full")
            .retry_after(Duration::from_secs(5)),
            OtpError::Unavailable {
                cause, retry_after, ..
            } => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "server_error",
                codes::UNAVAILABLE,
                msg,
            )
            .with_reason(cause)
            .retry_after(retry_after),
        }
    }
}
