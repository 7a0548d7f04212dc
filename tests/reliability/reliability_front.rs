//! Faults seen from the HTTP front, the whole stack running on loopback against the SMSC
//! simulator: a bind refused for its credentials (backoff, alert metrics, recovery, queued
//! OTPs sent), and the front answering in bounded time whatever is wrong behind it (SMSC
//! outage, full queue, a callback receiver that never answers).

use std::time::{Duration, Instant};

use crate::support::prom;
use crate::support::stack::*;
use otpgate_sim::{self as sim, Latency, SimConfig, SimHandle};
use tokio::net::TcpListener;

/// Every request must be answered within this, whatever the fault.
const BOUND: Duration = Duration::from_secs(2);

async fn start_sim() -> SimHandle {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let config = SimConfig {
        message_log_capacity: 1_000_000,
        ..SimConfig::default()
    };
    sim::spawn(listener, config).await.unwrap()
}

fn slowest(answers: &[(u64, Answer)]) -> Duration {
    answers
        .iter()
        .map(|(_, a)| a.took)
        .max()
        .unwrap_or_default()
}

/// The 99th percentile of the request times, in milliseconds.
fn p99_ms(answers: &[(u64, Answer)]) -> f64 {
    let mut t: Vec<Duration> = answers.iter().map(|(_, a)| a.took).collect();
    t.sort();
    let i = (t.len() * 99 / 100).min(t.len().saturating_sub(1));
    t.get(i).copied().unwrap_or_default().as_secs_f64() * 1e3
}

/// The SMSC refuses the password: the engine backs off (a bounded number of bind attempts),
/// /metrics shows bind_up 0 and bind_failures{reason="credentials"}, OTPs are still taken and
/// queued; once the password is right again the bind comes up and every queued OTP goes out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_bind_backs_off_alerts_and_recovers() {
    let sim = start_sim().await;
    assert!(sim.set_password("test", "changed"));
    let toml = format!(
        "{}{}\n[engine]\nauth_failure_min_ms = 500\nauth_failure_max_ms = 1000\n",
        base_toml(),
        smsc_toml("refusing", sim.local_addr(), "")
    );
    let stack = Stack::start(&toml).await;
    eventually("a refused bind", Duration::from_secs(10), || {
        sim.counters().bind_failures >= 1
    })
    .await;
    // OTPs are taken while the SMSC is within no_route_after_ms, and wait in the queue.
    let queued = sized(50, 500);
    let answers = create_many(&stack.base, 0, queued, 8, None).await;
    assert!(answers.iter().all(|(_, a)| a.status == 201), "{answers:?}");
    let window = Duration::from_secs(3);
    let before = sim.counters().bind_failures;
    tokio::time::sleep(window).await;
    let attempts = sim.counters().bind_failures - before;
    // At most one attempt per 500 ms (the backoff floor), plus one at the edge.
    let most = window.as_millis() as u64 / 500 + 1;
    assert!(attempts <= most, "{attempts} bind attempts in {window:?}");
    let m = stack.metrics().await;
    let failures = prom::value(
        &m,
        "otpgate_smpp_bind_failures_total",
        &[("smsc", "refusing"), ("reason", "credentials")],
    )
    .unwrap_or_else(|| panic!("no credentials failure metric: {m}"));
    assert!(failures >= 1.0, "{failures}");
    assert_eq!(
        prom::value(&m, "otpgate_smpp_bind_up", &[("smsc", "refusing")]),
        Some(0.0),
        "{m}"
    );
    assert_eq!(sim.counters().messages, 0);

    assert!(sim.set_password("test", "secret"));
    eventually("every queued OTP sent", Duration::from_secs(10), || {
        sim.counters().messages >= queued
    })
    .await;
    let m = stack.metrics().await;
    assert_eq!(
        prom::value(&m, "otpgate_smpp_bind_up", &[("smsc", "refusing")]),
        Some(1.0)
    );
    for n in 0..queued {
        assert_eq!(sim.messages_to(&phone(n)).len(), 1, "OTP {n}");
    }
    println!(
        "refused bind: {attempts} attempts in {:.0} s while refused, {queued} OTPs queued \
         and all sent once the password was fixed",
        window.as_secs_f64()
    );
    stack.stop(Duration::from_secs(20)).await;
}

/// Every SMSC down past no_route_after_ms: creates get 503 with Retry-After, at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smsc_outage_gives_503_no_route_in_bounded_time() {
    let sim = start_sim().await;
    let toml = format!(
        "{}{}\n[engine]\nno_route_after_ms = 1000\nfailover_after_ms = 500\nreconnect_min_ms = 100\nreconnect_max_ms = 300\n",
        base_toml(),
        smsc_toml("outage", sim.local_addr(), "")
    );
    let stack = Stack::start(&toml).await;
    let ok = create_many(&stack.base, 0, 20, 4, None).await;
    assert!(ok.iter().all(|(_, a)| a.status == 201), "{ok:?}");
    // The SMSC goes away: connections dropped, new ones refused.
    sim.shutdown().await;
    let since = Instant::now();
    let n = sized(200, 2_000);
    let mut answers = Vec::new();
    // Past no_route_after_ms (1 s) with room to spare, and at least `n` requests.
    while answers.len() < n as usize || since.elapsed() < Duration::from_secs(3) {
        let batch = create_many(
            &stack.base,
            1_000 + answers.len() as u64,
            1_000 + answers.len() as u64 + 20,
            8,
            None,
        )
        .await;
        answers.extend(batch);
        if since.elapsed() > Duration::from_secs(30) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let unavailable: Vec<&Answer> = answers
        .iter()
        .map(|(_, a)| a)
        .filter(|a| a.status == 503)
        .collect();
    assert!(
        answers
            .iter()
            .all(|(_, a)| a.status == 201 || a.status == 503),
        "{answers:?}"
    );
    assert!(!unavailable.is_empty(), "never 503");
    for a in &unavailable {
        assert!(a.retry_after.is_some(), "503 without Retry-After: {a:?}");
        assert_eq!(a.body["error"]["reason"], "no_route", "{a:?}");
    }
    let slow = slowest(&answers);
    assert!(slow < BOUND, "a request took {slow:?}");
    println!(
        "outage: {} requests, {} answered 503 no route, p99 {:.1} ms, slowest {:.1} ms",
        answers.len(),
        unavailable.len(),
        p99_ms(&answers),
        slow.as_secs_f64() * 1e3
    );
    stack.stop(Duration::from_secs(20)).await;
}

/// An SMSC that answers too slowly for the load: the queue fills and creates get 503 with
/// Retry-After at once, never a request left hanging.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_queue_gives_503_queue_full_in_bounded_time() {
    let sim = start_sim().await;
    sim.set_latency(Latency::Fixed {
        value: Duration::from_secs(5),
    });
    let capacity = 100u64;
    let toml = format!(
        "{}{}\n[engine]\nqueue_capacity = {capacity}\n",
        base_toml(),
        smsc_toml("slow", sim.local_addr(), "window = 4")
    );
    let stack = Stack::start(&toml).await;
    let n = sized(400, 4_000);
    let answers = create_many(&stack.base, 0, n, 16, None).await;
    let accepted = answers.iter().filter(|(_, a)| a.status == 201).count() as u64;
    let full: Vec<&Answer> = answers
        .iter()
        .map(|(_, a)| a)
        .filter(|a| a.status == 503)
        .collect();
    assert_eq!(accepted + full.len() as u64, n, "{answers:?}");
    // The queue plus what left it for the SMSC, no more.
    let taken = sim.counters().submit_sm;
    assert!(
        accepted <= capacity + taken,
        "{accepted} accepted, {taken} sent"
    );
    assert!(accepted >= capacity, "{accepted} accepted");
    for a in &full {
        assert!(a.retry_after.is_some(), "503 without Retry-After: {a:?}");
        assert_eq!(a.body["error"]["reason"], "queue_full", "{a:?}");
    }
    let slow = slowest(&answers);
    assert!(slow < BOUND, "a request took {slow:?}");
    let ready = reqwest::get(format!("{}/readyz", stack.base))
        .await
        .unwrap();
    assert_eq!(ready.status(), 503);
    println!(
        "queue full: {n} requests, {accepted} accepted (capacity {capacity}), {} answered 503 \
         queue full, p99 {:.1} ms, slowest {:.1} ms",
        full.len(),
        p99_ms(&answers),
        slow.as_secs_f64() * 1e3
    );
    sim.set_latency(Latency::None);
    stack.stop(Duration::from_secs(20)).await;
}

/// Every OTP names a callback URL whose receiver accepts connections and never answers:
/// creates still answer at once and the stack still stops in bounded time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_callback_receiver_never_slows_the_front() {
    let sim = start_sim().await;
    let receiver = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", receiver.local_addr().unwrap());
    let held = tokio::spawn(async move {
        let mut conns = Vec::new();
        while let Ok((c, _)) = receiver.accept().await {
            conns.push(c); // read nothing, answer nothing
        }
    });
    let toml = format!(
        "{}{}\n[callbacks]\nallow_private = true\ntimeout_ms = 60000\nflush_ms = 10\n",
        base_toml(),
        smsc_toml("cb", sim.local_addr(), "")
    );
    let stack = Stack::start(&toml).await;
    let n = sized(500, 5_000);
    let answers = create_many(&stack.base, 0, n, 16, Some(url)).await;
    assert!(
        answers.iter().all(|(_, a)| a.status == 201),
        "{:?}",
        answers.iter().find(|(_, a)| a.status != 201)
    );
    let slow = slowest(&answers);
    assert!(slow < BOUND, "a request took {slow:?}");
    eventually("every OTP sent", Duration::from_secs(20), || {
        sim.counters().messages >= n
    })
    .await;
    println!(
        "hanging callback receiver: {n} creates, p99 {:.1} ms, slowest {:.1} ms",
        p99_ms(&answers),
        slow.as_secs_f64() * 1e3
    );
    let stopping = Instant::now();
    stack.stop(Duration::from_secs(20)).await;
    println!("stopped in {:.2} s", stopping.elapsed().as_secs_f64());
    held.abort();
}
