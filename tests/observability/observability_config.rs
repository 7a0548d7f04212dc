//! The monitoring configuration shipped in `config/`: the Grafana dashboard is an importable
//! dashboard (required fields, unique panel ids, a datasource and queries on every panel, the
//! template variables, the rows an operator looks for), and Prometheus accepts the scrape
//! configuration and the alerting rules, whose unit tests pass (`promtool`, from
//! `OTPGATE_PROMTOOL`).

use crate::support::tools;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn dashboard() -> Value {
    let text = std::fs::read_to_string(repo("config/grafana/otpgate.json")).expect("dashboard");
    serde_json::from_str(&text).expect("dashboard is JSON")
}

/// Every panel, rows' nested panels included.
fn all_panels(panels: &Value, out: &mut Vec<Value>) {
    for p in panels.as_array().into_iter().flatten() {
        out.push(p.clone());
        all_panels(&p["panels"], out);
    }
}

#[test]
fn dashboard_is_a_valid_grafana_dashboard() {
    let d = dashboard();
    for field in [
        "title",
        "uid",
        "panels",
        "schemaVersion",
        "templating",
        "time",
        "tags",
    ] {
        assert!(!d[field].is_null(), "top-level `{field}` missing");
    }
    assert!(d["schemaVersion"].as_u64().is_some_and(|v| v >= 30));
    let uid = d["uid"].as_str().unwrap();
    assert!(!uid.is_empty() && uid.len() <= 40, "uid {uid}");
    assert!(d["id"].is_null(), "an importable dashboard has no id");

    let mut panels = Vec::new();
    all_panels(&d["panels"], &mut panels);
    let mut ids = BTreeSet::new();
    let mut rows = Vec::new();
    let mut graphs = 0;
    for p in &panels {
        let id = p["id"].as_u64().expect("every panel has a numeric id");
        assert!(ids.insert(id), "panel id {id} used twice");
        let title = p["title"].as_str().unwrap_or_default();
        assert!(!title.is_empty(), "panel {id} has no title");
        let grid = &p["gridPos"];
        for k in ["h", "w", "x", "y"] {
            assert!(grid[k].is_u64(), "panel {id} gridPos.{k}");
        }
        assert!(grid["x"].as_u64().unwrap() + grid["w"].as_u64().unwrap() <= 24);
        if p["type"] == "row" {
            rows.push(title.to_owned());
            continue;
        }
        graphs += 1;
        assert!(
            p["datasource"]["uid"] == "${datasource}",
            "panel {title}: datasource {}",
            p["datasource"]
        );
        let targets = p["targets"].as_array().expect("targets");
        assert!(!targets.is_empty(), "panel {title} has no query");
        let mut refs = BTreeSet::new();
        for t in targets {
            let expr = t["expr"].as_str().unwrap_or_default();
            assert!(expr.contains("otpgate_"), "panel {title}: {expr}");
            assert_eq!(
                expr.matches('(').count(),
                expr.matches(')').count(),
                "{expr}"
            );
            assert!(refs.insert(t["refId"].as_str().expect("refId").to_owned()));
            assert!(t["datasource"]["uid"] == "${datasource}", "panel {title}");
        }
    }
    assert!(graphs >= 20, "{graphs} panels");
    for want in ["Traffic", "SMSC", "Delivery", "HTTP", "Callbacks"] {
        assert!(
            rows.iter().any(|r| r.contains(want)),
            "no `{want}` row in {rows:?}"
        );
    }

    let vars = d["templating"]["list"].as_array().expect("templating.list");
    let var = |name: &str| {
        vars.iter()
            .find(|v| v["name"] == name)
            .unwrap_or_else(|| panic!("template variable `{name}` missing"))
    };
    let ds = var("datasource");
    assert_eq!(
        (&ds["type"], &ds["query"]),
        (&"datasource".into(), &"prometheus".into())
    );
    for (name, label) in [("smsc", "smsc"), ("tenant", "tenant")] {
        let v = var(name);
        assert_eq!(v["type"], "query");
        let q = v["query"]["query"].as_str().unwrap_or_default();
        assert!(
            q.starts_with("label_values(otpgate_") && q.ends_with(&format!(", {label})")),
            "{name}: {q}"
        );
        assert_eq!(v["datasource"]["uid"], "${datasource}");
    }
    // The variables are used: SMSC panels filter on $smsc, traffic panels on $tenant.
    let text = serde_json::to_string(&d["panels"]).unwrap();
    assert!(text.contains("smsc=~\\\"$smsc\\\""));
    assert!(text.contains("tenant=~\\\"$tenant\\\""));
    assert!(text.contains("histogram_quantile(0.99"));
}

fn promtool() -> PathBuf {
    PathBuf::from(tools::required_path(
        "OTPGATE_PROMTOOL",
        ".ci/install.d/30-prometheus.sh",
    ))
}

fn run_promtool(promtool: &Path, args: &[&str]) {
    let out = Command::new(promtool)
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("promtool runs");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "promtool {args:?}:\n{report}");
    assert!(report.contains("SUCCESS"), "promtool {args:?}:\n{report}");
}

#[test]
#[ignore = "needs promtool (OTPGATE_PROMTOOL, set by .ci/install.d/30-prometheus.sh)"]
fn promtool_accepts_the_scrape_config() {
    run_promtool(&promtool(), &["check", "config", "config/prometheus.yml"]);
}

#[test]
fn the_scrape_config_scrapes_otpgate_and_loads_the_rules() {
    let text = std::fs::read_to_string(repo("config/prometheus.yml")).unwrap();
    assert!(text.contains("127.0.0.1:8080") && text.contains("metrics_path: /metrics"));
    assert!(text.contains("prometheus/alerts.yml"));
}

#[test]
#[ignore = "needs promtool (OTPGATE_PROMTOOL, set by .ci/install.d/30-prometheus.sh)"]
fn promtool_accepts_the_alerting_rules() {
    let p = promtool();
    run_promtool(&p, &["check", "rules", "config/prometheus/alerts.yml"]);
    run_promtool(&p, &["test", "rules", "config/prometheus/alerts_test.yml"]);
}

#[test]
fn the_alerting_rules_name_every_alert() {
    let text = std::fs::read_to_string(repo("config/prometheus/alerts.yml")).unwrap();
    for alert in [
        "OtpgateNoBindUp",
        "OtpgateSubmitErrorRatioHigh",
        "OtpgateDeliveryRatioLow",
        "OtpgateSendQueueNearFull",
        "OtpgateCallbacksDropped",
        "OtpgateBindFailures",
        "OtpgateBindCredentialsRefused",
    ] {
        assert!(
            text.contains(&format!("alert: {alert}\n")),
            "{alert} missing"
        );
    }
}
