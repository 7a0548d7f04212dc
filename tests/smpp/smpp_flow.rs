//! The engine against the SMSC simulator over TCP: the window is never exceeded, the throttle
//! holds, ESME_RTHROTTLED storms are ridden out, permanent errors become REJECTED, transient
//! ones are retried, long messages go out whole.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::support::smpp::*;
use otpgate::dispatch::{DeliveryUpdate, Dispatcher};
use otpgate::smpp::{EngineSettings, SmppEngine, SmscConfig};
use otpgate_sim::{Latency, SimConfig};

#[tokio::test]
async fn window_is_never_exceeded() {
    let sim = start_sim(SimConfig::default()).await;
    sim.set_window(Some(8));
    sim.set_latency(Latency::Fixed {
        value: Duration::from_millis(20),
    });
    let sink = sink();
    let cfg = SmscConfig {
        window: 8,
        binds: 2,
        ..smsc("sim", sim.local_addr())
    };
    let engine = SmppEngine::start(vec![cfg], settings(), sink.clone()).unwrap();
    let n = 400;
    send_all_submitted(&engine, &sink, n).await;
    let c = sim.counters();
    assert_eq!(c.window_violations, 0);
    assert_eq!(c.messages, u64::from(n));
    assert_eq!(c.duplicates, 0);
    engine.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn throttle_holds_the_configured_rate() {
    let sim = start_sim(SimConfig::default()).await;
    let sink = sink();
    let cfg = SmscConfig {
        tps: 40,
        binds: 2,
        ..smsc("sim", sim.local_addr())
    };
    let engine = SmppEngine::start(vec![cfg], settings(), sink.clone()).unwrap();
    eventually("both binds up", || engine.binds_up() == 2).await;
    let start = Instant::now();
    let n = 100;
    dispatch_n(&engine, n);
    // Measure over one bounded run: what went out can never exceed rate x time + burst.
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    let sent = sim.counters().submit_sm as f64;
    let elapsed = start.elapsed().as_secs_f64();
    assert!(
        sent <= 40.0 * elapsed + 10.0,
        "{sent} sent in {elapsed:.2}s at 40/s"
    );
    assert!(sent >= 10.0, "only {sent} sent in {elapsed:.2}s");
    sink.wait_final(n as usize).await;
    let elapsed = start.elapsed().as_secs_f64();
    assert!(
        elapsed >= (f64::from(n) - 10.0) / 40.0,
        "{n} in {elapsed:.2}s"
    );
    assert_eq!(sim.counters().messages, u64::from(n));
    engine.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn throttled_storm_is_ridden_out() {
    let sim = start_sim(SimConfig::default()).await;
    sim.set_tps_limit(Some(50));
    let sink = sink();
    let cfg = SmscConfig {
        window: 32,
        ..smsc("sim", sim.local_addr())
    };
    let engine = SmppEngine::start(vec![cfg], settings(), sink.clone()).unwrap();
    let n = 200;
    send_all_submitted(&engine, &sink, n).await;
    let c = sim.counters();
    assert!(c.throttled > 0, "the simulator never throttled");
    assert_eq!(c.messages, u64::from(n));
    assert_eq!(c.duplicates, 0);
    engine.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn permanent_error_is_rejected_with_its_status() {
    let sim = start_sim(SimConfig::default()).await;
    sim.set_error_injection(1.0, 0x0B);
    let sink = sink();
    let engine = SmppEngine::start(
        vec![smsc("sim", sim.local_addr())],
        settings(),
        sink.clone(),
    )
    .unwrap();
    for i in 0..3 {
        engine.try_dispatch(sms(i)).unwrap();
    }
    sink.wait_final(3).await;
    for u in sink.all() {
        match u {
            DeliveryUpdate::Rejected {
                smsc,
                command_status,
                reason,
                ..
            } => {
                assert_eq!(smsc, "sim");
                assert_eq!(command_status, 0x0B);
                assert!(reason.contains("ESME_RINVDSTADR"), "{reason}");
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(
        sim.counters().submit_sm,
        3,
        "a permanent error is not retried"
    );
    // nothing accepted: nothing charged, every reservation released
    let charges = sink.charges();
    assert_eq!(charges.len(), 3, "{charges:?}");
    assert!(
        charges
            .iter()
            .all(|(_, smsc, parts, _)| smsc.is_none() && *parts == 0),
        "{charges:?}"
    );
    engine.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn transient_errors_are_retried_then_fail() {
    let sim = start_sim(SimConfig::default()).await;
    sim.set_error_injection(1.0, 0x08);
    let sink = sink();
    let s = EngineSettings {
        max_attempts: 3,
        ..settings()
    };
    let engine = SmppEngine::start(vec![smsc("sim", sim.local_addr())], s, sink.clone()).unwrap();
    engine.try_dispatch(sms(1)).unwrap();
    sink.wait_final(1).await;
    assert!(
        matches!(&sink.all()[0], DeliveryUpdate::Failed { reason, .. } if reason.contains("3 attempts")),
        "{:?}",
        sink.all()
    );
    assert_eq!(sim.counters().submit_sm, 3);

    // Some errors only: everything gets through in the end.
    sim.set_error_injection(0.3, 0x08);
    let s = EngineSettings {
        max_attempts: 20,
        ..settings()
    };
    let sink2 = crate::support::smpp::sink();
    let engine2 = SmppEngine::start(vec![smsc("sim", sim.local_addr())], s, sink2.clone()).unwrap();
    for i in 10..60 {
        engine2.try_dispatch(sms(i)).unwrap();
    }
    sink2.wait_final(50).await;
    assert_eq!(sink2.submitted().len(), 50, "{:?}", sink2.all());
    engine.shutdown(Duration::from_secs(5)).await;
    engine2.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn long_unicode_message_goes_out_whole_with_its_addresses() {
    let sim = start_sim(SimConfig::default()).await;
    let sink = sink();
    let engine = SmppEngine::start(
        vec![smsc("sim", sim.local_addr())],
        settings(),
        sink.clone(),
    )
    .unwrap();
    let mut m = sms(7);
    m.text = "Ваш код подтверждения: 123456. Никому его не сообщайте. ".repeat(3);
    let text = m.text.clone();
    engine.try_dispatch(m).unwrap();
    let mut short = sms(8);
    short.sender = "12345".into();
    engine.try_dispatch(short).unwrap();
    sink.wait_final(2).await;
    let submitted = sink.submitted();
    let long = submitted.iter().find(|s| s.0 == "otp-7").unwrap();
    assert_eq!(long.2.len(), 3);
    let got = sim
        .wait_for_message(&destination(7), 0, WAIT)
        .await
        .unwrap();
    assert_eq!(got.text, text);
    assert_eq!(got.parts, 3);
    assert_eq!(got.data_coding, 8);
    assert_eq!(got.destination_ton, 1);
    assert_eq!(got.message_ids, long.2);
    assert_eq!(got.source, "Verify");
    let got = sim
        .wait_for_message(&destination(8), 0, WAIT)
        .await
        .unwrap();
    assert_eq!(got.source, "12345");
    engine.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn no_route_and_queue_full_are_refused_at_once() {
    let dead = dead_addr().await;
    let sink = sink();
    let cfg = SmscConfig {
        routes: vec!["+44".into()],
        ..smsc("uk", dead)
    };
    let s = EngineSettings {
        queue_capacity: 2,
        ..settings()
    };
    let engine = SmppEngine::start(vec![cfg], s, sink.clone()).unwrap();
    let mut fr = sms(1);
    fr.destination = "+33612345678".into();
    assert!(matches!(
        engine.try_dispatch(fr),
        Err(otpgate::dispatch::DispatchError::NoRoute { .. })
    ));
    engine.try_dispatch(sms(1)).unwrap();
    engine.try_dispatch(sms(2)).unwrap();
    assert!(matches!(
        engine.try_dispatch(sms(3)),
        Err(otpgate::dispatch::DispatchError::QueueFull { .. })
    ));
    let r = engine.readiness();
    assert!(!r.ready);
    assert_eq!((r.queue_depth, r.queue_capacity, r.binds_up), (2, 2, 0));
    // Whatever is still queued at shutdown is reported, never dropped.
    engine.shutdown(Duration::from_secs(2)).await;
    assert_eq!(
        sink.count(|u| matches!(u, DeliveryUpdate::Failed { reason, .. } if reason == "shutdown")),
        2
    );
    assert!(matches!(
        engine.try_dispatch(sms(4)),
        Err(otpgate::dispatch::DispatchError::ShuttingDown { .. })
    ));
}

#[tokio::test]
async fn smsc_queue_full_pauses_and_retries_without_loss() {
    let sim = start_sim(SimConfig::default()).await;
    // The SMSC takes 4 at a time and answers ESME_RMSGQFUL beyond.
    sim.set_window(Some(4));
    sim.set_latency(Latency::Fixed {
        value: Duration::from_millis(20),
    });
    let sink = sink();
    let cfg = SmscConfig {
        window: 16,
        ..smsc("sim", sim.local_addr())
    };
    let engine = SmppEngine::start(vec![cfg], settings(), sink.clone()).unwrap();
    let n = 60;
    send_all_submitted(&engine, &sink, n).await;
    let c = sim.counters();
    assert!(c.window_violations > 0, "ESME_RMSGQFUL never answered");
    assert_eq!(c.messages, u64::from(n));
    assert_eq!(c.duplicates, 0);
    engine.shutdown(Duration::from_secs(5)).await;
}

/// The engine reads wall time from the clock it is given: when the OTP core's clock has moved
/// past an SMS's expiry, the SMS is reported FAILED and never submitted, though the system
/// clock says it still has minutes to live.
#[tokio::test]
async fn expiry_follows_the_clock_the_engine_is_given() {
    let sim = start_sim(SimConfig::default()).await;
    let sink = sink();
    let clock = Arc::new(otpgate::otp::Clock::new());
    let engine = SmppEngine::start_with_clock(
        vec![smsc("sim", sim.local_addr())],
        settings(),
        sink.clone(),
        clock.clone(),
    )
    .unwrap();
    eventually("a bind up", || engine.binds_up() > 0).await;
    // the first SMS goes out while the clocks agree
    engine.try_dispatch(sms(0)).unwrap();
    sink.wait_final(1).await;
    clock.advance(Duration::from_secs(700));
    engine.try_dispatch(sms(1)).unwrap();
    sink.wait_final(2).await;
    let failed: Vec<_> = sink
        .all()
        .into_iter()
        .filter(|u| {
            matches!(u, DeliveryUpdate::Failed { otp_id, reason }
            if otp_id == "otp-1" && reason.contains("expired"))
        })
        .collect();
    assert_eq!(failed.len(), 1, "{:?}", sink.all());
    assert_eq!(
        sim.counters().messages,
        1,
        "only the first SMS reached the SMSC"
    );
    engine.shutdown(Duration::from_secs(5)).await;
}

/// The engine reports what it charged before each fate: the parts the SMSC accepted (3 for a
/// 16-bit-reference split of 306 characters), at the SMSC's longest-prefix price, and how it
/// would send a text before it does.
#[tokio::test]
async fn accepted_parts_are_reported_with_the_route_price() {
    let sim = start_sim(SimConfig::default()).await;
    let sink = sink();
    let cfg = SmscConfig {
        concat: otpgate::smpp::config::ConcatMethod::Udh16,
        prices: [("+44".to_string(), 0.035), ("+4474".to_string(), 0.04)]
            .into_iter()
            .collect(),
        ..smsc("sim", sim.local_addr())
    };
    let engine = SmppEngine::start(vec![cfg], settings(), sink.clone()).unwrap();
    let mut long = sms(1);
    long.destination = "+447400123456".into();
    long.text = "a".repeat(306);
    let estimate = engine.estimate(&long).expect("an SMSC would take it");
    assert_eq!(
        (
            estimate.smsc.as_str(),
            estimate.encoding,
            estimate.parts,
            estimate.price_per_part
        ),
        ("sim", "GSM7", 3, Some(40_000))
    );
    engine.try_dispatch(long).unwrap();
    sink.wait_final(1).await;
    assert!(
        matches!(sink.all()[0], DeliveryUpdate::Submitted { .. }),
        "{:?}",
        sink.all()
    );
    assert_eq!(
        sink.charges(),
        vec![(
            "otp-1".to_string(),
            Some("sim".to_string()),
            3,
            Some(40_000)
        )]
    );
    engine.shutdown(Duration::from_secs(5)).await;
}
