//! Credit per tenant over HTTP with the simulator: a create reserves its estimated cost and is
//! refused (402, code 1030) when that would pass the prepaid balance or the monthly cap; an
//! SMS no SMSC accepted gives its reservation back; a resend needs credit like a create; a
//! tenant without credit is never refused.

use std::time::Duration;

use crate::support::smpp::start_sim;
use otpgate::config::{self, Config};
use otpgate::serve::Running;
use otpgate_sim::{SimConfig, SimHandle};
use serde_json::{json, Value};

const PREPAID: &str = "prepaid-credit-token";
const CAPPED: &str = "capped-credit-token";
const FREE: &str = "free-credit-token";

async fn start(sim: &SimHandle) -> Running {
    let addr = sim.local_addr();
    let toml = format!(
        r#"
[limits]
per_number = 0

[otp]
currency = "EUR"

[[tenants]]
name = "prepaid"
token = "{PREPAID}"
credit = {{ balance = 0.1 }}

[[tenants]]
name = "capped"
token = "{CAPPED}"
credit = {{ monthly_cap = 0.05 }}

[[tenants]]
name = "free"
token = "{FREE}"

[[smsc]]
name = "sim"
host = "{}"
port = {}
system_id = "test"
password = "secret"
prices = {{ "+44" = 0.04 }}
"#,
        addr.ip(),
        addr.port()
    );
    let config: Config = config::load_str(&toml, Vec::<(String, String)>::new()).expect("config");
    Running::start_on_loopback(config, Duration::from_secs(10))
        .await
        .expect("started")
}

async fn post(base: &str, token: &str, path: &str, body: Value) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(format!("{base}{path}"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

async fn create(base: &str, token: &str, phone: &str) -> (u16, Value) {
    post(base, token, "/otp", json!({ "phoneNumber": phone })).await
}

/// The OTP once its send is settled (delivery status no longer QUEUED).
async fn settled(base: &str, token: &str, id: &str) -> Value {
    for _ in 0..200 {
        let otp: Value = reqwest::Client::new()
            .get(format!("{base}/otp/{id}"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if otp["deliveryStatus"] != "QUEUED" {
            return otp;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{id} still QUEUED");
}

fn assert_refused_for_credit(status: u16, body: &Value, credit: &str) {
    assert_eq!(status, 402, "{body}");
    assert_eq!(body["error"]["code"], 1030, "{body}");
    assert_eq!(body["error"]["type"], "insufficient_credit", "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("0.04 EUR") && message.contains(credit),
        "{message}"
    );
}

#[tokio::test]
async fn creates_and_resends_stop_at_the_credit_and_unsent_sms_give_it_back() {
    let sim = start_sim(SimConfig::default()).await;
    let app = start(&sim).await;
    let base = app.base_url();

    // refused for good by the SMSC: reserved, then released
    sim.set_error_injection(1.0, 0x0000_000B);
    let (status, otp) = create(&base, PREPAID, "+447400123401").await;
    assert_eq!(status, 201, "{otp}");
    let rejected = settled(&base, PREPAID, otp["otpId"].as_str().unwrap()).await;
    assert_eq!(rejected["deliveryStatus"], "REJECTED", "{rejected}");
    sim.set_error_injection(0.0, 0);

    // 0.1 of credit: two SMS at 0.04, not a third
    let (status, first) = create(&base, PREPAID, "+447400123402").await;
    assert_eq!(status, 201, "{first}");
    let (status, second) = create(&base, PREPAID, "+447400123403").await;
    assert_eq!(status, 201, "{second}");
    let (status, body) = create(&base, PREPAID, "+447400123404").await;
    assert_refused_for_credit(status, &body, "prepaid balance");
    assert!(sim.messages_to("447400123404").is_empty());
    // settled at what was charged: still no room
    let first_id = first["otpId"].as_str().unwrap();
    // accepted by the SMSC (its receipt may already be in on a slow run)
    let first_status = settled(&base, PREPAID, first_id).await["deliveryStatus"].clone();
    assert!(
        first_status == "SENT" || first_status == "DELIVERED",
        "{first_status}"
    );
    settled(&base, PREPAID, second["otpId"].as_str().unwrap()).await;
    let (status, body) = post(
        &base,
        PREPAID,
        &format!("/otp/{first_id}/resend"),
        Value::Null,
    )
    .await;
    assert_refused_for_credit(status, &body, "prepaid balance");
    assert_eq!(
        sim.messages_to("447400123402").len(),
        1,
        "the refused resend sent nothing"
    );

    // the monthly cap: one SMS at 0.04 of 0.05
    let (status, capped) = create(&base, CAPPED, "+447400123405").await;
    assert_eq!(status, 201, "{capped}");
    let (status, body) = create(&base, CAPPED, "+447400123406").await;
    assert_refused_for_credit(status, &body, "monthly cap");
    // without credit: never refused
    for n in 0..4 {
        let (status, body) = create(&base, FREE, &format!("+4474001234{:02}", 10 + n)).await;
        assert_eq!(status, 201, "{body}");
    }
    app.stop(Duration::from_secs(10)).await.unwrap();
}
