//! `POST /otp/{otpId}/resend`: a new PIN, the old one invalidated, limited per OTP and per
//! number, dispatched again.

use std::time::Duration;

use crate::support::server::{error_of, test_config, Server};
use otpgate::dispatch::DispatchError;
use serde_json::{json, Value};

async fn resend(s: &Server, id: &str) -> (u16, Value) {
    let res = s.post(&format!("/otp/{id}/resend")).send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap())
}

#[tokio::test]
async fn resend_replaces_the_pin_and_sends_again() {
    let s = Server::start(test_config()).await;
    let (status, otp) = s
        .create(
            json!({"phoneNumber": "+33612345678", "from": "MyBank", "pinType": "letters",
            "pinLength": 8, "template": "Bank code: {{pin}}"}),
        )
        .await;
    assert_eq!(status, 201);
    let id = otp["otpId"].as_str().unwrap().to_owned();
    let old = s.dispatcher.pin_for(&id);
    let (status, body) = resend(&s, &id).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["resends"], 1);
    assert_eq!(body["deliveryStatus"], "QUEUED");
    assert_eq!(body["status"], "PENDING");
    let sent = s.dispatcher.sent();
    assert_eq!(sent.len(), 2);
    let again = &sent[1];
    assert_eq!(again.otp_id, id);
    assert_eq!(again.sender, "MyBank");
    assert!(again.text.starts_with("Bank code: "));
    let new = again.text.rsplit(' ').next().unwrap().to_owned();
    assert_eq!(new.len(), 8);
    assert!(new.chars().all(|c| c.is_ascii_uppercase()));
    assert_ne!(new, old);
    // the replaced PIN no longer verifies: 2028 "the PIN has expired", a wrong try all the same
    let (status, body) = s.verify(&id, &old).await;
    assert_eq!(
        (status, error_of(&body)),
        (400, ("otp_expired".into(), 2028)),
        "{body}"
    );
    assert_eq!(body["error"]["field"], "pin");
    assert_eq!(s.otp(&id).await["attempts"], 1);
    // only the last replaced PIN is told apart: after a second resend the first is just wrong
    assert_eq!(resend(&s, &id).await.0, 200);
    let newest = s.dispatcher.sent()[2]
        .text
        .rsplit(' ')
        .next()
        .unwrap()
        .to_owned();
    let (status, body) = s.verify(&id, &old).await;
    assert_eq!((status, error_of(&body).1), (400, 2029), "{body}");
    let (status, body) = s.verify(&id, &new).await;
    assert_eq!((status, error_of(&body).1), (400, 2028), "{body}");
    assert_eq!(s.otp(&id).await["attempts"], 3);
    assert_eq!(s.verify(&id, &newest).await.0, 200);
    // a verified OTP is not resent
    let (status, body) = resend(&s, &id).await;
    assert_eq!((status, error_of(&body).1), (400, 2023));
    assert_eq!(s.dispatcher.count(), 3);
    s.stop().await;
}

#[tokio::test]
async fn a_replaced_pin_on_the_last_attempt_fails_the_otp() {
    let s = Server::start(test_config()).await;
    let (status, otp) = s
        .create(json!({"phoneNumber": "+33612345609", "maxAttempts": 1}))
        .await;
    assert_eq!(status, 201, "{otp}");
    let id = otp["otpId"].as_str().unwrap().to_owned();
    let old = s.dispatcher.pin_for(&id);
    assert_eq!(resend(&s, &id).await.0, 200);
    let (status, body) = s.verify(&id, &old).await;
    assert_eq!((status, error_of(&body).1), (400, 2027), "{body}");
    assert_eq!(s.otp(&id).await["status"], "FAILED");
    s.stop().await;
}

#[tokio::test]
async fn resends_are_limited_per_otp_and_per_number() {
    let mut c = test_config();
    c.limits.max_resends = 2;
    c.limits.per_number = 4;
    let s = Server::start(c).await;
    let id = s.create_ok("+33612345601").await;
    assert_eq!(resend(&s, &id).await.0, 200);
    assert_eq!(resend(&s, &id).await.0, 200);
    let (status, body) = resend(&s, &id).await;
    assert_eq!(status, 429);
    assert_eq!(error_of(&body), ("rate_limit".into(), 1016));
    assert_eq!(body["error"]["reason"], "resend_limit");
    // the number had 1 create + 2 resends; one more create passes, then the number is limited
    let other = s.create_ok("+33612345601").await;
    let (status, body) = resend(&s, &other).await;
    assert_eq!(status, 429);
    assert_eq!(error_of(&body), ("rate_limit".into(), 1008));
    assert_eq!(s.dispatcher.count(), 4);
    // unknown, other tenant's, cancelled, expired
    assert_eq!(
        resend(&s, "0f8fad5b-d9cb-469f-a165-70867728950e").await.0,
        404
    );
    let theirs = s
        .client
        .post(s.url(&format!("/otp/{id}/resend")))
        .bearer_auth(crate::support::server::TOKEN2)
        .send()
        .await
        .unwrap();
    assert_eq!(theirs.status(), 404);
    let c2 = s.create_ok("+33612345602").await;
    assert_eq!(s.cancel(&c2).await, 200);
    assert_eq!(error_of(&resend(&s, &c2).await.1).1, 2024);
    let e = s.create_ok("+33612345603").await;
    s.clock.advance(Duration::from_secs(601));
    assert_eq!(error_of(&resend(&s, &e).await.1).1, 2025);
    s.stop().await;
}

#[tokio::test]
async fn a_resend_the_engine_refuses_is_a_503_and_marks_the_delivery_failed() {
    let s = Server::start(test_config()).await;
    let id = s.create_ok("+33612345604").await;
    s.dispatcher.refuse_with(Some(DispatchError::QueueFull {
        retry_after: Duration::from_secs(2),
    }));
    let res = s.post(&format!("/otp/{id}/resend")).send().await.unwrap();
    assert_eq!(res.status(), 503);
    assert_eq!(res.headers()["retry-after"], "2");
    let got = s.otp(&id).await;
    assert_eq!(got["deliveryStatus"], "FAILED");
    assert!(got["smppError"]
        .as_str()
        .unwrap()
        .contains("resend not queued"));
    s.dispatcher.refuse_with(None);
    assert_eq!(resend(&s, &id).await.0, 200);
    s.stop().await;
}

/// A resend is an SMS like a create: it takes a token from the tenant's rate and passes the
/// pumping guard (prefix velocity, country daily caps, conversion), not only the per-number
/// limit.
#[tokio::test]
async fn resends_count_against_the_tenant_rate_and_the_pumping_guard() {
    let mut c = test_config();
    c.tenants[0].rate_limit_per_s = 1;
    c.abuse.prefix_limit = 1;
    c.abuse.country_daily_caps.insert("GB".into(), 1);
    let s = Server::start(c).await;
    let id = s.create_ok("+447400123456").await;
    // a burst of resends: the tenant's rate refuses them, with its headers (any that gets a
    // token is refused by the pumping guard below)
    let burst = (0..5).map(|_| s.post(&format!("/otp/{id}/resend")).send());
    let mut rate_limited = 0;
    for res in futures::future::join_all(burst).await {
        let res = res.unwrap();
        assert_eq!(res.status(), 429);
        let limited = res.headers().contains_key("x-rate-limit-remaining");
        let body: Value = res.json().await.unwrap();
        if error_of(&body).1 == 1007 {
            assert!(limited, "{body}");
            rate_limited += 1;
        }
    }
    assert!(rate_limited > 0, "five resends at once passed a 1/s rate");
    assert_eq!(s.dispatcher.count(), 1, "a resend sent an SMS");
    // a token later, a second create to GB and a resend are refused alike: the GB cap is spent
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (status, body) = s.create(json!({"phoneNumber": "+447400123457"})).await;
    assert_eq!((status, error_of(&body).1), (429, 1018), "{body}");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (status, body) = resend(&s, &id).await;
    assert_eq!((status, error_of(&body).1), (429, 1018), "{body}");
    assert_eq!(body["error"]["reason"], "country_daily_cap");
    assert_eq!(
        s.dispatcher.count(),
        1,
        "a resend sent an SMS past the GB daily cap"
    );
    s.stop().await;
}
