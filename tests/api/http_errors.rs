//! Black-box tests of every request error: parameter codes 2001-2020, malformed bodies, body
//! size, content type, unknown routes and methods, request ids, and engine refusals.

use std::time::Duration;

use crate::support::server::{error_of, test_config, Server, TOKEN};
use otpgate::dispatch::DispatchError;
use serde_json::json;

#[tokio::test]
async fn every_create_parameter_error() {
    let mut c = test_config();
    c.otp.max_segments = 2;
    let s = Server::start(c).await;
    let ok = "+33612345678";
    let cases = [
        (json!({}), 2001, "phoneNumber"),
        (json!({"phoneNumber": 33612345678u64}), 2001, "phoneNumber"),
        (json!({"phoneNumber": ""}), 2001, "phoneNumber"),
        (json!({"phoneNumber": "  "}), 2001, "phoneNumber"),
        (json!({"phoneNumber": "0612345678"}), 2002, "countryIso"),
        (
            json!({"phoneNumber": "0612345678", "countryIso": "F"}),
            2003,
            "countryIso",
        ),
        (
            json!({"phoneNumber": "0612345678", "countryIso": 33}),
            2003,
            "countryIso",
        ),
        (
            json!({"phoneNumber": "0612345678", "countryIso": "QQ"}),
            2003,
            "countryIso",
        ),
        (json!({"phoneNumber": ok, "from": ""}), 2004, "from"),
        (json!({"phoneNumber": ok, "from": "ab"}), 2005, "from"),
        (json!({"phoneNumber": ok, "from": 12345}), 2005, "from"),
        (json!({"phoneNumber": ok, "from": "Ünïcødé€"}), 2005, "from"),
        (
            json!({"phoneNumber": ok, "template": "no placeholder"}),
            2006,
            "template",
        ),
        (
            json!({"phoneNumber": ok, "template": ["{{pin}}"]}),
            2006,
            "template",
        ),
        (
            json!({"phoneNumber": ok, "template_fr": "pas de code"}),
            2006,
            "template_fr",
        ),
        (
            json!({"phoneNumber": ok, "template": format!("{} {{{{pin}}}}", "a".repeat(400))}),
            2006,
            "template",
        ),
        (
            json!({"phoneNumber": ok, "language": "not a language"}),
            2006,
            "language",
        ),
        (json!({"phoneNumber": ok, "ttl": "600"}), 2007, "ttl"),
        (json!({"phoneNumber": ok, "ttl": 59}), 2008, "ttl"),
        (json!({"phoneNumber": ok, "ttl": 1801}), 2009, "ttl"),
        (
            json!({"phoneNumber": ok, "maxAttempts": 1.5}),
            2010,
            "maxAttempts",
        ),
        (
            json!({"phoneNumber": ok, "maxAttempts": 0}),
            2011,
            "maxAttempts",
        ),
        (
            json!({"phoneNumber": ok, "maxAttempts": 11}),
            2012,
            "maxAttempts",
        ),
        (json!({"phoneNumber": ok, "pinType": 1}), 2013, "pinType"),
        (json!({"phoneNumber": ok, "pinType": ""}), 2013, "pinType"),
        (
            json!({"phoneNumber": ok, "pinType": "emoji"}),
            2014,
            "pinType",
        ),
        (
            json!({"phoneNumber": ok, "pinLength": "6"}),
            2015,
            "pinLength",
        ),
        (
            json!({"phoneNumber": ok, "pinLength": 3}),
            2016,
            "pinLength",
        ),
        (
            json!({"phoneNumber": ok, "pinLength": 11}),
            2017,
            "pinLength",
        ),
        (
            json!({"phoneNumber": ok, "trackId": "not-a-uuid"}),
            2018,
            "trackId",
        ),
        (
            json!({"phoneNumber": ok, "otpCallbackUrl": "ftp://example.com/x"}),
            2019,
            "otpCallbackUrl",
        ),
        (
            json!({"phoneNumber": ok, "otpCallbackUrl": "not a url"}),
            2019,
            "otpCallbackUrl",
        ),
        (json!({"phoneNumber": "+33123"}), 2020, "phoneNumber"),
        (json!({"phoneNumber": "hello"}), 2020, "phoneNumber"),
    ];
    for (body, code, field) in cases {
        let (status, reply) = s.create(body.clone()).await;
        assert_eq!(status, 400, "{body} -> {reply}");
        assert_eq!(
            error_of(&reply),
            ("invalid_param".into(), code),
            "{body} -> {reply}"
        );
        assert_eq!(reply["error"]["field"], field, "{body}");
    }
    assert_eq!(s.dispatcher.count(), 0);
    s.stop().await;
}

#[tokio::test]
async fn private_callback_urls_refused_unless_allowed() {
    let mut c = test_config();
    c.callbacks.allow_private = false;
    let s = Server::start(c).await;
    for url in [
        "http://127.0.0.1:9/cb",
        "http://10.0.0.1/cb",
        "http://localhost/cb",
        "http://[::1]/cb",
    ] {
        let (status, reply) = s
            .create(json!({"phoneNumber": "+33612345678", "otpCallbackUrl": url}))
            .await;
        assert_eq!(status, 400, "{url}");
        assert_eq!(error_of(&reply).1, 2019);
    }
    let (status, reply) = s
        .create(json!({"phoneNumber": "+33612345678", "otpCallbackUrl": "https://example.com/cb"}))
        .await;
    assert_eq!(status, 201);
    assert_eq!(reply["otpCallbackUrl"], "https://example.com/cb");
    s.stop().await;
}

#[tokio::test]
async fn malformed_bodies() {
    let s = Server::start(test_config()).await;
    let send = |body: &'static str, ct: &'static str| {
        s.post("/otp").header("content-type", ct).body(body).send()
    };
    for body in ["{", "{\"phoneNumber\": }", "", "[1,2]", "null", "\"x\""] {
        let res = send(body, "application/json").await.unwrap();
        assert_eq!(res.status(), 400, "{body:?}");
        let b: serde_json::Value = res.json().await.unwrap();
        assert_eq!(error_of(&b).0, "invalid_body", "{body:?}");
    }
    let res = send("phoneNumber=1", "application/x-www-form-urlencoded")
        .await
        .unwrap();
    assert_eq!(res.status(), 415);
    assert_eq!(error_of(&res.json().await.unwrap()).1, 1004);
    // verify body too
    let id = s.create_ok("+33612345678").await;
    let res = s
        .post(&format!("/otp/{id}"))
        .header("content-type", "application/json")
        .body("{nope")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    s.stop().await;
}

#[tokio::test]
async fn body_limit_is_413_json() {
    let s = Server::start(test_config()).await;
    let big = format!(
        "{{\"phoneNumber\":\"+33612345678\",\"template\":\"{} {{{{pin}}}}\"}}",
        "a".repeat(17 * 1024)
    );
    let res = s
        .post("/otp")
        .header("content-type", "application/json")
        .body(big.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);
    assert_eq!(error_of(&res.json().await.unwrap()).1, 1003);
    // without Content-Length (chunked)
    let stream = futures::stream::iter(vec![Ok::<_, std::io::Error>(big.into_bytes())]);
    let res = s
        .post("/otp")
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);
    s.stop().await;
}

#[tokio::test]
async fn unknown_routes_and_methods_are_json() {
    let s = Server::start(test_config()).await;
    let res = s.get("/nope").send().await.unwrap();
    assert_eq!(res.status(), 404);
    assert_eq!(res.headers()["content-type"], "application/json");
    assert_eq!(error_of(&res.json().await.unwrap()).0, "not_found");
    let res = s.client.put(s.url("/otp")).send().await.unwrap();
    assert_eq!(res.status(), 405);
    assert!(res.headers().contains_key("allow"));
    assert_eq!(error_of(&res.json().await.unwrap()).0, "invalid_method");
    let res = s.client.patch(s.url("/otp/abc")).send().await.unwrap();
    assert_eq!(res.status(), 405);
    s.stop().await;
}

#[tokio::test]
async fn request_ids() {
    let s = Server::start(test_config()).await;
    let res = s
        .client
        .get(s.url("/healthz"))
        .header("x-request-id", "abc-123.x")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "abc-123.x");
    let res = s
        .client
        .get(s.url("/healthz"))
        .header("x-request-id", "bad id with spaces")
        .send()
        .await
        .unwrap();
    let id = res.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_ne!(id, "bad id with spaces");
    assert_eq!(id.len(), 36);
    let a = s.get("/nope").send().await.unwrap();
    let b = s.get("/nope").send().await.unwrap();
    assert_ne!(a.headers()["x-request-id"], b.headers()["x-request-id"]);
    let unauth = s.client.post(s.url("/otp")).send().await.unwrap();
    assert!(unauth.headers().contains_key("x-request-id"));
    s.stop().await;
}

#[tokio::test]
async fn engine_refusal_is_503_and_keeps_nothing() {
    let s = Server::start(test_config()).await;
    s.dispatcher.refuse_with(Some(DispatchError::QueueFull {
        retry_after: Duration::from_secs(3),
    }));
    let res = s
        .post("/otp")
        .json(&json!({"phoneNumber": "+33612345678"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 503);
    assert_eq!(res.headers()["retry-after"], "3");
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(error_of(&body).0, "server_error");
    assert_eq!(body["error"]["reason"], "queue_full");
    let ready: serde_json::Value = s
        .client
        .get(s.url("/readyz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        ready["otpsPending"], 0,
        "no PENDING OTP for an SMS never queued"
    );
    s.dispatcher.refuse_with(Some(DispatchError::NoRoute {
        retry_after: Duration::from_millis(1500),
    }));
    let res = s
        .post("/otp")
        .json(&json!({"phoneNumber": "+33612345678"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["retry-after"], "2");
    s.dispatcher.refuse_with(None);
    assert_eq!(
        s.create(json!({"phoneNumber": "+33612345678"})).await.0,
        201
    );
    s.stop().await;
}

/// A create is answered by the connection without the router: the request envelope (request
/// id, in-flight limit, timeout, JSON errors) is still around it.
#[tokio::test]
async fn a_create_keeps_the_request_envelope() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let mut c = test_config();
    c.http.max_in_flight = 1;
    c.http.request_timeout_ms = 1500;
    let s = Server::start(c).await;
    // A create whose body never comes holds the one place in flight.
    let addr = s.base.trim_start_matches("http://").to_owned();
    let mut stalled = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /otp HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\nX-Request-Id: stalled-1\r\n\r\n\
         {{\"phoneNumber\""
    );
    stalled.write_all(head.as_bytes()).await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    let crowded = loop {
        let res = s
            .post("/otp")
            .header("x-request-id", "crowded-1")
            .json(&json!({"phoneNumber": "+33612345678"}))
            .send()
            .await
            .unwrap();
        if res.status() == 503 {
            break res;
        }
        assert_eq!(
            res.status(),
            201,
            "only refused once the stalled create is in flight"
        );
        assert!(
            tokio::time::Instant::now() < deadline,
            "the stalled create never held its place"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(crowded.headers()["x-request-id"], "crowded-1");
    assert_eq!(crowded.headers()["content-type"], "application/json");
    assert!(crowded.headers().contains_key("retry-after"));
    assert_eq!(error_of(&crowded.json().await.unwrap()).1, 1014);

    // The stalled create runs out of time: a 503 of its own, its id kept.
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), async {
        let mut buf = [0u8; 4096];
        while !answer.windows(4).any(|w| w == b"\r\n\r\n") {
            match stalled.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => answer.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(read.is_ok(), "the stalled create was never answered");
    let answer = String::from_utf8_lossy(&answer).to_lowercase();
    assert!(answer.starts_with("http/1.1 503"), "{answer}");
    assert!(answer.contains("x-request-id: stalled-1"), "{answer}");
    assert!(
        answer.contains("content-type: application/json"),
        "{answer}"
    );

    // Its place is free again; a bad body is a JSON error with a request id of its own.
    let res = s
        .post("/otp")
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(res.headers()["x-request-id"].len(), 36);
    error_of(&res.json().await.unwrap());
    let (status, body) = s.create(json!({"phoneNumber": "+33612345679"})).await;
    assert_eq!(status, 201, "{body}");
    s.stop().await;
}
