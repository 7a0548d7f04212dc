//! Tenants provisioned through the admin API on one node with `[store] state_dir`: every
//! change checked like the file, in force at once, audited without a secret, kept across a
//! restart, and never overwritten by the file's tenants (a seed).

use std::time::Duration;

use serde_json::json;

use crate::harness::*;
use crate::support::logs::Buffer;
use crate::support::stack::{Stack, TOKEN};
use crate::tenants_support::*;

const CALLBACK_SECRET: &str = "callback-secret-of-shop-0123";

#[tokio::test]
async fn provisioned_tenants_are_checked_applied_audited_and_kept_across_a_restart() {
    let logs = Buffer::default();
    let _capture = logs.capture();
    let (a, b) = two_sims().await;
    let dir = std::env::temp_dir().join(format!("otpgate-tenants-{}", uuid::Uuid::new_v4()));
    let extra = format!("[store]\nstate_dir = \"{}\"\n", dir.display());
    let toml = two_smscs_toml(a.local_addr(), b.local_addr(), &extra);
    let stack = Stack::start(&toml).await;
    let client = reqwest::Client::new();
    let shop = json!({"name": "Shop", "id": "shop", "allowed_countries": ["GB"],
        "callback_secret": CALLBACK_SECRET});

    // who may change what
    let (code, body) = call_with(&stack, "POST", "/admin/tenants", None, Some(shop.clone())).await;
    assert_eq!((code, body["code"].as_str()), (401, Some("unauthorized")));
    let (code, body) = call_with(
        &stack,
        "POST",
        "/admin/tenants",
        Some(READ_TOKEN),
        Some(shop.clone()),
    )
    .await;
    assert_eq!(
        (code, body["code"].as_str()),
        (403, Some("read_only_token"))
    );
    let (code, _) = call_with(&stack, "GET", "/admin/tenants", Some(TOKEN), None).await;
    assert_eq!(code, 401, "a tenant token opens nothing here");

    // created: the token is shown once and opens the public API at once
    let first = provision(&stack, shop.clone()).await;
    assert!(first.len() >= 32, "{first}");
    assert_eq!(send(&client, &stack, &first, 1).await, 201);
    let (code, body) = admin(&stack, "POST", "/admin/tenants", shop.clone()).await;
    assert_eq!(
        (code, body["code"].as_str()),
        (409, Some("tenant_exists")),
        "{body}"
    );

    // checked like the file, the field named
    let (code, body) = admin(
        &stack,
        "POST",
        "/admin/tenants",
        json!({"name": "bad", "allowed_countries": ["GB", "XX"]}),
    )
    .await;
    assert_eq!(
        (code, body["code"].as_str()),
        (422, Some("invalid_tenant")),
        "{body}"
    );
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("allowed_countries[1]"),
        "{body}"
    );
    let (code, body) = admin(
        &stack,
        "POST",
        "/admin/tenants",
        json!({"name": "odd", "colour": "red"}),
    )
    .await;
    assert_eq!(
        (code, body["code"].as_str()),
        (422, Some("invalid_tenant")),
        "{body}"
    );
    for taken in [TOKEN, ADMIN_TOKEN, first.as_str()] {
        let (code, body) = admin(
            &stack,
            "POST",
            "/admin/tenants",
            json!({"name": "copycat", "token": taken}),
        )
        .await;
        assert_eq!(
            (code, body["code"].as_str()),
            (409, Some("token_in_use")),
            "{body}"
        );
    }
    // "c17439" and "c24164" share their 4-byte stored tag
    provision(&stack, json!({"name": "c17439"})).await;
    let (code, body) = admin(&stack, "POST", "/admin/tenants", json!({"name": "c24164"})).await;
    assert_eq!(
        (code, body["code"].as_str()),
        (409, Some("tenant_tag_collision")),
        "{body}"
    );
    let (code, _) = admin(&stack, "DELETE", "/admin/tenants/c17439", json!({})).await;
    assert_eq!(code, 200);
    let (code, body) = admin(
        &stack,
        "PATCH",
        "/admin/tenants/shop",
        json!({"token": "x"}),
    )
    .await;
    assert_eq!(
        (code, body["code"].as_str()),
        (422, Some("invalid_tenant")),
        "{body}"
    );
    let (code, body) = admin(&stack, "PATCH", "/admin/tenants/nobody", json!({})).await;
    assert_eq!(
        (code, body["code"].as_str()),
        (404, Some("unknown_tenant")),
        "{body}"
    );

    // an update applies at once: a country no longer allowed is refused (not as unauthorized)
    let (code, body) = admin(
        &stack,
        "PATCH",
        "/admin/tenants/shop",
        json!({"allowed_countries": ["FR"]}),
    )
    .await;
    assert_eq!(code, 200, "{body}");
    let refused = send(&client, &stack, &first, 2).await;
    assert!(refused >= 400 && refused != 401, "{refused}");
    let (code, _) = admin(
        &stack,
        "PATCH",
        "/admin/tenants/shop",
        json!({"allowed_countries": ["GB"]}),
    )
    .await;
    assert_eq!(code, 200);
    assert_eq!(send(&client, &stack, &first, 3).await, 201);

    // suspended: 401 at once on this node; resumed: served again
    let (code, body) = admin(&stack, "POST", "/admin/tenants/shop/suspend", json!({})).await;
    assert_eq!(
        (code, &body["tenant"]["suspended"]),
        (200, &json!(true)),
        "{body}"
    );
    assert_eq!(send(&client, &stack, &first, 4).await, 401);
    assert_eq!(
        send(&client, &stack, TOKEN, 5).await,
        201,
        "another tenant is untouched"
    );
    let (code, _) = admin(&stack, "POST", "/admin/tenants/shop/resume", json!({})).await;
    assert_eq!(code, 200);
    assert_eq!(send(&client, &stack, &first, 6).await, 201);

    // rotated with an overlap: both open until it ends, then only the new one
    let (code, body) = admin(
        &stack,
        "POST",
        "/admin/tenants/shop/rotate-token",
        json!({"overlap_seconds": 2_592_001}),
    )
    .await;
    assert_eq!(
        (code, body["code"].as_str()),
        (422, Some("invalid_tenant")),
        "{body}"
    );
    let (code, body) = admin(
        &stack,
        "POST",
        "/admin/tenants/shop/rotate-token",
        json!({"overlap_seconds": 3}),
    )
    .await;
    assert_eq!(code, 200, "{body}");
    let second = body["token"].as_str().unwrap().to_owned();
    assert_ne!(second, first);
    assert_eq!(
        body["tenant"]["tokens"].as_array().unwrap().len(),
        2,
        "{body}"
    );
    assert_eq!(
        send(&client, &stack, &first, 7).await,
        201,
        "old token in the overlap"
    );
    assert_eq!(send(&client, &stack, &second, 8).await, 201);
    until_answer(&stack, &first, 401, Duration::from_secs(20), 100).await;
    assert_eq!(
        send(&client, &stack, &second, 9).await,
        201,
        "the new token after it"
    );

    // a file tenant changed through the API, another deleted: the file never brings them back
    let (code, body) = admin(
        &stack,
        "PATCH",
        "/admin/tenants/rel",
        json!({"allowed_countries": ["GB"]}),
    )
    .await;
    assert_eq!(
        (code, &body["tenant"]["source"]),
        (200, &json!("api")),
        "{body}"
    );
    assert_eq!(
        send(&client, &stack, TOKEN, 10).await,
        201,
        "its file token still opens it"
    );

    // what is shown: never a token, a MAC or a secret
    let (code, list) = call(&stack, "GET", "/admin/tenants?limit=1", Some(READ_TOKEN)).await;
    assert_eq!(
        (
            code,
            list["total"].as_u64(),
            list["tenants"].as_array().unwrap().len()
        ),
        (200, Some(2), 1),
        "{list}"
    );
    let (code, list) = call(
        &stack,
        "GET",
        "/admin/tenants?offset=0&limit=1000",
        Some(READ_TOKEN),
    )
    .await;
    assert_eq!(code, 200);
    let (code, one) = call(&stack, "GET", "/admin/tenants/shop", Some(READ_TOKEN)).await;
    assert_eq!(
        (code, &one["callback_secret"]),
        (200, &json!("<redacted>")),
        "{one}"
    );
    let (_, config) = call(&stack, "GET", "/admin/config", Some(READ_TOKEN)).await;
    for shown in [list.to_string(), one.to_string(), config.to_string()] {
        for secret in [first.as_str(), second.as_str(), TOKEN, CALLBACK_SECRET] {
            assert!(!shown.contains(secret), "{secret} shown: {shown}");
        }
    }

    stack.stop(Duration::from_secs(15)).await;
    let file = std::fs::read_to_string(dir.join("tenants.json")).unwrap();
    for token in [first.as_str(), second.as_str(), TOKEN] {
        assert!(!file.contains(token), "a token in clear in the state file");
    }

    // restarted with the same file: the same set, the API's changes kept over the seed
    let stack = Stack::start(&toml).await;
    assert_eq!(send(&client, &stack, &second, 11).await, 201);
    assert_eq!(send(&client, &stack, &first, 12).await, 401);
    let (_, one) = call(&stack, "GET", "/admin/tenants/rel", Some(READ_TOKEN)).await;
    assert_eq!(one["allowed_countries"], json!(["GB"]), "{one}");
    let (code, body) = admin(&stack, "DELETE", "/admin/tenants/rel", json!({})).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(send(&client, &stack, TOKEN, 13).await, 401);
    stack.stop(Duration::from_secs(15)).await;
    let stack = Stack::start(&toml).await;
    assert_eq!(
        send(&client, &stack, TOKEN, 14).await,
        401,
        "the file brought it back"
    );
    let (code, body) = call(&stack, "GET", "/admin/tenants/rel", Some(READ_TOKEN)).await;
    assert_eq!((code, body["code"].as_str()), (404, Some("unknown_tenant")));
    assert_eq!(send(&client, &stack, &second, 15).await, 201);
    let metrics = stack.metrics().await;
    stack.stop(Duration::from_secs(15)).await;
    let _ = std::fs::remove_dir_all(&dir);

    // audited: a line per change, none with a secret
    let text = logs.text();
    assert!(text.contains("tenant changed"), "no audit line");
    for action in [
        "create",
        "update",
        "suspend",
        "resume",
        "rotate_token",
        "delete",
    ] {
        assert!(
            text.contains(&format!("action=\"{action}\"")),
            "no {action} line"
        );
    }
    for secret in [first.as_str(), second.as_str(), TOKEN, CALLBACK_SECRET] {
        assert!(!text.contains(secret), "{secret} logged");
    }
    assert!(!metrics.contains(&first) && !metrics.contains(&second));
    for action in ["create", "rotate_token", "delete"] {
        let series = format!("otpgate_tenant_changes_total{{action=\"{action}\",outcome=\"ok\"}}");
        assert!(metrics.contains(&series), "no {series}");
    }
}

#[tokio::test]
async fn without_a_pin_secret_provisioning_is_refused() {
    let (a, b) = two_sims().await;
    let toml = two_smscs_toml(a.local_addr(), b.local_addr(), "")
        .replace("pin_secret = \"reliability-secret\"", "");
    let stack = Stack::start(&toml).await;
    let (code, body) = admin(&stack, "POST", "/admin/tenants", json!({"name": "shop"})).await;
    assert_eq!(
        (code, body["code"].as_str()),
        (409, Some("pin_secret_required")),
        "{body}"
    );
    stack.stop(Duration::from_secs(15)).await;
}

#[tokio::test]
async fn a_reload_of_the_file_never_overwrites_an_api_change() {
    let (a, b) = two_sims().await;
    let dir = std::env::temp_dir().join(format!("otpgate-seed-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("otpgate.toml");
    let with = |extra_tenant: &str| {
        format!(
            "{}\n{extra_tenant}",
            two_smscs_toml(a.local_addr(), b.local_addr(), "")
        )
    };
    let second = "[[tenants]]\nname = \"second\"\ntoken = \"second-file-token\"\n";
    std::fs::write(&file, with(second)).unwrap();
    let stack = Stack::start_file(&file).await;
    let client = reqwest::Client::new();

    let (code, body) = admin(
        &stack,
        "PATCH",
        "/admin/tenants/rel",
        json!({"allowed_countries": ["GB"]}),
    )
    .await;
    assert_eq!(code, 200, "{body}");
    let (code, body) = admin(&stack, "DELETE", "/admin/tenants/second", json!({})).await;
    assert_eq!(code, 200, "{body}");
    // the file changes both tenants: its reload applies to neither
    let changed = with(&format!("{second}allowed_countries = [\"FR\"]\n")).replace(
        "name = \"rel\"",
        "name = \"rel\"\nallowed_countries = [\"FR\"]",
    );
    std::fs::write(&file, changed).unwrap();
    let (code, body) = admin(&stack, "POST", "/admin/reload", json!({})).await;
    assert_eq!(code, 200, "{body}");
    let (_, rel) = call(&stack, "GET", "/admin/tenants/rel", Some(READ_TOKEN)).await;
    assert_eq!(rel["allowed_countries"], json!(["GB"]), "{rel}");
    assert_eq!(send(&client, &stack, TOKEN, 1).await, 201);
    assert_eq!(send(&client, &stack, "second-file-token", 2).await, 401);
    let (code, _) = call(&stack, "GET", "/admin/tenants/second", Some(READ_TOKEN)).await;
    assert_eq!(code, 404);
    // created again through the API, it is back (with a new token)
    let token = provision(&stack, json!({"name": "second"})).await;
    assert_eq!(send(&client, &stack, &token, 3).await, 201);
    assert_eq!(send(&client, &stack, "second-file-token", 4).await, 401);
    stack.stop(Duration::from_secs(15)).await;
    let _ = std::fs::remove_dir_all(&dir);
}
