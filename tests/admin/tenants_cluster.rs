//! One tenant set for every node sharing a Redis store: a tenant created on one node opens
//! the API of another, a suspension reaches every node within the refresh bound while the
//! others' traffic goes on untouched, and a restarted node loads the current set.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use crate::harness::*;
use crate::support::stack::{Stack, TOKEN};
use crate::support::store::{redis_url, unique_prefix};
use crate::tenants_support::*;

/// Generous beside the documented bound (a notification, else a read every 2 s).
const WITHIN: Duration = Duration::from_secs(10);

#[tokio::test]
#[ignore = "needs redis-server (OTPGATE_REDIS_URL)"]
async fn the_tenant_set_is_one_for_every_node() {
    let url = redis_url();
    let (a, b) = two_sims().await;
    let extra = format!(
        "[store]\nkind = \"redis\"\nurl = \"{url}\"\nkey_prefix = \"{}\"\n",
        unique_prefix("tenants")
    );
    let toml = two_smscs_toml(a.local_addr(), b.local_addr(), &extra);
    let one = Arc::new(Stack::start(&toml).await);
    let two = Arc::new(Stack::start(&toml).await);

    // created on node one, it opens node two
    let token = provision(&one, json!({"name": "acme"})).await;
    until_answer(&two, &token, 201, WITHIN, 0).await;
    let (_, created) = admin(&one, "POST", "/admin/tenants", json!({"name": "acme"})).await;
    assert_eq!(created["code"], "tenant_exists", "{created}");

    // suspended on node one while both tenants send steadily to node two
    let stop = Arc::new(AtomicBool::new(false));
    let steady = |token: String, from: u64| {
        let (two, stop) = (two.clone(), stop.clone());
        tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut answers = Vec::new();
            for n in from..from + 100_000 {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                answers.push(send(&client, &two, &token, n).await);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            answers
        })
    };
    let acme = steady(token.clone(), 1_000);
    let rel = steady(TOKEN.to_owned(), 200_000);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (code, body) = admin(&one, "POST", "/admin/tenants/acme/suspend", json!({})).await;
    assert_eq!(code, 200, "{body}");
    until_answer(&two, &token, 401, WITHIN, 50_000).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);
    let (acme, rel) = (acme.await.unwrap(), rel.await.unwrap());
    assert!(
        !rel.is_empty() && rel.iter().all(|&s| s == 201),
        "the other tenant: {rel:?}"
    );
    // acme: served, then refused from the first 401 on, never anything else
    let first_refusal = acme.iter().position(|&s| s == 401).expect("no 401");
    assert!(first_refusal > 0, "{acme:?}");
    assert!(acme[..first_refusal].iter().all(|&s| s == 201), "{acme:?}");
    assert!(acme[first_refusal..].iter().all(|&s| s == 401), "{acme:?}");

    // a node started now loads the current set
    let two = Arc::into_inner(two).unwrap();
    two.stop(Duration::from_secs(15)).await;
    let three = Stack::start(&toml).await;
    let client = reqwest::Client::new();
    assert_eq!(send(&client, &three, &token, 90_000).await, 401);
    let (_, shown) = call(&three, "GET", "/admin/tenants/acme", Some(READ_TOKEN)).await;
    assert_eq!(shown["suspended"], true, "{shown}");
    // resumed on node three, node one follows
    let (code, _) = admin(&three, "POST", "/admin/tenants/acme/resume", json!({})).await;
    assert_eq!(code, 200);
    until_answer(&one, &token, 201, WITHIN, 91_000).await;
    // rotated on node one with no overlap: the old token stops on node three too
    let (code, body) = admin(
        &one,
        "POST",
        "/admin/tenants/acme/rotate-token",
        json!({"overlap_seconds": 0}),
    )
    .await;
    assert_eq!(code, 200, "{body}");
    let fresh = body["token"].as_str().unwrap().to_owned();
    until_answer(&three, &fresh, 201, WITHIN, 92_000).await;
    assert_eq!(send(&client, &three, &token, 93_000).await, 401);
    three.stop(Duration::from_secs(15)).await;
    let one = Arc::into_inner(one).unwrap();
    one.stop(Duration::from_secs(15)).await;
}
