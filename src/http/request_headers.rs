//! The request headers the API reads, found in one pass over the request's: a lookup by name
//! hashes the name, a create reads up to seven of them, and a request carries a handful.

use axum::http::{header, HeaderMap, HeaderValue};

use super::header_names::{IDEMPOTENCY_KEY, X_API_KEY, X_REQUEST_ID};

/// Of a header given twice, the first value counts, as `HeaderMap::get` takes it.
#[derive(Default, Clone, Copy)]
pub(super) struct RequestHeaders<'a> {
    pub api_key: Option<&'a HeaderValue>,
    pub authorization: Option<&'a HeaderValue>,
    pub request_id: Option<&'a HeaderValue>,
    pub idempotency_key: Option<&'a HeaderValue>,
    pub origin: Option<&'a HeaderValue>,
    pub content_type: Option<&'a HeaderValue>,
    pub content_length: Option<&'a HeaderValue>,
}

impl<'a> RequestHeaders<'a> {
    pub fn of(headers: &'a HeaderMap) -> Self {
        let mut seen = Self::default();
        for (name, value) in headers {
            // the standard names first: they compare as a tag, the API's own by their bytes
            let slot = if name == header::CONTENT_TYPE {
                &mut seen.content_type
            } else if name == header::CONTENT_LENGTH {
                &mut seen.content_length
            } else if name == header::AUTHORIZATION {
                &mut seen.authorization
            } else if name == header::ORIGIN {
                &mut seen.origin
            } else if name == X_API_KEY {
                &mut seen.api_key
            } else if name == X_REQUEST_ID {
                &mut seen.request_id
            } else if name == IDEMPOTENCY_KEY {
                &mut seen.idempotency_key
            } else {
                continue;
            };
            slot.get_or_insert(value);
        }
        seen
    }
}

#[cfg(test)]
mod tests {
    use axum::http::{header, HeaderMap, HeaderName, HeaderValue};

    use super::RequestHeaders;
    use crate::http::header_names::{IDEMPOTENCY_KEY, X_API_KEY, X_REQUEST_ID};

    /// Each header as `HeaderMap::get` finds it: absent, given once or given twice, among
    /// others.
    #[test]
    fn the_headers_found_in_one_pass_are_those_get_finds() {
        let names = [
            X_API_KEY,
            header::AUTHORIZATION,
            X_REQUEST_ID,
            IDEMPOTENCY_KEY,
            header::ORIGIN,
            header::CONTENT_TYPE,
            header::CONTENT_LENGTH,
        ];
        let found = |seen: &RequestHeaders<'_>| {
            [
                seen.api_key,
                seen.authorization,
                seen.request_id,
                seen.idempotency_key,
                seen.origin,
                seen.content_type,
                seen.content_length,
            ]
            .map(|v| v.cloned())
        };
        for present in 0..(1u32 << names.len()) {
            let mut headers = HeaderMap::new();
            headers.insert(header::HOST, HeaderValue::from_static("otp.example"));
            for (i, name) in names.iter().enumerate() {
                if present & (1 << i) != 0 {
                    headers.append(name.clone(), HeaderValue::from(i));
                    if i % 2 == 0 {
                        headers.append(name.clone(), HeaderValue::from(i + 100));
                    }
                }
            }
            headers.insert(HeaderName::from_static("x-other"), HeaderValue::from(7));
            let expected = names.clone().map(|n| headers.get(n).cloned());
            assert_eq!(
                found(&RequestHeaders::of(&headers)),
                expected,
                "{present:b}"
            );
        }
    }
}
