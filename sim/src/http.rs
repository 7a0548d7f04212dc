//! The simulator's small HTTP endpoint: `GET /counters` and `GET /messages[?to=DEST]` as JSON.

use std::convert::Infallible;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use super::SimHandle;

/// Serves until the simulator shuts down.
pub async fn serve(handle: SimHandle, listener: TcpListener) {
    let shutdown = handle.shutdown_token();
    loop {
        let stream = tokio::select! {
            _ = shutdown.cancelled() => return,
            a = listener.accept() => match a {
                Ok((s, _)) => s,
                Err(e) => {
                    tracing::warn!(error = %e, "http accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let h = handle.clone();
        let stop = shutdown.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| {
                let h = h.clone();
                async move { Ok::<_, Infallible>(route(&h, req)) }
            });
            let conn = http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(std::time::Duration::from_secs(10))
                .serve_connection(TokioIo::new(stream), service);
            tokio::select! {
                _ = conn => {}
                _ = stop.cancelled() => {}
            }
        });
    }
}

fn json(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    r
}

/// Percent-decodes a query value (`%2B` and `+` both allowed for a leading plus).
fn query_value(query: &str, key: &str) -> Option<String> {
    let raw = query
        .split('&')
        .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))?;
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok());
            if let Some(v) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b);
        i += 1;
    }
    Some(String::from_utf8_lossy(&out).into_owned())
}

fn route(h: &SimHandle, req: Request<Incoming>) -> Response<Full<Bytes>> {
    if req.method() != Method::GET {
        return json(
            StatusCode::METHOD_NOT_ALLOWED,
            r#"{"error":"method not allowed"}"#.into(),
        );
    }
    let query = req.uri().query().unwrap_or("");
    match req.uri().path() {
        "/counters" => json(
            StatusCode::OK,
            serde_json::to_string(&h.counters()).unwrap_or_default(),
        ),
        "/messages" => {
            let msgs = match query_value(query, "to") {
                Some(to) => h.messages_to(&to),
                None => h.messages(),
            };
            json(
                StatusCode::OK,
                serde_json::to_string(&msgs).unwrap_or_default(),
            )
        }
        _ => json(StatusCode::NOT_FOUND, r#"{"error":"not found"}"#.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::query_value;

    #[test]
    fn decodes_query_values() {
        assert_eq!(
            query_value("to=%2B4477&x=1", "to").as_deref(),
            Some("+4477")
        );
        assert_eq!(query_value("a=1&to=+4477", "to").as_deref(), Some("+4477"));
        assert_eq!(query_value("to=%zz", "to").as_deref(), Some("%zz"));
        assert_eq!(query_value("x=1", "to"), None);
    }
}
