//! `/metrics` of a fresh engine, before any request: the real `otpgate` binary started in a
//! process of its own (the recorder is global to a process, and this binary's other tests send
//! traffic), with two tenants and an SMSC that never answers. Every metric the Grafana
//! dashboard and the alerting rules use is already exported (the names are read from those
//! files), every series whose label values are known in advance is there at 0, and
//! `promtool check metrics` accepts the scrape.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::observability_stack::{alert_exprs, dashboard_exprs, names_in_promql, repo_file};
use crate::support::prom::{exported_names, value};
use crate::support::tools;

const TENANTS: [&str; 2] = ["acme", "globex"];

/// The binary, killed when dropped.
struct Fresh {
    child: Child,
    config: std::path::PathBuf,
}

impl Drop for Fresh {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.config);
    }
}

/// A port nothing listens on (bound, then released).
fn dead_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// A plain HTTP/1.0 GET (no chunked encoding): the body of a 200.
fn http_get(addr: &str, path: &str) -> String {
    use std::io::Read;
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).unwrap();
    let (head, body) = reply.split_once("\r\n\r\n").expect("an HTTP reply");
    assert!(
        head.starts_with("HTTP/1.0 200") || head.starts_with("HTTP/1.1 200"),
        "{head}"
    );
    body.to_owned()
}

/// Starts `otpgate serve` and returns it with the body of its first `/metrics`.
fn fresh_scrape() -> (Fresh, String) {
    let config = std::env::temp_dir().join(format!(
        "otpgate-fresh-{}-{}.toml",
        std::process::id(),
        uuid::Uuid::new_v4()
    ));
    let toml = format!(
        r#"[http]
listen = "127.0.0.1:0"
[log]
format = "json"
level = "info"
[security]
pin_secret = "fresh-engine-secret-0123456789"
[[tenants]]
name = "{}"
token = "token-acme-0001"
[[tenants]]
name = "{}"
token = "token-globex-0002"
[[smsc]]
name = "silent"
host = "127.0.0.1"
port = {}
system_id = "test"
password = "secret"
"#,
        TENANTS[0],
        TENANTS[1],
        dead_port()
    );
    std::fs::write(&config, toml).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_otpgate"))
        .args(["serve", "--config"])
        .arg(&config)
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("otpgate starts");
    let stdout = child.stdout.take().unwrap();
    let fresh = Fresh { child, config };
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) else {
                continue;
            };
            if v["message"] == "otpgate listening" {
                let _ = tx.send(v["addr"].as_str().unwrap_or("").to_owned());
            }
        }
    });
    let addr = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("otpgate listening");
    let scrape = http_get(&addr, "/metrics");
    (fresh, scrape)
}

#[test]
fn a_fresh_engine_exports_every_metric_the_dashboard_and_alerts_use() {
    let (_otpgate, s) = fresh_scrape();
    let exported = exported_names(&s);
    let dash: serde_json::Value =
        serde_json::from_str(&repo_file("config/grafana/otpgate.json")).unwrap();
    let mut used = BTreeSet::new();
    for e in dashboard_exprs(&dash)
        .into_iter()
        .chain(alert_exprs(&repo_file("config/prometheus/alerts.yml")))
    {
        used.extend(names_in_promql(&e));
    }
    assert!(used.len() >= 30, "{used:?}");
    // exported only by the nodes of a Redis cluster (checked by tests/store/cluster_sendq.rs)
    let cluster_only = |n: &str| {
        ["otpgate_sendq_", "otpgate_cluster_", "otpgate_bind_lease"]
            .iter()
            .any(|p| n.starts_with(p))
    };
    let missing: Vec<_> = used
        .difference(&exported)
        .filter(|n| !cluster_only(n))
        .collect();
    assert!(
        missing.is_empty(),
        "used by the dashboard or the alerts but not exported by a fresh engine: {missing:?}\n{s}"
    );

    // per tenant, every known label value, at 0
    let zero = |name: &str, labels: &[(&str, &str)]| {
        assert_eq!(value(&s, name, labels), Some(0.0), "{name}{labels:?}\n{s}");
    };
    for tenant in TENANTS {
        for encoding in ["GSM7", "UCS2"] {
            zero(
                "otpgate_otps_created_total",
                &[("tenant", tenant), ("encoding", encoding)],
            );
        }
        for result in [
            "verified",
            "wrong_pin",
            "replaced_pin",
            "failed",
            "already_failed",
            "expired",
            "already_verified",
            "cancelled",
            "not_found",
        ] {
            zero(
                "otpgate_otps_verified_total",
                &[("tenant", tenant), ("result", result)],
            );
        }
        zero("otpgate_otps_cancelled_total", &[("tenant", tenant)]);
        zero("otpgate_otps_resent_total", &[("tenant", tenant)]);
    }
    for reason in ["number_limit", "country", "dispatch", "prefix_velocity"] {
        zero("otpgate_blocked_total", &[("reason", reason)]);
    }
    for reason in ["tenant_rate", "number_limit", "resend_limit"] {
        zero("otpgate_rate_limited_total", &[("reason", reason)]);
    }
    zero("otpgate_receipts_total", &[("outcome", "delivered")]);
    zero("otpgate_sms_parts_total", &[("encoding", "GSM7")]);
    zero(
        "otpgate_callback_deliveries_total",
        &[("outcome", "dropped")],
    );
    zero("otpgate_callback_duration_seconds_count", &[]);
    zero("otpgate_otps_expired_total", &[]);
    // per SMSC (it never answers, so nothing but connection failures can have happened)
    let smsc = ("smsc", "silent");
    zero("otpgate_smpp_submit_total", &[smsc, ("status", "ESME_ROK")]);
    zero(
        "otpgate_smpp_submit_total",
        &[smsc, ("status", "ESME_RTHROTTLED")],
    );
    zero(
        "otpgate_smpp_bind_failures_total",
        &[smsc, ("reason", "credentials")],
    );
    zero(
        "otpgate_smpp_retries_total",
        &[smsc, ("reason", "throttled")],
    );
    zero("otpgate_smpp_receipts_total", &[smsc, ("state", "DELIVRD")]);
    zero("otpgate_smpp_throttled_total", &[smsc]);
    zero("otpgate_smpp_mo_total", &[smsc]);
    zero("otpgate_parts_charged_total", &[smsc]);
    zero("otpgate_parts_not_charged_total", &[smsc]);
    zero("otpgate_cost_charged_micros_total", &[smsc]);
    zero("otpgate_smpp_submit_duration_seconds_count", &[smsc]);
    zero("otpgate_smpp_receipt_delay_seconds_count", &[smsc]);
    zero("otpgate_smpp_bind_up", &[smsc]);
    zero("otpgate_smpp_window_in_use", &[smsc]);
    assert_eq!(
        value(&s, "otpgate_smpp_window_size", &[smsc]),
        Some(64.0),
        "{s}"
    );
    // per route and method
    zero(
        "otpgate_http_requests_total",
        &[("route", "/otp"), ("method", "POST"), ("status", "5xx")],
    );
    zero(
        "otpgate_http_request_duration_seconds_count",
        &[("route", "/otp/{otpId}/verify"), ("method", "POST")],
    );
}

/// `promtool check metrics` on a fresh engine's scrape, lint findings included: the series
/// registered at zero are as well-formed as the ones traffic makes.
#[test]
#[ignore = "needs promtool (OTPGATE_PROMTOOL, set by .ci/install.d/30-prometheus.sh)"]
fn promtool_accepts_a_fresh_engines_scrape() {
    let promtool = tools::required_path("OTPGATE_PROMTOOL", ".ci/install.d/30-prometheus.sh");
    let (_otpgate, scrape) = fresh_scrape();
    let mut child = Command::new(&promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(scrape.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "promtool check metrics: {report}");
    assert!(report.trim().is_empty(), "promtool lint findings: {report}");
}
