//! Authentication: `Authorization: Bearer <token>` or `X-API-KEY: <token>` names a tenant.

use axum::http::{HeaderMap, HeaderValue};

use super::error::ApiError;
use super::header_names::X_API_KEY;
use crate::otp::tenant::{Tenant, Tenants};

/// The token of a request, if it carries one.
fn token(headers: &HeaderMap) -> Option<&str> {
    token_of(
        headers.get(X_API_KEY),
        headers.get(axum::http::header::AUTHORIZATION),
    )
}

/// The token of a request's `X-API-KEY` (first) or `Authorization: Bearer` header.
fn token_of<'a>(
    api_key: Option<&'a HeaderValue>,
    authorization: Option<&'a HeaderValue>,
) -> Option<&'a str> {
    // A header value read as text is visible ASCII, spaces and tabs: trimming its ASCII
    // whitespace is trimming all of it.
    if let Some(v) = api_key.and_then(|v| v.to_str().ok()) {
        return Some(v.trim_ascii());
    }
    let auth = authorization?.to_str().ok()?.trim_ascii();
    let space = auth.bytes().position(|b| b == b' ')?;
    let (scheme, rest) = (auth.get(..space)?, auth.get(space + 1..)?);
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| rest.trim_ascii())
}

/// The tenant of the request, or 401 `invalid_api_key`.
pub fn tenant<'a>(tenants: &'a Tenants, headers: &HeaderMap) -> Result<&'a Tenant, ApiError> {
    tenant_of_token(tenants, token(headers)).ok_or_else(ApiError::unauthorized)
}

/// The tenant of a request's `X-API-KEY` and `Authorization` headers, already found (`tenant`
/// finds them by name).
pub fn tenant_by<'a>(
    tenants: &'a Tenants,
    api_key: Option<&HeaderValue>,
    authorization: Option<&HeaderValue>,
) -> Option<&'a Tenant> {
    tenant_of_token(tenants, token_of(api_key, authorization))
}

fn tenant_of_token<'a>(tenants: &'a Tenants, token: Option<&str>) -> Option<&'a Tenant> {
    token
        .filter(|t| !t.is_empty() && t.len() <= 512)
        .and_then(|t| tenants.by_token(t))
}

#[cfg(test)]
mod tests {
    use axum::http::{header, HeaderMap, HeaderValue};

    use super::{token, token_of};
    use crate::http::header_names::X_API_KEY;

    #[test]
    fn an_api_key_comes_before_a_bearer_token_and_other_schemes_name_no_one() {
        let key = HeaderValue::from_static(" key ");
        let bearer = HeaderValue::from_static("bEaReR  tok ");
        let basic = HeaderValue::from_static("Basic dXNlcjpwdw==");
        assert_eq!(token_of(Some(&key), Some(&bearer)), Some("key"));
        assert_eq!(token_of(None, Some(&bearer)), Some("tok"));
        assert_eq!(token_of(None, Some(&basic)), None);
        assert_eq!(token_of(None, None), None);
        let tabbed = HeaderValue::from_static("\tBearer\t tok\t");
        assert_eq!(
            token_of(None, Some(&tabbed)),
            None,
            "the scheme ends at a space"
        );
        let spaced = HeaderValue::from_static(" Bearer \ttok\t ");
        assert_eq!(token_of(None, Some(&spaced)), Some("tok"));
        assert_eq!(
            token_of(None, Some(&HeaderValue::from_static("Bearer"))),
            None
        );
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, bearer.clone());
        assert_eq!(token(&headers), Some("tok"));
        headers.insert(X_API_KEY, key);
        assert_eq!(token(&headers), Some("key"));
    }

    /// The reading before it went by bytes (Unicode trimming, a char search).
    fn token_by_chars<'a>(
        api_key: Option<&'a HeaderValue>,
        authorization: Option<&'a HeaderValue>,
    ) -> Option<&'a str> {
        if let Some(v) = api_key.and_then(|v| v.to_str().ok()) {
            return Some(v.trim());
        }
        let auth = authorization?.to_str().ok()?;
        let (scheme, rest) = auth.trim().split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
    }

    proptest::proptest! {
        #[test]
        fn a_token_is_read_as_the_char_reading_read_it(
            key in proptest::option::of("[ \t!-~]{0,12}"),
            auth in proptest::option::of((
                "[ \t]{0,2}(Bearer|bEaReR|Basic|Bearerx|)",
                "[ \t]{0,3}",
                "[ \t!-~]{0,8}",
            )),
        ) {
            let key = key.and_then(|k| HeaderValue::from_str(&k).ok());
            let auth = auth.and_then(|(scheme, gap, rest)| {
                HeaderValue::from_str(&format!("{scheme}{gap}{rest}")).ok()
            });
            proptest::prop_assert_eq!(
                token_of(key.as_ref(), auth.as_ref()),
                token_by_chars(key.as_ref(), auth.as_ref())
            );
        }
    }
}
