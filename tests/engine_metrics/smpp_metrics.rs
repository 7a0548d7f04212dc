//! The engine's metrics, read through a debugging recorder after real traffic against the
//! simulator: the agreed names are there, and no label carries a phone number or message id.

use std::time::Duration;

use crate::support::smpp::*;
use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use otpgate::dispatch::DeliveryUpdate;
use otpgate::smpp::{metrics as m, SmppEngine, SmscConfig};
use otpgate_sim::SimConfig;

#[tokio::test]
async fn metrics_are_named_and_labelled_as_agreed() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    recorder.install().unwrap();

    let sim = start_sim(SimConfig::default()).await;
    sim.set_tps_limit(Some(20));
    let sink = sink();
    let cfg = SmscConfig {
        window: 8,
        ..smsc("sim", sim.local_addr())
    };
    let engine = SmppEngine::start(vec![cfg], settings(), sink.clone()).unwrap();
    let n = 40;
    dispatch_n(&engine, n);
    sink.wait_until("receipts", |u| {
        u.iter()
            .filter(|u| matches!(u, DeliveryUpdate::Receipt { .. }))
            .count()
            >= n as usize
    })
    .await;
    // The queue gauges are published once a second.
    tokio::time::sleep(Duration::from_millis(1_100)).await;

    let snapshot = snapshotter.snapshot().into_vec();
    let find = |name: &str, labels: &[(&str, &str)]| {
        snapshot.iter().find(|(k, _, _, _)| {
            k.key().name() == name
                && labels
                    .iter()
                    .all(|(lk, lv)| k.key().labels().any(|l| l.key() == *lk && l.value() == *lv))
        })
    };
    let counter = |name: &str, labels: &[(&str, &str)]| match find(name, labels) {
        Some((_, _, _, DebugValue::Counter(c))) => *c,
        other => panic!("{name} {labels:?}: {other:?}"),
    };
    let gauge = |name: &str, labels: &[(&str, &str)]| match find(name, labels) {
        Some((_, _, _, DebugValue::Gauge(g))) => g.into_inner(),
        other => panic!("{name} {labels:?}: {other:?}"),
    };
    assert_eq!(
        counter(m::SUBMIT_TOTAL, &[("smsc", "sim"), ("status", "ESME_ROK")]),
        u64::from(n)
    );
    assert!(counter(m::SUBMIT_TOTAL, &[("status", "ESME_RTHROTTLED")]) > 0);
    assert!(counter(m::THROTTLED, &[("smsc", "sim")]) > 0);
    assert!(counter(m::RETRIES, &[("smsc", "sim"), ("reason", "throttled")]) > 0);
    assert_eq!(counter(m::SMS_PARTS, &[("encoding", "GSM7")]), u64::from(n));
    assert_eq!(
        counter(m::RECEIPTS, &[("smsc", "sim"), ("state", "DELIVRD")]),
        u64::from(n)
    );
    assert_eq!(gauge(m::BIND_UP, &[("smsc", "sim"), ("bind", "0")]), 1.0);
    assert_eq!(
        gauge(m::WINDOW_SIZE, &[("smsc", "sim"), ("bind", "0")]),
        8.0
    );
    assert!(gauge(m::WINDOW_IN_USE, &[("smsc", "sim"), ("bind", "0")]) <= 8.0);
    assert_eq!(gauge(m::QUEUE_CAPACITY, &[]), 10_000.0);
    assert!(matches!(
        find(m::SUBMIT_DURATION, &[("smsc", "sim")]),
        Some((_, _, _, DebugValue::Histogram(h))) if h.len() >= n as usize
    ));
    assert!(find(m::RECEIPT_DELAY, &[("smsc", "sim")]).is_some());

    // Bounded labels only: no number, no message id.
    let ids: Vec<String> = sink.submitted().into_iter().flat_map(|s| s.2).collect();
    for (k, _, _, _) in &snapshot {
        for l in k.key().labels() {
            assert!(!l.value().contains("77009"), "phone number in {k:?}");
            assert!(!ids.iter().any(|id| l.value() == id), "message id in {k:?}");
        }
    }
    engine.shutdown(Duration::from_secs(5)).await;
    let snapshot = snapshotter.snapshot().into_vec();
    let bind_up = snapshot
        .iter()
        .find(|(k, _, _, _)| k.key().name() == m::BIND_UP)
        .map(|(_, _, _, v)| v);
    assert!(matches!(bind_up, Some(DebugValue::Gauge(g)) if g.into_inner() == 0.0));
}
