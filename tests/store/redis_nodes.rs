//! Several otpgate nodes sharing one Redis (`OTPGATE_REDIS_URL`; skipped with a notice when
//! unset): create on one node and verify on another, a node shut down after a create, both
//! nodes verifying one OTP at once, a receipt arriving at the node that did not send the SMS,
//! and a Redis outage answered with 503 (never with a wrong verdict).

use std::time::Duration;

use otpgate::config::{self, Config, StoreKind, TenantConfig};
use otpgate::dispatch::{DeliveryUpdate, ReceiptOutcome};
use otpgate::serve::{self, Started};
use serde_json::{json, Value};

const TOKEN: &str = "shared-tenant-token";

fn node_config(url: &str, prefix: &str) -> Config {
    let mut c = config::load_str("", Vec::<(String, String)>::new()).expect("default config");
    c.store.kind = StoreKind::Redis;
    c.store.url = url.to_owned();
    c.store.key_prefix = prefix.to_owned();
    c.store.timeout_ms = 500;
    c.security.pin_secret = Some("a-shared-secret-of-enough-bytes".into());
    c.limits.per_number = 1000;
    c.tenants.push(TenantConfig {
        name: "t".into(),
        token: TOKEN.into(),
        ..TenantConfig::default()
    });
    c.validate().expect("valid node config");
    c
}

struct Node {
    base: String,
    started: Started,
    running: serve::Running,
}

async fn start(config: Config) -> Node {
    let running = serve::Running::start_on_loopback(config, Duration::from_secs(10))
        .await
        .expect("started");
    Node {
        base: running.base_url(),
        started: running.started.clone(),
        running,
    }
}

impl Node {
    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        post(&self.base, path, body).await
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        let r = reqwest::Client::new()
            .get(format!("{}{path}", self.base))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    /// Creates an OTP to `phone`; its id and the PIN the handset got.
    async fn create(&self, phone: &str) -> (String, String) {
        let (status, otp) = self.post("/otp", json!({"phoneNumber": phone})).await;
        assert_eq!(status, 201, "{otp}");
        let sim = self.started.simulator.clone().expect("embedded simulator");
        // every test sends to each number once
        let sms = sim
            .wait_for_message(phone, 0, Duration::from_secs(10))
            .await
            .expect("the SMS reached the SMSC");
        let pin = sms.text.rsplit(' ').next().unwrap().to_owned();
        (otp["otpId"].as_str().unwrap().to_owned(), pin)
    }

    async fn stop(self) {
        let done = self.running.stop(Duration::from_secs(20)).await;
        assert!(done.is_ok(), "clean shutdown: {done:?}");
    }
}

async fn post(base: &str, path: &str, body: Value) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(format!("{base}{path}"))
        .bearer_auth(TOKEN)
        .json(&body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs redis-server (OTPGATE_REDIS_URL, set by .ci/install.d/50-redis.sh)"]
async fn create_on_one_node_verify_on_another() {
    let url = crate::support::store::redis_url();
    let prefix = crate::support::store::unique_prefix("nodes");
    let a = start(node_config(&url, &prefix)).await;
    let b = start(node_config(&url, &prefix)).await;
    let (id, pin) = a.create("+447400111001").await;
    let (status, otp) = b.get(&format!("/otp/{id}")).await;
    assert_eq!(
        (status, otp["status"].clone()),
        (200, json!("PENDING")),
        "{otp}"
    );
    let wrong = if pin == "000000" { "111111" } else { "000000" };
    let (status, _) = b
        .post(&format!("/otp/{id}/verify"), json!({"pin": wrong}))
        .await;
    assert_eq!(status, 400);
    let (status, ok) = b
        .post(&format!("/otp/{id}/verify"), json!({"pin": pin}))
        .await;
    assert_eq!((status, ok), (200, json!({"status": "VERIFIED"})));
    let (status, _) = a
        .post(&format!("/otp/{id}/verify"), json!({"pin": pin}))
        .await;
    assert_eq!(status, 400, "a second verify on the other node fails");
    let (_, otp) = a.get(&format!("/otp/{id}")).await;
    assert_eq!(
        (otp["status"].clone(), otp["attempts"].clone()),
        (json!("VERIFIED"), json!(1))
    );
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs redis-server (OTPGATE_REDIS_URL, set by .ci/install.d/50-redis.sh)"]
async fn a_node_shut_down_after_create_does_not_lose_the_otp() {
    let url = crate::support::store::redis_url();
    let prefix = crate::support::store::unique_prefix("shutdown");
    let a = start(node_config(&url, &prefix)).await;
    let b = start(node_config(&url, &prefix)).await;
    let (id, pin) = a.create("+447400111002").await;
    a.stop().await;
    let (status, ok) = b
        .post(&format!("/otp/{id}/verify"), json!({"pin": pin}))
        .await;
    assert_eq!((status, ok), (200, json!({"status": "VERIFIED"})));
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs redis-server (OTPGATE_REDIS_URL, set by .ci/install.d/50-redis.sh)"]
async fn concurrent_verifies_on_both_nodes_succeed_once() {
    let url = crate::support::store::redis_url();
    let prefix = crate::support::store::unique_prefix("race");
    let a = start(node_config(&url, &prefix)).await;
    let b = start(node_config(&url, &prefix)).await;
    for round in 0..15 {
        let (id, pin) = a.create(&format!("+4474002{round:05}")).await;
        let path = format!("/otp/{id}/verify");
        let calls = (0..6).map(|i| {
            let base = if i % 2 == 0 {
                a.base.clone()
            } else {
                b.base.clone()
            };
            let (path, pin) = (path.clone(), pin.clone());
            tokio::spawn(async move { post(&base, &path, json!({"pin": pin})).await })
        });
        let mut ok = 0;
        for c in calls.collect::<Vec<_>>() {
            let (status, body) = c.await.unwrap();
            match status {
                200 => ok += 1,
                400 => assert_eq!(body["error"]["code"], json!(2023), "{body}"),
                other => panic!("round {round}: {other} {body}"),
            }
        }
        assert_eq!(ok, 1, "round {round}: exactly one verify succeeds");
    }
    a.stop().await;
    b.stop().await;
}

/// A node wired as `serve` wires it, with a dispatcher that keeps the SMS (the test plays the
/// SMPP engine and reports through the node's own delivery sink).
struct SeamNode {
    server: crate::support::server::Server,
}

async fn seam_node(url: &str, prefix: &str) -> SeamNode {
    let config = node_config(url, prefix);
    let prepared = otpgate::app::prepare_store(&config).await.expect("store");
    SeamNode {
        server: crate::support::server::Server::start_prepared(config, prepared).await,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs redis-server (OTPGATE_REDIS_URL, set by .ci/install.d/50-redis.sh)"]
async fn a_receipt_at_another_node_reaches_the_otp() {
    let url = crate::support::store::redis_url();
    let prefix = crate::support::store::unique_prefix("receipt");
    let a = seam_node(&url, &prefix).await;
    let b = seam_node(&url, &prefix).await;
    let (status, otp) = post(
        &a.server.base,
        "/otp",
        json!({"phoneNumber": "+447400111003"}),
    )
    .await;
    assert_eq!(status, 201, "{otp}");
    let id = otp["otpId"].as_str().unwrap().to_owned();
    // node A's engine: accepted by the SMSC, message id 0x1F2E3D
    a.server
        .sink
        .record(DeliveryUpdate::Submitted {
            otp_id: id.clone(),
            smsc: "smsc-a".into(),
            message_ids: vec!["1F2E3D".into()],
        })
        .await
        .expect("recorded");
    // node B's engine: the receipt comes back on B's bind, its id in decimal
    b.server
        .sink
        .record(DeliveryUpdate::Receipt {
            smsc: "smsc-a".into(),
            message_id: u64::from_str_radix("1F2E3D", 16).unwrap().to_string(),
            outcome: ReceiptOutcome::Delivered,
            error: None,
        })
        .await
        .expect("recorded");
    let (_, otp) = get(&b.server.base, &format!("/otp/{id}")).await;
    assert_eq!(otp["deliveryStatus"], json!("DELIVERED"), "{otp}");
    let (_, otp) = get(&a.server.base, &format!("/otp/{id}")).await;
    assert_eq!(otp["deliveryStatus"], json!("DELIVERED"), "{otp}");
    a.server.stop().await;
    b.server.stop().await;
}

async fn get(base: &str, path: &str) -> (u16, Value) {
    let r = reqwest::Client::new()
        .get(format!("{base}{path}"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs redis-server (OTPGATE_REDIS_URL, set by .ci/install.d/50-redis.sh)"]
async fn a_redis_outage_answers_503_and_never_a_wrong_verdict() {
    let url = crate::support::store::redis_url();
    let upstream = url::Url::parse(&url).unwrap();
    let upstream = format!(
        "{}:{}",
        upstream.host_str().unwrap(),
        upstream.port().unwrap_or(6379)
    );
    let proxy = crate::support::proxy::Proxy::start(&upstream).await;
    let prefix = crate::support::store::unique_prefix("outage");
    let node = seam_node(&format!("redis://{}", proxy.addr()), &prefix).await;
    let base = node.server.base.clone();
    let (status, otp) = post(&base, "/otp", json!({"phoneNumber": "+447400111004"})).await;
    assert_eq!(status, 201, "{otp}");
    let id = otp["otpId"].as_str().unwrap().to_owned();
    let pin = node.server.dispatcher.pin_for(&id);

    proxy.cut();
    let r = reqwest::Client::new()
        .post(format!("{base}/otp"))
        .bearer_auth(TOKEN)
        .json(&json!({"phoneNumber": "+447400111005"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 503);
    assert!(r.headers().get("retry-after").is_some());
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], json!(1009), "{body}");
    let (status, body) = post(&base, &format!("/otp/{id}/verify"), json!({"pin": pin})).await;
    assert_eq!(status, 503, "{body}");

    proxy.restore();
    let mut verified = None;
    for _ in 0..100 {
        let (status, body) = post(&base, &format!("/otp/{id}/verify"), json!({"pin": pin})).await;
        if status != 503 {
            verified = Some((status, body));
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(verified, Some((200, json!({"status": "VERIFIED"}))));
    let (_, otp) = get(&base, &format!("/otp/{id}")).await;
    assert_eq!(
        otp["attempts"],
        json!(0),
        "the outage used no attempt: {otp}"
    );
    node.server.stop().await;
}

/// The tenant's create rate holds for the cluster, not per node: with a burst of 6 and one
/// token a second, twenty quick creates spread over two nodes get 6 through (plus the tokens
/// that came back during the run), where two per-node buckets would let 12 through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs redis-server (OTPGATE_REDIS_URL, set by .ci/install.d/50-redis.sh)"]
async fn the_tenant_rate_is_shared_by_the_nodes() {
    let url = crate::support::store::redis_url();
    let prefix = crate::support::store::unique_prefix("rate");
    let limited = |c: &mut Config| {
        c.tenants[0].rate_limit_per_s = 1;
        c.tenants[0].rate_limit_burst = 6;
    };
    let (mut ca, mut cb) = (node_config(&url, &prefix), node_config(&url, &prefix));
    limited(&mut ca);
    limited(&mut cb);
    let (a, b) = (start(ca).await, start(cb).await);
    let started = std::time::Instant::now();
    let mut allowed = 0;
    let mut refused = Vec::new();
    for i in 0..20 {
        let node = if i % 2 == 0 { &a } else { &b };
        let phone = format!("+4474001130{i:02}");
        let (status, body) = node.post("/otp", json!({"phoneNumber": phone})).await;
        match status {
            201 => allowed += 1,
            429 => refused.push(body),
            other => panic!("create answered {other}: {body}"),
        }
    }
    let elapsed_s = started.elapsed().as_secs();
    assert!(
        allowed >= 6 && allowed <= 6 + elapsed_s + 1,
        "{allowed} creates allowed in {elapsed_s} s"
    );
    assert!(
        refused
            .iter()
            .all(|b| b["error"]["reason"] == "tenant_rate"),
        "{refused:?}"
    );
    a.stop().await;
    b.stop().await;
}

/// Two nodes sharing one tenant's credit through Redis: 0.1 of prepaid credit at 0.04 an SMS
/// takes two creates, whichever node takes them, and refuses the third on both nodes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs redis-server (OTPGATE_REDIS_URL, set by .ci/install.d/50-redis.sh)"]
async fn nodes_share_a_tenants_credit() {
    let url = crate::support::store::redis_url();
    let prefix = crate::support::store::unique_prefix("credit");
    let config = || {
        let mut c = node_config(&url, &prefix);
        c.otp.price_per_part = 0.04;
        c.tenants[0].credit = Some(otpgate::otp::credit::CreditConfig {
            balance: Some(0.1),
            monthly_cap: None,
        });
        c.validate().expect("valid node config");
        c
    };
    let a = start(config()).await;
    let b = start(config()).await;
    a.create("+447400111101").await;
    b.create("+447400111102").await;
    for node in [&a, &b] {
        let (status, body) = node
            .post("/otp", json!({"phoneNumber": "+447400111103"}))
            .await;
        assert_eq!(
            (status, body["error"]["code"].clone()),
            (402, json!(1030)),
            "{body}"
        );
    }
    a.stop().await;
    b.stop().await;
}
