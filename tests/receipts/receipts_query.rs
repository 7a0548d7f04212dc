//! When no delivery receipt comes: with `query_after_s` the engine asks the SMSC simulator
//! with query_sm and records a final answer like a receipt; a state that is not final, or an
//! SMSC that refuses query_sm (asked once), leaves the parts SENT and counted as missing
//! receipts; with queries off nothing is asked.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use crate::support::smpp::*;
use metrics::{Counter, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit};
use otpgate::dispatch::{DeliveryUpdate, ReceiptOutcome};
use otpgate::smpp::{metrics as m, SmppEngine, SmscConfig};
use otpgate_sim::{QuerySmMode, SimConfig};

/// Counters by name and `smsc` label, never reset (tests of this file run side by side, each
/// with its own SMSC name).
#[derive(Default)]
struct Counters(Mutex<HashMap<(String, String), Arc<AtomicU64>>>);

impl Counters {
    fn handle(&self, key: &Key) -> Arc<AtomicU64> {
        let smsc = key
            .labels()
            .find(|l| l.key() == "smsc")
            .map(|l| l.value().to_string())
            .unwrap_or_default();
        self.0
            .lock()
            .unwrap()
            .entry((key.name().to_string(), smsc))
            .or_default()
            .clone()
    }

    fn get(&self, name: &str, smsc: &str) -> u64 {
        self.0
            .lock()
            .unwrap()
            .get(&(name.to_string(), smsc.to_string()))
            .map_or(0, |c| c.load(Ordering::SeqCst))
    }
}

struct Shared(Arc<Counters>);

impl Recorder for Shared {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        Counter::from_arc(self.0.handle(key))
    }
    fn register_gauge(&self, _: &Key, _: &Metadata<'_>) -> Gauge {
        Gauge::noop()
    }
    fn register_histogram(&self, _: &Key, _: &Metadata<'_>) -> Histogram {
        Histogram::noop()
    }
}

fn counters() -> &'static Arc<Counters> {
    static COUNTERS: OnceLock<Arc<Counters>> = OnceLock::new();
    COUNTERS.get_or_init(|| {
        let c = Arc::new(Counters::default());
        metrics::set_global_recorder(Shared(c.clone())).expect("one recorder per test binary");
        c
    })
}

fn missing(smsc: &str) -> u64 {
    counters().get(m::RECEIPTS_MISSING, smsc)
}

/// A simulator that never sends receipts and answers query_sm as `mode` says.
async fn silent_sim(mode: QuerySmMode) -> otpgate_sim::SimHandle {
    let sim = start_sim(SimConfig::default()).await;
    sim.update_behaviour(|b| {
        b.receipts.enabled = false;
        b.query_sm = mode;
    });
    sim
}

fn receipts(sink: &RecordingSink) -> Vec<(String, ReceiptOutcome)> {
    sink.all()
        .into_iter()
        .filter_map(|u| match u {
            DeliveryUpdate::Receipt {
                message_id,
                outcome,
                ..
            } => Some((message_id, outcome)),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn no_receipts_the_query_answers_delivered() {
    counters();
    let sim = silent_sim(QuerySmMode::Answer).await;
    let sink = sink();
    let cfg = SmscConfig {
        query_after_s: 1,
        ..smsc("answering", sim.local_addr())
    };
    let engine = SmppEngine::start(vec![cfg], settings(), sink.clone()).unwrap();
    let n = 5;
    send_all_submitted(&engine, &sink, n).await;
    sink.wait_until("a query answer per message", |u| {
        u.iter()
            .filter(|u| matches!(u, DeliveryUpdate::Receipt { .. }))
            .count()
            >= n as usize
    })
    .await;
    let mut ids: Vec<String> = sink.submitted().into_iter().flat_map(|s| s.2).collect();
    let mut answered: Vec<String> = receipts(&sink)
        .into_iter()
        .map(|(id, outcome)| {
            assert_eq!(outcome, ReceiptOutcome::Delivered);
            id
        })
        .collect();
    ids.sort();
    answered.sort();
    assert_eq!(answered, ids);
    let c = sim.counters();
    assert_eq!(c.receipts_sent, 0);
    assert_eq!(c.query_sm, u64::from(n));
    assert_eq!(missing("answering"), 0);
    engine.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn an_smsc_refusing_query_sm_is_asked_once_and_receipts_count_missing() {
    counters();
    let sim = silent_sim(QuerySmMode::Refuse).await;
    let sink = sink();
    let cfg = SmscConfig {
        query_after_s: 1,
        binds: 2,
        ..smsc("refusing", sim.local_addr())
    };
    let engine = SmppEngine::start(vec![cfg], settings(), sink.clone()).unwrap();
    let n = 6;
    send_all_submitted(&engine, &sink, n).await;
    eventually("every part counted missing", || {
        missing("refusing") >= u64::from(n)
    })
    .await;
    // One probe across both binds; the other parts are given up without asking.
    assert_eq!(sim.counters().query_sm, 1);
    assert_eq!(missing("refusing"), u64::from(n));
    assert!(receipts(&sink).is_empty(), "{:?}", sink.all());
    engine.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn queries_off_nothing_is_asked() {
    counters();
    let sim = silent_sim(QuerySmMode::Answer).await;
    let sink = sink();
    let engine = SmppEngine::start(
        vec![smsc("quiet", sim.local_addr())],
        settings(),
        sink.clone(),
    )
    .unwrap();
    let n = 5;
    send_all_submitted(&engine, &sink, n).await;
    // Longer than a query_after_s of 1 would leave them unasked.
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    assert_eq!(sim.counters().query_sm, 0);
    assert!(receipts(&sink).is_empty(), "{:?}", sink.all());
    assert_eq!(missing("quiet"), 0);
    engine.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn an_answer_that_is_not_final_counts_missing() {
    counters();
    let sim = silent_sim(QuerySmMode::Answer).await;
    sim.update_behaviour(|b| b.receipts.mix = "ENROUTE=1".parse().unwrap());
    let sink = sink();
    let cfg = SmscConfig {
        query_after_s: 1,
        ..smsc("enroute", sim.local_addr())
    };
    let engine = SmppEngine::start(vec![cfg], settings(), sink.clone()).unwrap();
    let n = 4;
    send_all_submitted(&engine, &sink, n).await;
    eventually("every part counted missing", || {
        missing("enroute") >= u64::from(n)
    })
    .await;
    // Each part asked about once, none recorded: they stay SENT.
    assert_eq!(sim.counters().query_sm, u64::from(n));
    assert_eq!(missing("enroute"), u64::from(n));
    assert!(receipts(&sink).is_empty(), "{:?}", sink.all());
    engine.shutdown(Duration::from_secs(5)).await;
}
