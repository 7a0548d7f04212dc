//! Browsers (CORS), checked on the wire: preflights and answers from the origins of `[http]
//! cors_allowed_origins` carry the CORS headers (credentials included); other origins get
//! none; no list, no CORS at all; a tenant's own list narrows the global one. The same in a
//! real browser: `browser_cors`.

use crate::support::server::{tenant, test_config, Server, TOKEN, TOKEN2};
use reqwest::header::HeaderMap;
use reqwest::Method;
use serde_json::json;

const APP: &str = "https://app.example.com";
const SHOP: &str = "http://127.0.0.1:8081";
const EVIL: &str = "https://evil.example.net";

fn cors_headers(h: &HeaderMap) -> Vec<String> {
    h.keys()
        .map(|k| k.as_str().to_owned())
        .filter(|k| k.starts_with("access-control-"))
        .collect()
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> &'a str {
    h.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

async fn preflight(s: &Server, origin: &str) -> reqwest::Response {
    s.client
        .request(Method::OPTIONS, s.url("/otp"))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization,content-type",
        )
        .send()
        .await
        .unwrap()
}

async fn create_from(s: &Server, origin: &str, token: &str, phone: &str) -> reqwest::Response {
    s.client
        .post(s.url("/otp"))
        .header("origin", origin)
        .bearer_auth(token)
        .json(&json!({"phoneNumber": phone}))
        .send()
        .await
        .unwrap()
}

fn with_origins(origins: &[&str]) -> otpgate::config::Config {
    let mut c = test_config();
    c.http.cors_allowed_origins = origins.iter().map(|o| o.to_string()).collect();
    c
}

#[tokio::test]
async fn listed_origins_get_cors_headers_with_credentials_others_none() {
    let s = Server::start(with_origins(&[APP, SHOP])).await;
    for origin in [APP, SHOP] {
        let res = preflight(&s, origin).await;
        assert!(res.status().is_success(), "{}", res.status());
        let h = res.headers();
        assert_eq!(header(h, "access-control-allow-origin"), origin);
        assert_eq!(header(h, "access-control-allow-credentials"), "true");
        let methods = header(h, "access-control-allow-methods").to_ascii_uppercase();
        for m in ["GET", "POST", "DELETE"] {
            assert!(methods.contains(m), "{methods}");
        }
        let allowed = header(h, "access-control-allow-headers").to_ascii_lowercase();
        for name in [
            "authorization",
            "content-type",
            "idempotency-key",
            "x-api-key",
        ] {
            assert!(allowed.contains(name), "{allowed}");
        }
        assert_eq!(header(h, "access-control-max-age"), "600");
        assert!(header(h, "vary").to_ascii_lowercase().contains("origin"));
    }
    let res = create_from(&s, APP, TOKEN, "+447400123501").await;
    assert_eq!(res.status(), 201);
    let h = res.headers();
    assert_eq!(header(h, "access-control-allow-origin"), APP);
    assert_eq!(header(h, "access-control-allow-credentials"), "true");
    let exposed = header(h, "access-control-expose-headers").to_ascii_lowercase();
    for name in [
        "x-rate-limit-remaining",
        "x-rate-limit-reset",
        "retry-after",
    ] {
        assert!(exposed.contains(name), "{exposed}");
    }
    // An error is readable by the page too (its JSON says what went wrong).
    let res = create_from(&s, APP, "not-a-token", "+447400123502").await;
    assert_eq!(res.status(), 401);
    assert_eq!(header(res.headers(), "access-control-allow-origin"), APP);

    // Another origin: no CORS header at all, on the preflight and on the answer.
    let res = preflight(&s, EVIL).await;
    assert_eq!(cors_headers(res.headers()), Vec::<String>::new());
    let res = create_from(&s, EVIL, TOKEN, "+447400123503").await;
    assert_eq!(cors_headers(res.headers()), Vec::<String>::new());
    // Origins match exactly: not a prefix, not another port or scheme.
    for near in [
        "https://app.example.com.evil.net",
        "http://app.example.com",
        "http://127.0.0.1:8082",
    ] {
        let res = preflight(&s, near).await;
        assert_eq!(cors_headers(res.headers()), Vec::<String>::new(), "{near}");
    }
    s.stop().await;
}

#[tokio::test]
async fn without_origins_there_is_no_cors() {
    let s = Server::start(test_config()).await;
    let res = preflight(&s, APP).await;
    assert_eq!(res.status(), 405);
    assert_eq!(cors_headers(res.headers()), Vec::<String>::new());
    let res = create_from(&s, APP, TOKEN, "+447400123504").await;
    assert_eq!(res.status(), 201);
    assert_eq!(cors_headers(res.headers()), Vec::<String>::new());
    s.stop().await;
}

#[tokio::test]
async fn a_tenant_list_narrows_the_global_one() {
    let mut config = with_origins(&[APP, SHOP]);
    // Tenant `two` allows the shop only; tenant `one` lists none (the global list).
    config.tenants = vec![tenant("one", TOKEN), {
        let mut t = tenant("two", TOKEN2);
        t.cors_allowed_origins = vec![SHOP.into()];
        t
    }];
    let s = Server::start(config).await;
    // A preflight carries no token: it answers for the global list.
    let res = preflight(&s, APP).await;
    assert_eq!(header(res.headers(), "access-control-allow-origin"), APP);

    let res = create_from(&s, SHOP, TOKEN2, "+447400123505").await;
    assert_eq!(res.status(), 201);
    assert_eq!(header(res.headers(), "access-control-allow-origin"), SHOP);

    let before = s.dispatcher.count();
    let res = create_from(&s, APP, TOKEN2, "+447400123506").await;
    assert_eq!(res.status(), 403);
    assert_eq!(cors_headers(res.headers()), Vec::<String>::new());
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], 1021, "{body}");
    assert_eq!(s.dispatcher.count(), before, "no SMS for a refused origin");

    // Tenant `one` keeps the global list; a request without Origin (a server) is not affected.
    let res = create_from(&s, APP, TOKEN, "+447400123507").await;
    assert_eq!(header(res.headers(), "access-control-allow-origin"), APP);
    let res = s
        .client
        .post(s.url("/otp"))
        .bearer_auth(TOKEN2)
        .json(&json!({"phoneNumber": "+447400123508"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    s.stop().await;
}

#[test]
fn origins_are_checked_when_the_configuration_loads() {
    let load = |toml: &str| otpgate::config::load_str(toml, Vec::<(String, String)>::new());
    let ok = load(&format!(
        "[http]\ncors_allowed_origins = [\"{APP}\", \"{SHOP}\"]\n\
         [[tenants]]\nname = \"a\"\ntoken = \"token-aaaa-0001\"\ncors_allowed_origins = [\"{SHOP}\"]\n\
         [demo]\nenabled = true\n"
    ));
    assert!(ok.is_ok(), "{:?}", ok.err().map(|e| e.to_string()));
    for (toml, field) in [
        (
            "[http]\ncors_allowed_origins = [\"*\"]\n".to_owned(),
            "http.cors_allowed_origins[0]",
        ),
        (
            format!("[http]\ncors_allowed_origins = [\"{APP}/\"]\n"),
            "http.cors_allowed_origins[0]",
        ),
        (
            format!(
                "[http]\ncors_allowed_origins = [\"{APP}\"]\n[[tenants]]\nname = \"a\"\n\
                 token = \"token-aaaa-0001\"\ncors_allowed_origins = [\"{SHOP}\"]\n"
            ),
            "tenants[0].cors_allowed_origins[0]",
        ),
    ] {
        let err = load(&format!("{toml}[demo]\nenabled = true\n"))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains(field), "{toml}: {err:?}");
    }
}
