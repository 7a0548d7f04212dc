//! Black-box tests of the operations endpoints: health, readiness, metrics, OpenAPI.

use crate::support::server::{test_config, Server};
use serde_json::json;

#[tokio::test]
async fn health_and_readiness() {
    let s = Server::start(test_config()).await;
    let res = s.client.get(s.url("/healthz")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let res = s.client.get(s.url("/readyz")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    s.dispatcher.set_not_ready(vec!["no bind up".into()]);
    let res = s.client.get(s.url("/readyz")).send().await.unwrap();
    assert_eq!(res.status(), 503);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["ready"], false);
    assert_eq!(body["reasons"], json!(["no bind up"]));
    s.stop().await;
}

#[tokio::test]
async fn metrics_without_personal_data() {
    let s = Server::start(test_config()).await;
    let id = s.create_ok("+33612345678").await;
    let pin = s.dispatcher.pin_for(&id);
    s.verify(&id, "000000x").await;
    s.verify(&id, &pin).await;
    s.get("/nope").send().await.unwrap();
    let text = s
        .client
        .get(s.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for name in [
        "otpgate_http_requests_total",
        "otpgate_http_request_duration_seconds_bucket",
        "otpgate_otps_created_total",
        "otpgate_otps_verified_total",
        "otpgate_otps_live",
        "otpgate_otps_stored",
        "otpgate_otps_max_live",
    ] {
        assert!(text.contains(name), "{name} missing");
    }
    assert!(text.contains("route=\"/otp/{otpId}\""));
    assert!(text.contains("result=\"wrong_pin\""));
    for secret in [id.as_str(), pin.as_str(), "33612345678"] {
        assert!(!text.contains(secret), "metrics leak {secret}");
    }
    s.stop().await;
}

#[tokio::test]
async fn openapi_matches_the_server() {
    let s = Server::start(test_config()).await;
    let doc: serde_json::Value = s
        .client
        .get(s.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for (path, method) in [
        ("/otp", "post"),
        ("/otp/{otpId}", "get"),
        ("/otp/{otpId}", "post"),
        ("/otp/{otpId}", "delete"),
        ("/otp/{otpId}/verify", "post"),
        ("/healthz", "get"),
        ("/readyz", "get"),
        ("/metrics", "get"),
        ("/openapi.json", "get"),
    ] {
        assert!(
            paths[path][method].is_object(),
            "{method} {path} undocumented"
        );
    }
    // every documented path answers something other than 404/405 for its methods
    for (path, item) in paths {
        let concrete = path.replace("{otpId}", "0f8fad5b-d9cb-469f-a165-70867728950e");
        for method in item.as_object().unwrap().keys() {
            let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let res = s
                .client
                .request(m, s.url(&concrete))
                .bearer_auth(crate::support::server::TOKEN)
                .send()
                .await
                .unwrap();
            assert_ne!(res.status(), 405, "{method} {path}");
            if !concrete.contains("0f8fad5b") {
                assert_ne!(res.status(), 404, "{method} {path}");
            }
        }
    }
    // the OTP schema names exactly the fields of a reply (plus the create-only warnings)
    let schema = &doc["components"]["schemas"]["Otp"];
    let documented: std::collections::BTreeSet<String> = schema["properties"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    let id = s.create_ok("+33612345678").await;
    let got = s.otp(&id).await;
    let mut returned: std::collections::BTreeSet<String> =
        got.as_object().unwrap().keys().cloned().collect();
    returned.insert("warnings".into());
    assert_eq!(documented, returned);
    let required: Vec<&str> = schema["required"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    for r in required {
        assert!(got.get(r).is_some(), "required {r} missing from a reply");
    }
    let error_types: Vec<&str> = doc["components"]["schemas"]["Error"]["properties"]["error"]
        ["properties"]["type"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    let (_, e) = s.create(json!({})).await;
    assert!(error_types.contains(&e["error"]["type"].as_str().unwrap()));
    s.stop().await;
}
