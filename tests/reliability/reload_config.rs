//! Configuration reload without a restart, in process (what `SIGHUP` runs): under load, a
//! tenant added and another's token rotated lose no request and no accepted SMS, and the
//! unchanged SMSC keeps its bind; a broken file is refused and the old configuration keeps
//! serving; SMSC entries changed, removed and added; warnings for settings only a restart
//! applies and for environment overrides hiding a change.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use otpgate::config::ConfigSource;
use otpgate::serve::Running;
use otpgate_sim::{AccountConfig, SimConfig, SimHandle};
use serde_json::json;

use crate::support::prom;
use crate::support::smpp::{eventually, start_sim};

const WAIT: Duration = Duration::from_secs(20);

struct Files(PathBuf);

impl Files {
    fn new(text: &str) -> Files {
        let path = std::env::temp_dir().join(format!(
            "otpgate-reload-{}-{}.toml",
            std::process::id(),
            uuid::Uuid::new_v4()
        ));
        std::fs::write(&path, text).unwrap();
        Files(path)
    }

    fn write(&self, text: &str) {
        std::fs::write(&self.0, text).unwrap();
    }
}

impl Drop for Files {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

async fn sim(password: &str) -> SimHandle {
    start_sim(SimConfig {
        accounts: vec![AccountConfig::new("test", password)],
        ..SimConfig::default()
    })
    .await
}

fn smsc(name: &str, addr: SocketAddr, password: &str, routes: &str) -> String {
    format!(
        "[[smsc]]\nname = \"{name}\"\nhost = \"{}\"\nport = {}\nsystem_id = \"test\"\n\
         password = \"{password}\"\nroutes = {routes}\n",
        addr.ip(),
        addr.port()
    )
}

fn tenant(name: &str, token: &str) -> String {
    format!("[[tenants]]\nname = \"{name}\"\ntoken = \"{token}\"\n")
}

/// Short engine timings, no per-number limit in the way of the load.
const BASE: &str = "[http]\nlisten = \"127.0.0.1:0\"\n[limits]\nper_number = 0\n\
    [engine]\nbind_timeout_ms = 1000\nconnect_timeout_ms = 1000\nreconnect_min_ms = 50\n\
    reconnect_max_ms = 500\nresponse_timeout_ms = 1500\nretry_min_ms = 50\nretry_max_ms = 200\n\
    failover_after_ms = 500\n";

async fn start(files: &Files, env: Vec<(String, String)>) -> Running {
    let source = ConfigSource::new(&files.0, env);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    tokio::time::timeout(WAIT, Running::start_from(source, listener))
        .await
        .unwrap()
        .unwrap()
}

async fn create(base: &str, token: &str, phone: &str) -> u16 {
    reqwest::Client::new()
        .post(format!("{base}/otp"))
        .bearer_auth(token)
        .json(&json!({"phoneNumber": phone}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

fn binds(sim: &SimHandle) -> u64 {
    sim.counters().binds_transceiver
}

async fn wait_binds(sim: &SimHandle, n: u64) {
    eventually(&format!("{n} binds at the simulator"), || binds(sim) >= n).await;
}

async fn scrape(base: &str) -> String {
    reqwest::get(format!("{base}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

fn reloads(scrape: &str, outcome: &str) -> f64 {
    prom::value(
        scrape,
        "otpgate_config_reloads_total",
        &[("outcome", outcome)],
    )
    .unwrap_or(0.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reload_under_load_adds_a_tenant_and_rotates_a_token_without_a_new_bind() {
    let a = sim("secret").await;
    let smscs = smsc("a", a.local_addr(), "secret", "[\"+\"]");
    let files = Files::new(&format!(
        "{BASE}{}{}{smscs}",
        tenant("alpha", "alpha-token-1"),
        tenant("beta", "beta-token-1")
    ));
    let running = start(&files, Vec::new()).await;
    let base = running.base_url();
    let reloader = running.started.reloader.clone().unwrap();
    wait_binds(&a, 1).await;
    let binds_before = binds(&a);

    // Steady load from both tenants while the file changes: alpha's token is rotated (its
    // old token may fail from the moment the reload starts, nothing else may), gamma is added.
    let swapped = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let load = |token: &'static str, prefix: u32| {
        let base = base.clone();
        let swapped = swapped.clone();
        tokio::spawn(async move {
            let mut accepted = Vec::new();
            for n in 0..150u32 {
                let phone = format!("+447400{prefix}{n:05}");
                let before = swapped.load(std::sync::atomic::Ordering::SeqCst);
                let status = create(&base, token, &phone).await;
                match status {
                    201 => accepted.push(phone),
                    401 if token == "alpha-token-1" && before => {}
                    401 if token == "alpha-token-1" => {
                        // refused while the reload was under way: the new set may be in force
                        // before `reload()` returns, never before it was called
                        assert!(swapped.load(std::sync::atomic::Ordering::SeqCst));
                    }
                    other => panic!("{token}: create answered {other}"),
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            accepted
        })
    };
    let alpha = load("alpha-token-1", 1);
    let beta = load("beta-token-1", 2);
    tokio::time::sleep(Duration::from_millis(300)).await;
    files.write(&format!(
        "{BASE}{}{}{}{smscs}",
        tenant("alpha", "alpha-token-2"),
        tenant("beta", "beta-token-1"),
        tenant("gamma", "gamma-token-1")
    ));
    swapped.store(true, std::sync::atomic::Ordering::SeqCst);
    let report = reloader.reload().await.unwrap();
    assert_eq!(report.tenants.added, vec!["gamma"]);
    assert_eq!(report.tenants.changed, vec!["alpha"]);
    assert!(report.tenants.removed.is_empty());
    assert_eq!(report.smsc.kept, vec!["a"]);
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);

    assert_eq!(create(&base, "alpha-token-1", "+447400300001").await, 401);
    assert_eq!(create(&base, "alpha-token-2", "+447400300002").await, 201);
    assert_eq!(create(&base, "gamma-token-1", "+447400300003").await, 201);
    let mut accepted = alpha.await.unwrap();
    let beta = beta.await.unwrap();
    assert_eq!(
        beta.len(),
        150,
        "every create of the unchanged tenant succeeds"
    );
    accepted.extend(beta);
    accepted.extend(["+447400300002".to_string(), "+447400300003".to_string()]);
    assert!(accepted.len() > 150);

    // nothing accepted is lost: each reaches the simulator
    let missing = || {
        let seen: std::collections::HashSet<String> = a
            .messages()
            .into_iter()
            .map(|m| m.destination.trim_start_matches('+').to_owned())
            .collect();
        let missing: Vec<&String> = accepted
            .iter()
            .filter(|p| !seen.contains(p.trim_start_matches('+')))
            .collect();
        format!("{missing:?}")
    };
    let deadline = tokio::time::Instant::now() + WAIT;
    while missing() != "[]" && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        missing(),
        "[]",
        "accepted OTPs that never reached the simulator"
    );
    assert_eq!(
        binds(&a),
        binds_before,
        "the unchanged SMSC was not bound again"
    );
    assert_eq!(a.counters().unbinds, 0);
    let scrape = scrape(&base).await;
    assert!(reloads(&scrape, "applied") >= 1.0);
    let last = prom::value(
        &scrape,
        "otpgate_config_last_reload_success_timestamp_seconds",
        &[],
    )
    .unwrap();
    assert!(last > 1.0e9, "{last}");
    running.stop(WAIT).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_file_is_refused_and_the_running_configuration_keeps_serving() {
    let a = sim("secret").await;
    let smscs = smsc("a", a.local_addr(), "secret", "[\"+\"]");
    let files = Files::new(&format!(
        "{BASE}{}{smscs}",
        tenant("alpha", "alpha-token-1")
    ));
    let running = start(&files, Vec::new()).await;
    let base = running.base_url();
    let reloader = running.started.reloader.clone().unwrap();
    wait_binds(&a, 1).await;
    let refused_before = reloads(&scrape(&base).await, "refused");

    // a token too short for the second tenant: named, its value not shown
    files.write(&format!(
        "{BASE}{}{}{smscs}",
        tenant("alpha", "alpha-token-2"),
        tenant("beta", "short")
    ));
    let err = reloader.reload().await.unwrap_err().to_string();
    assert!(err.contains("tenants[1].token"), "{err}");
    assert!(!err.contains("short\""), "{err}");
    // not TOML at all
    files.write("[[tenants]\nname = ");
    let err = reloader.reload().await.unwrap_err().to_string();
    assert!(err.contains("line 1"), "{err}");

    assert_eq!(create(&base, "alpha-token-1", "+447400400001").await, 201);
    assert_eq!(create(&base, "alpha-token-2", "+447400400002").await, 401);
    let refused = reloads(&scrape(&base).await, "refused");
    assert_eq!(refused, refused_before + 2.0);
    a.wait_for_message("+447400400001", 0, WAIT).await.unwrap();
    assert_eq!(binds(&a), 1);
    running.stop(WAIT).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn smsc_entries_changed_removed_and_added_rebind_fail_over_and_bind() {
    let (a, b, c) = (
        sim("secret").await,
        sim("secret").await,
        sim("secret").await,
    );
    let t = tenant("alpha", "alpha-token-1");
    let files = Files::new(&format!(
        "{BASE}{t}{}{}",
        smsc("a", a.local_addr(), "secret", "[\"+\"]"),
        smsc("b", b.local_addr(), "secret", "[\"+33\"]")
    ));
    let running = start(&files, Vec::new()).await;
    let base = running.base_url();
    let reloader = running.started.reloader.clone().unwrap();
    wait_binds(&a, 1).await;
    wait_binds(&b, 1).await;

    // b stops answering: a French OTP stays with it, in flight or queued
    b.set_hang(true);
    assert_eq!(create(&base, "alpha-token-1", "+33612345678").await, 201);
    eventually("the French submit at b", || b.counters().hung_pdus >= 1).await;

    // a's password changes (at the SMSC first), b goes, c comes
    assert!(a.set_password("test", "newpass"));
    files.write(&format!(
        "{BASE}{t}{}{}",
        smsc("a", a.local_addr(), "newpass", "[\"+\"]"),
        smsc("c", c.local_addr(), "secret", "[\"+\"]")
    ));
    let report = reloader.reload().await.unwrap();
    assert_eq!(report.smsc.changed, vec!["a"]);
    assert_eq!(report.smsc.removed, vec!["b"]);
    assert_eq!(report.smsc.added, vec!["c"]);
    assert!(report.smsc.kept.is_empty());

    // a: the old bind unbound, a new one with the new password; c bound
    wait_binds(&a, 2).await;
    eventually("a's old bind unbound", || a.counters().unbinds >= 1).await;
    wait_binds(&c, 1).await;
    // the French OTP, left at b, goes out through the next SMSC of its route
    let delivered = || {
        a.messages()
            .iter()
            .chain(c.messages().iter())
            .any(|m| m.destination.ends_with("33612345678"))
    };
    eventually("the French OTP through a or c", delivered).await;
    // new traffic flows through the new set
    assert_eq!(create(&base, "alpha-token-1", "+447400500001").await, 201);
    eventually("the new OTP through a or c", || {
        a.messages()
            .iter()
            .chain(c.messages().iter())
            .any(|m| m.destination.ends_with("447400500001"))
    })
    .await;
    assert_eq!(b.counters().binds_transceiver, 1, "b was not bound again");
    running.stop(WAIT).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_only_settings_and_overrides_of_changed_keys_are_warned() {
    let a = sim("secret").await;
    let smscs = smsc("a", a.local_addr(), "secret", "[\"+\"]");
    let files = Files::new(&format!("{BASE}{}{smscs}", tenant("alpha", "file-token-1")));
    // the token comes from the environment of the start, over the file's
    let env = vec![(
        "OTPGATE_TENANTS__0__TOKEN".to_string(),
        "env-token-1".to_string(),
    )];
    let running = start(&files, env).await;
    let base = running.base_url();
    let reloader = running.started.reloader.clone().unwrap();
    wait_binds(&a, 1).await;
    assert_eq!(create(&base, "env-token-1", "+447400600001").await, 201);

    let moved = BASE.replace("127.0.0.1:0", "127.0.0.1:1");
    files.write(&format!(
        "{moved}{}{smscs}",
        tenant("alpha", "file-token-2")
    ));
    let report = reloader.reload().await.unwrap();
    let warnings = report.warnings.join("\n");
    assert!(warnings.contains("http.listen"), "{warnings}");
    assert!(warnings.contains("OTPGATE_TENANTS__0__TOKEN"), "{warnings}");
    assert!(
        !warnings.contains("env-token-1") && !warnings.contains("file-token"),
        "{warnings}"
    );
    // the override still wins; the listener stays where it is
    assert_eq!(create(&base, "env-token-1", "+447400600002").await, 201);
    assert_eq!(create(&base, "file-token-2", "+447400600003").await, 401);
    running.stop(WAIT).await.unwrap();
}
