//! No PIN and no secret leaves the process in a log line, a metric, an HTTP reply or the output
//! of `check-config`.
//!
//! The log test runs the whole stack in-process (HTTP front, OTP core, SMPP engine, the SMSC
//! simulator on loopback, a callback receiver) with every `tracing` target captured at TRACE,
//! through create, wrong verify, resend, verify, cancel, a brute-forced OTP and the signed
//! status callbacks, then searches the capture for every PIN, the tenant token, the SMSC
//! password, `pin_secret` and `callback_secret`. One target is excluded on purpose:
//! `smsc_sim::sms`, the simulator playing the handset, whose job is to show the SMS text; the
//! test asserts that the PINs *are* found there, which shows the capture would have caught them
//! anywhere else.

use std::io::Write;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use otpgate::config;
use otpgate::serve;
use otpgate_sim::{self as sim, AccountConfig, SimConfig, SimHandle};
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tracing_subscriber::fmt::MakeWriter;

const TOKEN: &str = "tok-7d1e9c2b5a-secret";
const SMSC_PASSWORD: &str = "Zq8Wx3Kp";
const PIN_SECRET: &str = "pinsecret-4b8e2f6a-7c1d";
const CALLBACK_SECRET: &str = "cbsecret-9a3c5e7d-2b4f";
const WAIT: Duration = Duration::from_secs(15);

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Capture {
    type Writer = Capture;
    fn make_writer(&'a self) -> Capture {
        self.clone()
    }
}

fn config_text(smsc_port: u16) -> String {
    format!(
        r#"
[http]
listen = "127.0.0.1:0"
[[tenants]]
name = "acme"
token = "{TOKEN}"
callback_secret = "{CALLBACK_SECRET}"
[[smsc]]
name = "carrier"
host = "127.0.0.1"
port = {smsc_port}
system_id = "otpgw"
password = "{SMSC_PASSWORD}"
[security]
pin_secret = "{PIN_SECRET}"
[callbacks]
allow_private = true
[limits]
per_number = 100
"#
    )
}

/// A callback receiver on 127.0.0.1:0 that counts what it gets.
async fn receiver() -> (String, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    let app = axum::Router::new().route(
        "/cb",
        axum::routing::post(move || {
            let h = h.clone();
            async move {
                h.fetch_add(1, Ordering::SeqCst);
                "ok"
            }
        }),
    );
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/cb", l.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(l, app).await });
    (url, hits)
}

struct Client {
    base: String,
    http: reqwest::Client,
    /// Every reply body, to be searched too.
    replies: Vec<String>,
}

impl Client {
    async fn call(
        &mut self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(TOKEN);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let text = res.text().await.unwrap();
        self.replies.push(text.clone());
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn create(&mut self, phone: &str, extra: Value) -> String {
        let mut body = json!({"phoneNumber": phone, "pinType": "alphanumeric", "pinLength": 10});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        let (status, otp) = self.call(reqwest::Method::POST, "/otp", Some(body)).await;
        assert_eq!(status, 201, "{otp}");
        otp["otpId"].as_str().unwrap().to_owned()
    }
}

/// The PIN of the next SMS to `phone` after simulator log position `after`.
async fn pin_sent(sim: &SimHandle, phone: &str, after: u64) -> (String, u64) {
    let m = sim
        .wait_for_message(phone, after, WAIT)
        .await
        .expect("the SMS reached the SMSC");
    let pin = m.text.rsplit(' ').next().unwrap().to_owned();
    assert_eq!(pin.len(), 10, "{}", m.text);
    (pin, m.seq)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_pin_or_secret_in_logs_metrics_or_replies() {
    let capture = Capture::default();
    tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(capture.clone())
        .init();

    let sim_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sim = sim::spawn(
        sim_listener,
        SimConfig {
            accounts: vec![AccountConfig::new("otpgw", SMSC_PASSWORD)],
            ..SimConfig::default()
        },
    )
    .await
    .unwrap();
    let _handset = sim.log_messages();
    let config = config::load_str(
        &config_text(sim.local_addr().port()),
        Vec::<(String, String)>::new(),
    )
    .expect("config");
    let running = serve::Running::start_on_loopback(config, WAIT)
        .await
        .unwrap();
    let (cb_url, cb_hits) = receiver().await;
    let mut c = Client {
        base: running.base_url(),
        http: reqwest::Client::new(),
        replies: Vec::new(),
    };

    // create, wrong verify, resend, the old PIN refused, the new one verified
    let phone = "+447400123456";
    let a = c.create(phone, json!({"otpCallbackUrl": cb_url})).await;
    let (pin1, seq) = pin_sent(&sim, phone, 0).await;
    let (status, _) = c
        .call(
            reqwest::Method::POST,
            &format!("/otp/{a}"),
            Some(json!({"pin": "ZZZZZZZZZZ"})),
        )
        .await;
    assert_eq!(status, 400);
    let (status, _) = c
        .call(reqwest::Method::POST, &format!("/otp/{a}/resend"), None)
        .await;
    assert_eq!(status, 200);
    let (pin2, _) = pin_sent(&sim, phone, seq).await;
    let (status, _) = c
        .call(
            reqwest::Method::POST,
            &format!("/otp/{a}/verify"),
            Some(json!({"pin": pin1})),
        )
        .await;
    assert_eq!(status, 400, "the old PIN no longer verifies");
    let (status, _) = c
        .call(
            reqwest::Method::POST,
            &format!("/otp/{a}"),
            Some(json!({"pin": pin2})),
        )
        .await;
    assert_eq!(status, 200);

    // cancel
    let phone_b = "+447400123457";
    let b = c.create(phone_b, json!({"otpCallbackUrl": cb_url})).await;
    let (pin3, _) = pin_sent(&sim, phone_b, 0).await;
    let (status, _) = c
        .call(reqwest::Method::DELETE, &format!("/otp/{b}"), None)
        .await;
    assert_eq!(status, 200);
    let (status, _) = c
        .call(
            reqwest::Method::POST,
            &format!("/otp/{b}"),
            Some(json!({"pin": pin3})),
        )
        .await;
    assert_eq!(status, 400, "a cancelled OTP does not verify");

    // brute force to FAILED, then the right PIN
    let phone_c = "+447400123458";
    let cc = c
        .create(phone_c, json!({"maxAttempts": 2, "otpCallbackUrl": cb_url}))
        .await;
    let (pin4, _) = pin_sent(&sim, phone_c, 0).await;
    for wrong in ["AAAAAAAAAA", "BBBBBBBBBB"] {
        c.call(
            reqwest::Method::POST,
            &format!("/otp/{cc}"),
            Some(json!({"pin": wrong})),
        )
        .await;
    }
    let (status, _) = c
        .call(
            reqwest::Method::POST,
            &format!("/otp/{cc}"),
            Some(json!({"pin": pin4})),
        )
        .await;
    assert_eq!(status, 400);
    c.call(reqwest::Method::GET, &format!("/otp/{cc}"), None)
        .await;

    // signed callbacks went out (their signing used callback_secret)
    let deadline = tokio::time::Instant::now() + WAIT;
    while cb_hits.load(Ordering::SeqCst) < 1 {
        if tokio::time::Instant::now() > deadline {
            let raw = String::from_utf8_lossy(&capture.0.lock().unwrap()).into_owned();
            let lines: Vec<&str> = raw.lines().filter(|l| l.contains("callback")).collect();
            panic!(
                "callbacks not delivered ({} hits, {} bytes of logs); callback log lines:\n{}",
                cb_hits.load(Ordering::SeqCst),
                raw.len(),
                lines.join("\n")
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let metrics = c
        .http
        .get(format!("{}/metrics", c.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let _ = running.stop(Duration::from_secs(20)).await;
    sim.shutdown().await;

    let raw = String::from_utf8_lossy(&capture.0.lock().unwrap()).into_owned();
    let (handset, logs): (Vec<&str>, Vec<&str>) = raw
        .lines()
        .partition(|l| l.contains(r#""target":"smsc_sim::sms""#));
    let logs = logs.join("\n");
    let handset = handset.join("\n");
    println!(
        "captured {} log lines ({} bytes) at TRACE, {} handset lines excluded",
        logs.lines().count(),
        logs.len(),
        handset.lines().count()
    );
    assert!(logs.lines().count() > 50, "the capture works");
    for pin in [&pin1, &pin2, &pin3, &pin4] {
        assert!(
            handset.contains(pin.as_str()),
            "control: the handset view shows {pin}"
        );
    }
    let secrets = [
        ("a PIN", pin1.as_str()),
        ("a PIN", pin2.as_str()),
        ("a PIN", pin3.as_str()),
        ("a PIN", pin4.as_str()),
        ("the tenant token", TOKEN),
        ("the SMSC password", SMSC_PASSWORD),
        ("pin_secret", PIN_SECRET),
        ("callback_secret", CALLBACK_SECRET),
    ];
    for (what, s) in secrets {
        if let Some(line) = logs.lines().find(|l| l.contains(s)) {
            panic!("{what} in a log line: {line}");
        }
        assert!(!metrics.contains(s), "{what} in /metrics");
        if let Some(r) = c.replies.iter().find(|r| r.contains(s)) {
            panic!("{what} in an HTTP reply: {r}");
        }
    }
}

/// `otpgate check-config` on configurations holding known secrets, valid and broken in the
/// ways that make a parser quote its input: the secrets never appear in its output.
#[test]
fn check_config_never_prints_secrets() {
    let valid = config_text(2775);
    let broken = [
        ("valid", valid.clone()),
        // TOML syntax errors on the very lines holding secrets
        (
            "unterminated password",
            valid.replace(
                &format!("password = \"{SMSC_PASSWORD}\""),
                &format!("password = \"{SMSC_PASSWORD}"),
            ),
        ),
        (
            "unterminated token",
            valid.replace(
                &format!("token = \"{TOKEN}\""),
                &format!("token = \"{TOKEN}"),
            ),
        ),
        (
            "bare pin_secret",
            valid.replace(&format!("\"{PIN_SECRET}\""), PIN_SECRET),
        ),
        // type errors on secret fields
        (
            "numeric password",
            valid.replace(&format!("\"{SMSC_PASSWORD}\""), "83927461"),
        ),
        (
            "array callback_secret",
            valid.replace(
                &format!("\"{CALLBACK_SECRET}\""),
                &format!("[\"{CALLBACK_SECRET}\"]"),
            ),
        ),
        // validation errors
        (
            "long password",
            valid.replace(SMSC_PASSWORD, &format!("{SMSC_PASSWORD}{SMSC_PASSWORD}")),
        ),
        (
            "duplicate token",
            format!("{valid}\n[[tenants]]\nname = \"other\"\ntoken = \"{TOKEN}\"\n"),
        ),
        ("bad port", valid.replace("port = 2775", "port = \"x\"")),
    ];
    let dir = std::env::temp_dir().join(format!("otpgate-check-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (i, (what, text)) in broken.iter().enumerate() {
        let path = dir.join(format!("c{i}.toml"));
        std::fs::write(&path, text).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_otpgate"))
            .arg("check-config")
            .arg(&path)
            .env_remove("RUST_LOG")
            .output()
            .unwrap();
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.status.success(), i == 0, "{what}: {all}");
        assert!(!all.trim().is_empty(), "{what}: says something");
        for s in [
            TOKEN,
            SMSC_PASSWORD,
            PIN_SECRET,
            CALLBACK_SECRET,
            "83927461",
        ] {
            assert!(
                !all.contains(s),
                "{what}: check-config printed a secret: {all}"
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
