//! Receipts that overtake their submit_sm_resp, intermediate receipts and receipts in
//! message_payload: the whole otpgate (HTTP -> OTP core -> SMPP engine) against the simulator
//! on loopback, every OTP ending DELIVERED with no receipt unmatched. Also at load (ignored
//! by default) and against a flood of receipts for unknown ids from a scripted SMSC.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::support::receiver::Receiver;
use crate::support::smpp::{receipt_for, scripted_accept, scripted_next, start_sim, ScriptedLink};
use crate::support::stack::{rss_bytes, MB};
use futures::{SinkExt, StreamExt};
use otpgate::config::{self, Config};
use otpgate::serve::Running;
use otpgate_codec::pdu::{Body, Pdu, SubmitSmResp};
use otpgate_sim::{Behaviour, Latency, ReceiptCarrier, SimConfig, SimHandle};
use serde_json::{json, Value};
use tokio::net::TcpListener;

struct App {
    running: Running,
    base: String,
    token: String,
    http: reqwest::Client,
}

/// otpgate with one `[[smsc]]`: the simulator at `sim`, bound as `bind_mode` says.
async fn start(sim: &SimHandle, bind_mode: &str, extra: &str) -> App {
    start_at(sim.local_addr(), bind_mode, extra).await
}

/// otpgate with one `[[smsc]]` at `addr`.
async fn start_at(addr: SocketAddr, bind_mode: &str, extra: &str) -> App {
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

/// The receipt metrics are the process's: the load tests (readers) never overlap the flood
/// (the writer), so that each reads its own shed and unmatched counts.
static RECEIPT_METRICS: tokio::sync::RwLock<()> = tokio::sync::RwLock::const_new(());

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
    let _metrics = RECEIPT_METRICS.read().await;
    let sim = sim_with(|b| {
        b.receipts.delay = Latency::None;
        b.receipts.before_response = before_response;
    })
    .await;
    let app = start(&sim, bind_mode, "").await;
    let shed_before = app.metric("otpgate_receipts_shed_total").await;
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
    let shed = app.metric("otpgate_receipts_shed_total").await - shed_before;
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

/// Receipts in the flood, for ids no OTP has.
const FLOOD: u32 = 50_000;
/// The engine's cap on held receipts in the flood test.
const HOLD_MAX: u32 = 1_000;
/// deliver_sm sent and not answered yet, at most.
const FLOOD_WINDOW: u32 = 64;

/// Answers an enquire_link; any other PDU but the one `want` accepts fails the test.
async fn next_answering(link: &mut ScriptedLink, want: impl Fn(&Body) -> bool) -> Pdu {
    loop {
        let p = scripted_next(link).await;
        match &p.body {
            b if want(b) => return p,
            Body::EnquireLink => link
                .send(Pdu::new(p.sequence_number, Body::EnquireLinkResp))
                .await
                .unwrap(),
            other => panic!("unexpected PDU from the engine: {other:?}"),
        }
    }
}

/// Sends `n` receipts for unknown ids, at most `FLOOD_WINDOW` unanswered; each must be
/// answered once, ESME_ROK.
async fn flood(link: &mut ScriptedLink, n: u32) {
    let mut answered = vec![false; n as usize + 1];
    let (mut sent, mut done) = (0u32, 0u32);
    while done < n {
        while sent < n && sent - done < FLOOD_WINDOW {
            sent += 1;
            let receipt = receipt_for(&format!("unknown-{sent}"));
            link.feed(Pdu::new(sent, Body::DeliverSm(receipt)))
                .await
                .unwrap();
        }
        SinkExt::<Pdu>::flush(link).await.unwrap();
        let p = next_answering(link, |b| matches!(b, Body::DeliverSmResp(_))).await;
        assert!(
            p.command_status.is_ok(),
            "deliver_sm {} answered {:?}",
            p.sequence_number,
            p.command_status
        );
        let seen = answered.get_mut(p.sequence_number as usize);
        assert_eq!(seen.as_deref(), Some(&false), "seq {}", p.sequence_number);
        if let Some(s) = seen {
            *s = true;
        }
        done += 1;
    }
}

/// 50,000 receipts for ids no OTP has, from a scripted SMSC on one transceiver bind: each is
/// acknowledged, at most `receipt_hold_max` are held (the rest shed, oldest first), and an
/// OTP sent afterwards still gets its receipt.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_unknown_receipts_stays_within_the_hold_cap() {
    let _metrics = RECEIPT_METRICS.write().await;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = tokio::spawn(async move { scripted_accept(&listener).await });
    // a hold time that cannot end during the flood, so shedding alone bounds what is held
    let extra = format!("[otp]\nreceipt_hold_s = 600\nreceipt_hold_max = {HOLD_MAX}\n");
    let app = start_at(addr, "transceiver", &extra).await;
    let mut link = accepted.await.unwrap();

    // the other tests here hold a few receipts and shed none: the flood's shed is a delta
    let shed_before = app.metric("otpgate_receipts_shed_total").await;
    let rss_before = rss_bytes(None).unwrap_or(0);
    let begun = Instant::now();
    flood(&mut link, FLOOD).await;
    let took = begun.elapsed();
    let rss_after = rss_bytes(None).unwrap_or(0);
    let held = app.metric("otpgate_receipts_held").await;
    let shed = app.metric("otpgate_receipts_shed_total").await - shed_before;
    eprintln!(
        "flood: {FLOOD} receipts for unknown ids acknowledged in {took:?}, held {held}, \
         shed {shed}, RSS {:.1} MB before, {:.1} MB after",
        rss_before as f64 / MB,
        rss_after as f64 / MB
    );
    assert!(held <= f64::from(HOLD_MAX), "held {held}");
    // the memory store sheds exactly what goes beyond the cap
    assert_eq!(shed, f64::from(FLOOD - HOLD_MAX));

    // a real OTP afterwards: its submit_sm answered, then its receipt
    let message_id = "5EED0001";
    let (otp, ()) = tokio::join!(app.create(phone(900_000), None), async {
        let p = next_answering(&mut link, |b| matches!(b, Body::SubmitSm(_))).await;
        let resp = SubmitSmResp {
            message_id: message_id.into(),
        };
        link.send(Pdu::new(p.sequence_number, Body::SubmitSmResp(resp)))
            .await
            .unwrap();
    });
    link.send(Pdu::new(
        FLOOD + 1,
        Body::DeliverSm(receipt_for(message_id)),
    ))
    .await
    .unwrap();
    let p = next_answering(&mut link, |b| matches!(b, Body::DeliverSmResp(_))).await;
    assert_eq!(p.sequence_number, FLOOD + 1);
    assert!(p.command_status.is_ok(), "{:?}", p.command_status);
    app.all_delivered(&[otp], Duration::from_secs(20)).await;
    // gone before the engine stops, so that it does not wait for an unbind_resp
    drop(link);
    app.stop().await;
}
