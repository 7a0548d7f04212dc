//! End to end through every real part: HTTP front -> OTP core -> SMPP engine -> the embedded
//! SMSC simulator (over TCP on loopback) -> delivery receipt -> verify, as `otpgate serve`
//! runs it with no `[[smsc]]` configured.

use std::time::Duration;

use otpgate::config;
use otpgate::serve::{self, Started};
use serde_json::{json, Value};

struct App {
    base: String,
    token: String,
    started: Started,
    running: serve::Running,
}

async fn start() -> App {
    let config = config::load_str("", Vec::<(String, String)>::new()).expect("default config");
    let running = serve::Running::start_on_loopback(config, Duration::from_secs(10))
        .await
        .expect("started");
    App {
        base: running.base_url(),
        token: running.started.demo_token.clone().expect("a demo tenant"),
        started: running.started.clone(),
        running,
    }
}

impl App {
    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let r = reqwest::Client::new()
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    async fn get(&self, path: &str) -> Value {
        let r = reqwest::Client::new()
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        r.json().await.unwrap()
    }

    async fn stop(self) {
        let done = self.running.stop(Duration::from_secs(20)).await;
        assert!(done.is_ok(), "clean shutdown: {done:?}");
    }
}

/// Polls GET /otp/{id} until `field` equals `want`, at most 10 s.
async fn wait_for(app: &App, id: &str, field: &str, want: &str) -> Value {
    for _ in 0..200 {
        let otp = app.get(&format!("/otp/{id}")).await;
        if otp[field] == want {
            return otp;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{field} never became {want}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_otp_goes_out_over_smpp_and_verifies() {
    let app = start().await;
    let sim = app.started.simulator.clone().expect("embedded simulator");

    let (status, otp) = app
        .post(
            "/otp",
            json!({"phoneNumber": "+447400123456", "pinLength": 4}),
        )
        .await;
    assert_eq!(status, 201, "{otp}");
    assert!(
        otp["warnings"].as_array().is_some_and(|w| !w.is_empty()),
        "4 digits are weak: {otp}"
    );
    let id = otp["otpId"].as_str().unwrap().to_owned();

    // What the handset received, through the simulator.
    let sms = sim
        .wait_for_message("+447400123456", 0, Duration::from_secs(10))
        .await
        .expect("the SMS reached the SMSC");
    let pin = sms.text.rsplit(' ').next().unwrap().to_owned();
    assert_eq!(pin.len(), 4);
    assert!(pin.chars().all(|c| c.is_ascii_digit()));
    assert_eq!(sms.data_coding, 0);
    assert!(!sms.text.contains("{{pin}}"));

    // submit_sm_resp -> SENT, then the simulator's receipt -> DELIVERED.
    let delivered = wait_for(&app, &id, "deliveryStatus", "DELIVERED").await;
    assert!(delivered["dateSent"].is_string());

    let wrong = if pin == "0000" { "1111" } else { "0000" };
    let (status, err) = app
        .post(&format!("/otp/{id}/verify"), json!({"pin": wrong}))
        .await;
    assert_eq!((status, err["error"]["code"].clone()), (400, json!(2029)));
    let (status, ok) = app
        .post(&format!("/otp/{id}/verify"), json!({"pin": pin}))
        .await;
    assert_eq!((status, ok), (200, json!({"status": "VERIFIED"})));

    let metrics = reqwest::get(format!("{}/metrics", app.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("otpgate_smpp_submit_total"), "{metrics}");
    assert!(!metrics.contains(&id));
    assert!(!metrics.contains("447400123456"));

    let counters = sim.counters();
    assert_eq!(counters.messages, 1);
    assert_eq!(counters.window_violations, 0);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_unicode_otp_arrives_whole() {
    let app = start().await;
    let sim = app.started.simulator.clone().expect("embedded simulator");
    let template = format!(
        "Ваш код подтверждения {{{{pin}}}}. {}",
        "Никому его не сообщайте. ".repeat(4)
    );
    let (status, otp) = app
        .post(
            "/otp",
            json!({"phoneNumber": "+79161234567", "template": template}),
        )
        .await;
    assert_eq!(status, 201, "{otp}");
    assert_eq!(otp["encoding"], "UCS2");
    let parts = otp["parts"].as_u64().unwrap();
    assert!(parts >= 2, "{otp}");
    let sms = sim
        .wait_for_message("+79161234567", 0, Duration::from_secs(10))
        .await
        .expect("the SMS reached the SMSC");
    assert_eq!(sms.parts as u64, parts);
    assert_eq!(sms.data_coding, 8);
    assert!(sms.text.starts_with("Ваш код подтверждения "));
    assert!(sms.text.ends_with("Никому его не сообщайте. "));
    app.stop().await;
}
