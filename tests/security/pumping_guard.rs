//! Black-box tests of the SMS-pumping guard: prefix velocity, per-country daily caps and the
//! conversion guard, each refusal with its own code, reason and metric.

use crate::support::server::{error_of, test_config, Server};
use serde_json::{json, Value};

async fn create(s: &Server, phone: &str) -> (u16, Value, Option<String>) {
    let res = s
        .post("/otp")
        .json(&json!({"phoneNumber": phone}))
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let retry = res
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, res.json().await.unwrap(), retry)
}

async fn metrics(s: &Server) -> String {
    s.client
        .get(s.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_burst_to_one_prefix_is_stopped_while_other_prefixes_pass() {
    let mut c = test_config();
    c.abuse.prefix_digits = 3; // +33 612...
    c.abuse.prefix_limit = 10;
    c.abuse.prefix_window_s = 3600;
    let s = Server::start(c).await;
    let mut stopped = None;
    for i in 0..30 {
        let (status, body, retry) = create(&s, &format!("+336123{:05}", 40_000 + i)).await;
        if status != 201 {
            stopped = Some((i, status, body, retry));
            break;
        }
    }
    let (at, status, body, retry) = stopped.expect("a burst of 30 to one prefix passed");
    assert_eq!(at, 10, "stopped right after the limit");
    assert_eq!(status, 429);
    assert_eq!(error_of(&body), ("rate_limit".into(), 1017));
    assert_eq!(body["error"]["reason"], "prefix_velocity");
    assert!(retry.is_some());
    // other prefixes, in the same country and elsewhere, are not affected
    for phone in ["+33613412345", "+33641234567", "+4915112345678"] {
        assert_eq!(create(&s, phone).await.0, 201, "{phone}");
    }
    assert_eq!(s.dispatcher.count(), 13);
    assert!(metrics(&s)
        .await
        .contains("otpgate_blocked_total{reason=\"prefix_velocity\"} 1"));
    s.stop().await;
}

#[tokio::test]
async fn a_collapsed_conversion_ratio_throttles_its_prefix() {
    let mut c = test_config();
    c.abuse.prefix_digits = 3;
    c.abuse.conversion_min_ratio = 0.3;
    c.abuse.conversion_min_sample = 10;
    let s = Server::start(c).await;
    // a healthy prefix: most OTPs verified
    for i in 0..12 {
        let id = s.create_ok(&format!("+336134{:05}", 10_000 + i)).await;
        if i % 4 != 0 {
            let pin = s.dispatcher.pin_for(&id);
            assert_eq!(s.verify(&id, &pin).await.0, 200);
        }
    }
    // a pumped prefix: OTPs created, none verified
    for i in 0..10 {
        s.create_ok(&format!("+336123{:05}", 50_000 + i)).await;
    }
    let (status, body, retry) = create(&s, "+33612350011").await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(error_of(&body), ("access_denied".into(), 1019));
    assert_eq!(body["error"]["reason"], "low_conversion");
    assert!(retry.is_some());
    assert_eq!(
        create(&s, "+33613410099").await.0,
        201,
        "the healthy prefix"
    );
    assert!(metrics(&s)
        .await
        .contains("otpgate_blocked_total{reason=\"low_conversion\"} 1"));
    s.stop().await;
}

#[tokio::test]
async fn per_country_daily_cap_and_tenant_countries() {
    let mut c = test_config();
    c.abuse.country_daily_caps.insert("FR".into(), 3);
    c.tenants[0].denied_countries = vec!["GB".into()];
    let s = Server::start(c).await;
    for i in 0..3 {
        assert_eq!(create(&s, &format!("+3361234{:04}", 1000 + i)).await.0, 201);
    }
    let (status, body, retry) = create(&s, "+33641234567").await;
    assert_eq!(status, 429);
    assert_eq!(error_of(&body), ("rate_limit".into(), 1018));
    assert_eq!(body["error"]["reason"], "country_daily_cap");
    let secs: u64 = retry.unwrap().parse().unwrap();
    assert!((1..=86_400).contains(&secs));
    assert_eq!(create(&s, "+4915112345678").await.0, 201, "no cap on DE");
    let (status, body, _) = create(&s, "+447400123456").await;
    assert_eq!(status, 400);
    assert_eq!(error_of(&body), ("no_coverage".into(), 1012));
    assert_eq!(body["error"]["reason"], "country_not_allowed");
    let m = metrics(&s).await;
    assert!(m.contains("otpgate_blocked_total{reason=\"country_daily_cap\"} 1"));
    assert!(m.contains("otpgate_blocked_total{reason=\"country\"} 1"));
    s.stop().await;
}
