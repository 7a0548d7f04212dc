//! Stopping an SMSC under load: its binds drain and unbind (the simulator sees the unbinds),
//! its queue and the new messages go to the next SMSC of the route, and every OTP the API
//! accepted reaches a simulator. Started again, it binds and takes the traffic back.

use std::time::Duration;

use otpgate_sim::SimHandle;

use crate::harness::*;
use crate::support::stack::{create_many, phone, Stack};

/// Waits until every number of `accepted` reached `a` or `b`, at most 30 s.
async fn all_delivered(accepted: &[u64], a: &SimHandle, b: &SimHandle) {
    for _ in 0..600 {
        let missing: Vec<u64> = accepted
            .iter()
            .copied()
            .filter(|n| {
                a.messages_to(&phone(*n)).is_empty() && b.messages_to(&phone(*n)).is_empty()
            })
            .collect();
        if missing.is_empty() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("accepted OTPs never reached an SMSC");
}

fn accepted(answers: &[(u64, crate::support::stack::Answer)]) -> Vec<u64> {
    answers
        .iter()
        .filter(|(_, a)| a.status == 201)
        .map(|(n, _)| *n)
        .collect()
}

#[tokio::test]
async fn a_stopped_smsc_drains_fails_over_and_comes_back() {
    let (a, b) = two_sims().await;
    let stack = Stack::start(&two_smscs_toml(a.local_addr(), b.local_addr(), "")).await;
    let s = until_status(&stack, "every bind up", |s| {
        all_up(s, "a") && all_up(s, "b")
    })
    .await;
    let a_bind = smsc(&s, "a")["binds"][0].clone();
    assert!(
        a_bind["last_bind"].as_str().unwrap().contains('T'),
        "{a_bind}"
    );
    assert_eq!(a_bind["window_size"], smsc(&s, "a")["window_size"]);
    assert_eq!(smsc(&s, "a")["binds_up"], 2);

    // load in the background while the SMSC is stopped
    let base = stack.base.clone();
    let load = tokio::spawn(async move { create_many(&base, 0, 200, 4, None).await });
    for _ in 0..600 {
        if a.counters().messages >= 20 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(a.counters().messages >= 20, "no traffic reached a");
    let (code, body) = call(&stack, "POST", "/admin/smsc/a/stop", Some(ADMIN_TOKEN)).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["stopped"], true);
    assert_eq!(body["changed"], true);
    assert_eq!(body["persistence"], "until_restart", "{body}");

    let first = load.await.unwrap();
    // and more once it is stopped: all of it goes to b
    let a_before = a.counters().messages;
    let second = create_many(&stack.base, 200, 260, 4, None).await;
    let mut ok = accepted(&first);
    ok.extend(accepted(&second));
    assert_eq!(ok.len(), 260, "every create accepted");
    all_delivered(&ok, &a, &b).await;

    let s = until_status(&stack, "a stopped", |s| all_stopped(s, "a")).await;
    assert_eq!(smsc(&s, "a")["queue_depth"], 0, "{s}");
    assert_eq!(smsc(&s, "a")["binds_up"], 0, "{s}");
    assert!(all_up(&s, "b"), "{s}");
    assert!(
        a.counters().unbinds >= 2,
        "the simulator saw no unbind: {:?}",
        a.counters()
    );
    assert_eq!(
        a.counters().messages,
        a_before,
        "a took traffic while stopped"
    );
    assert!(
        b.counters().messages >= 60,
        "b took the traffic: {:?}",
        b.counters()
    );
    // stopping twice changes nothing
    let (code, body) = call(&stack, "POST", "/admin/smsc/a/stop", Some(ADMIN_TOKEN)).await;
    assert_eq!(
        (code, &body["changed"]),
        (200, &serde_json::json!(false)),
        "{body}"
    );

    // started: it binds again and, first of the route, takes the traffic
    let binds_before = a.counters().binds_transceiver;
    let (code, body) = call(&stack, "POST", "/admin/smsc/a/start", Some(ADMIN_TOKEN)).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["stopped"], false);
    until_status(&stack, "a up again", |s| {
        all_up(s, "a") && smsc(s, "a")["stopped"] == false
    })
    .await;
    assert!(a.counters().binds_transceiver >= binds_before + 2);
    let third = create_many(&stack.base, 300, 340, 4, None).await;
    let ok = accepted(&third);
    assert_eq!(ok.len(), 40);
    all_delivered(&ok, &a, &b).await;
    let on_a = ok
        .iter()
        .filter(|n| !a.messages_to(&phone(**n)).is_empty())
        .count();
    assert_eq!(on_a, 40, "a takes its route back");
    stack.stop(Duration::from_secs(15)).await;
}
