//! Traffic for the observability tests: a full otpgate (`serve::run`) in front of an SMSC
//! simulator on loopback, with a second SMSC whose password is wrong (bind failures,
//! reconnects) and a loopback callback receiver. It runs a delivered and verified OTP (with a
//! wrong try first), a resent and cancelled one, one the SMSC first answers ESME_RMSGQFUL,
//! one it rejects (ESME_RINVDSTADR), a refused create (per-number limit, HTTP 429), waits for
//! the receipts and the callbacks, scrapes `/metrics`, stops, and keeps what the tests look for
//! (the scrape, and every log line, captured as JSON).

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use otpgate::logging::{self, LogFormat};

use super::prom::value;
use super::receiver::Receiver;
use otpgate::serve;
use otpgate_sim::{self as sim, SimConfig};
use serde_json::{json, Value};
use tokio::net::TcpListener;

pub const TOKEN: &str = "obs-token-0123456789";

/// What the traffic left behind.
#[derive(Debug)]
pub struct Traffic {
    /// `/metrics` after the traffic.
    pub scrape: String,
    /// Every phone number used, digits only.
    pub phones: Vec<String>,
    pub otp_ids: Vec<String>,
    /// Every PIN sent (10 alphanumeric characters).
    pub pins: Vec<String>,
    /// The SMSC message ids of every part sent.
    pub message_ids: Vec<String>,
    /// Every log line of the run (JSON, otpgate at trace level).
    pub logs: String,
}

/// Log lines captured in memory.
#[derive(Clone, Default)]
struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log buffer").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The traffic, run once per test binary.
pub fn traffic() -> &'static Traffic {
    static TRAFFIC: OnceLock<Traffic> = OnceLock::new();
    TRAFFIC.get_or_init(|| {
        let buffer = LogBuffer::default();
        let writer = buffer.clone();
        assert!(
            logging::init_with_writer(LogFormat::Json, "info,otpgate=trace", move || {
                writer.clone()
            }),
            "the log subscriber is installed once"
        );
        let mut traffic = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(run_traffic());
        let logs = buffer.0.lock().expect("log buffer").clone();
        traffic.logs = String::from_utf8_lossy(&logs).into_owned();
        traffic
    })
}

struct Client {
    base: String,
    http: reqwest::Client,
}

impl Client {
    async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(TOKEN);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.expect("request");
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    async fn create(&self, phone: &str, callback: &str) -> (u16, Value) {
        let body = json!({"phoneNumber": phone, "pinType": "alphanumeric", "pinLength": 10,
            "otpCallbackUrl": callback});
        self.send(reqwest::Method::POST, "/otp", Some(body)).await
    }

    async fn scrape(&self) -> String {
        let r = self
            .http
            .get(format!("{}/metrics", self.base))
            .send()
            .await
            .expect("scrape");
        assert_eq!(r.status(), 200);
        r.text().await.expect("scrape body")
    }

    /// Polls `path` until `done` holds on the reply, at most 15 s.
    async fn wait(&self, path: &str, what: &str, done: impl Fn(u16, &Value) -> bool) -> Value {
        for _ in 0..300 {
            let (status, v) = self.send(reqwest::Method::GET, path, None).await;
            if done(status, &v) {
                return v;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{what} never happened");
    }
}

async fn run_traffic() -> Traffic {
    let sim = sim::spawn(
        TcpListener::bind("127.0.0.1:0").await.expect("bind"),
        SimConfig::default(),
    )
    .await
    .expect("simulator");
    let port = sim.local_addr().port();
    let toml = format!(
        r#"
[[tenants]]
name = "obs"
token = "{TOKEN}"
[limits]
per_number = 2
[engine]
auth_failure_min_ms = 50
auth_failure_max_ms = 200
queue_full_pause_ms = 100
[callbacks]
allow_private = true
flush_ms = 20
[[smsc]]
name = "alpha"
host = "127.0.0.1"
port = {port}
system_id = "test"
password = "secret"
[[smsc]]
name = "beta"
host = "127.0.0.1"
port = {port}
system_id = "test"
password = "badpass"
priority = 9
"#
    );
    let config = otpgate::config::load_str(&toml, Vec::<(String, String)>::new()).expect("config");
    let running = serve::Running::start_on_loopback(config, Duration::from_secs(10))
        .await
        .expect("started");
    let c = Client {
        base: running.base_url(),
        http: reqwest::Client::new(),
    };
    c.wait("/readyz", "a bind up", |s, _| s == 200).await;
    let hook = Receiver::start(0, false).await;

    // Delivered, then a wrong try, then the right PIN.
    let phone_a = "+447400123456";
    let (status, otp) = c.create(phone_a, &hook.url).await;
    assert_eq!(status, 201, "{otp}");
    let id_a = otp["otpId"].as_str().expect("otpId").to_owned();
    let sms = sim
        .wait_for_message(phone_a, 0, Duration::from_secs(10))
        .await
        .expect("the SMS reached the SMSC");
    let pin = sms.text.rsplit(' ').next().expect("a PIN").to_owned();
    assert_eq!(pin.len(), 10, "{pin}");
    c.wait(&format!("/otp/{id_a}"), "DELIVERED", |_, v| {
        v["deliveryStatus"] == "DELIVERED"
    })
    .await;
    let verify = format!("/otp/{id_a}/verify");
    let (status, _) = c
        .send(
            reqwest::Method::POST,
            &verify,
            Some(json!({"pin": "WRONGPIN00"})),
        )
        .await;
    assert_eq!(status, 400);
    let (status, ok) = c
        .send(reqwest::Method::POST, &verify, Some(json!({"pin": pin})))
        .await;
    assert_eq!((status, ok), (200, json!({"status": "VERIFIED"})));

    // Cancelled.
    let phone_b = "+33612345678";
    let (status, otp) = c.create(phone_b, &hook.url).await;
    assert_eq!(status, 201, "{otp}");
    let id_b = otp["otpId"].as_str().expect("otpId").to_owned();
    let sms_b = sim
        .wait_for_message(phone_b, 0, Duration::from_secs(10))
        .await
        .expect("the second SMS reached the SMSC");
    // Resent (a new PIN), then cancelled.
    let (status, otp) = c
        .send(reqwest::Method::POST, &format!("/otp/{id_b}/resend"), None)
        .await;
    assert_eq!(status, 200, "{otp}");
    let resent_b = sim
        .wait_for_message(phone_b, sms_b.seq, Duration::from_secs(10))
        .await
        .expect("the resent SMS reached the SMSC");
    let (status, _) = c
        .send(reqwest::Method::DELETE, &format!("/otp/{id_b}"), None)
        .await;
    assert_eq!(status, 200);

    // The SMSC answers ESME_RMSGQFUL for a while: the message waits and goes through.
    sim.set_error_injection(1.0, 0x14);
    let phone_c = "+447400654321";
    let (status, otp) = c.create(phone_c, &hook.url).await;
    assert_eq!(status, 201, "{otp}");
    let id_c = otp["otpId"].as_str().expect("otpId").to_owned();
    let mut refused = false;
    for _ in 0..200 {
        let s = c.scrape().await;
        if value(&s, "otpgate_smpp_queue_full_total", &[("smsc", "alpha")]).is_some_and(|v| v > 0.0)
        {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(refused, "no ESME_RMSGQFUL answer seen");
    sim.set_error_injection(0.0, 0);
    let sms_c = sim
        .wait_for_message(phone_c, 0, Duration::from_secs(10))
        .await
        .expect("the SMS went through after the SMSC's queue-full answers");

    // Refused for good by the SMSC (ESME_RINVDSTADR): logged with the number masked.
    sim.set_error_injection(1.0, 0x0B);
    let phone_d = "+447400111222";
    let (status, otp) = c.create(phone_d, &hook.url).await;
    assert_eq!(status, 201, "{otp}");
    let id_d = otp["otpId"].as_str().expect("otpId").to_owned();
    c.wait(&format!("/otp/{id_d}"), "REJECTED", |_, v| {
        v["deliveryStatus"] == "REJECTED"
    })
    .await;
    sim.set_error_injection(0.0, 0);

    // Refused: two creates (or resends) per number per window.
    let (status, err) = c.create(phone_b, &hook.url).await;
    assert_eq!(status, 429, "{err}");

    // Callbacks delivered, the wrong SMSC refused at least once, the queue gauges published
    // (once a second): then the scrape has everything.
    hook.wait_until(Duration::from_secs(10), |u| {
        u.iter().any(|o| o["status"] == "VERIFIED") && u.iter().any(|o| o["status"] == "CANCELLED")
    })
    .await;
    let mut scrape = String::new();
    for _ in 0..100 {
        scrape = c.scrape().await;
        let ready = value(
            &scrape,
            "otpgate_callback_deliveries_total",
            &[("outcome", "delivered")],
        )
        .is_some_and(|v| v > 0.0)
            && value(
                &scrape,
                "otpgate_smpp_bind_failures_total",
                &[("smsc", "beta"), ("reason", "credentials")],
            )
            .is_some_and(|v| v > 0.0)
            && scrape.contains("\notpgate_queue_depth ");
        if ready {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let done = running.stop(Duration::from_secs(20)).await;
    assert!(done.is_ok(), "clean shutdown: {done:?}");
    sim.shutdown().await;

    let pin_of = |text: &str| text.rsplit(' ').next().unwrap_or_default().to_owned();
    Traffic {
        scrape,
        phones: vec![
            "447400123456".into(),
            "33612345678".into(),
            "447400654321".into(),
            "447400111222".into(),
        ],
        otp_ids: vec![id_a, id_b, id_c, id_d],
        pins: vec![
            pin,
            pin_of(&sms_b.text),
            pin_of(&resent_b.text),
            pin_of(&sms_c.text),
        ],
        message_ids: [&sms, &sms_b, &resent_b, &sms_c]
            .iter()
            .flat_map(|m| m.message_ids.iter().cloned())
            .collect(),
        logs: String::new(),
    }
}
