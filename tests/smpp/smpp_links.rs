//! Links to the SMSC simulator over TCP: a killed link reconnects and its in-flight messages
//! arrive, a hung link is found dead by enquire_link, a down SMSC fails over to the next,
//! bad credentials back off, graceful shutdown unbinds.

use std::time::{Duration, Instant};

use crate::support::smpp::*;
use otpgate::dispatch::{DeliveryUpdate, Dispatcher};
use otpgate::smpp::{BindMode, EngineSettings, SmppEngine, SmscConfig};
use otpgate_sim::{Latency, SimConfig};

#[tokio::test]
async fn killed_link_reconnects_and_in_flight_messages_arrive() {
    let sim = start_sim(SimConfig::default()).await;
    sim.set_latency(Latency::Fixed {
        value: Duration::from_millis(100),
    });
    let sink = sink();
    let cfg = SmscConfig {
        window: 16,
        ..smsc("sim", sim.local_addr())
    };
    let engine = SmppEngine::start(vec![cfg], settings(), sink.clone()).unwrap();
    let n = 120;
    dispatch_n(&engine, n);
    eventually("some traffic", || sim.counters().parts >= 20).await;
    sim.disconnect_all();
    sink.wait_final(n as usize).await;
    assert_eq!(sink.submitted().len(), n as usize, "{:?}", sink.all());
    let c = sim.counters();
    assert!(c.connections >= 2, "no reconnect: {c:?}");
    for i in 0..n {
        assert!(
            !sim.messages_to(&destination(i)).is_empty(),
            "message {i} never arrived"
        );
    }
    // Duplicates only for what was in flight when the link died (at most one window).
    assert_eq!(c.messages, u64::from(n) + c.duplicates);
    assert!(c.duplicates <= 16, "{} duplicates", c.duplicates);
    engine.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn hung_link_is_detected_within_two_enquire_intervals() {
    let sim = start_sim(SimConfig::default()).await;
    let sink = sink();
    let interval = Duration::from_millis(1_000);
    let s = EngineSettings {
        enquire_link_interval_ms: 1_000,
        enquire_link_timeout_ms: 1_000,
        ..settings()
    };
    let engine = SmppEngine::start(vec![smsc("sim", sim.local_addr())], s, sink.clone()).unwrap();
    eventually("bind up", || engine.binds_up() == 1).await;
    // Keep-alive works while the SMSC answers.
    eventually("an enquire_link", || sim.counters().enquire_links >= 1).await;
    assert_eq!(engine.binds_up(), 1);
    sim.set_hang(true);
    let hung = Instant::now();
    eventually("bind down", || engine.binds_up() == 0).await;
    let took = hung.elapsed();
    assert!(
        took <= 2 * interval + Duration::from_millis(500),
        "dead link found after {took:?}"
    );
    sim.set_hang(false);
    eventually("bind up again", || engine.binds_up() == 1).await;
    engine.try_dispatch(sms(1)).unwrap();
    sink.wait_final(1).await;
    assert_eq!(sink.submitted().len(), 1);
    engine.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn routing_fails_over_when_an_smsc_is_down() {
    let sim = start_sim(SimConfig::default()).await;
    let dead = dead_addr().await;
    let sink = sink();
    let primary = SmscConfig {
        priority: 0,
        ..smsc("primary", dead)
    };
    let backup = SmscConfig {
        priority: 1,
        ..smsc("backup", sim.local_addr())
    };
    let engine = SmppEngine::start(vec![primary, backup], settings(), sink.clone()).unwrap();
    // Taken while the primary is still within its grace, failed over once it is not.
    for i in 0..5 {
        engine.try_dispatch(sms(i)).unwrap();
    }
    sink.wait_final(5).await;
    // Once the primary is known down, new messages go straight to the backup.
    for i in 5..10 {
        engine.try_dispatch(sms(i)).unwrap();
    }
    sink.wait_final(10).await;
    let submitted = sink.submitted();
    assert_eq!(submitted.len(), 10, "{:?}", sink.all());
    assert!(submitted.iter().all(|s| s.1 == "backup"));
    assert_eq!(sim.counters().messages, 10);
    assert_eq!(engine.smsc_binds_up("primary"), 0);
    engine.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn graceful_shutdown_drains_and_unbinds() {
    let sim = start_sim(SimConfig::default()).await;
    sim.set_latency(Latency::Fixed {
        value: Duration::from_millis(200),
    });
    let sink = sink();
    let cfg = SmscConfig {
        binds: 2,
        ..smsc("sim", sim.local_addr())
    };
    let engine = SmppEngine::start(vec![cfg], settings(), sink.clone()).unwrap();
    eventually("binds up", || engine.binds_up() == 2).await;
    for i in 0..20 {
        engine.try_dispatch(sms(i)).unwrap();
    }
    eventually("in flight", || sim.counters().submit_sm >= 5).await;
    engine.shutdown(Duration::from_secs(5)).await;
    let c = sim.counters();
    assert_eq!(c.unbinds, 2, "{c:?}");
    // Every message has its fate: accepted (window drained) or failed at shutdown.
    assert_eq!(sink.count(is_final), 20, "{:?}", sink.all());
    let submitted = sink.submitted().len() as u64;
    assert!(submitted >= 5);
    assert_eq!(c.parts, submitted);
    let failed =
        sink.count(|u| matches!(u, DeliveryUpdate::Failed { reason, .. } if reason == "shutdown"));
    assert_eq!(submitted as usize + failed, 20);
    assert_eq!(engine.binds_up(), 0);
}

#[tokio::test]
async fn bad_credentials_back_off_then_bind() {
    let sim = start_sim(SimConfig::default()).await;
    sim.set_password("test", "other");
    let sink = sink();
    let s = EngineSettings {
        auth_failure_min_ms: 400,
        auth_failure_max_ms: 400,
        ..settings()
    };
    let engine = SmppEngine::start(vec![smsc("sim", sim.local_addr())], s, sink.clone()).unwrap();
    eventually("a refused bind", || sim.counters().bind_failures >= 1).await;
    let start = Instant::now();
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    let failures = sim.counters().bind_failures;
    let elapsed = start.elapsed().as_secs_f64();
    // One attempt per 400 ms at most: no hot loop.
    assert!(
        (failures as f64) <= 2.0 + elapsed / 0.4,
        "{failures} refused binds in {elapsed:.2}s"
    );
    assert_eq!(engine.binds_up(), 0);
    sim.set_password("test", "secret");
    eventually("bind up", || engine.binds_up() == 1).await;
    engine.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn transmitter_receiver_pair_carries_receipts() {
    let sim = start_sim(SimConfig::default()).await;
    let sink = sink();
    let cfg = SmscConfig {
        bind_mode: BindMode::TransmitterReceiver,
        ..smsc("sim", sim.local_addr())
    };
    let engine = SmppEngine::start(vec![cfg], settings(), sink.clone()).unwrap();
    for i in 0..5 {
        engine.try_dispatch(sms(i)).unwrap();
    }
    sink.wait_until("5 receipts", |u| {
        u.iter()
            .filter(|u| matches!(u, DeliveryUpdate::Receipt { .. }))
            .count()
            >= 5
    })
    .await;
    let c = sim.counters();
    assert_eq!((c.binds_transmitter, c.binds_receiver), (1, 1));
    engine.shutdown(Duration::from_secs(5)).await;
    assert_eq!(sim.counters().unbinds, 2);
}

#[tokio::test]
async fn response_timeouts_retry_and_recycle_the_bind() {
    let sim = start_sim(SimConfig::default()).await;
    let sink = sink();
    let s = EngineSettings {
        response_timeout_ms: 300,
        max_consecutive_timeouts: 3,
        enquire_link_interval_ms: 60_000,
        max_attempts: 50,
        ..settings()
    };
    let engine = SmppEngine::start(vec![smsc("sim", sim.local_addr())], s, sink.clone()).unwrap();
    eventually("bind up", || engine.binds_up() == 1).await;
    let connections = sim.counters().connections;
    sim.set_hang(true);
    for i in 0..5 {
        engine.try_dispatch(sms(i)).unwrap();
    }
    // Three timeouts in a row recycle the bind (enquire_link is far off).
    eventually("a new connection", || {
        sim.counters().connections > connections
    })
    .await;
    sim.set_hang(false);
    sink.wait_final(5).await;
    assert_eq!(sink.submitted().len(), 5, "{:?}", sink.all());
    for i in 0..5 {
        assert!(!sim.messages_to(&destination(i)).is_empty());
    }
    engine.shutdown(Duration::from_secs(5)).await;
}
