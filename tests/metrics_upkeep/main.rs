//! The histograms' samples do not pile up between scrapes: `telemetry::keep_up` folds them into
//! their buckets. Counted with an instrumented allocator, so in a test binary of its own.

use std::alloc::System;
use std::time::Duration;

use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const SAMPLES: usize = 500_000;

/// Bytes held now that were not at `region`'s start.
fn held(region: &Region<'_, System>) -> isize {
    let change = region.change();
    change.bytes_allocated as isize - change.bytes_deallocated as isize + change.bytes_reallocated
}

fn record(samples: usize) {
    let histogram = metrics::histogram!(otpgate::telemetry::names::HTTP_DURATION,
        "route" => "/upkeep-test", "method" => "POST");
    for i in 0..samples {
        histogram.record(i as f64 * 1e-6);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn samples_are_folded_without_a_scrape() {
    assert!(otpgate::telemetry::install().is_some());
    // warm: the series and its first blocks exist before counting
    record(1_000);
    let region = Region::new(GLOBAL);

    // Without an upkeep, every sample is kept: at least 8 bytes each.
    record(SAMPLES);
    let piled = held(&region);
    assert!(
        piled >= (SAMPLES * 8) as isize,
        "{piled} bytes held for {SAMPLES} samples"
    );

    // With the task running, they are folded and their memory given back; new samples are
    // folded as they come.
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(otpgate::telemetry::keep_up(
        Duration::from_millis(20),
        async move {
            let _ = stop_rx.await;
        },
    ));
    for _ in 0..10 {
        record(SAMPLES / 10);
        tokio::time::sleep(Duration::from_millis(60)).await;
    }
    let after = held(&region);
    assert!(
        after < piled / 4,
        "{after} bytes still held after the upkeep, {piled} before it"
    );
    let _ = stop_tx.send(());
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("keep_up stops when told")
        .expect("keep_up does not panic");
}
