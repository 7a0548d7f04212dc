//! A full send queue refuses creates before doing their work: the 503 `queue_full` comes before
//! the body is read or parsed, while authentication still comes first and an idempotent retry
//! of an admitted create still gets its stored reply; once the queue drains, creates are taken
//! and bodies parsed again.

use std::time::{Duration, Instant};

use crate::support::prom;
use crate::support::stack::*;
use otpgate_sim::{self as sim, Latency, SimConfig};
use serde_json::{json, Value};
use tokio::net::TcpListener;

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
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sim = sim::spawn(listener, SimConfig::default()).await.unwrap();
    sim.set_latency(Latency::Fixed {
        value: Duration::from_secs(5),
    });
    let (capacity, window) = (20u64, 4u64);
    let toml = format!(
        "{}{}\n[engine]\nqueue_capacity = {capacity}\n",
        base_toml(),
        smsc_toml("slow", sim.local_addr(), &format!("window = {window}"))
    );
    let stack = Stack::start(&toml).await;
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
            since.elapsed() < Duration::from_secs(20),
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
