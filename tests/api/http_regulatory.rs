//! Regulatory traffic over HTTP, seen by the simulator: an Indian route's submit_sm carry the
//! tenant's DLT principal entity id and the template's id (on every part of a long message)
//! with the route's static TLVs; the US refuses alphanumeric sender IDs, so the configured long
//! number goes out (TON/NPI 1/1), France only takes a registered one, so a short code goes out
//! (3/0); Canada refuses with no replacement: 400 code 1022 and nothing sent. The OTP shows the
//! sender that went out, on create, GET and resend, and the metric counts each action.

use std::time::Duration;

use crate::support::smpp::start_sim;
use otpgate::config::{self, Config};
use otpgate::serve::Running;
use otpgate_sim::{ReceivedMessage, SimConfig, SimHandle};
use serde_json::{json, Value};

const TOKEN: &str = "acme-regulatory-token";
const PE_ID: &str = "1101000000000001";
const HI_TEMPLATE_ID: &str = "1107000000000099";
const WAIT: Duration = Duration::from_secs(10);

async fn start(sim: &SimHandle) -> Running {
    let addr = sim.local_addr();
    let toml = format!(
        r#"
[limits]
per_number = 0

[[tenants]]
name = "acme"
token = "{TOKEN}"
tlv_values = {{ pe_id = "{PE_ID}", template_id = "1107000000000000" }}
[tenants.template_tlv_values.hi]
template_id = "{HI_TEMPLATE_ID}"

[senders.countries.US]
alphanumeric = false
numeric_sender = "12025550100"
[senders.countries.CA]
alphanumeric = false
[senders.countries.FR]
registered = ["ACME"]
numeric_sender = "36111"

[[smsc]]
name = "sim"
host = "{}"
port = {}
system_id = "test"
password = "secret"
tlvs = [{{ tag = 0x1500, type = "u8", value = 1 }}]
[[smsc.route_tlvs]]
prefix = "+91"
tlvs = [{{ tag = 0x1501, value = "IN" }}]
tlv_names = {{ pe_id = 0x1400, template_id = 0x1401 }}
"#,
        addr.ip(),
        addr.port()
    );
    let config: Config = config::load_str(&toml, Vec::<(String, String)>::new()).expect("config");
    Running::start_on_loopback(config, Duration::from_secs(10))
        .await
        .expect("started")
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

async fn get(base: &str, path: &str) -> Value {
    let r = reqwest::Client::new()
        .get(format!("{base}{path}"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    r.json().await.unwrap()
}

async fn received(sim: &SimHandle, to: &str, after: u64) -> ReceivedMessage {
    sim.wait_for_message(to, after, WAIT)
        .await
        .unwrap_or_else(|| panic!("no message to {to}"))
}

/// The TLV `tag` of a part as text (the hex value decoded).
fn tlv_text(part: &[otpgate_sim::messages::ReceivedTlv], tag: u16) -> Option<String> {
    part.iter()
        .find(|t| t.tag == tag)
        .map(|t| String::from_utf8(hex::decode(&t.value).unwrap()).unwrap())
}

/// `otpgate_sender_rule_total` by (country, action), every configured series present from
/// the start.
async fn sender_rule_counts(base: &str) -> std::collections::BTreeMap<(String, String), f64> {
    let text = reqwest::get(format!("{base}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut out = std::collections::BTreeMap::new();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("otpgate_sender_rule_total{") else {
            continue;
        };
        let (labels, value) = rest.split_once("} ").unwrap();
        let label = |k: &str| {
            labels
                .split(',')
                .find_map(|kv| kv.strip_prefix(&format!("{k}=\"")))
                .map(|v| v.trim_end_matches('"').to_string())
                .unwrap()
        };
        out.insert((label("country"), label("action")), value.parse().unwrap());
    }
    for cc in ["US", "CA", "FR"] {
        for action in ["replaced", "refused"] {
            assert!(
                out.contains_key(&(cc.to_string(), action.to_string())),
                "{cc} {action} registered at zero: {text}"
            );
        }
    }
    out
}

#[tokio::test]
async fn india_gets_its_dlt_tlvs_on_every_part() {
    let sim = start_sim(SimConfig::default()).await;
    let app = start(&sim).await;
    let base = app.base_url();
    let long_hindi = format!(
        "आपका ओटीपी {{{{pin}}}} है। {}",
        "इसे किसी के साथ साझा न करें। ".repeat(4)
    );
    let (status, otp) = post(
        &base,
        "/otp",
        json!({"phoneNumber": "+919812345678", "template_hi": long_hindi, "language": "hi"}),
    )
    .await;
    assert_eq!(status, 201, "{otp}");
    assert_eq!(otp["language"], "hi", "{otp}");
    let m = received(&sim, "919812345678", 0).await;
    assert!(m.parts >= 2, "a long message: {m:?}");
    assert_eq!(m.tlvs.len(), m.parts, "{m:?}");
    for part in &m.tlvs {
        assert_eq!(tlv_text(part, 0x1400).as_deref(), Some(PE_ID), "{m:?}");
        assert_eq!(
            tlv_text(part, 0x1401).as_deref(),
            Some(HI_TEMPLATE_ID),
            "{m:?}"
        );
        assert_eq!(tlv_text(part, 0x1501).as_deref(), Some("IN"), "{m:?}");
        let flag = part
            .iter()
            .find(|t| t.tag == 0x1500)
            .map(|t| t.value.clone());
        assert_eq!(flag.as_deref(), Some("01"), "{m:?}");
    }
    // the generic template gets the tenant's own template id
    let (status, _) = post(&base, "/otp", json!({"phoneNumber": "+919812345679"})).await;
    assert_eq!(status, 201);
    let m = received(&sim, "919812345679", 0).await;
    assert_eq!(
        tlv_text(&m.tlvs[0], 0x1401).as_deref(),
        Some("1107000000000000")
    );
    // outside the +91 route: only the SMSC's static TLV, no DLT ids
    let (status, _) = post(&base, "/otp", json!({"phoneNumber": "+447400123456"})).await;
    assert_eq!(status, 201);
    let m = received(&sim, "447400123456", 0).await;
    assert_eq!(
        m.tlvs,
        vec![vec![otpgate_sim::messages::ReceivedTlv {
            tag: 0x1500,
            value: "01".into()
        }]]
    );
    assert_eq!(
        (m.source.as_str(), m.source_ton, m.source_npi),
        ("Verify", 5, 0)
    );
    app.stop(Duration::from_secs(10)).await.unwrap();
}

#[tokio::test]
async fn a_sender_the_country_refuses_is_replaced_or_the_create_refused() {
    let sim = start_sim(SimConfig::default()).await;
    let app = start(&sim).await;
    let base = app.base_url();
    let before = sender_rule_counts(&base).await;

    // US: no alphanumeric IDs; the long number goes out as an international number
    let (status, otp) = post(
        &base,
        "/otp",
        json!({"phoneNumber": "+12024561111", "from": "ACME"}),
    )
    .await;
    assert_eq!(status, 201, "{otp}");
    assert_eq!(otp["from"], "12025550100", "{otp}");
    let m = received(&sim, "12024561111", 0).await;
    assert_eq!(
        (m.source.as_str(), m.source_ton, m.source_npi),
        ("12025550100", 1, 1)
    );
    let id = otp["otpId"].as_str().unwrap();
    assert_eq!(
        get(&base, &format!("/otp/{id}")).await["from"],
        "12025550100"
    );
    let (status, resent) = post(&base, &format!("/otp/{id}/resend"), Value::Null).await;
    assert_eq!(status, 200, "{resent}");
    assert_eq!(resent["from"], "12025550100");
    let again = received(&sim, "12024561111", m.seq).await;
    assert_eq!(again.source, "12025550100");

    // a numeric sender passes the US rule unchanged
    let (status, otp) = post(
        &base,
        "/otp",
        json!({"phoneNumber": "+12024561112", "from": "447700900999"}),
    )
    .await;
    assert_eq!(status, 201, "{otp}");
    assert_eq!(otp["from"], "447700900999");

    // France: only a registered alphanumeric ID; the short code replaces the others
    let (status, otp) = post(&base, "/otp", json!({"phoneNumber": "+33612345678"})).await;
    assert_eq!(status, 201, "{otp}");
    assert_eq!(otp["from"], "36111", "{otp}");
    let m = received(&sim, "33612345678", 0).await;
    assert_eq!(
        (m.source.as_str(), m.source_ton, m.source_npi),
        ("36111", 3, 0)
    );
    let (status, otp) = post(
        &base,
        "/otp",
        json!({"phoneNumber": "+33612345679", "from": "ACME"}),
    )
    .await;
    assert_eq!(status, 201, "{otp}");
    assert_eq!(otp["from"], "ACME");
    // elsewhere the default sender goes out as it is, and shows
    let (_, otp) = post(&base, "/otp", json!({"phoneNumber": "+447400123457"})).await;
    assert_eq!(otp["from"], "Verify", "{otp}");

    // Canada: refused, no replacement configured: 400 1022 and nothing sent
    let (status, err) = post(
        &base,
        "/otp",
        json!({"phoneNumber": "+14163922489", "from": "ACME"}),
    )
    .await;
    assert_eq!(status, 400, "{err}");
    assert_eq!(err["error"]["code"], 1022, "{err}");
    assert_eq!(err["error"]["type"], "invalid_param");
    assert_eq!(err["error"]["field"], "from");
    assert_eq!(err["error"]["reason"], "sender_refused");
    assert!(
        err["error"]["message"].as_str().unwrap().contains("CA"),
        "{err}"
    );
    // a numeric sender to the same number goes: the only message that number gets
    let (status, _) = post(
        &base,
        "/otp",
        json!({"phoneNumber": "+14163922489", "from": "447700900999"}),
    )
    .await;
    assert_eq!(status, 201);
    let m = received(&sim, "14163922489", 0).await;
    assert_eq!(m.source, "447700900999");
    assert_eq!(sim.messages_to("14163922489").len(), 1);
    let after = sender_rule_counts(&base).await;
    let delta = |cc: &str, action: &str| {
        let key = (cc.to_string(), action.to_string());
        after.get(&key).copied().unwrap_or(-1.0) - before.get(&key).copied().unwrap_or(0.0)
    };
    // the resend sends the stored long number: nothing to replace
    assert_eq!(delta("US", "replaced"), 1.0, "{after:?}");
    assert_eq!(delta("FR", "replaced"), 1.0, "{after:?}");
    assert_eq!(delta("CA", "refused"), 1.0, "{after:?}");
    assert_eq!(delta("CA", "replaced"), 0.0, "{after:?}");
    app.stop(Duration::from_secs(10)).await.unwrap();
}
