//! Status callbacks end to end, to a real receiver on 127.0.0.1:0: every transition arrives,
//! in order per OTP, batched within the limit, signed (checked with the algorithm of the
//! API docs, in Rust and with the docs' own Python recipe), retried until the receiver
//! recovers, and never slowing `POST /otp` when the receiver hangs.

use std::time::Duration;

use crate::support::receiver::Receiver;
use crate::support::server::{test_config, Server};
use hmac::{Hmac, Mac};
use otpgate::config::Config;
use otpgate::dispatch::{DeliveryUpdate, ReceiptOutcome};
use serde_json::{json, Value};
use sha2::Sha256;

const SECRET: &str = "cb-secret-0123456789";
const WAIT: Duration = Duration::from_secs(15);

fn config() -> Config {
    let mut c = test_config();
    c.tenants[0].callback_secret = Some(SECRET.into());
    c.callbacks.retry_base_ms = 20;
    c.callbacks.retry_max_ms = 200;
    c
}

async fn create_with_hook(s: &Server, phone: &str, url: &str, ttl: u32) -> String {
    let (status, body) = s
        .create(json!({"phoneNumber": phone, "otpCallbackUrl": url, "ttl": ttl}))
        .await;
    assert_eq!(status, 201, "{body}");
    body["otpId"].as_str().unwrap().to_owned()
}

fn of(updates: &[Value], id: &str) -> Vec<(String, String)> {
    updates
        .iter()
        .filter(|u| u["otpId"] == id)
        .map(|u| {
            (
                u["status"].as_str().unwrap_or_default().to_owned(),
                u["deliveryStatus"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect()
}

/// The documented algorithm, written out independently of the crate.
fn hmac_hex(t: &str, body: &[u8]) -> String {
    let mut m = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    m.update(t.as_bytes());
    m.update(b".");
    m.update(body);
    hex::encode(m.finalize().into_bytes())
}

/// The ```python block of the API docs' section on callback signatures, run against one
/// request (python3 is part of every supported machine; a missing recipe fails the test).
fn docs_recipe_accepts(header: &str, body: &[u8]) -> bool {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/api.md"))
        .expect("docs/api.md");
    let start = doc
        .find("<!-- signature-recipe -->")
        .expect("the signature recipe marker in docs/api.md");
    let block = &doc[start..];
    let code_start = block.find("```python\n").expect("a python block") + "```python\n".len();
    let code_len = block[code_start..]
        .find("```")
        .expect("the end of the python block");
    let recipe = &block[code_start..code_start + code_len];
    let dir = std::env::temp_dir().join(format!("otpgate-recipe-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("body.json"), body).unwrap();
    let script = format!(
        "{recipe}\nimport sys\nok = verify_signature(sys.argv[1].encode(), sys.argv[2], open(sys.argv[3], 'rb').read())\nprint('VALID' if ok else 'INVALID')\n"
    );
    let out = std::process::Command::new("python3")
        .args(["-c", &script, SECRET, header])
        .arg(dir.join("body.json"))
        .output()
        .expect("python3 runs the recipe");
    let stdout = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let _ = std::fs::remove_dir_all(&dir);
    match stdout.as_str() {
        "VALID" => true,
        "INVALID" => false,
        _ => panic!(
            "the docs' recipe did not run: {stdout} {}",
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_transition_arrives_in_order_and_signed() {
    let rx = Receiver::start(0, false).await;
    let s = Server::start(config()).await;

    // SENT, DELIVERED (through the delivery sink), then VERIFIED
    let a = create_with_hook(&s, "+33612340001", &rx.url, 600).await;
    s.sink.on_update(DeliveryUpdate::Submitted {
        otp_id: a.clone(),
        smsc: "sim".into(),
        message_ids: vec!["abc1".into()],
    });
    s.sink.on_update(DeliveryUpdate::Receipt {
        smsc: "sim".into(),
        message_id: "abc1".into(),
        outcome: ReceiptOutcome::Delivered,
        error: None,
    });
    let pin = s.dispatcher.pin_for(&a);
    assert_eq!(s.verify(&a, &pin).await.0, 200);
    // CANCELLED
    let b = create_with_hook(&s, "+33612340002", &rx.url, 600).await;
    assert_eq!(s.cancel(&b).await, 200);
    // REJECTED with the SMPP error, then FAILED after the last wrong attempt
    let c = create_with_hook(&s, "+33612340003", &rx.url, 600).await;
    s.sink.on_update(DeliveryUpdate::Rejected {
        otp_id: c.clone(),
        smsc: "sim".into(),
        command_status: 0x58,
        reason: "throttled".into(),
    });
    for _ in 0..5 {
        s.verify(&c, "000000x").await;
    }
    // EXPIRED at ttl, with nobody asking: the expiry task marks it
    let d = create_with_hook(&s, "+33612340004", &rx.url, 60).await;
    s.clock.advance(Duration::from_secs(61));

    let got = rx
        .wait_until(WAIT, |u| {
            of(u, &a).len() >= 3
                && !of(u, &b).is_empty()
                && of(u, &c).len() >= 2
                && !of(u, &d).is_empty()
        })
        .await;
    assert_eq!(
        of(&got, &a),
        pairs(&[
            ("PENDING", "SENT"),
            ("PENDING", "DELIVERED"),
            ("VERIFIED", "DELIVERED")
        ]),
        "create -> QUEUED is not a change"
    );
    assert_eq!(of(&got, &b), pairs(&[("CANCELLED", "QUEUED")]));
    assert_eq!(
        of(&got, &c),
        pairs(&[("PENDING", "REJECTED"), ("FAILED", "REJECTED")])
    );
    assert_eq!(of(&got, &d), pairs(&[("EXPIRED", "QUEUED")]));

    // the objects are the OTP object as GET returns it, with the dates of each change
    let last_a = got.iter().rev().find(|u| u["otpId"] == a).unwrap();
    let get = s.otp(&a).await;
    assert_eq!(last_a, &get);
    for f in ["dateSent", "dateDelivered", "dateVerified"] {
        assert!(last_a[f].is_string(), "{f}: {last_a}");
    }
    assert!(last_a["dateCancelled"].is_null());
    let last_c = got.iter().rev().find(|u| u["otpId"] == c).unwrap();
    assert!(last_c["smppError"].as_str().unwrap().contains("0x00000058"));

    // every request is signed: t=<unix>,v1=HMAC-SHA256(secret, "<t>.<body>")
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let requests = rx.received();
    assert!(!requests.is_empty());
    for r in &requests {
        let header = r.signature.as_deref().expect("unsigned callback");
        let (t, v1) = header.split_once(",v1=").unwrap();
        let t = t.strip_prefix("t=").unwrap();
        assert!(now.abs_diff(t.parse::<u64>().unwrap()) < 120);
        assert_eq!(v1, hmac_hex(t, &r.body));
        assert!(otpgate::callbacks::sign::verify(
            SECRET.as_bytes(),
            header,
            &r.body,
            now,
            300
        ));
        assert_eq!(r.json["event"], "otp_update");
    }
    // the docs' recipe accepts a real request and refuses a tampered body
    let r = &requests[0];
    let header = r.signature.as_deref().unwrap();
    assert!(
        docs_recipe_accepts(header, &r.body),
        "the docs' recipe refused a genuine callback"
    );
    let mut tampered = r.body.to_vec();
    tampered.push(b' ');
    assert!(
        !docs_recipe_accepts(header, &tampered),
        "the docs' recipe accepted a tampered body"
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_updates_to_one_url_are_batched_within_the_limit() {
    let rx = Receiver::start(0, false).await;
    let mut c = config();
    c.callbacks.batch_max = 40;
    let s = Server::start(c).await;
    let mut ids = Vec::new();
    for i in 0..150 {
        ids.push(create_with_hook(&s, &format!("+336123{:05}", 10_000 + i), &rx.url, 600).await);
    }
    for id in &ids {
        s.sink.on_update(DeliveryUpdate::Submitted {
            otp_id: id.clone(),
            smsc: "sim".into(),
            message_ids: vec![format!("m-{id}")],
        });
    }
    let got = rx.wait_until(WAIT, |u| u.len() >= ids.len()).await;
    assert_eq!(got.len(), ids.len(), "every update arrives once");
    let requests = rx.received();
    assert!(
        requests.len() < ids.len(),
        "updates were batched ({} requests)",
        requests.len()
    );
    for r in &requests {
        let n = r.json["data"].as_array().unwrap().len();
        assert!((1..=40).contains(&n), "batch of {n}");
    }
    let mut seen: Vec<&str> = got.iter().map(|u| u["otpId"].as_str().unwrap()).collect();
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(seen.len(), ids.len());
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_that_fails_three_times_then_recovers_gets_the_update() {
    let rx = Receiver::start(3, false).await;
    let s = Server::start(config()).await;
    let id = create_with_hook(&s, "+33612340010", &rx.url, 600).await;
    assert_eq!(s.cancel(&id).await, 200);
    let got = rx.wait_until(WAIT, |u| !u.is_empty()).await;
    assert_eq!(of(&got, &id), pairs(&[("CANCELLED", "QUEUED")]));
    assert_eq!(rx.shared.hits.load(std::sync::atomic::Ordering::SeqCst), 4);
    // The task counts a delivery after the receiver has answered: poll, bounded.
    let mut metrics = String::new();
    for _ in 0..100 {
        metrics = s
            .client
            .get(s.url("/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if metrics.contains("otpgate_callback_deliveries_total{outcome=\"delivered\"}") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(metrics.contains("otpgate_callback_deliveries_total{outcome=\"failed_retrying\"}"));
    assert!(metrics.contains("otpgate_callback_deliveries_total{outcome=\"delivered\"}"));
    assert!(metrics.contains("otpgate_callback_duration_seconds"));
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_receiver_slows_neither_creates_nor_shutdown() {
    let rx = Receiver::start(0, true).await;
    let mut c = config();
    c.callbacks.timeout_ms = 60_000; // the hung request stays open for the whole test
    c.callbacks.shutdown_grace_ms = 200;
    let s = Server::start(c).await;
    let first = create_with_hook(&s, "+33612340020", &rx.url, 600).await;
    assert_eq!(s.cancel(&first).await, 200);
    assert_eq!(
        rx.wait_hits(1, WAIT).await,
        1,
        "the receiver got the first callback"
    );
    // the callback task is now stuck on the receiver; creates and changes go on
    let started = std::time::Instant::now();
    for i in 0..100 {
        let id = create_with_hook(&s, &format!("+336123{:05}", 20_000 + i), &rx.url, 600).await;
        assert_eq!(s.cancel(&id).await, 200);
    }
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(20),
        "100 creates + cancels took {took:?} while the receiver hung"
    );
    assert_eq!(
        rx.shared.hits.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "one batch at a time per URL"
    );
    let stopping = std::time::Instant::now();
    tokio::time::timeout(Duration::from_secs(20), s.stop())
        .await
        .expect("the server did not shut down while a callback hung");
    assert!(stopping.elapsed() < Duration::from_secs(20));
}

#[tokio::test]
async fn loopback_callback_urls_are_refused_without_allow_private() {
    let rx = Receiver::start(0, false).await;
    let mut c = config();
    c.callbacks.allow_private = false;
    let s = Server::start(c).await;
    let (status, body) = s
        .create(json!({"phoneNumber": "+33612340030", "otpCallbackUrl": rx.url}))
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        crate::support::server::error_of(&body),
        ("invalid_param".into(), 2019)
    );
    assert_eq!(body["error"]["field"], "otpCallbackUrl");
    assert_eq!(s.dispatcher.count(), 0);
    s.stop().await;
}

#[tokio::test]
async fn the_delivery_resolver_filters_private_addresses() {
    use otpgate::callbacks::resolve::{BoundedResolver, SystemResolver};
    use otpgate::callbacks::ssrf::GuardedResolver;
    use reqwest::dns::{Name, Resolve};
    use std::str::FromStr;
    let system = std::sync::Arc::new(BoundedResolver::new(
        std::sync::Arc::new(SystemResolver),
        4,
        Duration::from_secs(5),
    ));
    let strict = GuardedResolver {
        allow_private: false,
        resolver: system.clone(),
    };
    // a name whose answer is a loopback address is refused at connection time
    assert!(strict
        .resolve(Name::from_str("127.0.0.1").unwrap())
        .await
        .is_err());
    assert!(strict
        .resolve(Name::from_str("localhost").unwrap())
        .await
        .is_err());
    let open = GuardedResolver {
        allow_private: true,
        resolver: system,
    };
    let addrs: Vec<_> = open
        .resolve(Name::from_str("127.0.0.1").unwrap())
        .await
        .map_err(|e| e.to_string())
        .unwrap()
        .collect();
    assert!(addrs.iter().all(|a| a.ip().is_loopback()) && !addrs.is_empty());
}

/// A TCP listener that accepts connections and never reads or answers them (at most
/// `MAX_HELD` held open); counts the connections accepted.
struct Tarpit {
    addr: std::net::SocketAddr,
    accepted: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Tarpit {
    const MAX_HELD: usize = 256;

    async fn start() -> Tarpit {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let count = accepted.clone();
        let task = tokio::spawn(async move {
            let mut held = std::collections::VecDeque::new();
            while let Ok((conn, _)) = listener.accept().await {
                count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                held.push_back(conn);
                if held.len() > Self::MAX_HELD {
                    held.pop_front();
                }
            }
        });
        Tarpit {
            addr,
            accepted,
            task,
        }
    }

    fn accepted(&self) -> usize {
        self.accepted.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl Drop for Tarpit {
    fn drop(&mut self) {
        self.task.abort();
    }
}

const SECRET_TWO: &str = "cb-secret-two-0123456789";

/// Cancels an OTP of tenant two (a status change, so a callback) and returns how long its
/// callback took to reach `rx`, or `None` when it did not arrive within `within`.
async fn tenant_two_callback_latency(
    s: &Server,
    rx: &Receiver,
    phone: &str,
    within: Duration,
) -> Option<Duration> {
    let res = s
        .client
        .post(s.url("/otp"))
        .bearer_auth(crate::support::server::TOKEN2)
        .json(&json!({"phoneNumber": phone, "otpCallbackUrl": rx.url, "ttl": 600}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 201);
    let body: Value = res.json().await.unwrap();
    let id = body["otpId"].as_str().unwrap().to_owned();
    let res = s
        .client
        .delete(s.url(&format!("/otp/{id}")))
        .bearer_auth(crate::support::server::TOKEN2)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let started = tokio::time::Instant::now();
    let got = rx
        .wait_until(within, |u| u.iter().any(|u| u["otpId"] == id.as_str()))
        .await;
    got.iter()
        .any(|u| u["otpId"] == id.as_str())
        .then(|| started.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_whose_callbacks_hang_does_not_stall_another_tenants() {
    let mut c = config();
    c.tenants[1].callback_secret = Some(SECRET_TWO.into());
    // few slots, short timeouts, retries on: the conditions a hanging receiver exploits
    c.callbacks.concurrency = 4;
    c.callbacks.timeout_ms = 300;
    c.callbacks.max_retries = 3;
    c.callbacks.retry_base_ms = 1_000;
    c.callbacks.retry_max_ms = 4_000;
    let rx = Receiver::start(0, false).await;
    let pit = Tarpit::start().await;
    let s = Server::start(c).await;

    // tenant two alone: the baseline (the slowest of three)
    let mut baseline = Duration::ZERO;
    for i in 0..3 {
        let took = tenant_two_callback_latency(&s, &rx, &format!("+3361235000{i}"), WAIT)
            .await
            .expect("tenant two's callback arrives when alone");
        baseline = baseline.max(took);
    }

    // tenant one: twelve OTPs whose callbacks go to twelve URLs of the tarpit
    for i in 0..12 {
        let url = format!("http://{}/hook?n={i}", pit.addr);
        let id = create_with_hook(&s, &format!("+336123510{i:02}"), &url, 600).await;
        assert_eq!(s.cancel(&id).await, 200);
    }
    let deadline = tokio::time::Instant::now() + WAIT;
    while pit.accepted() < 4 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        pit.accepted() >= 4,
        "tenant one's callbacks reach the tarpit"
    );

    // tenant two again, while tenant one's callbacks hang and retry
    let bound = baseline * 5;
    let took = tenant_two_callback_latency(&s, &rx, "+33612350009", baseline * 20).await;
    assert!(
        took.is_some_and(|t| t <= bound),
        "tenant two's callback took {took:?} (baseline {baseline:?}, bound 5x = {bound:?}) \
         while tenant one's callbacks hung"
    );
    s.stop().await;
}
