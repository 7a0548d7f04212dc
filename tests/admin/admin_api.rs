//! Who may use the admin API, and what it answers: 401 without the admin token or with a
//! tenant's, 403 for the read token on what changes things, 404 for an unknown SMSC, 501 for
//! the reload until it is wired, the configuration without a secret, an OpenAPI document
//! describing every route, and the engine refusing to start with a listener but no token.

use std::time::Duration;

use otpgate::config;
use otpgate::serve::Running;

use crate::harness::*;
use crate::support::stack::{Stack, TOKEN};

#[tokio::test]
async fn tokens_decide_who_may_look_and_who_may_change() {
    let (a, b) = two_sims().await;
    let stack = Stack::start(&two_smscs_toml(a.local_addr(), b.local_addr(), "")).await;

    for token in [None, Some(TOKEN), Some("Bearer-nonsense-0123456789")] {
        for (method, path) in [
            ("GET", "/admin/status"),
            ("GET", "/admin/config"),
            ("GET", "/admin/openapi.json"),
            ("GET", "/admin/smsc/a"),
            ("POST", "/admin/smsc/a/stop"),
            ("POST", "/admin/reload"),
        ] {
            let (code, body) = call(&stack, method, path, token).await;
            assert_eq!(code, 401, "{method} {path} with {token:?}: {body}");
            assert_eq!(body["code"], "unauthorized", "{body}");
            assert!(
                body["message"].as_str().unwrap().contains("token"),
                "{body}"
            );
        }
    }

    // the read token looks, and may not change anything
    let (code, body) = call(&stack, "GET", "/admin/smsc/a", Some(READ_TOKEN)).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["name"], "a");
    for path in ["/admin/smsc/a/stop", "/admin/smsc/a/start", "/admin/reload"] {
        let (code, body) = call(&stack, "POST", path, Some(READ_TOKEN)).await;
        assert_eq!(code, 403, "{path}: {body}");
        assert_eq!(body["code"], "read_only_token", "{body}");
    }
    assert_eq!(smsc(&status(&stack).await, "a")["stopped"], false);
    assert_eq!(status(&stack).await["can_change"], false);

    // the write token reads too
    let (code, body) = call(&stack, "GET", "/admin/status", Some(ADMIN_TOKEN)).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["can_change"], true);

    let (code, body) = call(&stack, "POST", "/admin/smsc/nope/stop", Some(ADMIN_TOKEN)).await;
    assert_eq!(
        (code, body["code"].as_str()),
        (404, Some("unknown_smsc")),
        "{body}"
    );
    let (code, body) = call(&stack, "GET", "/admin/smsc/nope", Some(READ_TOKEN)).await;
    assert_eq!(
        (code, body["code"].as_str()),
        (404, Some("unknown_smsc")),
        "{body}"
    );
    let (code, body) = call(&stack, "GET", "/admin/nothing-here", Some(ADMIN_TOKEN)).await;
    assert_eq!(
        (code, body["code"].as_str()),
        (404, Some("not_found")),
        "{body}"
    );

    let (code, body) = call(&stack, "POST", "/admin/reload", Some(ADMIN_TOKEN)).await;
    assert_eq!(code, 501, "{body}");
    assert_eq!(body["code"], "reload_not_available", "{body}");

    // the admin token does not open the public API either
    let r = reqwest::Client::new()
        .get(format!(
            "{}/otp/00000000-0000-0000-0000-000000000000",
            stack.base
        ))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);

    let metrics = stack.metrics().await;
    for series in [
        r#"otpgate_admin_requests_total{endpoint="status",outcome="unauthorized"}"#,
        r#"otpgate_admin_requests_total{endpoint="stop",outcome="forbidden"}"#,
        r#"otpgate_admin_requests_total{endpoint="reload",outcome="error"}"#,
    ] {
        assert!(metrics.contains(series), "{series} missing");
    }
    stack.stop(Duration::from_secs(15)).await;
}

#[tokio::test]
async fn the_configuration_shows_without_its_secrets() {
    let (a, b) = two_sims().await;
    let toml = two_smscs_toml(a.local_addr(), b.local_addr(), "")
        .replace("password = \"secret\"", "password = \"smscpw98\"");
    let stack = Stack::start(&toml).await;
    let (code, body) = call(&stack, "GET", "/admin/config", Some(READ_TOKEN)).await;
    assert_eq!(code, 200, "{body}");
    let text = body.to_string();
    for secret in [
        ADMIN_TOKEN,
        READ_TOKEN,
        TOKEN,
        "smscpw98",
        "reliability-secret",
    ] {
        assert!(!text.contains(secret), "{secret} shows: {text}");
    }
    assert_eq!(body["smsc"][0]["name"], "a");
    assert_eq!(body["smsc"][0]["password"], "<redacted>");
    assert_eq!(body["admin"]["token"], "<redacted>");
    assert_eq!(body["tenants"][0]["name"], "rel");
    // nor in check-config's summary
    let summary = config::load_str(&toml, Vec::<(String, String)>::new())
        .unwrap()
        .summary();
    assert!(summary.contains("admin.listen = 127.0.0.1:0"), "{summary}");
    for secret in [ADMIN_TOKEN, READ_TOKEN, "smscpw98"] {
        assert!(!summary.contains(secret), "{secret} in {summary}");
    }
    stack.stop(Duration::from_secs(15)).await;
}

#[tokio::test]
async fn the_openapi_document_describes_every_route() {
    let (a, b) = two_sims().await;
    let stack = Stack::start(&two_smscs_toml(a.local_addr(), b.local_addr(), "")).await;
    let (code, doc) = call(&stack, "GET", "/admin/openapi.json", Some(READ_TOKEN)).await;
    assert_eq!(code, 200, "{doc}");
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for (path, method) in otpgate::admin::openapi::ROUTES {
        let op = &doc["paths"][path][method];
        assert!(op["responses"].is_object(), "{method} {path} not described");
        // and the router serves it (not the 404 of an unknown route)
        let concrete = path.replace("{name}", "a");
        let verb = method.to_uppercase();
        let (code, body) = call(&stack, &verb, &concrete, Some(READ_TOKEN)).await;
        assert_ne!(
            body["code"], "not_found",
            "{verb} {concrete}: {code} {body}"
        );
        assert_ne!(code, 405, "{verb} {concrete}");
    }
    let described: usize = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|p| p.as_object().unwrap().len())
        .sum();
    assert_eq!(described, otpgate::admin::openapi::ROUTES.len());
    stack.stop(Duration::from_secs(15)).await;
}

#[tokio::test]
async fn a_listener_without_a_token_is_refused() {
    let toml = format!(
        "{}\n[admin]\nlisten = \"127.0.0.1:0\"\n[demo]\nenabled = true\n",
        crate::support::stack::base_toml()
    );
    let err = config::load_str(&toml, Vec::<(String, String)>::new()).unwrap_err();
    assert!(err.to_string().starts_with("admin.token:"), "{err}");

    // built in code, past the loader: the start checks it too
    let mut c = config::load_str(
        &format!(
            "{}\n[demo]\nenabled = true\n",
            crate::support::stack::base_toml()
        ),
        Vec::<(String, String)>::new(),
    )
    .unwrap();
    c.admin.listen = Some("127.0.0.1:0".into());
    let refused = Running::start_on_loopback(c, Duration::from_secs(10)).await;
    let err = refused.err().expect("started without an admin token");
    assert!(err.to_string().contains("admin.token"), "{err}");

    // a tenant token equal to the admin token is refused too
    let toml = format!(
        "{}\n[admin]\nlisten = \"127.0.0.1:0\"\ntoken = \"{TOKEN}-long-enough\"\n[demo]\nenabled = true\n",
        crate::support::stack::base_toml().replace(TOKEN, &format!("{TOKEN}-long-enough"))
    );
    let err = config::load_str(&toml, Vec::<(String, String)>::new()).unwrap_err();
    assert!(err.to_string().starts_with("tenants[0].token:"), "{err}");
}
