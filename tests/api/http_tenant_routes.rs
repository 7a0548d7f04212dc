//! Tenant routes over HTTP, seen by two simulators: SMSC `one` (behind a relay the test cuts)
//! is every route's first choice, `two` its backup, `uk` serves only +44 (the Dutch numbers
//! used here have only the catch-all route). The bank is pinned
//! to `one`: with `one` down its OTPs wait for it (unrestricted traffic fails over to `two`,
//! the bank's never does) and go out once it is back. The shop prefers `two` over the
//! priorities, on create and resend. A tenant limited to `uk` gets 400 code 1024 for France,
//! before anything is stored or sent.

use std::time::Duration;

use crate::support::proxy::Proxy;
use crate::support::smpp::start_sim;
use crate::support::stack::{eventually, Stack};
use otpgate_sim::{SimConfig, SimHandle};
use serde_json::{json, Value};

const WAIT: Duration = Duration::from_secs(20);

fn smsc(name: &str, addr: std::net::SocketAddr, extra: &str) -> String {
    format!(
        "[[smsc]]\nname = \"{name}\"\nhost = \"{}\"\nport = {}\nsystem_id = \"test\"\npassword = \"secret\"\n{extra}\n",
        addr.ip(),
        addr.port()
    )
}

fn toml(one: std::net::SocketAddr, two: std::net::SocketAddr) -> String {
    format!(
        r#"
[limits]
per_number = 0

[engine]
failover_after_ms = 300
reconnect_min_ms = 100
reconnect_max_ms = 300

[[tenants]]
name = "bank"
token = "bank-routes-token"
smscs = ["one"]

[[tenants]]
name = "shop"
token = "shop-routes-token"
smscs = ["one", "two"]
route_preference = ["two", "one"]

[[tenants]]
name = "any"
token = "any-routes-token"

[[tenants]]
name = "uk-only"
token = "ukonly-routes-token"
smscs = ["uk"]

{}
{}
{}
"#,
        smsc("one", one, "priority = 0"),
        smsc("two", two, "priority = 1"),
        smsc("uk", two, "routes = [\"+44\"]\npriority = 2"),
    )
}

async fn post(base: &str, token: &str, path: &str, body: Value) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(format!("{base}{path}"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

async fn create(base: &str, token: &str, phone: &str) -> String {
    let (status, body) = post(base, token, "/otp", json!({"phoneNumber": phone})).await;
    assert_eq!(status, 201, "{phone}: {body}");
    body["otpId"].as_str().unwrap().to_owned()
}

async fn arrives(sim: &SimHandle, to: &str) {
    assert!(
        sim.wait_for_message(to, 0, WAIT).await.is_some(),
        "no message to {to}"
    );
}

fn count(sim: &SimHandle, to: &str) -> usize {
    sim.messages_to(to).len()
}

#[tokio::test]
async fn tenants_use_only_their_smscs_in_their_order() {
    let sim_one = start_sim(SimConfig::default()).await;
    let sim_two = start_sim(SimConfig::default()).await;
    let relay = Proxy::start(&sim_one.local_addr().to_string()).await;
    let stack = Stack::start(&toml(relay.addr(), sim_two.local_addr())).await;
    let base = stack.base.clone();

    // links up: each tenant's first OTP where its routes say
    create(&base, "any-routes-token", "+31612340001").await;
    arrives(&sim_one, "31612340001").await;
    create(&base, "bank-routes-token", "+31612340002").await;
    arrives(&sim_one, "31612340002").await;
    let shop = create(&base, "shop-routes-token", "+31612340003").await;
    arrives(&sim_two, "31612340003").await;
    assert_eq!(count(&sim_one, "31612340003"), 0, "the shop prefers two");

    // the shop's resend obeys its preference too
    let (status, body) = post(
        &base,
        "shop-routes-token",
        &format!("/otp/{shop}/resend"),
        json!({}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    eventually("the resend at two", WAIT, || {
        count(&sim_two, "31612340003") == 2
    })
    .await;
    assert_eq!(count(&sim_one, "31612340003"), 0);

    // `one` goes down: the bank's OTP waits for it, unrestricted traffic fails over
    relay.cut();
    let waiting = create(&base, "bank-routes-token", "+31612340004").await;
    create(&base, "any-routes-token", "+31612340005").await;
    arrives(&sim_two, "31612340005").await;
    create(&base, "any-routes-token", "+31612340006").await;
    arrives(&sim_two, "31612340006").await;
    assert_eq!(
        count(&sim_two, "31612340004"),
        0,
        "the bank failed over to two"
    );
    let view: Value = reqwest::Client::new()
        .get(format!("{base}/otp/{waiting}"))
        .bearer_auth("bank-routes-token")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(view["deliveryStatus"], "QUEUED", "{view}");

    // back up: the bank's OTP goes out where it may
    relay.restore();
    arrives(&sim_one, "31612340004").await;
    assert_eq!(count(&sim_two, "31612340004"), 0);

    // no SMSC of the tenant has a route to France: refused before anything is stored
    let (status, body) = post(
        &base,
        "ukonly-routes-token",
        "/otp",
        json!({"phoneNumber": "+33612345678"}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], 1024, "{body}");
    assert_eq!(body["error"]["type"], "no_coverage");
    assert_eq!(body["error"]["reason"], "no_allowed_route");
    assert_eq!(body["error"]["field"], "phoneNumber");
    // the UK is its route: accepted, and sent through `uk` (the simulator behind two)
    create(&base, "ukonly-routes-token", "+447400000007").await;
    arrives(&sim_two, "447400000007").await;
    // France is taken from a tenant that may use every SMSC
    create(&base, "any-routes-token", "+33612345678").await;

    let metrics = stack.metrics().await;
    let refused = metrics
        .lines()
        .find(|l| l.starts_with("otpgate_blocked_total{reason=\"no_allowed_route\"}"))
        .unwrap_or_default();
    assert!(refused.ends_with(" 1"), "{refused}");
    stack.stop(Duration::from_secs(10)).await;
}
