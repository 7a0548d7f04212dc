//! Receipts that overtake their submit_sm_resp, intermediate receipts and receipts in
//! message_payload: the whole otpgate (HTTP -> OTP core -> SMPP engine) against the simulator
//! on loopback, every OTP ending DELIVERED with no receipt unmatched. Also at load (ignored
//! by default) and against a flood of receipts for unknown ids.

use std::time::{Duration, Instant};

use crate::support::receiver::Receiver;
use crate::support::smpp::start_sim;
use futures::StreamExt;
use otpgate::config::{self, Config};
use otpgate::serve::Running;
use otpgate_sim::{Behaviour, Latency, ReceiptCarrier, SimConfig, SimHandle};
use serde_json::{json, Value};

struct App {
    running: Running,
    base: String,
    token: String,
    http: reqwest::Client,
}

/// otpgate with one `[[smsc]]`: the simulator at `sim`, bound as `bind_mode` says.
async fn start(sim: &SimHandle, bind_mode: &str, extra: &str) -> App {
    let addr = sim.local_addr();
    let toml = format!(
        r#"
[callbacks]
allow_private = true
[limits]
per_number = 0
{extra}
[[smsc]]
name = "sim"
host = "{}"
port = {}
system_id = "test"
password = "secret"
bind_mode = "{bind_mode}"
"#,
        addr.ip(),
        addr.port()
    );
    let config: Config = config::load_str(&toml, Vec::<(String, String)>::new()).expect("config");
    let running = Running::start_on_loopback(config, Duration::from_secs(10))
        .await
        .expect("started");
    App {
        base: running.base_url(),
        token: running.started.demo_token.clone().expect("a demo tenant"),
        running,
        http: reqwest::Client::new(),
    }
}

impl App {
    async fn create(&self, phone: String, hook: Option<&str>) -> String {
        let mut body = json!({ "phoneNumber": phone });
        if let Some(url) = hook {
            body["otpCallbackUrl"] = json!(url);
        }
        let r = self
            .http
            .post(format!("{}/otp", self.base))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .expect("create");
        let status = r.status().as_u16();
        let body: Value = r.json().await.unwrap_or(Value::Null);
        assert_eq!(status, 201, "{body}");
        body["otpId"].as_str().expect("otpId").to_owned()
    }

    async fn delivery(&self, id: &str) -> String {
        let r = self
            .http
            .get(format!("{}/otp/{id}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("get");
        let v: Value = r.json().await.unwrap_or(Value::Null);
        v["deliveryStatus"].as_str().unwrap_or_default().to_owned()
    }

    /// Waits (bounded) until every OTP is DELIVERED; panics naming the first that is not.
    async fn all_delivered(&self, ids: &[String], within: Duration) {
        let start = Instant::now();
        let mut left: Vec<&String> = ids.iter().collect();
        while !left.is_empty() {
            let mut still = Vec::new();
            for id in left {
                if self.delivery(id).await != "DELIVERED" {
                    still.push(id);
                }
            }
            left = still;
            if let Some(id) = left.first() {
                let status = self.delivery(id).await;
                assert!(
                    start.elapsed() < within,
                    "{} OTPs not DELIVERED, e.g. {id}: {status}",
                    left.len()
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }

    /// A series' value on /metrics (0 when absent).
    async fn metric(&self, name: &str) -> f64 {
        let text = self
            .http
            .get(format!("{}/metrics", self.base))
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .unwrap_or_default();
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
            .unwrap_or(0.0)
    }

    async fn stop(self) {
        let done = self.running.stop(Duration::from_secs(20)).await;
        assert!(done.is_ok(), "clean shutdown: {done:?}");
    }
}

fn phone(n: usize) -> String {
    format!("+447400{n:06}")
}

async fn sim_with(f: impl Fn(&mut Behaviour)) -> SimHandle {
    let mut c = SimConfig {
        record_messages: false,
        ..SimConfig::default()
    };
    f(&mut c.behaviour);
    start_sim(c).await
}

/// `n` OTPs through a simulator set up by `f`: each ends DELIVERED, none unmatched.
async fn every_otp_delivered(bind_mode: &str, n: usize, f: impl Fn(&mut Behaviour)) {
    let sim = sim_with(f).await;
    let app = start(&sim, bind_mode, "").await;
    let mut ids = Vec::new();
    for i in 0..n {
        ids.push(app.create(phone(i), None).await);
    }
    app.all_delivered(&ids, Duration::from_secs(20)).await;
    assert_eq!(app.metric("otpgate_receipts_unmatched_total").await, 0.0);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receipts_before_the_answer_on_one_transceiver_bind() {
    every_otp_delivered("transceiver", 20, |b| {
        b.receipts.before_response = true;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receipts_on_the_receiver_bind_before_the_transmitters_answer() {
    every_otp_delivered("transmitter_receiver", 20, |b| {
        b.receipts.before_response = true;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn intermediate_receipts_then_the_final_one() {
    every_otp_delivered("transmitter_receiver", 20, |b| {
        b.receipts.intermediate = true;
        b.receipts.delay = Latency::None;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn intermediate_receipts_before_the_answer() {
    every_otp_delivered("transceiver", 20, |b| {
        b.receipts.intermediate = true;
        b.receipts.before_response = true;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receipts_in_message_payload() {
    every_otp_delivered("transceiver", 20, |b| {
        b.receipts.carrier = ReceiptCarrier::Payload;
        b.receipts.delay = Latency::None;
    })
    .await;
}

/// 3,000 OTPs at 1,000/s, the SMSC answering and delivering at once (or the receipt first):
/// every OTP DELIVERED, its callback reporting DELIVERED once, no receipt unmatched.
async fn at_load(bind_mode: &str, before_response: bool) {
    let sim = sim_with(|b| {
        b.receipts.delay = Latency::None;
        b.receipts.before_response = before_response;
    })
    .await;
    let app = start(&sim, bind_mode, "").await;
    let hook = Receiver::start(0, false).await;
    let (per_s, seconds) = (1_000usize, 3usize);
    let begun = Instant::now();
    let mut ids = Vec::with_capacity(per_s * seconds);
    for s in 0..seconds {
        let batch: Vec<String> = futures::stream::iter(0..per_s)
            .map(|i| app.create(phone(s * per_s + i), Some(&hook.url)))
            .buffer_unordered(64)
            .collect()
            .await;
        ids.extend(batch);
        let next = Duration::from_secs(s as u64 + 1);
        if let Some(wait) = next.checked_sub(begun.elapsed()) {
            tokio::time::sleep(wait).await;
        }
    }
    let created = begun.elapsed();
    app.all_delivered(&ids, Duration::from_secs(60)).await;
    let delivered_after = begun.elapsed();
    let delivered_once = |u: &[Value]| {
        let mut per = std::collections::HashMap::new();
        for v in u.iter().filter(|v| v["deliveryStatus"] == "DELIVERED") {
            *per.entry(v["otpId"].as_str().unwrap_or_default().to_owned())
                .or_insert(0usize) += 1;
        }
        per
    };
    let updates = hook
        .wait_until(Duration::from_secs(60), |u| {
            delivered_once(u).len() >= ids.len()
        })
        .await;
    let per = delivered_once(&updates);
    assert_eq!(per.len(), ids.len(), "a DELIVERED callback per OTP");
    assert!(
        per.values().all(|n| *n == 1),
        "each DELIVERED callback once"
    );
    let unmatched = app.metric("otpgate_receipts_unmatched_total").await;
    let shed = app.metric("otpgate_receipts_shed_total").await;
    eprintln!(
        "load {bind_mode} before_response={before_response}: {} OTPs created in {created:?}, \
         all DELIVERED after {delivered_after:?}, unmatched {unmatched}, shed {shed}, \
         receipts sent {}",
        ids.len(),
        sim.counters().receipts_sent
    );
    assert_eq!(unmatched, 0.0);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "load: 3,000 OTPs at 1,000/s"]
async fn load_transceiver() {
    at_load("transceiver", false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "load: 3,000 OTPs at 1,000/s"]
async fn load_transmitter_receiver() {
    at_load("transmitter_receiver", false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "load: 3,000 OTPs at 1,000/s"]
async fn load_receipt_before_the_answer() {
    at_load("transceiver", true).await;
}
