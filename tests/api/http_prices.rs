//! What an aggregator bills, over HTTP with the simulator: `parts` and `encoding` are those of
//! the SMSC that sends (16-bit UDH references, a national single-shift table, Latin-1), `cost`
//! is the estimate of that SMSC's longest-prefix price before sending and what it charged for
//! the parts it accepted after (the fallback `[otp] price_per_part` where it has no price), a
//! resend adds its own charge, an SMS no SMSC accepted costs nothing, and the charged parts
//! and amounts are counted per SMSC.

use std::time::Duration;

use crate::support::smpp::start_sim;
use otpgate::config::{self, Config};
use otpgate::serve::Running;
use otpgate_sim::{ReceivedMessage, SimConfig, SimHandle};
use serde_json::{json, Value};

const TOKEN: &str = "acme-prices-token";
const WAIT: Duration = Duration::from_secs(10);

async fn start(sim: &SimHandle, uk_name: &str) -> Running {
    start_with(sim, "", "", uk_name).await
}

/// With `engine` as the `[engine]` table, and `uk` appended to the UK SMSC, named `uk_name`:
/// each test its own, since the metrics are the process's.
async fn start_with(sim: &SimHandle, engine: &str, uk: &str, uk_name: &str) -> Running {
    let addr = sim.local_addr();
    let smsc = |name: &str, extra: &str| {
        format!(
            "[[smsc]]\nname = \"{name}\"\nhost = \"{}\"\nport = {}\nsystem_id = \"test\"\n\
             password = \"secret\"\n{extra}\n",
            addr.ip(),
            addr.port()
        )
    };
    let toml = format!(
        r#"
[limits]
per_number = 0

[engine]
{engine}

[otp]
price_per_part = 0.05
currency = "GBP"

[[tenants]]
name = "acme"
token = "{TOKEN}"
# a London landline is priced below
number_types = ["mobile", "fixed_line_or_mobile", "fixed_line"]

{}
{}
{}
"#,
        smsc(
            uk_name,
            &format!(
                "routes = [\"+44\"]\nconcat = \"udh16\"\nnational_languages = [\"turkish\"]\n\
             prices = {{ \"+44\" = 0.035, \"+4474\" = 0.04 }}\n{uk}"
            ),
        ),
        smsc("iberia", "routes = [\"+34\"]\nencoding = \"latin1\""),
        smsc("world", "routes = [\"+\"]\nprices = { \"+90\" = 0.021 }"),
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

async fn get(base: &str, id: &str) -> Value {
    reqwest::Client::new()
        .get(format!("{base}/otp/{id}"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn received(sim: &SimHandle, to: &str, after: u64) -> ReceivedMessage {
    sim.wait_for_message(to, after, WAIT)
        .await
        .unwrap_or_else(|| panic!("no message to {to}"))
}

/// The OTP once its delivery status left QUEUED (and its cost was settled with it).
async fn settled(base: &str, id: &str) -> Value {
    for _ in 0..200 {
        let otp = get(base, id).await;
        if otp["deliveryStatus"] != "QUEUED" {
            return otp;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{id} still QUEUED");
}

fn cost(otp: &Value) -> f64 {
    otp["cost"]
        .as_f64()
        .unwrap_or_else(|| panic!("no cost: {otp}"))
}

fn assert_cost(otp: &Value, expected: f64) {
    let c = cost(otp);
    assert!(
        (c - expected).abs() < 1e-9,
        "cost {c}, expected {expected}: {otp}"
    );
}

/// A Prometheus counter's value for one `smsc` label.
async fn counter(base: &str, name: &str, smsc: &str) -> f64 {
    let text = reqwest::get(format!("{base}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let prefix = format!("{name}{{smsc=\"{smsc}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("{name} for {smsc} registered: {text}"))
        .parse()
        .unwrap()
}

#[tokio::test]
async fn cost_parts_and_encoding_are_those_of_the_smsc_that_sends() {
    let sim = start_sim(SimConfig::default()).await;
    let app = start(&sim, "uk").await;
    let base = app.base_url();
    let parts_before = counter(&base, "otpgate_parts_charged_total", "uk").await;
    let micros_before = counter(&base, "otpgate_cost_charged_micros_total", "uk").await;

    // 306 GSM-7 characters: 2 parts with 8-bit references, 3 with the 16-bit ones of "uk";
    // "+4474" is its longest matching prefix
    let long = format!("{{{{pin}}}}{}", "a".repeat(300));
    let (status, otp) = post(
        &base,
        "/otp",
        json!({"phoneNumber": "+447400123457", "template": long}),
    )
    .await;
    assert_eq!(status, 201, "{otp}");
    assert_eq!(
        (otp["parts"].as_u64(), otp["encoding"].as_str()),
        (Some(3), Some("GSM7")),
        "{otp}"
    );
    assert_cost(&otp, 0.12);
    let m = received(&sim, "447400123457", 0).await;
    assert_eq!(m.parts, 3, "{m:?}");
    let id = otp["otpId"].as_str().unwrap();
    let sent = settled(&base, id).await;
    assert_eq!(sent["deliveryStatus"], "SENT", "{sent}");
    assert_cost(&sent, 0.12);

    // a landline: "+44" prices it; the resend adds what its own send was charged
    let (_, otp) = post(&base, "/otp", json!({"phoneNumber": "+442071838750"})).await;
    assert_cost(&otp, 0.035);
    let id = otp["otpId"].as_str().unwrap().to_owned();
    let first = received(&sim, "442071838750", 0).await;
    assert_cost(&settled(&base, &id).await, 0.035);
    let (status, resent) = post(&base, &format!("/otp/{id}/resend"), Value::Null).await;
    assert_eq!(status, 200, "{resent}");
    // before it is sent: the charge so far plus the resend's estimate
    assert_cost(&resent, 0.07);
    received(&sim, "442071838750", first.seq).await;
    let after = settled(&base, &id).await;
    assert_eq!(after["resends"], 1);
    assert_cost(&after, 0.07);

    // Turkish: UCS-2 by default, GSM-7 with the single-shift table "uk" allows
    let turkish = "Doğrulama kodunuz: {{pin}}. Şifrenizi kimseyle paylaşmayın.";
    let (_, otp) = post(
        &base,
        "/otp",
        json!({"phoneNumber": "+447400123458", "template": turkish}),
    )
    .await;
    assert_eq!(
        (otp["encoding"].as_str(), otp["parts"].as_u64()),
        (Some("GSM7"), Some(1)),
        "{otp}"
    );
    assert_cost(&otp, 0.04);
    let m = received(&sim, "447400123458", 0).await;
    assert_eq!(m.data_coding, 0, "GSM-7 with a national table: {m:?}");
    assert!(m.text.contains("Şifrenizi"), "{m:?}");
    // the same text to Turkey goes through "world", which has no national table: UCS-2, at
    // its "+90" price
    let (_, otp) = post(
        &base,
        "/otp",
        json!({"phoneNumber": "+905321234567", "template": turkish}),
    )
    .await;
    assert_eq!(
        (otp["encoding"].as_str(), otp["parts"].as_u64()),
        (Some("UCS2"), Some(1)),
        "{otp}"
    );
    assert_cost(&otp, 0.021);
    assert_eq!(received(&sim, "905321234567", 0).await.data_coding, 8);

    // Latin-1 on "iberia", which has no price: the fallback
    let (_, otp) = post(
        &base,
        "/otp",
        json!({"phoneNumber": "+34600123456", "template": "Código de verificación: {{pin}}"}),
    )
    .await;
    assert_eq!(
        (otp["encoding"].as_str(), otp["parts"].as_u64()),
        (Some("LATIN1"), Some(1)),
        "{otp}"
    );
    assert_cost(&otp, 0.05);
    let m = received(&sim, "34600123456", 0).await;
    assert_eq!(m.data_coding, 3, "{m:?}");
    let settled_latin = settled(&base, otp["otpId"].as_str().unwrap()).await;
    assert_cost(&settled_latin, 0.05);

    // 3 + 1 + 1 + 1 parts accepted by "uk", at 0.04 x 3 + 0.035 x 2 + 0.04 (the Turkish one)
    let uk_otp = settled(&base, &id).await;
    assert_eq!(uk_otp["deliveryStatus"], "SENT");
    for _ in 0..100 {
        if counter(&base, "otpgate_parts_charged_total", "uk").await - parts_before >= 6.0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        counter(&base, "otpgate_parts_charged_total", "uk").await - parts_before,
        6.0
    );
    assert_eq!(
        counter(&base, "otpgate_cost_charged_micros_total", "uk").await - micros_before,
        230_000.0
    );
    assert_eq!(
        counter(&base, "otpgate_parts_not_charged_total", "uk").await,
        0.0
    );
    app.stop(Duration::from_secs(10)).await.unwrap();
}

#[tokio::test]
async fn an_sms_no_smsc_accepted_costs_nothing() {
    let sim = start_sim(SimConfig::default()).await;
    let app = start(&sim, "uk-rejecting").await;
    let base = app.base_url();
    // every submit_sm refused for good (ESME_RINVDSTADR)
    sim.set_error_injection(1.0, 0x0000_000B);
    let (status, otp) = post(&base, "/otp", json!({"phoneNumber": "+447400123459"})).await;
    assert_eq!(status, 201, "{otp}");
    assert_cost(&otp, 0.04);
    let after = settled(&base, otp["otpId"].as_str().unwrap()).await;
    assert_eq!(after["deliveryStatus"], "REJECTED", "{after}");
    assert_cost(&after, 0.0);
    app.stop(Duration::from_secs(10)).await.unwrap();
}

/// At-least-once: a submit_sm answered after its response timeout is sent again; the SMSC
/// took both copies, the tenant pays for one, and the other is counted as not charged.
#[tokio::test]
async fn a_part_sent_twice_for_a_late_answer_is_charged_once() {
    let sim = start_sim(SimConfig::default()).await;
    let app = start_with(
        &sim,
        "retry_min_ms = 10\nretry_max_ms = 20",
        "response_timeout_ms = 300",
        "uk-late",
    )
    .await;
    let base = app.base_url();
    let not_charged = counter(&base, "otpgate_parts_not_charged_total", "uk-late").await;
    sim.set_latency(otpgate_sim::Latency::Fixed {
        value: Duration::from_millis(1500),
    });
    let (status, otp) = post(&base, "/otp", json!({"phoneNumber": "+447400123460"})).await;
    assert_eq!(status, 201, "{otp}");
    let first = received(&sim, "447400123460", 0).await;
    // the copy sent after the timeout is answered at once
    sim.set_latency(otpgate_sim::Latency::None);
    let second = received(&sim, "447400123460", first.seq).await;
    assert!(second.duplicate, "{second:?}");
    let after = settled(&base, otp["otpId"].as_str().unwrap()).await;
    assert_eq!(after["deliveryStatus"], "SENT", "{after}");
    for _ in 0..100 {
        if counter(&base, "otpgate_parts_not_charged_total", "uk-late").await > not_charged {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        counter(&base, "otpgate_parts_not_charged_total", "uk-late").await - not_charged,
        1.0
    );
    assert_eq!(sim.messages_to("447400123460").len(), 2);
    assert_cost(&get(&base, otp["otpId"].as_str().unwrap()).await, 0.04);
    app.stop(Duration::from_secs(10)).await.unwrap();
}

/// A failover between SMSCs of different settings: the estimate is that of the SMSC tried
/// first, and once another took the SMS, `parts`, `encoding` and `cost` are that one's.
#[tokio::test]
async fn after_a_failover_parts_encoding_and_cost_are_those_of_the_smsc_that_took_it() {
    let first = start_sim(SimConfig::default()).await;
    let taker = start_sim(SimConfig::default()).await;
    // every submit_sm to the first fails transiently (ESME_RSYSERR): it fails over
    first.set_error_injection(1.0, 0x0000_0008);
    let smsc = |name: &str, sim: &SimHandle, extra: &str| {
        let addr = sim.local_addr();
        format!(
            "[[smsc]]\nname = \"{name}\"\nhost = \"{}\"\nport = {}\nsystem_id = \"test\"\n\
             password = \"secret\"\nroutes = [\"+90\"]\n{extra}\n",
            addr.ip(),
            addr.port()
        )
    };
    let toml = format!(
        r#"
[limits]
per_number = 0

[engine]
retry_min_ms = 50
retry_max_ms = 100
failover_after_attempts = 2

[otp]
price_per_part = 0.05

[[tenants]]
name = "acme"
token = "{TOKEN}"

{}
{}
"#,
        smsc(
            "tr-turkish-table",
            &first,
            "priority = 0\nnational_languages = [\"turkish\"]\nprices = { \"+90\" = 0.02 }"
        ),
        smsc(
            "tr-plain",
            &taker,
            "priority = 1\nprices = { \"+90\" = 0.03 }"
        ),
    );
    let config: Config = config::load_str(&toml, Vec::<(String, String)>::new()).expect("config");
    let app = Running::start_on_loopback(config, Duration::from_secs(10))
        .await
        .expect("started");
    let base = app.base_url();

    // one GSM-7 part with the Turkish single shift; two UCS-2 parts without it
    let turkish = "Doğrulama kodunuz: {{pin}}. Şifrenizi kimseyle paylaşmayın, \
                   bankanız bu kodu asla sormaz.";
    let (status, otp) = post(
        &base,
        "/otp",
        json!({"phoneNumber": "+905321234567", "template": turkish}),
    )
    .await;
    assert_eq!(status, 201, "{otp}");
    assert_eq!(
        (otp["encoding"].as_str(), otp["parts"].as_u64()),
        (Some("GSM7"), Some(1)),
        "the estimate is the first SMSC's: {otp}"
    );
    assert_cost(&otp, 0.02);

    let m = received(&taker, "905321234567", 0).await;
    assert_eq!(m.parts, 2, "{m:?}");
    let sent = settled(&base, otp["otpId"].as_str().unwrap()).await;
    assert_eq!(sent["deliveryStatus"], "SENT", "{sent}");
    assert_eq!(
        (sent["encoding"].as_str(), sent["parts"].as_u64()),
        (Some("UCS2"), Some(2)),
        "those of the SMSC that took it: {sent}"
    );
    assert_cost(&sent, 0.06);
    app.stop(Duration::from_secs(10)).await.unwrap();
}
