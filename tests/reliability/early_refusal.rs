//! A full send queue refuses creates before doing their work: the 503 `queue_full` comes before
//! the body is read or parsed, while authentication still comes first and an idempotent retry
//! of an admitted create still gets its stored reply; once the queue drains, creates are taken
//! and bodies parsed again. The connection's own answer to such a create (before the request
//! envelope and the router) is the answer the handler gives.

use std::time::{Duration, Instant};

use crate::support::prom;
use crate::support::stack::*;
use otpgate_sim::{self as sim, Latency, SimConfig};
use serde_json::{json, Value};
use tokio::net::TcpListener;

/// The metrics are the process's: the tests that count refusals run one at a time.
static COUNTING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// An engine whose only SMSC answers after `latency`, with a send queue of `capacity` and a
/// window of `window`: the queue fills after `capacity + window` creates and stays full until
/// the first answers come (so `latency` must outlast what a test checks on the full queue,
/// on a machine as loaded as CI's).
async fn slow_smsc_stack(capacity: u64, window: u64, latency: Duration) -> (sim::SimHandle, Stack) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sim = sim::spawn(listener, SimConfig::default()).await.unwrap();
    sim.set_latency(Latency::Fixed { value: latency });
    let toml = format!(
        "{}{}\n[engine]\nqueue_capacity = {capacity}\n",
        base_toml(),
        smsc_toml("slow", sim.local_addr(), &format!("window = {window}"))
    );
    (sim, Stack::start(&toml).await)
}

async fn post_raw(client: &reqwest::Client, base: &str, body: &'static str) -> reqwest::Response {
    client
        .post(format!("{base}/otp"))
        .bearer_auth(TOKEN)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn post_with_key(client: &reqwest::Client, base: &str, key: &str) -> reqwest::Response {
    client
        .post(format!("{base}/otp"))
        .bearer_auth(TOKEN)
        .header("idempotency-key", key)
        .json(&json!({"phoneNumber": phone(0)}))
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_queue_refuses_creates_before_reading_them() {
    let _counting = COUNTING.lock().await;
    let (capacity, window) = (20u64, 4u64);
    // the window's answers come after 15 s, and only then the queue drains: the checks on the
    // full queue (about thirty requests) must end before, under load too
    let latency = Duration::from_secs(15);
    let (sim, stack) = slow_smsc_stack(capacity, window, latency).await;
    let base = stack.base.clone();
    let client = reqwest::Client::new();

    let first = post_with_key(&client, &base, "early-refusal-1").await;
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();

    // Fill the queue: the window's messages go to the slow SMSC, the rest wait.
    let mut n = 1;
    loop {
        let a = create(&client, &base, &phone(n), None).await;
        n += 1;
        if a.status == 503 {
            assert_eq!(a.body["error"]["reason"], "queue_full", "{a:?}");
            break;
        }
        assert_eq!(a.status, 201, "{a:?}");
        assert!(n <= capacity + window + 10, "the queue never filled");
    }
    let m = stack.metrics().await;
    let blocked_before = prom::value(&m, "otpgate_blocked_total", &[("reason", "dispatch")])
        .expect("blocked counter");

    // Not JSON at all: refused for the queue, so its body was never parsed.
    let res = post_raw(&client, &base, "{not json").await;
    assert_eq!(res.status(), 503);
    assert!(res.headers().contains_key("retry-after"));
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["reason"], "queue_full", "{body}");
    assert!(body["error"]["message"]
        .as_str()
        .is_some_and(|m| !m.is_empty()));

    // Authentication still comes first.
    let anonymous = client
        .post(format!("{base}/otp"))
        .json(&json!({"phoneNumber": phone(n)}))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);

    // The retry of the admitted create replays its reply, full queue or not.
    let again = post_with_key(&client, &base, "early-refusal-1").await;
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["otpId"], first["otpId"]);

    let m = stack.metrics().await;
    let blocked_after = prom::value(&m, "otpgate_blocked_total", &[("reason", "dispatch")])
        .expect("blocked counter");
    assert_eq!(
        blocked_after,
        blocked_before + 1.0,
        "early refusals are counted"
    );

    // The SMSC answers at once again: the queue drains and creates are taken.
    sim.set_latency(Latency::None);
    let since = Instant::now();
    loop {
        let a = create(&client, &base, &phone(n), None).await;
        n += 1;
        if a.status == 201 {
            break;
        }
        assert_eq!(a.body["error"]["reason"], "queue_full", "{a:?}");
        assert!(
            since.elapsed() < latency + Duration::from_secs(20),
            "the queue never drained"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let res = post_raw(&client, &base, "{not json").await;
    assert_eq!(
        res.status(),
        400,
        "with room in the queue the body is parsed"
    );
    stack.stop(Duration::from_secs(20)).await;
}

/// One refused create: its status, body and the headers that matter.
struct Refusal {
    status: u16,
    content_type: String,
    retry_after: String,
    request_id: String,
    body: Value,
}

async fn refused(req: reqwest::RequestBuilder) -> Refusal {
    let res = req
        .header("content-type", "application/json")
        .body(r#"{"phoneNumber":"+447400100001"}"#)
        .send()
        .await
        .unwrap();
    let header = |name: &str| {
        res.headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    };
    let (content_type, retry_after, request_id) = (
        header("content-type"),
        header("retry-after"),
        header("x-request-id"),
    );
    Refusal {
        status: res.status().as_u16(),
        content_type,
        retry_after,
        request_id,
        body: res.json().await.unwrap(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_connections_refusal_is_the_handlers() {
    let _counting = COUNTING.lock().await;
    let (capacity, window) = (10u64, 2u64);
    let (_sim, stack) = slow_smsc_stack(capacity, window, Duration::from_secs(5)).await;
    let base = stack.base.clone();
    let client = reqwest::Client::new();
    let mut n = 1;
    loop {
        let a = create(&client, &base, &phone(n), None).await;
        n += 1;
        if a.status == 503 {
            break;
        }
        assert_eq!(a.status, 201, "{a:?}");
        assert!(n <= capacity + window + 10, "the queue never filled");
    }
    let counts = |m: &str| {
        let requests = prom::value(
            m,
            "otpgate_http_requests_total",
            &[("route", "/otp"), ("method", "POST"), ("status", "5xx")],
        );
        let blocked = prom::value(m, "otpgate_blocked_total", &[("reason", "dispatch")]);
        (requests.expect("requests"), blocked.expect("blocked"))
    };
    let before = counts(&stack.metrics().await);

    let url = format!("{base}/otp");
    // Answered by the connection: a known key, no Idempotency-Key, no Origin.
    let early = refused(
        client
            .post(&url)
            .bearer_auth(TOKEN)
            .header("x-request-id", "refusal-probe-1"),
    )
    .await;
    // The same create with an Origin goes through the router and the handler (no CORS is
    // configured, so nothing is added to the answer).
    let handled = refused(
        client
            .post(&url)
            .bearer_auth(TOKEN)
            .header("origin", "https://app.example"),
    )
    .await;
    // HTTP/2 and the X-API-KEY header: answered by the connection too.
    let h2 = reqwest::Client::builder()
        .http2_prior_knowledge()
        .build()
        .unwrap();
    let early_h2 = refused(h2.post(&url).header("x-api-key", TOKEN)).await;

    for r in [&early, &handled, &early_h2] {
        assert_eq!(r.status, 503);
        assert_eq!(r.body, handled.body);
        assert_eq!(r.content_type, "application/json");
        assert_eq!(r.retry_after, handled.retry_after);
    }
    assert_eq!(handled.body["error"]["reason"], "queue_full");
    assert!(handled.retry_after.parse::<u64>().unwrap() >= 1);
    assert_eq!(
        early.request_id, "refusal-probe-1",
        "the client's id is kept"
    );
    for generated in [&handled.request_id, &early_h2.request_id] {
        assert_eq!(generated.len(), 36, "a generated UUID: {generated}");
    }
    assert_ne!(handled.request_id, early_h2.request_id);

    // Still nothing for a client without a valid key, whatever the path.
    for req in [
        client.post(&url).bearer_auth("not-a-token"),
        h2.post(&url).header("x-api-key", "not-a-token"),
    ] {
        let res = req
            .json(&json!({"phoneNumber": phone(n)}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"]["type"], "invalid_api_key", "{body}");
    }

    let after = counts(&stack.metrics().await);
    assert_eq!(
        after.0,
        before.0 + 3.0,
        "each refusal counted as a 5xx of POST /otp"
    );
    assert_eq!(
        after.1,
        before.1 + 3.0,
        "each refusal counted as blocked by dispatch"
    );
    stack.stop(Duration::from_secs(20)).await;
}
