//! The shared send queue follows the routes and the SMSCs of the nodes (`OTPGATE_REDIS_URL`,
//! the simulator): a node is ready when every route has a bind up somewhere in the cluster,
//! and names the routes that have none; an SMSC added by a reload gets its queue read and
//! its OTPs sent, and the OTPs queued for an SMSC a reload removes go to the next SMSC of
//! their route.

use std::time::Duration;

use otpgate::config::ConfigSource;
use otpgate::serve::Running;
use serde_json::{json, Value};
use tokio::net::TcpListener;

use super::cluster_sendq::{eventually, free_addr, get, node, node_toml, post, start_sim_on};

const WAIT: Duration = Duration::from_secs(20);

/// A second `[[smsc]]`, `name`, serving the destinations of `routes` only.
fn smsc(name: &str, addr: std::net::SocketAddr, routes: &str) -> String {
    format!(
        "\n[[smsc]]\nname = \"{name}\"\nhost = \"{}\"\nport = {}\nsystem_id = \"test\"\n\
         password = \"secret\"\nroutes = {routes}\n",
        addr.ip(),
        addr.port()
    )
}

/// `/readyz` once `check` holds for it (or the last answer after `WAIT`).
/// A create of `body`, posted again while the node has no route for it yet: after a reload
/// the binds may be up before the cluster's view of the SMSCs follows (503 `no_route`).
async fn post_once_routed(base: &str, body: Value) -> (u16, Value) {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let (status, reply) = post(base, body.clone()).await;
        let unrouted = status == 503 && reply["error"]["reason"] == json!("no_route");
        if !unrouted || std::time::Instant::now() >= deadline {
            return (status, reply);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn readyz_until(base: &str, check: impl Fn(u16, &Value) -> bool) -> (u16, Value) {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let (status, body) = get(base, "/readyz").await;
        if check(status, &body) || std::time::Instant::now() >= deadline {
            return (status, body);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs redis-server (OTPGATE_REDIS_URL, set by .ci/install.d/50-redis.sh)"]
async fn a_node_is_ready_when_every_route_has_a_bind_somewhere_in_the_cluster() {
    let url = crate::support::store::redis_url();
    let prefix = crate::support::store::unique_prefix("sendq-routes");
    let alpha = start_sim_on(TcpListener::bind("127.0.0.1:0").await.unwrap()).await;
    let beta = start_sim_on(TcpListener::bind("127.0.0.1:0").await.unwrap()).await;

    // alone, with alpha bound and beta (the only SMSC of +44) reachable from nowhere
    let toml = |beta_addr| {
        node_toml(
            &url,
            &prefix,
            alpha.local_addr(),
            &smsc("beta", beta_addr, "[\"+44\"]"),
        )
    };
    let lonely = node(&toml(free_addr().await)).await;
    let (status, body) = readyz_until(&lonely.base_url(), |status, body| {
        status == 503 && body["bindsUp"] == json!(1)
    })
    .await;
    assert_eq!(status, 503, "route +44 has no bind anywhere: {body}");
    assert_eq!(body["uncoveredRoutes"], json!(["+44"]), "{body}");
    let reasons = body["reasons"].to_string();
    assert!(reasons.contains("+44"), "{body}");
    lonely.stop(WAIT).await.unwrap();

    // a node bound to both; another that reaches neither is ready all the same
    let bound = node(&toml(beta.local_addr())).await;
    let (status, body) = readyz_until(&bound.base_url(), |status, body| {
        status == 200 && body["bindsUp"] == json!(2)
    })
    .await;
    assert_eq!((status, body["bindsUp"].clone()), (200, json!(2)), "{body}");
    let unbound = node(&node_toml(
        &url,
        &prefix,
        free_addr().await,
        &smsc("beta", free_addr().await, "[\"+44\"]"),
    ))
    .await;
    let (status, body) = readyz_until(&unbound.base_url(), |status, _| status == 200).await;
    assert_eq!(
        status, 200,
        "both routes are bound on the other node: {body}"
    );
    assert_eq!(body["bindsUp"], json!(0), "{body}");
    assert_eq!(body["uncoveredRoutes"], json!([]), "{body}");

    // the other node goes: nothing covers either route any more
    bound.stop(WAIT).await.unwrap();
    let (status, body) = readyz_until(&unbound.base_url(), |status, _| status == 503).await;
    assert_eq!(status, 503, "{body}");
    let mut uncovered: Vec<String> =
        serde_json::from_value(body["uncoveredRoutes"].clone()).unwrap_or_default();
    uncovered.sort();
    assert_eq!(uncovered, vec!["+".to_owned(), "+44".to_owned()], "{body}");
    unbound.stop(WAIT).await.unwrap();
    alpha.shutdown().await;
    beta.shutdown().await;
}

/// The configuration file a reload reads again.
struct File(std::path::PathBuf);

impl File {
    fn new(text: &str) -> File {
        let path = std::env::temp_dir().join(format!(
            "otpgate-sendq-reload-{}-{}.toml",
            std::process::id(),
            uuid::Uuid::new_v4()
        ));
        std::fs::write(&path, text).unwrap();
        File(path)
    }
}

impl Drop for File {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs redis-server (OTPGATE_REDIS_URL, set by .ci/install.d/50-redis.sh)"]
async fn smscs_added_and_removed_by_a_reload_are_followed_by_the_shared_queue() {
    let url = crate::support::store::redis_url();
    let prefix = crate::support::store::unique_prefix("sendq-reload");
    let alpha = start_sim_on(TcpListener::bind("127.0.0.1:0").await.unwrap()).await;
    let beta_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let beta_addr = beta_listener.local_addr().unwrap();
    let beta = start_sim_on(beta_listener).await;
    let only_alpha = node_toml(&url, &prefix, alpha.local_addr(), "");
    let file = File::new(&only_alpha);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let running = tokio::time::timeout(
        WAIT,
        Running::start_from(ConfigSource::new(&file.0, Vec::new()), listener),
    )
    .await
    .unwrap()
    .unwrap();
    let base = running.base_url();
    let reloader = running.started.reloader.clone().unwrap();

    // beta comes with a reload, for +4474: its OTPs go through its own stream to it
    std::fs::write(
        &file.0,
        format!("{only_alpha}{}", smsc("beta", beta_addr, "[\"+4474\"]")),
    )
    .unwrap();
    let report = reloader.reload().await.unwrap();
    assert_eq!(report.smsc.added, vec!["beta"]);
    let (status, body) = readyz_until(&base, |status, body| {
        status == 200 && body["bindsUp"] == json!(2)
    })
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, otp) = post_once_routed(&base, json!({"phoneNumber": "+447400555301"})).await;
    assert_eq!(status, 201, "{otp}");
    let sent = beta
        .wait_for_message("+447400555301", 0, Duration::from_secs(15))
        .await;
    assert!(sent.is_some(), "the added SMSC sent its OTP");
    assert!(
        alpha.messages().is_empty(),
        "nothing went to alpha: {:?}",
        alpha.messages()
    );
    let scrape = reqwest::get(format!("{base}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        scrape
            .lines()
            .any(|l| l.starts_with("otpgate_sendq_depth") && l.contains("smsc=\"beta\"")),
        "the added SMSC's queue is measured"
    );

    // beta goes down: route +4474 is uncovered, its next OTP waits in beta's stream
    beta.shutdown().await;
    let (status, body) = readyz_until(&base, |status, _| status == 503).await;
    assert_eq!(
        (status, body["uncoveredRoutes"].clone()),
        (503, json!(["+4474"])),
        "{body}"
    );
    let (status, otp) = post(&base, json!({"phoneNumber": "+447400555302"})).await;
    assert_eq!(
        status, 201,
        "beta was up moments ago: its stream takes it {otp}"
    );
    let depth_of_beta = || async {
        let scrape = reqwest::get(format!("{base}/metrics"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        scrape
            .lines()
            .filter(|l| {
                l.starts_with("otpgate_sendq_depth")
                    && l.contains("smsc=\"beta\"")
                    && l.contains("scope=\"cluster\"")
            })
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum::<f64>()
    };
    assert!(
        eventually(WAIT, || async { depth_of_beta().await >= 1.0 }).await,
        "queued for beta"
    );

    // a reload removes beta: the queued OTP goes to alpha, the next SMSC of its route now
    std::fs::write(&file.0, &only_alpha).unwrap();
    let report = reloader.reload().await.unwrap();
    assert_eq!(report.smsc.removed, vec!["beta"]);
    let moved = alpha
        .wait_for_message("+447400555302", 0, Duration::from_secs(15))
        .await;
    assert!(
        moved.is_some(),
        "the OTP queued for the removed SMSC reached alpha"
    );
    let id = otp["otpId"].as_str().unwrap().to_owned();
    assert!(
        eventually(WAIT, || async {
            get(&base, &format!("/otp/{id}")).await.1["deliveryStatus"] != "QUEUED"
        })
        .await,
        "its fate is recorded"
    );
    let (status, body) = readyz_until(&base, |status, _| status == 200).await;
    assert_eq!(
        status, 200,
        "only alpha's route is left, and it is bound: {body}"
    );
    running.stop(WAIT).await.unwrap();
    alpha.shutdown().await;
}
