//! `GET /`: the status page, one self-contained HTML file (no external asset). It holds no
//! data: its script asks for the admin token (or takes it from the URL fragment
//! `#token=...`, which never reaches the server), keeps it in `sessionStorage` and calls the
//! JSON API with it as a Bearer token.

use axum::http::header;
use axum::response::{IntoResponse, Response};

const PAGE: &str = include_str!("status_page.html");

pub fn response() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            // inline script and style only; the page talks to its own origin alone
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; \
                 connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
            ),
            (header::X_FRAME_OPTIONS, "DENY"),
            (header::REFERRER_POLICY, "no-referrer"),
        ],
        PAGE,
    )
        .into_response()
}
