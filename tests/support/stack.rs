//! Shared pieces of the reliability tests: the run size (`OTPGATE_FAULT_SCALE`), resident
//! memory of a process, the full stack on loopback from a TOML text, and a bounded HTTP
//! driver that records how long every request took.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use otpgate::config;
use otpgate::serve::{self, Started};
use serde_json::{json, Value};

/// How much bigger than the CI size a run is. Unset: 1 (the CI size). `full`: the by-hand
/// size each test names. A number: that multiple of the CI size.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Scale {
    Ci,
    Full,
    Times(f64),
}

pub fn scale() -> Scale {
    match std::env::var("OTPGATE_FAULT_SCALE") {
        Err(_) => Scale::Ci,
        Ok(v) if v.eq_ignore_ascii_case("full") => Scale::Full,
        Ok(v) => match v.parse::<f64>() {
            Ok(x) if x > 0.0 && x.is_finite() => Scale::Times(x),
            _ => panic!("OTPGATE_FAULT_SCALE={v:?}: `full` or a positive number"),
        },
    }
}

/// `ci` at CI size, `full` for the by-hand run, or `ci` times the given factor.
pub fn sized(ci: u64, full: u64) -> u64 {
    match scale() {
        Scale::Ci => ci,
        Scale::Full => full,
        Scale::Times(x) => ((ci as f64) * x).round().max(1.0) as u64,
    }
}

/// Resident set size of `pid` (or of this process with `None`), in bytes, from
/// `/proc/<pid>/status` (`VmRSS`).
pub fn rss_bytes(pid: Option<u32>) -> Option<u64> {
    let path = match pid {
        Some(p) => format!("/proc/{p}/status"),
        None => "/proc/self/status".to_string(),
    };
    let status = std::fs::read_to_string(path).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

pub const MB: f64 = 1024.0 * 1024.0;

/// The token of the tenant every stack here is configured with.
pub const TOKEN: &str = "reliability-token";

/// The `[[tenants]]` and `[otp]` sections shared by the stacks here (no per-number limit, so
/// that a run may send thousands of OTPs).
pub fn base_toml() -> String {
    format!(
        r#"
[[tenants]]
name = "rel"
token = "{TOKEN}"

[limits]
per_number = 0

[security]
pin_secret = "reliability-secret"
"#
    )
}

/// The SMSC entry for a simulator at `addr`.
pub fn smsc_toml(name: &str, addr: SocketAddr, extra: &str) -> String {
    format!(
        r#"
[[smsc]]
name = "{name}"
host = "{}"
port = {}
system_id = "test"
password = "secret"
{extra}
"#,
        addr.ip(),
        addr.port()
    )
}

/// otpgate running in this process (`serve::run`) on 127.0.0.1:0.
pub struct Stack {
    pub base: String,
    pub started: Started,
    running: serve::Running,
}

impl Stack {
    pub async fn start(toml: &str) -> Stack {
        let config = config::load_str(toml, Vec::<(String, String)>::new()).expect("config");
        let running = serve::Running::start_on_loopback(config, Duration::from_secs(10))
            .await
            .expect("started");
        Stack {
            base: running.base_url(),
            started: running.started.clone(),
            running,
        }
    }

    /// Starts from the configuration file `path`, reloadable (`POST /admin/reload`).
    pub async fn start_file(path: &std::path::Path) -> Stack {
        let source = config::ConfigSource::new(path, Vec::<(String, String)>::new());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let running = tokio::time::timeout(
            Duration::from_secs(10),
            serve::Running::start_from(source, listener),
        )
        .await
        .expect("started in time")
        .expect("started");
        Stack {
            base: running.base_url(),
            started: running.started.clone(),
            running,
        }
    }

    pub async fn metrics(&self) -> String {
        reqwest::get(format!("{}/metrics", self.base))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// Stops the stack; it must finish within `within`.
    pub async fn stop(self, within: Duration) {
        let done = self.running.stop(within).await;
        assert!(done.is_ok(), "clean shutdown: {done:?}");
    }
}

/// One answered (or failed) request.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
    pub retry_after: Option<String>,
    pub took: Duration,
}

/// A phone number unique to `n` (UK mobile range, valid for libphonenumber).
pub fn phone(n: u64) -> String {
    format!("+4474{:08}", n % 100_000_000)
}

/// `POST /otp` for `phone`, with an optional callback URL.
pub async fn create(
    client: &reqwest::Client,
    base: &str,
    phone: &str,
    callback: Option<&str>,
) -> Answer {
    let mut body = json!({"phoneNumber": phone});
    if let Some(cb) = callback {
        body["otpCallbackUrl"] = json!(cb);
    }
    let start = Instant::now();
    let r = client
        .post(format!("{base}/otp"))
        .bearer_auth(TOKEN)
        .json(&body)
        .send()
        .await;
    match r {
        Ok(r) => {
            let status = r.status().as_u16();
            let retry_after = r
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let body = r.json().await.unwrap_or(Value::Null);
            Answer {
                status,
                body,
                retry_after,
                took: start.elapsed(),
            }
        }
        Err(e) => Answer {
            status: 0,
            body: json!({"transport_error": e.to_string()}),
            retry_after: None,
            took: start.elapsed(),
        },
    }
}

/// Creates OTPs for the numbers `from..to` with `concurrency` requests in flight at once;
/// returns every answer with its number, in completion order.
pub async fn create_many(
    base: &str,
    from: u64,
    to: u64,
    concurrency: usize,
    callback: Option<String>,
) -> Vec<(u64, Answer)> {
    use futures::StreamExt;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(concurrency)
        .build()
        .unwrap();
    futures::stream::iter(from..to)
        .map(|n| {
            let client = client.clone();
            let base = base.to_owned();
            let callback = callback.clone();
            async move {
                let a = create(&client, &base, &phone(n), callback.as_deref()).await;
                (n, a)
            }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await
}

/// Polls `f` every 20 ms until it holds, at most `wait`.
pub async fn eventually(what: &str, wait: Duration, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < wait, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
