//! Black-box tests of the abuse limits and of idempotency keys, including concurrent
//! duplicates (exactly one SMS).

use std::time::Duration;

use crate::support::server::{error_of, test_config, Server};
use otpgate::dispatch::DispatchError;
use serde_json::json;

#[tokio::test]
async fn per_number_limit() {
    let mut c = test_config();
    c.limits.per_number = 3;
    let s = Server::start(c).await;
    for _ in 0..3 {
        assert_eq!(
            s.create(json!({"phoneNumber": "+33612345678"})).await.0,
            201
        );
    }
    let res = s
        .post("/otp")
        .json(&json!({"phoneNumber": "+33612345678"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=1200).contains(&retry), "{retry}");
    assert_eq!(
        error_of(&res.json().await.unwrap()),
        ("rate_limit".into(), 1008)
    );
    // the same number in national format is the same number
    let (status, _) = s
        .create(json!({"phoneNumber": "0612345678", "countryIso": "FR"}))
        .await;
    assert_eq!(status, 429);
    assert_eq!(
        s.create(json!({"phoneNumber": "+33612345679"})).await.0,
        201
    );
    // once the window has passed, the number may receive OTPs again
    s.clock.advance(Duration::from_secs(1300));
    assert_eq!(
        s.create(json!({"phoneNumber": "+33612345678"})).await.0,
        201
    );
    s.stop().await;
}

#[tokio::test]
async fn tenant_rate_limit_headers() {
    let mut c = test_config();
    c.tenants[0].rate_limit_per_s = 1;
    c.tenants[0].rate_limit_burst = 3;
    let s = Server::start(c).await;
    let mut limited = None;
    for i in 0..10 {
        let res = s
            .post("/otp")
            .json(&json!({"phoneNumber": format!("+336123456{:02}", 10 + i)}))
            .send()
            .await
            .unwrap();
        if res.status() == 201 {
            assert_eq!(res.headers()["x-rate-limit-limit"], "3");
            assert!(res.headers().contains_key("x-rate-limit-remaining"));
        } else {
            limited = Some(res);
            break;
        }
    }
    let res = limited.expect("ten creates at once passed a 1/s limit");
    assert_eq!(res.status(), 429);
    for h in [
        "retry-after",
        "x-rate-limit-limit",
        "x-rate-limit-remaining",
        "x-rate-limit-reset",
    ] {
        assert!(res.headers().contains_key(h), "{h}");
    }
    assert_eq!(res.headers()["x-rate-limit-remaining"], "0");
    assert_eq!(
        error_of(&res.json().await.unwrap()),
        ("rate_limit".into(), 1007)
    );
    // the other tenant is not limited
    let other = s
        .client
        .post(s.url("/otp"))
        .header("X-API-KEY", crate::support::server::TOKEN2)
        .json(&json!({"phoneNumber": "+33612345699"}))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 201);
    s.stop().await;
}

#[tokio::test]
async fn idempotent_retry_returns_the_first_reply() {
    let s = Server::start(test_config()).await;
    let send = |body: &'static str, key: &'static str| {
        s.post("/otp")
            .header("content-type", "application/json")
            .header("idempotency-key", key)
            .body(body)
            .send()
    };
    let first = send(r#"{"phoneNumber":"+33612345678","ttl":300}"#, "k-1")
        .await
        .unwrap();
    assert_eq!(first.status(), 201);
    let first: serde_json::Value = first.json().await.unwrap();
    // same body, other spacing and key order
    let again = send(r#"{ "ttl": 300, "phoneNumber": "+33612345678" }"#, "k-1")
        .await
        .unwrap();
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let again: serde_json::Value = again.json().await.unwrap();
    assert_eq!(again["otpId"], first["otpId"]);
    assert_eq!(s.dispatcher.count(), 1);
    let other = send(r#"{"phoneNumber":"+33612345679"}"#, "k-1")
        .await
        .unwrap();
    assert_eq!(other.status(), 409);
    assert_eq!(
        error_of(&other.json().await.unwrap()),
        ("duplicate_id".into(), 1011)
    );
    // keys are per tenant
    let t2 = s
        .client
        .post(s.url("/otp"))
        .header("X-API-KEY", crate::support::server::TOKEN2)
        .header("idempotency-key", "k-1")
        .json(&json!({"phoneNumber": "+33612345679"}))
        .send()
        .await
        .unwrap();
    assert_eq!(t2.status(), 201);
    // a bad key
    let bad = send(r#"{"phoneNumber":"+33612345678"}"#, "").await.unwrap();
    assert_eq!(bad.status(), 400);
    s.stop().await;
}

#[tokio::test]
async fn failed_create_does_not_burn_the_key() {
    let s = Server::start(test_config()).await;
    let body = json!({"phoneNumber": "+33612345678"});
    s.dispatcher.refuse_with(Some(DispatchError::ShuttingDown {
        retry_after: Duration::from_secs(1),
    }));
    let res = s
        .post("/otp")
        .header("idempotency-key", "k-2")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 503);
    s.dispatcher.refuse_with(None);
    let res = s
        .post("/otp")
        .header("idempotency-key", "k-2")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    assert!(!res.headers().contains_key("idempotent-replayed"));
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_duplicates_send_one_sms() {
    let s = std::sync::Arc::new(Server::start(test_config()).await);
    let mut tasks = Vec::new();
    for _ in 0..32 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            let res = s
                .post("/otp")
                .header("idempotency-key", "same-key")
                .json(&json!({"phoneNumber": "+33612345678"}))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 201);
            let body: serde_json::Value = res.json().await.unwrap();
            body["otpId"].as_str().unwrap().to_owned()
        }));
    }
    let mut ids = std::collections::HashSet::new();
    for t in tasks {
        ids.insert(t.await.unwrap());
    }
    assert_eq!(ids.len(), 1, "every duplicate got the same OTP");
    assert_eq!(s.dispatcher.count(), 1, "exactly one SMS");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_same_key_different_bodies_one_sms_and_conflicts() {
    let s = std::sync::Arc::new(Server::start(test_config()).await);
    let mut tasks = Vec::new();
    for i in 0..24 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            // two bodies race for the same key
            let phone = if i % 2 == 0 {
                "+33612345678"
            } else {
                "+33612345679"
            };
            let res = s
                .post("/otp")
                .header("idempotency-key", "raced-key")
                .json(&json!({"phoneNumber": phone}))
                .send()
                .await
                .unwrap();
            let status = res.status().as_u16();
            let body: serde_json::Value = res.json().await.unwrap();
            (status, phone, body)
        }));
    }
    let mut created = std::collections::HashSet::new();
    let mut winner_phone = None;
    for t in tasks {
        let (status, phone, body) = t.await.unwrap();
        match status {
            201 => {
                created.insert(body["otpId"].as_str().unwrap().to_owned());
                assert!(
                    winner_phone.is_none_or(|p| p == phone),
                    "both bodies got a 201"
                );
                winner_phone = Some(phone);
            }
            409 => assert_eq!(error_of(&body), ("duplicate_id".into(), 1011)),
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!(created.len(), 1, "one OTP for the key");
    assert_eq!(s.dispatcher.count(), 1, "exactly one SMS");
}

#[tokio::test]
async fn idempotency_keys_last_a_day() {
    let s = Server::start(test_config()).await;
    let body = json!({"phoneNumber": "+33612345678"});
    let send = || {
        s.post("/otp")
            .header("idempotency-key", "day-key")
            .json(&body)
            .send()
    };
    let first: serde_json::Value = send().await.unwrap().json().await.unwrap();
    s.clock.advance(Duration::from_secs(23 * 3600));
    let again = send().await.unwrap();
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let again: serde_json::Value = again.json().await.unwrap();
    assert_eq!(again["otpId"], first["otpId"]);
    assert_eq!(s.dispatcher.count(), 1);
    // past 24 h the key is forgotten: a new OTP
    s.clock.advance(Duration::from_secs(2 * 3600));
    let mut fresh = None;
    for _ in 0..200 {
        let res = send().await.unwrap();
        if !res.headers().contains_key("idempotent-replayed") {
            fresh = Some(res.status());
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(fresh, Some(reqwest::StatusCode::CREATED));
    assert_eq!(s.dispatcher.count(), 2);
    s.stop().await;
}

/// Creates an OTP to `phone` as the tenant of `token`: status, body, Retry-After.
async fn create_as(
    s: &Server,
    token: &str,
    phone: &str,
) -> (u16, serde_json::Value, Option<String>) {
    let res = s
        .client
        .post(s.url("/otp"))
        .bearer_auth(token)
        .json(&json!({"phoneNumber": phone}))
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let retry = res
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, res.json().await.unwrap(), retry)
}

/// The per-number limit and the pumping guard's prefix counters are each tenant's own: one
/// tenant's traffic to a number neither refuses another tenant's create nor shows in its
/// Retry-After.
#[tokio::test]
async fn one_tenant_cannot_spend_another_tenants_per_number_limit() {
    use crate::support::server::{TOKEN, TOKEN2};
    let mut c = test_config();
    c.limits.per_number = 4;
    c.abuse.prefix_digits = 6;
    c.abuse.prefix_limit = 4;
    let s = Server::start(c).await;
    let phone = "+33612345678";
    for _ in 0..4 {
        assert_eq!(create_as(&s, TOKEN, phone).await.0, 201);
    }
    let (status, body, _) = create_as(&s, TOKEN, phone).await;
    assert_eq!(status, 429, "{body}");
    let (status, body, retry) = create_as(&s, TOKEN2, phone).await;
    assert_eq!((status, retry), (201, None), "{body}");
    s.stop().await;
}

/// `[limits] per_number_global` counts creates to a number across tenants; its refusal has a
/// fixed Retry-After (the window), which tells nothing of the other tenants' traffic.
#[tokio::test]
async fn the_global_per_number_layer_refuses_with_a_fixed_retry_after() {
    use crate::support::server::{TOKEN, TOKEN2};
    let mut c = test_config();
    c.limits.per_number = 4;
    c.limits.per_number_window_s = 600;
    c.limits.per_number_global = 6;
    let s = Server::start(c).await;
    let phone = "+33612345679";
    for _ in 0..4 {
        assert_eq!(create_as(&s, TOKEN, phone).await.0, 201);
    }
    for _ in 0..2 {
        assert_eq!(create_as(&s, TOKEN2, phone).await.0, 201);
    }
    let (status, body, retry) = create_as(&s, TOKEN2, phone).await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(error_of(&body), ("rate_limit".into(), 1008));
    assert_eq!(retry.as_deref(), Some("600"));
    assert_eq!(s.dispatcher.count(), 6);
    s.stop().await;
}
