//! Number types over HTTP, seen by the simulator: premium-rate, toll-free and (by default)
//! fixed-line numbers are refused with 400 code 1023 naming the type, whichever way the
//! number is written (international, national with countryIso, or a form only the library
//! parses), counted in `otpgate_blocked_total{reason="number_type"}`, and nothing reaches the
//! SMSC; mobiles and NANP numbers go out; a tenant that opts in to landlines gets its fixed
//! line sent.

use std::time::Duration;

use crate::support::smpp::start_sim;
use crate::support::stack::Stack;
use otpgate_sim::{SimConfig, SimHandle};
use serde_json::{json, Value};

const WAIT: Duration = Duration::from_secs(20);
const SHOP: &str = "shop-types-token";
const VOICE: &str = "voice-types-token";

fn toml(sim: &SimHandle) -> String {
    let addr = sim.local_addr();
    format!(
        r#"
[limits]
per_number = 0

[[tenants]]
name = "shop"
token = "{SHOP}"

[[tenants]]
name = "voice"
token = "{VOICE}"
number_types = ["mobile", "fixed_line_or_mobile", "fixed_line"]

[[smsc]]
name = "sim"
host = "{}"
port = {}
system_id = "test"
password = "secret"
"#,
        addr.ip(),
        addr.port()
    )
}

async fn create(base: &str, token: &str, body: Value) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(format!("{base}/otp"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

async fn blocked_by_type(stack: &Stack) -> String {
    let metrics = stack.metrics().await;
    metrics
        .lines()
        .find(|l| l.starts_with("otpgate_blocked_total{reason=\"number_type\"}"))
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn premium_and_landline_numbers_are_refused_before_any_sms() {
    let sim = start_sim(SimConfig::default()).await;
    let stack = Stack::start(&toml(&sim)).await;
    let base = stack.base.clone();
    // registered from zero
    assert!(blocked_by_type(&stack).await.ends_with(" 0"));

    let refused = [
        (
            json!({"phoneNumber": "+449098765432"}),
            "premium_rate",
            "449098765432",
        ),
        (
            json!({"phoneNumber": "0909 876 5432", "countryIso": "GB"}),
            "premium_rate",
            "449098765432",
        ),
        // a national prefix inside an international number: only the library parses it
        (
            json!({"phoneNumber": "+44 (0) 909 876 5432"}),
            "premium_rate",
            "449098765432",
        ),
        (
            json!({"phoneNumber": "+448001234567"}),
            "toll_free",
            "448001234567",
        ),
        (
            json!({"phoneNumber": "+442079460000"}),
            "fixed_line",
            "442079460000",
        ),
    ];
    for (body, kind, _) in &refused {
        let (status, answer) = create(&base, SHOP, body.clone()).await;
        assert_eq!(status, 400, "{body}: {answer}");
        let e = &answer["error"];
        assert_eq!(e["code"], 1023, "{answer}");
        assert_eq!(e["type"], "invalid_param");
        assert_eq!(e["reason"], *kind, "{body}: {answer}");
        assert_eq!(e["field"], "phoneNumber");
        assert!(e["message"].as_str().unwrap().contains(kind), "{answer}");
    }

    // accepted and sent: a mobile, a NANP number (fixed line or mobile), and the landline
    // for the tenant that opted in
    for (token, phone) in [
        (SHOP, "+447400123456"),
        (SHOP, "+12025550123"),
        (VOICE, "+442079460000"),
    ] {
        let (status, answer) = create(&base, token, json!({"phoneNumber": phone})).await;
        assert_eq!(status, 201, "{phone}: {answer}");
        let to = phone.trim_start_matches('+');
        assert!(
            sim.wait_for_message(to, 0, WAIT).await.is_some(),
            "no message to {phone}"
        );
    }
    // the voice tenant still refuses premium rate
    let (status, answer) = create(&base, VOICE, json!({"phoneNumber": "+449098765432"})).await;
    assert_eq!(
        (status, answer["error"]["code"].clone()),
        (400, json!(1023))
    );

    // the refused numbers never reached the SMSC (the accepted ones, sent after, did)
    for (_, _, to) in &refused[..4] {
        assert!(sim.messages_to(to).is_empty(), "{to} was sent");
    }
    assert_eq!(
        sim.messages_to("442079460000").len(),
        1,
        "only the voice tenant's"
    );
    assert!(
        blocked_by_type(&stack).await.ends_with(" 6"),
        "{}",
        blocked_by_type(&stack).await
    );
    stack.stop(Duration::from_secs(10)).await;
}
