//! Browsers (CORS): the origins of `[http] cors_allowed_origins` may call the API from a page,
//! with credentials, and read the answers. A tenant listing its own `cors_allowed_origins`
//! narrows that set for its requests: a preflight carries no token, so it is answered for the
//! global list; the request itself, authenticated as a tenant whose list does not hold its
//! origin, is refused (403 `access_denied` 1021) without CORS headers: the page can neither
//! send an SMS with that tenant's token nor read the answer.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{header, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_http::cors::{AllowOrigin, CorsLayer};

use super::error::{codes, ApiError};
use super::header_names::{
    IDEMPOTENCY_KEY, IDEMPOTENT_REPLAYED, X_API_KEY, X_RATE_LIMIT_LIMIT, X_RATE_LIMIT_REMAINING,
    X_RATE_LIMIT_RESET, X_REQUEST_ID,
};
use super::settings::HttpConfig;
use super::App;

/// Request headers a page may send: those the API reads.
const ALLOWED_HEADERS: [HeaderName; 5] = [
    header::AUTHORIZATION,
    header::CONTENT_TYPE,
    IDEMPOTENCY_KEY,
    X_API_KEY,
    X_REQUEST_ID,
];

/// Answer headers a page may read beyond the CORS-safelisted ones.
const EXPOSED_HEADERS: [HeaderName; 6] = [
    X_RATE_LIMIT_LIMIT,
    X_RATE_LIMIT_REMAINING,
    X_RATE_LIMIT_RESET,
    header::RETRY_AFTER,
    X_REQUEST_ID,
    IDEMPOTENT_REPLAYED,
];

/// Whether `origin` is written as a browser sends it: `scheme://host[:port]`, `http` or
/// `https`, lower case, no default port, path, query or trailing slash.
pub fn valid_origin(origin: &str) -> bool {
    let Ok(url) = url::Url::parse(origin) else {
        return false;
    };
    matches!(url.scheme(), "http" | "https")
        && url.host().is_some()
        && url.origin().ascii_serialization() == origin
}

/// The CORS layer of `[http] cors_allowed_origins`; `None` when the list is empty (no CORS
/// headers at all, and a preflight gets 405 like any unknown method).
pub fn layer(config: &HttpConfig) -> Option<CorsLayer> {
    let origins: Vec<HeaderValue> = config
        .cors_allowed_origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    if origins.is_empty() {
        return None;
    }
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_credentials(true)
            .allow_methods([Method::GET, Method::POST, Method::DELETE])
            .allow_headers(ALLOWED_HEADERS)
            .expose_headers(EXPOSED_HEADERS)
            .max_age(Duration::from_secs(config.cors_max_age_s)),
    )
}

/// Refuses a request from an origin its tenant does not list, and drops the CORS headers of an
/// answer whose origin is not allowed (tower-http writes some of them, credentials and
/// methods, whatever the origin).
pub async fn narrow(State(app): State<Arc<App>>, req: Request, next: Next) -> Response {
    let tenant_allows = match req.headers().get(header::ORIGIN) {
        Some(origin) => tenant_allows(&app, &req, origin),
        None => true,
    };
    let mut res = if tenant_allows {
        next.run(req).await
    } else {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "access_denied",
            codes::ORIGIN_NOT_ALLOWED,
            "this tenant does not allow requests from this origin",
        )
        .into_response()
    };
    if !res
        .headers()
        .contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN)
        || !tenant_allows
    {
        strip(&mut res);
    }
    res
}

/// Whether the tenant authenticated by `req` (if any) lists `origin` or lists none. A preflight
/// (no token) is answered for the global list.
fn tenant_allows(app: &App, req: &Request, origin: &HeaderValue) -> bool {
    if !app.tenants_narrow_cors {
        return true;
    }
    let Ok(tenant) = super::auth::tenant(&app.tenants, req.headers()) else {
        return true;
    };
    let own = &tenant.config.cors_allowed_origins;
    own.is_empty() || own.iter().any(|o| o.as_bytes() == origin.as_bytes())
}

fn strip(res: &mut Response) {
    let cors: Vec<HeaderName> = res
        .headers()
        .keys()
        .filter(|k| k.as_str().starts_with("access-control-"))
        .cloned()
        .collect();
    for name in cors {
        res.headers_mut().remove(name);
    }
}

#[cfg(test)]
mod tests {
    use super::valid_origin;

    #[test]
    fn origins_are_written_as_browsers_send_them() {
        for ok in [
            "https://app.example.com",
            "http://127.0.0.1:8081",
            "https://[::1]:8443",
        ] {
            assert!(valid_origin(ok), "{ok}");
        }
        for bad in [
            "*",
            "null",
            "app.example.com",
            "https://app.example.com/",
            "https://app.example.com/login",
            "https://App.example.com",
            "https://app.example.com:443",
            "ftp://app.example.com",
            "https://user@app.example.com",
            "https://app.example.com?x=1",
            "",
        ] {
            assert!(!valid_origin(bad), "{bad}");
        }
    }
}
