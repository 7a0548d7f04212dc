//! `/metrics` of a full otpgate after real traffic (see `observability_support`): it passes
//! `promtool check metrics`, it exports every metric the Grafana dashboard and the alerting
//! rules use (no dead panel, no alert on a name that does not exist), the exercised paths
//! counted, and it holds no phone number, otpId, PIN or message id.

use crate::support::tools;
use std::collections::BTreeSet;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::support::prom::{base_name, exported_names, value};
use crate::support::traffic::traffic;

/// Every `otpgate_*` metric name in a PromQL expression, `_bucket`/`_sum`/`_count` stripped.
pub(crate) fn names_in_promql(expr: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = expr;
    while let Some(at) = rest.find("otpgate_") {
        let preceded = rest[..at]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
        let tail = &rest[at..];
        let len = tail
            .find(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'))
            .unwrap_or(tail.len());
        if !preceded {
            out.insert(base_name(&tail[..len]));
        }
        rest = &tail[len..];
    }
    out
}

pub(crate) fn repo_file(path: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Every PromQL expression of the dashboard: panel targets (rows' nested panels included) and
/// template variable queries.
pub(crate) fn dashboard_exprs(dash: &serde_json::Value) -> Vec<String> {
    fn walk(panels: &serde_json::Value, out: &mut Vec<String>) {
        for p in panels.as_array().into_iter().flatten() {
            for t in p["targets"].as_array().into_iter().flatten() {
                if let Some(e) = t["expr"].as_str() {
                    out.push(e.to_owned());
                }
            }
            walk(&p["panels"], out);
        }
    }
    let mut out = Vec::new();
    walk(&dash["panels"], &mut out);
    for v in dash["templating"]["list"].as_array().into_iter().flatten() {
        match &v["query"] {
            serde_json::Value::String(q) => out.push(q.clone()),
            q => {
                if let Some(q) = q["query"].as_str() {
                    out.push(q.to_owned());
                }
            }
        }
    }
    out
}

/// Every `expr:` of the alerting rules (one line each, or a `|`/`>` block).
pub(crate) fn alert_exprs(yaml: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut lines = yaml.lines().peekable();
    while let Some(line) = lines.next() {
        let Some(rest) = line.trim_start().strip_prefix("expr:") else {
            continue;
        };
        let rest = rest.trim();
        if rest.starts_with('|') || rest.starts_with('>') {
            let indent = line.len() - line.trim_start().len();
            let mut block = String::new();
            while let Some(next) = lines.peek() {
                let ind = next.len() - next.trim_start().len();
                if !next.trim().is_empty() && ind <= indent {
                    break;
                }
                block.push_str(next.trim());
                block.push(' ');
                lines.next();
            }
            out.push(block);
        } else {
            out.push(rest.trim_matches(['\'', '"']).to_owned());
        }
    }
    out
}

#[test]
fn promql_name_extraction() {
    let got = names_in_promql(
        "histogram_quantile(0.99, sum by (le) (rate(otpgate_smpp_submit_duration_seconds_bucket[5m]))) / x_otpgate_no + otpgate_queue_depth",
    );
    let want: BTreeSet<String> = [
        "otpgate_smpp_submit_duration_seconds",
        "otpgate_queue_depth",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(got, want);
    let yaml = "      - alert: A\n        expr: |\n          sum(otpgate_a_total)\n            / sum(otpgate_b_total)\n        for: 1m\n      - alert: B\n        expr: otpgate_c > 0\n";
    assert_eq!(
        alert_exprs(yaml),
        vec![
            "sum(otpgate_a_total) / sum(otpgate_b_total) ".to_owned(),
            "otpgate_c > 0".to_owned()
        ]
    );
}

#[test]
fn every_dashboard_and_alert_metric_is_exported() {
    let t = traffic();
    let exported = exported_names(&t.scrape);
    let dash: serde_json::Value =
        serde_json::from_str(&repo_file("config/grafana/otpgate.json")).expect("dashboard JSON");
    let alerts = repo_file("config/prometheus/alerts.yml");
    let mut used: Vec<(String, String)> = Vec::new();
    for (origin, exprs) in [
        ("dashboard", dashboard_exprs(&dash)),
        ("alerts", alert_exprs(&alerts)),
    ] {
        assert!(exprs.len() >= 5, "too few expressions in the {origin}");
        for e in exprs {
            used.extend(
                names_in_promql(&e)
                    .into_iter()
                    .map(|n| (origin.to_owned(), n)),
            );
        }
    }
    assert!(used.len() >= 20, "{used:?}");
    // exported only by the nodes of a Redis cluster (checked by tests/store/cluster_sendq.rs)
    let cluster_only = |n: &str| {
        ["otpgate_sendq_", "otpgate_cluster_", "otpgate_bind_lease"]
            .iter()
            .any(|p| n.starts_with(p))
    };
    let missing: Vec<_> = used
        .iter()
        .filter(|(_, n)| !exported.contains(n) && !cluster_only(n))
        .collect();
    assert!(
        missing.is_empty(),
        "used but not exported after traffic: {missing:?}\nexported: {exported:?}"
    );
}

#[test]
fn the_traffic_is_counted() {
    let s = &traffic().scrape;
    let at_least_one = |name: &str, labels: &[(&str, &str)]| {
        let v = value(s, name, labels);
        assert!(v.is_some_and(|v| v >= 1.0), "{name}{labels:?} = {v:?}\n{s}");
    };
    at_least_one(
        "otpgate_otps_created_total",
        &[("tenant", "obs"), ("encoding", "GSM7")],
    );
    at_least_one("otpgate_otps_verified_total", &[("result", "verified")]);
    at_least_one("otpgate_otps_verified_total", &[("result", "wrong_pin")]);
    at_least_one("otpgate_otps_cancelled_total", &[("tenant", "obs")]);
    at_least_one("otpgate_otps_resent_total", &[("tenant", "obs")]);
    at_least_one("otpgate_rate_limited_total", &[("reason", "number_limit")]);
    at_least_one("otpgate_blocked_total", &[("reason", "number_limit")]);
    at_least_one("otpgate_sms_parts_total", &[("encoding", "GSM7")]);
    at_least_one(
        "otpgate_smpp_submit_total",
        &[("smsc", "alpha"), ("status", "ESME_ROK")],
    );
    at_least_one(
        "otpgate_smpp_submit_duration_seconds_count",
        &[("smsc", "alpha")],
    );
    at_least_one("otpgate_smpp_bind_up", &[("smsc", "alpha"), ("bind", "0")]);
    at_least_one("otpgate_smpp_window_size", &[("smsc", "alpha")]);
    at_least_one(
        "otpgate_smpp_receipts_total",
        &[("smsc", "alpha"), ("state", "DELIVRD")],
    );
    at_least_one(
        "otpgate_smpp_receipt_delay_seconds_count",
        &[("smsc", "alpha")],
    );
    at_least_one(
        "otpgate_smpp_bind_failures_total",
        &[("smsc", "beta"), ("reason", "credentials")],
    );
    at_least_one("otpgate_smpp_reconnects_total", &[("smsc", "beta")]);
    at_least_one("otpgate_smpp_queue_full_total", &[("smsc", "alpha")]);
    at_least_one(
        "otpgate_smpp_retries_total",
        &[("smsc", "alpha"), ("reason", "queue_full")],
    );
    at_least_one(
        "otpgate_callback_deliveries_total",
        &[("outcome", "delivered")],
    );
    at_least_one("otpgate_callback_duration_seconds_count", &[]);
    at_least_one(
        "otpgate_http_requests_total",
        &[
            ("route", "/otp/{otpId}/verify"),
            ("method", "POST"),
            ("status", "4xx"),
        ],
    );
    at_least_one(
        "otpgate_http_request_duration_seconds_count",
        &[("route", "/otp"), ("method", "POST")],
    );
    at_least_one("otpgate_queue_capacity", &[]);
    at_least_one("otpgate_otps_stored", &[("store", "memory")]);
    at_least_one("otpgate_otps_max_live", &[("store", "memory")]);
    at_least_one("otpgate_process_resident_memory_bytes", &[]);
    at_least_one("otpgate_process_open_fds", &[]);
    at_least_one("otpgate_process_start_time_seconds", &[]);
    at_least_one("otpgate_build_info", &[]);
    assert_eq!(
        value(s, "otpgate_smpp_bind_up", &[("smsc", "beta")]),
        Some(0.0)
    );
    // buckets of each duration as documented
    assert!(s.contains("otpgate_http_request_duration_seconds_bucket{route=\"/otp\",method=\"POST\",le=\"0.0001\"}"));
    assert!(s.contains("otpgate_smpp_submit_duration_seconds_bucket{smsc=\"alpha\",le=\"30\"}"));
}

#[test]
fn no_personal_data_in_the_metrics() {
    let t = traffic();
    let s = &t.scrape;
    for phone in &t.phones {
        assert!(phone.len() >= 10);
        assert!(
            !s.contains(phone.as_str()),
            "phone number {phone} in /metrics"
        );
        // the national part alone
        assert!(!s.contains(&phone[2..]), "phone number {phone} in /metrics");
    }
    for id in &t.otp_ids {
        assert!(!s.contains(id.as_str()), "otpId {id} in /metrics");
        assert!(!s.contains(&id.replace('-', "")), "otpId {id} in /metrics");
    }
    for pin in &t.pins {
        assert!(
            pin.len() >= 8,
            "PINs long enough that a chance match is impossible"
        );
        assert!(!s.contains(pin.as_str()) && !s.to_lowercase().contains(&pin.to_lowercase()));
    }
    // Label keys come from a fixed set: no key can carry an identifier, whatever its value.
    let allowed = [
        "route", "method", "status", "tenant", "encoding", "result", "reason", "smsc", "bind",
        "state", "outcome", "version", "le", "quantile", "store",
    ];
    let mut keys = BTreeSet::new();
    for line in s.lines().filter(|l| !l.starts_with('#')) {
        let Some((_, labels)) = line.split_once('{') else {
            continue;
        };
        let labels = labels.rsplit_once('}').map_or("", |(l, _)| l);
        for pair in labels.split("\",").filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once("=\"").expect("key=\"value\"");
            keys.insert(k.to_owned());
            let v = v.trim_end_matches('"');
            if k != "le" && k != "bind" && k != "quantile" {
                assert!(
                    !t.message_ids.iter().any(|id| id == v),
                    "a message id as label value: {line}"
                );
            }
        }
    }
    for k in &keys {
        assert!(allowed.contains(&k.as_str()), "unexpected label key {k}");
    }
    assert!(keys.contains("smsc") && keys.contains("route"), "{keys:?}");
}

/// `promtool check metrics` on the scrape. Lint findings fail the test too: every metric has
/// a HELP text, counters end in `_total`, units are base units.
#[test]
#[ignore = "needs promtool (OTPGATE_PROMTOOL, set by .ci/install.d/30-prometheus.sh)"]
fn promtool_accepts_the_scrape() {
    let promtool = tools::required_path("OTPGATE_PROMTOOL", ".ci/install.d/30-prometheus.sh");
    let t = traffic();
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
        .expect("stdin")
        .write_all(t.scrape.as_bytes())
        .expect("scrape written");
    let out = child.wait_with_output().expect("promtool finished");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "promtool check metrics: {report}");
    assert!(report.trim().is_empty(), "promtool lint findings: {report}");
}
