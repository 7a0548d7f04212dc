//! Link faults under load, the SMPP engine against the SMSC simulator over TCP: forced
//! disconnects with full windows, sustained ESME_RTHROTTLED answers, a hung SMSC with a
//! second one configured. Each run checks that every accepted message reached an SMSC, counts
//! the duplicates and bounds them. Sizes grow with `OTPGATE_FAULT_SCALE` (see docs/reliability.md,
//! "Reliability").

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::support::smpp::*;
use crate::support::stack::sized;
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use otpgate::dispatch::{DeliveryUpdate, DispatchError, Dispatcher, OutboundSms};
use otpgate::smpp::{metrics as m, EngineHandle, EngineSettings, SmppEngine, SmscConfig};
use otpgate_sim::{Latency, SimConfig, SimHandle};

/// ESME_RTHROTTLED.
const THROTTLED: u32 = 0x58;

fn snapshotter() -> &'static Snapshotter {
    static S: OnceLock<Snapshotter> = OnceLock::new();
    S.get_or_init(|| {
        let recorder = DebuggingRecorder::new();
        let s = recorder.snapshotter();
        recorder
            .install()
            .expect("the only recorder of this test binary");
        s
    })
}

/// A counter of the engine's metrics (0 when never touched). Snapshots drain the debugging
/// recorder, so every counter read is kept in a running total shared by the tests.
fn counter(name: &str, labels: &[(&str, &str)]) -> u64 {
    type Key = (String, Vec<(String, String)>);
    static TOTALS: OnceLock<Mutex<HashMap<Key, u64>>> = OnceLock::new();
    let mut totals = TOTALS.get_or_init(Default::default).lock().unwrap();
    for (k, _, _, v) in snapshotter().snapshot().into_vec() {
        if let DebugValue::Counter(c) = v {
            let labels = k
                .key()
                .labels()
                .map(|l| (l.key().to_owned(), l.value().to_owned()))
                .collect();
            *totals
                .entry((k.key().name().to_owned(), labels))
                .or_default() += c;
        }
    }
    totals
        .iter()
        .filter(|((n, ls), _)| {
            n == name
                && labels
                    .iter()
                    .all(|(lk, lv)| ls.iter().any(|(k, v)| k == lk && v == lv))
        })
        .map(|(_, v)| *v)
        .sum()
}

fn big_log() -> SimConfig {
    SimConfig {
        message_log_capacity: 1_000_000,
        ..SimConfig::default()
    }
}

/// Offers `sms` until the engine takes it (a full queue is waited out, bounded).
async fn dispatch(engine: &EngineHandle, sms: OutboundSms) {
    let start = Instant::now();
    loop {
        match engine.try_dispatch(sms.clone()) {
            Ok(()) => return,
            Err(DispatchError::QueueFull { .. }) if start.elapsed() < WAIT => {
                tokio::time::sleep(Duration::from_millis(5)).await
            }
            Err(e) => panic!("message {} refused: {e}", sms.otp_id),
        }
    }
}

/// Every destination in `0..n` reached one of `sims`; returns how many did not.
fn missing(sims: &[&SimHandle], n: u32) -> Vec<u32> {
    let seen: HashSet<String> = sims
        .iter()
        .flat_map(|s| s.messages())
        .map(|m| m.destination.trim_start_matches('+').to_owned())
        .collect();
    (0..n)
        .filter(|i| !seen.contains(destination(*i).trim_start_matches('+')))
        .collect()
}

/// 10 forced disconnects (every bind cut at once, without unbind) while a run of OTPs goes
/// through full windows: every message arrives, and only what was in flight at a cut may
/// arrive twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forced_disconnects_lose_nothing_and_bound_duplicates() {
    let n = sized(3_000, 10_000) as u32;
    let cuts = 10u64;
    let (binds, window) = (2usize, 32usize);
    let sim = start_sim(big_log()).await;
    // Responses take a while: the windows stay full.
    sim.set_latency(Latency::Fixed {
        value: Duration::from_millis(20),
    });
    let sink = sink();
    let cfg = SmscConfig {
        binds,
        window,
        ..smsc("cuts", sim.local_addr())
    };
    let s = EngineSettings {
        queue_capacity: n as usize,
        ..settings()
    };
    let engine = SmppEngine::start(vec![cfg], s, sink.clone()).unwrap();
    eventually("binds up", || engine.binds_up() == binds).await;
    let started = Instant::now();
    for i in 0..n {
        dispatch(&engine, sms(i)).await;
    }
    let mut done_cuts = 0u64;
    for k in 1..=cuts {
        let at = u64::from(n) * k / (cuts + 1);
        eventually("progress before a cut", || sim.counters().parts >= at).await;
        // Every bind of the previous cut bound again, as both ends see it: the engine may
        // still count a bind the simulator already closed until it reads the close.
        let rebound = (binds as u64) * k;
        eventually("binds up before a cut", || {
            let c = sim.counters();
            engine.binds_up() == binds
                && c.binds_transceiver >= rebound
                && c.connections_open == binds as u64
        })
        .await;
        sim.disconnect_all();
        done_cuts += 1;
    }
    sink.wait_final(n as usize).await;
    let took = started.elapsed();
    let submitted = sink.submitted().len();
    assert_eq!(
        submitted,
        n as usize,
        "not all submitted: {:?}",
        failures(&sink)
    );
    let lost = missing(&[&sim], n);
    assert!(lost.is_empty(), "never reached the SMSC: {lost:?}");
    let c = sim.counters();
    assert_eq!(c.messages, u64::from(n) + c.duplicates, "{c:?}");
    let bound = cuts * (window * binds) as u64;
    assert!(
        c.duplicates <= bound,
        "{} duplicates > {bound}",
        c.duplicates
    );
    assert!(c.disconnects_injected >= done_cuts * binds as u64, "{c:?}");
    assert!(
        c.connections > done_cuts * binds as u64,
        "no reconnects: {c:?}"
    );
    assert_eq!(c.window_violations, 0);
    println!(
        "disconnects: {n} OTPs, {done_cuts} cuts of {binds} binds x window {window}, \
         {} submit_sm, {} duplicates (bound {bound}), {} connections, {:.1} s, {:.0} OTP/s",
        c.submit_sm,
        c.duplicates,
        c.connections,
        took.as_secs_f64(),
        f64::from(n) / took.as_secs_f64()
    );
    engine.shutdown(Duration::from_secs(5)).await;
}

fn failures(sink: &RecordingSink) -> Vec<DeliveryUpdate> {
    sink.all()
        .into_iter()
        .filter(|u| is_final(u) && !matches!(u, DeliveryUpdate::Submitted { .. }))
        .take(10)
        .collect()
}

/// 30 % of submit_sm answered ESME_RTHROTTLED for a sustained period under steady load:
/// everything is delivered, each message costs few submit_sm (no hot retry loop), and the
/// engine's throttled counter matches what the SMSC answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sustained_throttling_delivers_everything_without_a_hot_loop() {
    let secs = sized(10, 60);
    let rate = 100u64; // OTPs per second offered
    let n = (secs * rate) as u32;
    snapshotter();
    let sim = start_sim(big_log()).await;
    sim.set_error_injection(0.3, THROTTLED);
    let sink = sink();
    let cfg = SmscConfig {
        binds: 2,
        window: 16,
        ..smsc("throttled", sim.local_addr())
    };
    let engine = SmppEngine::start(vec![cfg], settings(), sink.clone()).unwrap();
    eventually("binds up", || engine.binds_up() == 2).await;
    let started = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    let per_tick = (rate / 10) as u32;
    for t in 0..(n / per_tick) {
        tick.tick().await;
        for i in 0..per_tick {
            dispatch(&engine, sms(t * per_tick + i)).await;
        }
    }
    let offered = started.elapsed();
    sink.wait_final(n as usize).await;
    let took = started.elapsed();
    // Still throttling at the end: the whole run was under 30 % ESME_RTHROTTLED.
    sim.set_error_injection(0.0, THROTTLED);
    assert_eq!(sink.submitted().len(), n as usize, "{:?}", failures(&sink));
    let lost = missing(&[&sim], n);
    assert!(lost.is_empty(), "never reached the SMSC: {lost:?}");
    let c = sim.counters();
    assert_eq!(c.duplicates, 0, "{c:?}");
    let per_message = c.submit_sm as f64 / f64::from(n);
    assert!(per_message < 5.0, "{per_message:.2} submit_sm per message");
    assert_eq!(c.submit_sm, c.parts + c.errors_injected, "{c:?}");
    let throttled = counter(m::THROTTLED, &[("smsc", "throttled")]);
    assert_eq!(
        throttled, c.errors_injected,
        "engine vs SMSC throttled count"
    );
    assert_eq!(
        counter(
            m::RETRIES,
            &[("smsc", "throttled"), ("reason", "throttled")]
        ),
        c.errors_injected
    );
    println!(
        "throttling: {n} OTPs offered at {rate}/s over {:.1} s, all delivered after {:.1} s; \
         {} submit_sm ({per_message:.2} per message), {} ESME_RTHROTTLED",
        offered.as_secs_f64(),
        took.as_secs_f64(),
        c.submit_sm,
        c.errors_injected
    );
    engine.shutdown(Duration::from_secs(5)).await;
}

/// The primary SMSC hangs (reads, never answers) under steady load with a backup
/// configured: the engine finds the link dead within two enquire_link intervals, moves the
/// traffic to the backup, and every message arrives at one SMSC or the other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hung_smsc_fails_over_within_two_enquire_intervals() {
    let secs = sized(6, 30);
    let rate = 100u64;
    let n = (secs * rate) as u32;
    let interval = Duration::from_millis(1_000);
    let primary = start_sim(big_log()).await;
    let backup = start_sim(big_log()).await;
    let sink = sink();
    let s = EngineSettings {
        enquire_link_interval_ms: 1_000,
        enquire_link_timeout_ms: 1_000,
        // Longer than detection: the enquire_link finds the hang, not a response timeout.
        response_timeout_ms: 5_000,
        ..settings()
    };
    let cfgs = vec![
        SmscConfig {
            priority: 0,
            ..smsc("primary", primary.local_addr())
        },
        SmscConfig {
            priority: 1,
            ..smsc("backup", backup.local_addr())
        },
    ];
    let engine = SmppEngine::start(cfgs, s, sink.clone()).unwrap();
    eventually("binds up", || engine.binds_up() == 2).await;
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    let per_tick = (rate / 10) as u32;
    let hang_at = n / 3;
    let mut hung: Option<Instant> = None;
    let mut detected: Option<Duration> = None;
    for t in 0..(n / per_tick) {
        tick.tick().await;
        if t * per_tick >= hang_at && hung.is_none() {
            primary.set_hang(true);
            hung = Some(Instant::now());
        }
        if let (Some(h), None) = (hung, detected) {
            if engine.smsc_binds_up("primary") == 0 {
                detected = Some(h.elapsed());
            }
        }
        for i in 0..per_tick {
            dispatch(&engine, sms(t * per_tick + i)).await;
        }
    }
    let hung = hung.expect("the primary was hung");
    if detected.is_none() {
        eventually("primary found dead", || {
            engine.smsc_binds_up("primary") == 0
        })
        .await;
        detected = Some(hung.elapsed());
    }
    let detected = detected.unwrap_or_default();
    assert!(
        detected <= 2 * interval + Duration::from_millis(300),
        "hung link found after {detected:?}"
    );
    sink.wait_final(n as usize).await;
    assert_eq!(sink.submitted().len(), n as usize, "{:?}", failures(&sink));
    let lost = missing(&[&primary, &backup], n);
    assert!(lost.is_empty(), "never reached an SMSC: {lost:?}");
    let (p, b) = (primary.counters(), backup.counters());
    assert!(b.messages > 0, "nothing moved to the backup");
    assert_eq!(p.messages + b.messages, u64::from(n), "{p:?} {b:?}");
    let on_backup = sink.submitted().iter().filter(|s| s.1 == "backup").count();
    println!(
        "hung SMSC: {n} OTPs at {rate}/s, primary hung after {hang_at}, found dead after \
         {:.2} s (enquire_link every {:.1} s), {on_backup} sent by the backup, \
         {} unanswered submit_sm at the primary, none lost",
        detected.as_secs_f64(),
        interval.as_secs_f64(),
        p.hung_pdus
    );
    primary.set_hang(false);
    engine.shutdown(Duration::from_secs(5)).await;
}
