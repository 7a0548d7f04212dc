//! The load generators against a real simulator on loopback: SMPP window load with receipts,
//! HTTP closed and open loops, the loopback-only and bounded rules.
// A test binary: an unwrap that fails is a failed test.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use otpgate_loadtest::load::http::{self, HttpLoad, HttpMode};
use otpgate_loadtest::load::smpp::{self, SmppLoad};
use otpgate_loadtest::load::{Bounds, LoadError, Pace};
use otpgate_sim::{Latency, SimConfig, SimHandle};
use tokio::net::TcpListener;

async fn start(config: SimConfig) -> SimHandle {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    otpgate_sim::spawn(listener, config)
        .await
        .expect("the simulator starts")
}

fn smpp_load(addr: std::net::SocketAddr, requests: u64) -> SmppLoad {
    SmppLoad {
        addr,
        system_id: "test".into(),
        password: "secret".into(),
        window: 32,
        binds: 2,
        rate: None,
        bounds: Bounds {
            requests,
            duration: Duration::from_secs(30),
        },
        receipts: None,
        text: "Your verification code is 123456".into(),
        dest_prefix: "4477009".into(),
        resp_timeout: Duration::from_secs(5),
    }
}

#[tokio::test]
async fn smpp_load_through_window_with_receipts() {
    let mut config = SimConfig::default();
    config.behaviour.receipts.delay = Latency::Fixed {
        value: Duration::from_millis(20),
    };
    let sim = start(config).await;
    let mut load = smpp_load(sim.local_addr(), 2000);
    load.receipts = Some(Duration::from_secs(10));
    let report = smpp::run(load).await.unwrap();
    assert_eq!(report.main.requests, 2000);
    assert_eq!(report.main.ok, 2000);
    assert_eq!(report.main.outcomes["ESME_ROK"], 2000);
    assert_eq!(report.extra["receipt_state_2"], 2000);
    let n = sim.counters();
    assert_eq!((n.submit_sm, n.binds_transceiver), (2000, 2));
    assert_eq!(n.receipts_sent, 2000);
    assert!(n.window_violations == 0);
}

#[tokio::test]
async fn smpp_load_counts_errors_by_status() {
    let sim = start(SimConfig::default()).await;
    sim.set_error_injection(1.0, 0x45);
    let report = smpp::run(smpp_load(sim.local_addr(), 100)).await.unwrap();
    assert_eq!(report.main.errors, 100);
    assert_eq!(report.main.outcomes["ESME_RSUBMITFAIL"], 100);
}

#[tokio::test]
async fn smpp_bad_password_is_an_error() {
    let sim = start(SimConfig::default()).await;
    let mut load = smpp_load(sim.local_addr(), 10);
    load.password = "nope".into();
    assert!(matches!(smpp::run(load).await, Err(LoadError::Smpp(_))));
}

fn http_load(url: String, pace: Pace) -> HttpLoad {
    HttpLoad {
        mode: HttpMode::Echo,
        url,
        token: None,
        body_template: r#"{"phoneNumber":"{phone}"}"#.into(),
        phone_prefix: "+4477009".into(),
        phone_digits: 5,
        username: "u".into(),
        password: "p".into(),
        text: "t".into(),
        verify_sim_url: None,
        verify_timeout: Duration::from_secs(1),
        pace,
        bounds: Bounds {
            requests: 200,
            duration: Duration::from_secs(30),
        },
        request_timeout: Duration::from_secs(5),
    }
}

#[tokio::test]
async fn http_loops_are_bounded_and_count_statuses() {
    let sim = start(SimConfig::default()).await;
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", l.local_addr().unwrap());
    sim.serve_http(l);
    // POST to the simulator's endpoint: every answer is 405, counted as an error by status.
    let r = http::run(http_load(format!("{base}/counters"), Pace::Concurrency(4)))
        .await
        .unwrap();
    assert_eq!((r.main.requests, r.main.errors), (200, 200));
    assert_eq!(r.main.outcomes["405"], 200);
    let mut get = http_load(base.clone(), Pace::Rate(2000.0));
    get.mode = HttpMode::SendSms;
    get.bounds.requests = 50;
    let r = http::run(get).await.unwrap();
    assert_eq!(r.main.outcomes["404"], 50);
}

#[tokio::test]
async fn refuses_remote_and_unbounded_targets() {
    let r = http::run(http_load(
        "http://192.0.2.1:8080".into(),
        Pace::Concurrency(1),
    ))
    .await;
    assert!(matches!(r, Err(LoadError::Target(_))));
    let mut l = http_load("http://127.0.0.1:9".into(), Pace::Concurrency(1));
    l.bounds.requests = 0;
    assert!(matches!(http::run(l).await, Err(LoadError::Unbounded)));
    let l = smpp_load("198.51.100.1:2775".parse().unwrap(), 1);
    assert!(matches!(smpp::run(l).await, Err(LoadError::Target(_))));
}

/// Stops the child process when the test ends, however it ends.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The benchmark's floor gateway does the wire exchange of an OTP: each `POST` becomes one
/// submit_sm on its bind, and each receipt is acknowledged.
#[tokio::test]
async fn bare_gateway_sends_a_submit_sm_per_request_and_acks_receipts() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    let sim = start(SimConfig::default()).await;
    let mut child = Child(
        Command::new(env!("CARGO_BIN_EXE_bare-gateway"))
            .args(["--listen", "127.0.0.1:0", "--smsc"])
            .arg(sim.local_addr().to_string())
            .stdout(Stdio::piped())
            .spawn()
            .expect("bare-gateway starts"),
    );
    let stdout = child.0.stdout.take().expect("its stdout");
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).map(|_| line)
    })
    .await
    .unwrap()
    .unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
    let mut load = http_load(format!("http://{addr}/otp"), Pace::Concurrency(8));
    load.bounds.requests = 300;
    let r = http::run(load).await.unwrap();
    assert_eq!((r.main.requests, r.main.ok), (300, 300));
    assert_eq!(r.main.outcomes["201"], 300);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while sim.counters().receipts_acked < 300 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let n = sim.counters();
    assert_eq!((n.submit_sm, n.binds_transceiver), (300, 1));
    assert_eq!((n.receipts_sent, n.receipts_acked), (300, 300));
    assert_eq!(n.window_violations, 0);
    assert_eq!(n.per_destination.len(), 300);
}
