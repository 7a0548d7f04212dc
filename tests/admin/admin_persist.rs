//! A stop lasts until `/start`: across a restart with the memory store and `[store]
//! state_dir`, and on every node sharing a Redis store (where it also outlives a restart).

use std::time::Duration;

use crate::harness::*;
use crate::support::stack::Stack;
use crate::support::store::{redis_url, unique_prefix};

#[tokio::test]
async fn the_stop_outlives_a_restart_with_a_state_dir() {
    let (a, b) = two_sims().await;
    let dir = std::env::temp_dir().join(format!("otpgate-admin-state-{}", uuid::Uuid::new_v4()));
    let extra = format!("[store]\nstate_dir = \"{}\"\n", dir.display());
    let toml = two_smscs_toml(a.local_addr(), b.local_addr(), &extra);

    let stack = Stack::start(&toml).await;
    until_status(&stack, "binds up", |s| all_up(s, "a")).await;
    let (code, body) = call(&stack, "POST", "/admin/smsc/a/stop", Some(ADMIN_TOKEN)).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["persistence"], "node", "{body}");
    until_status(&stack, "a stopped", |s| all_stopped(s, "a")).await;
    stack.stop(Duration::from_secs(15)).await;
    assert!(dir.join("stopped-smscs.json").exists());

    let binds_before = a.counters().binds_transceiver;
    let stack = Stack::start(&toml).await;
    let s = until_status(&stack, "b up after the restart", |s| all_up(s, "b")).await;
    assert_eq!(status(&stack).await["stop_persistence"], "node");
    assert!(
        all_stopped(&s, "a") || smsc(&s, "a")["stopped"] == true,
        "{s}"
    );
    until_status(&stack, "a still stopped", |s| all_stopped(s, "a")).await;
    assert_eq!(
        a.counters().binds_transceiver,
        binds_before,
        "a bound after the restart"
    );

    // started: it lasts too
    let (code, _) = call(&stack, "POST", "/admin/smsc/a/start", Some(ADMIN_TOKEN)).await;
    assert_eq!(code, 200);
    until_status(&stack, "a up", |s| all_up(s, "a")).await;
    stack.stop(Duration::from_secs(15)).await;
    let stack = Stack::start(&toml).await;
    until_status(&stack, "a up after the second restart", |s| all_up(s, "a")).await;
    stack.stop(Duration::from_secs(15)).await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
#[ignore = "needs redis-server (OTPGATE_REDIS_URL)"]
async fn the_stop_holds_for_every_node_of_a_redis_cluster_and_across_restarts() {
    let url = redis_url();
    let (a, b) = two_sims().await;
    let extra = format!(
        "[store]\nkind = \"redis\"\nurl = \"{url}\"\nkey_prefix = \"{}\"\n",
        unique_prefix("admin")
    );
    let toml = two_smscs_toml(a.local_addr(), b.local_addr(), &extra);
    let one = Stack::start(&toml).await;
    // the account's bind slots are leases: node one, up first, holds them all; node two
    // holds none and still follows the cluster's stopped set (started only once node one has
    // every slot: started together, either node may take some of them first)
    until_status(&one, "binds up on node one", |s| all_up(s, "a")).await;
    let two = Stack::start(&toml).await;
    until_status(&two, "node two sees a", |s| {
        marked_stopped(s, "a") == Some(false)
    })
    .await;

    let (code, body) = call(&one, "POST", "/admin/smsc/a/stop", Some(ADMIN_TOKEN)).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["persistence"], "cluster", "{body}");
    until_status(&one, "a stopped on node one", |s| all_stopped(s, "a")).await;
    // node two reads the cluster's set within its refresh bound (2 s)
    until_status(&two, "a stopped on node two", |s| {
        marked_stopped(s, "a") == Some(true)
    })
    .await;

    // a node started now keeps it stopped from the start
    two.stop(Duration::from_secs(15)).await;
    let binds_before = a.counters().binds_transceiver;
    let three = Stack::start(&toml).await;
    until_status(&three, "a stopped on node three", |s| {
        marked_stopped(s, "a") == Some(true)
    })
    .await;
    // node one holds a's slots through the stop: nobody else binds a meanwhile
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        a.counters().binds_transceiver,
        binds_before,
        "node three bound a"
    );

    // started on node three: node one follows
    let (code, _) = call(&three, "POST", "/admin/smsc/a/start", Some(ADMIN_TOKEN)).await;
    assert_eq!(code, 200);
    until_status(&one, "a up again on node one", |s| all_up(s, "a")).await;
    until_status(&three, "a started on node three", |s| {
        marked_stopped(s, "a") == Some(false)
    })
    .await;
    one.stop(Duration::from_secs(15)).await;
    three.stop(Duration::from_secs(15)).await;
}

/// Whether this node has `name` stopped (`None`: the status does not list it).
fn marked_stopped(status: &serde_json::Value, name: &str) -> Option<bool> {
    smsc(status, name)["stopped"].as_bool()
}
