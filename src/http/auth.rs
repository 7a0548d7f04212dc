//! Authentication: `Authorization: Bearer <token>` or `X-API-KEY: <token>` names a tenant.

use axum::http::HeaderMap;

use super::error::ApiError;
use super::header_names::X_API_KEY;
use crate::otp::tenant::{Tenant, Tenants};

/// The token of a request, if it carries one.
fn token(headers: &HeaderMap) -> Option<&str> {
    if let Some(v) = headers.get(X_API_KEY).and_then(|v| v.to_str().ok()) {
        return Some(v.trim());
    }
    let auth = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, rest) = auth.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
}

/// The tenant of the request, or 401 `invalid_api_key`.
pub fn tenant<'a>(tenants: &'a Tenants, headers: &HeaderMap) -> Result<&'a Tenant, ApiError> {
    let t = token(headers).filter(|t| !t.is_empty() && t.len() <= 512);
    t.and_then(|t| tenants.by_token(t))
        .ok_or_else(ApiError::unauthorized)
}
