//! Black-box tests of the OTP endpoints over real TCP: the create/get/verify/cancel cycle,
//! attempts, single use, expiry, tenants, and the delivery reports of the engine.

use std::time::Duration;

use crate::support::server::{error_of, test_config, Server, TOKEN2};
use otpgate::dispatch::{DeliveryUpdate, ReceiptOutcome};
use serde_json::json;

#[tokio::test]
async fn create_get_verify_once() {
    let s = Server::start(test_config()).await;
    let res = s
        .post("/otp")
        .json(&json!({"phoneNumber": "+33612345678", "trackId": "0f8fad5b-d9cb-469f-a165-70867728950e"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    assert!(res.headers().contains_key("x-request-id"));
    let otp: serde_json::Value = res.json().await.unwrap();
    let id = otp["otpId"].as_str().unwrap().to_owned();
    assert_eq!(id, id.to_lowercase());
    assert_eq!(id.len(), 36);
    assert_eq!(otp["phoneNumber"], "+33612345678");
    assert_eq!(otp["countryIso"], "FR");
    assert_eq!(otp["status"], "PENDING");
    assert_eq!(otp["deliveryStatus"], "QUEUED");
    assert_eq!(otp["trackId"], "0f8fad5b-d9cb-469f-a165-70867728950e");
    assert_eq!(otp["attempts"], 0);
    assert_eq!(otp["maxAttempts"], 5);
    assert_eq!(otp["ttl"], 600);
    assert_eq!(otp["parts"], 1);
    assert_eq!(otp["encoding"], "GSM7");
    assert_eq!(otp["cost"], 0.0);
    assert!(otp["otpCallbackUrl"].is_null());
    assert!(otp.get("pin").is_none());
    // six digits are the accepted minimum: no entropy warning
    assert!(otp.get("warnings").is_none());
    let created = time::OffsetDateTime::parse(
        otp["dateCreated"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let expires = time::OffsetDateTime::parse(
        otp["dateExpires"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    assert_eq!((expires - created).whole_seconds(), 600);

    let sms = s.dispatcher.sms_for(&id).unwrap();
    assert_eq!(sms.destination, "+33612345678");
    assert_eq!(sms.sender, "Verify");
    assert_eq!(sms.tenant, "one");
    let pin = s.dispatcher.pin_for(&id);
    assert_eq!(pin.len(), 6);
    assert!(pin.bytes().all(|b| b.is_ascii_digit()));

    let got = s.otp(&id).await;
    assert_eq!(got["otpId"], otp["otpId"]);
    assert_eq!(got["status"], "PENDING");
    assert!(got.get("warnings").is_none());

    let (status, body) = s.verify(&id, &pin).await;
    assert_eq!((status, body), (200, json!({"status": "VERIFIED"})));
    let got = s.otp(&id).await;
    assert_eq!(got["status"], "VERIFIED");
    // single use
    let (status, body) = s.verify(&id, &pin).await;
    assert_eq!(status, 400);
    assert_eq!(error_of(&body), ("otp_verified".into(), 2023));
    s.stop().await;
}

#[tokio::test]
async fn verify_alias_and_case_insensitive_letters() {
    let s = Server::start(test_config()).await;
    let (_, otp) = s
        .create(json!({"phoneNumber": "+33612345679", "pinType": "letters", "pinLength": 8}))
        .await;
    let id = otp["otpId"].as_str().unwrap();
    let pin = s.dispatcher.pin_for(id);
    assert!(
        pin.len() == 8 && pin.bytes().all(|b| b.is_ascii_uppercase()),
        "{pin}"
    );
    assert!(otp.get("warnings").is_none(), "8 letters are 37 bits");
    let res = s
        .post(&format!("/otp/{id}/verify"))
        .json(&json!({"pin": pin.to_lowercase()}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    s.stop().await;
}

#[tokio::test]
async fn attempts_then_failed() {
    let s = Server::start(test_config()).await;
    let (_, otp) = s
        .create(json!({"phoneNumber": "+33612345670", "maxAttempts": 3, "pinType": "alphanumeric"}))
        .await;
    let id = otp["otpId"].as_str().unwrap();
    let pin = s.dispatcher.pin_for(id);
    assert!(pin
        .bytes()
        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()));
    let wrong = if pin == "000000" { "111111" } else { "000000" };
    for _ in 0..2 {
        let (status, body) = s.verify(id, wrong).await;
        assert_eq!(status, 400);
        assert_eq!(error_of(&body), ("invalid_pin".into(), 2029));
    }
    let (_, body) = s.verify(id, wrong).await;
    assert_eq!(error_of(&body), ("otp_failed".into(), 2027));
    // even the right PIN fails now
    let (_, body) = s.verify(id, &pin).await;
    assert_eq!(error_of(&body), ("otp_failed".into(), 2026));
    let got = s.otp(id).await;
    assert_eq!(got["status"], "FAILED");
    assert_eq!(got["attempts"], 3);
    s.stop().await;
}

#[tokio::test]
async fn missing_pin_is_2022() {
    let s = Server::start(test_config()).await;
    let id = s.create_ok("+33612345671").await;
    for body in [
        json!({}),
        json!({"pin": true}),
        json!({"pin": ""}),
        json!({"pin": -5}),
    ] {
        let res = s
            .post(&format!("/otp/{id}"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400);
        let b: serde_json::Value = res.json().await.unwrap();
        assert_eq!(error_of(&b), ("invalid_param".into(), 2022), "{body}");
    }
    s.stop().await;
}

#[tokio::test]
async fn cancel_rules() {
    let s = Server::start(test_config()).await;
    let id = s.create_ok("+33612345672").await;
    let res = s.delete(&format!("/otp/{id}")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body, json!({"info": {"id": id}}));
    let res = s.delete(&format!("/otp/{id}")).send().await.unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(error_of(&res.json().await.unwrap()).1, 2030);
    let (_, body) = s.verify(&id, &s.dispatcher.pin_for(&id)).await;
    assert_eq!(error_of(&body), ("otp_cancelled".into(), 2024));

    let id2 = s.create_ok("+33612345673").await;
    s.verify(&id2, &s.dispatcher.pin_for(&id2)).await;
    let res = s.delete(&format!("/otp/{id2}")).send().await.unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(error_of(&res.json().await.unwrap()).1, 2031);
    let res = s
        .delete("/otp/0f8fad5b-d9cb-469f-a165-70867728950e")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    s.stop().await;
}

#[tokio::test]
async fn not_found_and_tenant_isolation() {
    let s = Server::start(test_config()).await;
    for path in ["/otp/0f8fad5b-d9cb-469f-a165-70867728950e", "/otp/nope"] {
        let res = s.get(path).send().await.unwrap();
        assert_eq!(res.status(), 404);
        assert_eq!(
            error_of(&res.json().await.unwrap()),
            ("not_found".into(), 2021)
        );
    }
    let id = s.create_ok("+33612345674").await;
    let res = s
        .client
        .get(s.url(&format!("/otp/{id}")))
        .header("X-API-KEY", TOKEN2)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404, "another tenant's OTP is invisible");
    s.stop().await;
}

#[tokio::test]
async fn authentication() {
    let s = Server::start(test_config()).await;
    let body = json!({"phoneNumber": "+33612345675"});
    let none = s
        .client
        .post(s.url("/otp"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(none.status(), 401);
    assert_eq!(error_of(&none.json().await.unwrap()).0, "invalid_api_key");
    let bad = s
        .client
        .post(s.url("/otp"))
        .bearer_auth("wrong-token")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 401);
    let basic = s
        .client
        .get(s.url("/otp/x"))
        .header("Authorization", "Basic abc")
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), 401);
    let key = s
        .client
        .post(s.url("/otp"))
        .header("X-API-KEY", TOKEN2)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(key.status(), 201);
    assert_eq!(s.dispatcher.sent()[0].tenant, "two");
    s.stop().await;
}

#[tokio::test]
async fn expiry_marks_then_removes() {
    let mut c = test_config();
    c.otp.retain_after_expiry_s = 120;
    let s = Server::start(c).await;
    let (_, otp) = s
        .create(json!({"phoneNumber": "+33612345676", "ttl": 60}))
        .await;
    let id = otp["otpId"].as_str().unwrap().to_owned();
    let pin = s.dispatcher.pin_for(&id);
    s.clock.advance(Duration::from_secs(61));
    let got = s.otp(&id).await;
    assert_eq!(got["status"], "EXPIRED");
    let (status, body) = s.verify(&id, &pin).await;
    assert_eq!(status, 400);
    assert_eq!(error_of(&body), ("otp_expired".into(), 2025));
    // past the retention time the expiry task forgets it
    s.clock.advance(Duration::from_secs(130));
    let mut gone = false;
    for _ in 0..200 {
        if s.get(&format!("/otp/{id}")).send().await.unwrap().status() == 404 {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(gone, "expired OTP still stored after its retention time");
    s.stop().await;
}

#[tokio::test]
async fn national_format_language_and_encoding() {
    let mut c = test_config();
    c.otp
        .templates
        .insert("de".into(), "Ihr Code lautet {{pin}}".into());
    c.otp.price_per_part = 0.05;
    let s = Server::start(c).await;
    let (status, otp) = s
        .create(json!({"phoneNumber": "06 12 34 56 77", "countryIso": "FR",
            "template_fr": "Votre code : {{pin}}", "template_de": "Code: {{pin}}"}))
        .await;
    assert_eq!(status, 201, "{otp}");
    assert_eq!(otp["phoneNumber"], "+33612345677");
    assert_eq!(otp["language"], "fr");
    let id = otp["otpId"].as_str().unwrap();
    assert!(s
        .dispatcher
        .sms_for(id)
        .unwrap()
        .text
        .starts_with("Votre code : "));
    // explicit language wins over the country
    let (_, otp) = s
        .create(json!({"phoneNumber": "+33612345601", "language": "de", "template_de": "Dein Code {{pin}}"}))
        .await;
    assert_eq!(otp["language"], "de");
    // the configuration's template for the country's language
    let (_, otp) = s.create(json!({"phoneNumber": "+4915112345678"})).await;
    assert_eq!(otp["language"], "de", "{otp}");
    // no template for the language: the generic one
    let (_, otp) = s.create(json!({"phoneNumber": "+447400123456"})).await;
    assert!(otp["language"].is_null());
    // UCS-2 text, two parts, priced
    let long = format!(
        "Ваш код подтверждения для входа в приложение: {} {{{{pin}}}}",
        "ж".repeat(20)
    );
    let (_, otp) = s
        .create(json!({"phoneNumber": "+33612345602", "template": long}))
        .await;
    assert_eq!(otp["encoding"], "UCS2");
    assert_eq!(otp["parts"], 2);
    assert!((otp["cost"].as_f64().unwrap() - 0.10).abs() < 1e-9);
    s.stop().await;
}

#[tokio::test]
async fn delivery_reports_update_the_otp() {
    let s = Server::start(test_config()).await;
    let id = s.create_ok("+33612345603").await;
    s.sink.on_update(DeliveryUpdate::Submitted {
        otp_id: id.clone(),
        smsc: "sim".into(),
        message_ids: vec!["00FF".into()],
    });
    let got = s.otp(&id).await;
    assert_eq!(got["deliveryStatus"], "SENT");
    // the receipt carries the id in decimal
    s.sink.on_update(DeliveryUpdate::Receipt {
        smsc: "sim".into(),
        message_id: "255".into(),
        outcome: ReceiptOutcome::Delivered,
        error: None,
    });
    let got = s.otp(&id).await;
    assert_eq!(got["deliveryStatus"], "DELIVERED");

    let id2 = s.create_ok("+33612345604").await;
    s.sink.on_update(DeliveryUpdate::Rejected {
        otp_id: id2.clone(),
        smsc: "sim".into(),
        command_status: 0x45,
        reason: "submit failed".into(),
    });
    let got = s.otp(&id2).await;
    assert_eq!(got["deliveryStatus"], "REJECTED");
    assert!(got["smppError"].as_str().unwrap().contains("0x00000045"));
    let id3 = s.create_ok("+33612345605").await;
    s.sink.on_update(DeliveryUpdate::Failed {
        otp_id: id3.clone(),
        reason: "deadline".into(),
    });
    let got = s.otp(&id3).await;
    assert_eq!(got["deliveryStatus"], "FAILED");
    s.stop().await;
}

#[tokio::test]
async fn countries_and_senders_per_tenant() {
    let mut c = test_config();
    c.tenants[0].denied_countries = vec!["DE".into()];
    c.tenants[0].allowed_senders = vec!["Verify".into(), "MyBank".into()];
    c.tenants[1].allowed_countries = vec!["FR".into()];
    let s = Server::start(c).await;
    let (status, body) = s.create(json!({"phoneNumber": "+4915112345678"})).await;
    assert_eq!(status, 400);
    assert_eq!(error_of(&body).0, "no_coverage");
    let (status, _) = s
        .create(json!({"phoneNumber": "+33612345606", "from": "MyBank"}))
        .await;
    assert_eq!(status, 201);
    let (status, body) = s
        .create(json!({"phoneNumber": "+33612345607", "from": "Other"}))
        .await;
    assert_eq!(status, 400);
    assert_eq!(error_of(&body), ("invalid_param".into(), 2005));
    let two = |phone: &str| {
        s.client
            .post(s.url("/otp"))
            .header("X-API-KEY", TOKEN2)
            .json(&json!({"phoneNumber": phone}))
            .send()
    };
    assert_eq!(two("+33612345608").await.unwrap().status(), 201);
    assert_eq!(two("+447400123456").await.unwrap().status(), 400);
    s.stop().await;
}
