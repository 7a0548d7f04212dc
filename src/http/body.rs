//! Request bodies: size limit (413), content type (415) and JSON syntax (400), every refusal
//! with the JSON error body.

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode};
use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use serde_json::Value;

use super::error::ApiError;
use super::request_headers::RequestHeaders;

fn json_content_type(content_type: Option<&HeaderValue>) -> Result<(), ApiError> {
    let Some(ct) = content_type else {
        return Ok(()); // curl -d without -H: read it as JSON
    };
    // what nearly every client sends, compared whole before any parsing
    if ct.as_bytes() == b"application/json" {
        return Ok(());
    }
    let ct = ct.to_str().unwrap_or("");
    let mime = ct.split(';').next().unwrap_or("").trim();
    // compared without case, without a lowercase copy
    let has_prefix = |p: &str| {
        mime.get(..p.len())
            .is_some_and(|m| m.eq_ignore_ascii_case(p))
    };
    let has_suffix = |p: &str| {
        mime.len()
            .checked_sub(p.len())
            .and_then(|start| mime.get(start..))
            .is_some_and(|m| m.eq_ignore_ascii_case(p))
    };
    if mime.eq_ignore_ascii_case("application/json")
        || (has_prefix("application/") && has_suffix("+json"))
    {
        Ok(())
    } else {
        Err(ApiError::for_status(StatusCode::UNSUPPORTED_MEDIA_TYPE))
    }
}

/// The bytes of `body`, refused with 413 past `limit`. A body that comes in one frame (a
/// create's, nearly always) is taken as it came, without the collector's list of frames.
async fn body_bytes(mut body: Body, limit: usize) -> Result<Bytes, ApiError> {
    let unreadable = || ApiError::invalid_body("the request body could not be read");
    let mut first: Option<Bytes> = None;
    let mut joined = BytesMut::new();
    let mut total = 0usize;
    while let Some(frame) = body.frame().await {
        let Ok(data) = frame.map_err(|_| unreadable())?.into_data() else {
            continue; // trailers
        };
        total = total.saturating_add(data.len());
        if total > limit {
            return Err(ApiError::for_status(StatusCode::PAYLOAD_TOO_LARGE));
        }
        match first.take() {
            None if joined.is_empty() => first = Some(data),
            earlier => {
                if let Some(earlier) = earlier {
                    joined.extend_from_slice(&earlier);
                }
                joined.extend_from_slice(&data);
            }
        }
    }
    Ok(first.unwrap_or_else(|| joined.freeze()))
}

/// Reads at most `limit` bytes of `body` and parses them as JSON. An empty body reads as
/// `null` when `allow_empty`.
pub async fn read_json(
    headers: &RequestHeaders<'_>,
    body: Body,
    limit: usize,
    allow_empty: bool,
) -> Result<(Value, bytes::Bytes), ApiError> {
    let declared = headers
        .content_length
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(ApiError::for_status(StatusCode::PAYLOAD_TOO_LARGE));
    }
    let bytes = body_bytes(body, limit).await?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        if allow_empty {
            return Ok((Value::Null, bytes));
        }
        return Err(ApiError::invalid_body("the request body is empty"));
    }
    json_content_type(headers.content_type)?;
    let value = serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::invalid_body(format!("malformed JSON: {e}")))?;
    Ok((value, bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the check accepted when it lowercased a copy of the header first.
    fn accepted_by_a_lowercase_copy(ct: &str) -> bool {
        let ct = ct.to_ascii_lowercase();
        let mime = ct.split(';').next().unwrap_or("").trim();
        mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
    }

    #[test]
    fn json_types_are_told_apart_without_case() {
        for ct in [
            "application/json",
            "Application/JSON; charset=utf-8",
            " application/json ;",
            "application/vnd.api+json",
            "APPLICATION/problem+JSON",
            "application/+json",
            "application/jso",
            "application/json5",
            "text/json",
            "+json",
            "application/",
            "text/plain",
            "application/x-www-form-urlencoded",
            "",
            "applicatioN/Ä+json",
            "é",
        ] {
            let Ok(value) = HeaderValue::from_bytes(ct.as_bytes()) else {
                continue;
            };
            let text = value.to_str().unwrap_or("").to_owned();
            assert_eq!(
                json_content_type(Some(&value)).is_ok(),
                accepted_by_a_lowercase_copy(&text),
                "{ct:?}"
            );
        }
        assert!(json_content_type(None).is_ok());
    }
}
