//! A tenant is its `[[tenants]] id`, never its position in the list: engines on one real Redis
//! with their tenants reordered between starts, or two nodes with different orders at once
//! (a rolling deploy), each tenant finds its own OTPs and nobody else's on every access path
//! (get, verify, cancel, resend, idempotent replay), and callbacks are signed with the OTP's
//! own tenant's secret or, on a node that does not know that tenant, not sent at all. Real
//! HTTP on 127.0.0.1 against servers of `tests/support/server.rs`, real Redis
//! (`OTPGATE_REDIS_URL`).

use std::time::Duration;

use otpgate::config::{Config, StoreKind, TenantConfig};
use serde_json::{json, Value};

use crate::support::receiver::Receiver;
use crate::support::server::{tenant, test_config, Server, TOKEN, TOKEN2};
use crate::support::store::{redis_url, unique_prefix};

const SECRET_ONE: &str = "callback-secret-of-one";
const SECRET_TWO: &str = "callback-secret-of-two";

fn one() -> TenantConfig {
    TenantConfig {
        callback_secret: Some(SECRET_ONE.into()),
        ..tenant("one", TOKEN)
    }
}

fn two() -> TenantConfig {
    TenantConfig {
        callback_secret: Some(SECRET_TWO.into()),
        ..tenant("two", TOKEN2)
    }
}

/// An engine on the shared Redis under `prefix`, with `tenants` in this order.
async fn node(prefix: &str, tenants: Vec<TenantConfig>) -> Server {
    let mut c: Config = test_config();
    c.tenants = tenants;
    c.store.kind = StoreKind::Redis;
    c.store.url = redis_url();
    c.store.key_prefix = prefix.to_owned();
    c.validate().expect("valid node config");
    let prepared = otpgate::app::prepare_store(&c).await.expect("Redis store");
    Server::start_prepared(c, prepared).await
}

/// One request as the tenant of `token`: status, JSON body, whether it was a replay.
async fn call(
    s: &Server,
    method: reqwest::Method,
    path: &str,
    token: &str,
    body: Option<Value>,
    idempotency_key: Option<&str>,
) -> (u16, Value, bool) {
    let mut req = s.client.request(method, s.url(path)).bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    if let Some(k) = idempotency_key {
        req = req.header("idempotency-key", k);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let replayed = res.headers().contains_key("idempotent-replayed");
    (status, res.json().await.unwrap_or(Value::Null), replayed)
}

async fn get(s: &Server, id: &str, token: &str) -> (u16, Value) {
    let (status, body, _) = call(
        s,
        reqwest::Method::GET,
        &format!("/otp/{id}"),
        token,
        None,
        None,
    )
    .await;
    (status, body)
}

async fn create(s: &Server, token: &str, body: Value) -> String {
    let (status, otp, _) = call(s, reqwest::Method::POST, "/otp", token, Some(body), None).await;
    assert_eq!(status, 201, "{otp}");
    otp["otpId"].as_str().unwrap().to_owned()
}

fn assert_not_found(what: &str, status: u16, body: &Value) {
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (404, json!(2021)),
        "{what}: {body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs redis-server (OTPGATE_REDIS_URL, set by .ci/install.d/50-redis.sh)"]
async fn reordering_the_tenants_between_starts_keeps_each_tenants_otps() {
    let prefix = unique_prefix("reorder");
    let first = node(&prefix, vec![one(), two()]).await;
    let of_one = create(&first, TOKEN, json!({"phoneNumber": "+447400120001"})).await;
    let of_two = create(&first, TOKEN2, json!({"phoneNumber": "+447400120002"})).await;
    let pin_of_one = first.dispatcher.pin_for(&of_one);
    first.stop().await;

    let second = node(&prefix, vec![two(), one()]).await;
    assert_eq!(
        get(&second, &of_one, TOKEN).await.0,
        200,
        "one still finds its OTP"
    );
    assert_eq!(
        get(&second, &of_two, TOKEN2).await.0,
        200,
        "two still finds its OTP"
    );
    let (status, body) = get(&second, &of_two, TOKEN).await;
    assert_not_found("one reading two's OTP", status, &body);
    let (status, body) = get(&second, &of_one, TOKEN2).await;
    assert_not_found("two reading one's OTP", status, &body);
    let (status, body, _) = call(
        &second,
        reqwest::Method::POST,
        &format!("/otp/{of_one}/verify"),
        TOKEN,
        Some(json!({"pin": pin_of_one})),
        None,
    )
    .await;
    assert_eq!((status, body), (200, json!({"status": "VERIFIED"})));
    second.stop().await;
}

/// A rolling deploy: two nodes on one Redis at once, the tenants in different orders.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs redis-server (OTPGATE_REDIS_URL, set by .ci/install.d/50-redis.sh)"]
async fn nodes_with_the_tenants_in_different_orders_share_one_redis() {
    let prefix = unique_prefix("rolling");
    let old = node(&prefix, vec![one(), two()]).await;
    let new = node(&prefix, vec![two(), one()]).await;
    let on_old = create(&old, TOKEN, json!({"phoneNumber": "+447400120011"})).await;
    let on_new = create(&new, TOKEN, json!({"phoneNumber": "+447400120012"})).await;
    for (id, created_on) in [(&on_old, &old), (&on_new, &new)] {
        for s in [&old, &new] {
            assert_eq!(
                get(s, id, TOKEN).await.0,
                200,
                "one reads its OTP on both nodes"
            );
            let (status, body) = get(s, id, TOKEN2).await;
            assert_not_found("two reading one's OTP", status, &body);
        }
        let pin = created_on.dispatcher.pin_for(id);
        let other = if std::ptr::eq(created_on, &old) {
            &new
        } else {
            &old
        };
        let (status, body, _) = call(
            other,
            reqwest::Method::POST,
            &format!("/otp/{id}/verify"),
            TOKEN,
            Some(json!({"pin": pin})),
            None,
        )
        .await;
        assert_eq!(
            (status, body),
            (200, json!({"status": "VERIFIED"})),
            "verified on the other node"
        );
    }
    old.stop().await;
    new.stop().await;
}

/// Another tenant at the same position as the owner (the list replaced between two starts)
/// finds nothing on any path, and its attempts change nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs redis-server (OTPGATE_REDIS_URL, set by .ci/install.d/50-redis.sh)"]
async fn a_tenant_at_another_tenants_position_finds_none_of_its_otps_on_any_path() {
    let prefix = unique_prefix("mismatch");
    let owner_node = node(&prefix, vec![one()]).await;
    let body = json!({"phoneNumber": "+447400120021"});
    let (status, created, _) = call(
        &owner_node,
        reqwest::Method::POST,
        "/otp",
        TOKEN,
        Some(body.clone()),
        Some("order-77"),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let id = created["otpId"].as_str().unwrap().to_owned();
    let pin = owner_node.dispatcher.pin_for(&id);
    owner_node.stop().await;

    // the same Redis, tenant `two` alone: at position 0, where `one` was
    let intruder = node(&prefix, vec![two()]).await;
    use reqwest::Method;
    let paths: [(&str, Method, String, Option<Value>); 5] = [
        ("get", Method::GET, format!("/otp/{id}"), None),
        (
            "verify, wrong PIN",
            Method::POST,
            format!("/otp/{id}/verify"),
            Some(json!({"pin": "0"})),
        ),
        (
            "verify, right PIN",
            Method::POST,
            format!("/otp/{id}/verify"),
            Some(json!({"pin": pin})),
        ),
        ("resend", Method::POST, format!("/otp/{id}/resend"), None),
        ("cancel", Method::DELETE, format!("/otp/{id}"), None),
    ];
    for (what, method, path, body) in paths {
        let (status, reply, _) = call(&intruder, method, &path, TOKEN2, body, None).await;
        assert_not_found(what, status, &reply);
    }
    // the same Idempotency-Key and body: a new OTP of its own, never the owner's reply
    let (status, reply, replayed) = call(
        &intruder,
        Method::POST,
        "/otp",
        TOKEN2,
        Some(body),
        Some("order-77"),
    )
    .await;
    assert_eq!(status, 201, "{reply}");
    assert!(
        !replayed,
        "the owner's reply replayed to another tenant: {reply}"
    );
    assert_ne!(reply["otpId"], json!(id));
    intruder.stop().await;

    // the owner's OTP is untouched: no attempt used, not cancelled, not resent
    let owner_node = node(&prefix, vec![one()]).await;
    let (status, otp) = get(&owner_node, &id, TOKEN).await;
    assert_eq!(status, 200, "{otp}");
    assert_eq!(
        (&otp["status"], &otp["attempts"], &otp["resends"]),
        (&json!("PENDING"), &json!(0), &json!(0)),
        "{otp}"
    );
    owner_node.stop().await;
}

/// Callbacks are signed with the OTP's tenant's secret on a node whose list has that tenant
/// elsewhere, and dropped (counted as `orphaned`) on a node that does not know the tenant:
/// never signed with another tenant's secret.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs redis-server (OTPGATE_REDIS_URL, set by .ci/install.d/50-redis.sh)"]
async fn callbacks_are_signed_by_the_otps_own_tenant_or_not_sent() {
    let prefix = unique_prefix("cbsign");
    let receiver = Receiver::start(0, false).await;
    let a = node(&prefix, vec![one(), two()]).await;
    let b = node(&prefix, vec![two(), one()]).await;
    let stranger = TenantConfig {
        callback_secret: Some("callback-secret-of-three".into()),
        ..tenant("three", "token-three-0003")
    };
    let c = node(&prefix, vec![stranger]).await;
    let id = create(
        &a,
        TOKEN,
        json!({"phoneNumber": "+447400120031", "otpCallbackUrl": receiver.url}),
    )
    .await;

    // node C reports the SMS sent: a change of an OTP whose tenant C does not know
    let orphaned = || async {
        let scrape = c
            .client
            .get(c.url("/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        crate::support::prom::value(
            &scrape,
            "otpgate_callback_deliveries_total",
            &[("outcome", "orphaned")],
        )
        .unwrap_or(0.0)
    };
    let before = orphaned().await;
    c.sink
        .record(otpgate::dispatch::DeliveryUpdate::Submitted {
            otp_id: id.clone(),
            smsc: "smsc-c".into(),
            message_ids: vec!["c0ffee".into()],
        })
        .await
        .expect("recorded");
    let mut counted = false;
    for _ in 0..200 {
        if orphaned().await > before {
            counted = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        counted,
        "node C dropped the update of a tenant it does not know"
    );

    // node B (tenant `one` second in its list) cancels it: signed with one's secret
    let (status, body, _) = call(
        &b,
        reqwest::Method::DELETE,
        &format!("/otp/{id}"),
        TOKEN,
        None,
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let got = receiver
        .wait_until(Duration::from_secs(20), |u| {
            u.iter().any(|o| o["status"] == "CANCELLED")
        })
        .await;
    assert!(got.iter().any(|o| o["status"] == "CANCELLED"), "{got:?}");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let received = receiver.received();
    assert!(!received.is_empty());
    for r in &received {
        let signature = r.signature.as_deref().expect("signed");
        assert!(
            otpgate::callbacks::sign::verify(SECRET_ONE.as_bytes(), signature, &r.body, now, 300),
            "every callback of one's OTP is signed with one's secret: {}",
            r.json
        );
    }
    a.stop().await;
    b.stop().await;
    c.stop().await;
}
