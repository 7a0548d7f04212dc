//! What the engine's reports of one sent message cost the in-memory store's sink: the send's
//! charge and its `Submitted`, then the receipt. The charge and the `Submitted` given as two
//! updates (two locks of the OTP's shard) or together as the engine gives them (`on_fate`: one
//! lock), and a send charged nothing (no cost stored) or something (the cost in the record's
//! optional box). Run: `cargo bench --bench delivery_sink`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use futures::executor::block_on;
use otpgate::dispatch::{DeliverySink, DeliveryUpdate, ReceiptOutcome};
use otpgate::otp::model::{OtpId, Record};
use otpgate::otp::pin::PinHash;
use otpgate::otp::{Clock, MemoryStore, Store, StoreSink};

/// How the charge and the `Submitted` reach the sink.
#[derive(Clone, Copy)]
enum Given {
    TwoUpdates,
    Together,
}

fn charged(otp_id: &str, price: u64) -> DeliveryUpdate {
    DeliveryUpdate::Charged {
        otp_id: otp_id.to_owned(),
        smsc: Some("sim".into()),
        parts: 1,
        price_per_part: Some(price),
        sent_as: None,
    }
}

fn submitted(otp_id: &str, message_id: &str) -> DeliveryUpdate {
    DeliveryUpdate::Submitted {
        otp_id: otp_id.to_owned(),
        smsc: "sim".into(),
        message_ids: vec![message_id.to_owned()],
    }
}

fn receipt(message_id: &str) -> DeliveryUpdate {
    DeliveryUpdate::Receipt {
        smsc: "sim".into(),
        message_id: message_id.to_owned(),
        outcome: ReceiptOutcome::Delivered,
        error: None,
    }
}

/// The time of `n` messages' reports, each on an OTP of its own stored beforehand (not
/// timed), through a fresh store and sink.
fn reports(n: u64, given: Given, price: u64) -> Duration {
    let clock = Arc::new(Clock::new());
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new(
        clock.clone(),
        usize::try_from(n).unwrap_or(usize::MAX) + 1,
        300,
    ));
    let sink = StoreSink::new(store.clone(), clock.clone());
    let now = clock.unix_secs();
    let messages: Vec<(String, String)> = (0..n)
        .map(|i| {
            let id = OtpId::random();
            let record = Record::pending(PinHash([7; 16]), 33_600_000_000 + i, *b"FR", now, 600, 5);
            block_on(store.insert(id, record)).expect("insert");
            (id.to_string(), format!("{:08x}", 0x1000_0000 + i))
        })
        .collect();
    let start = Instant::now();
    for (otp_id, message_id) in &messages {
        match given {
            Given::TwoUpdates => {
                sink.on_update(charged(otp_id, price));
                sink.on_update(submitted(otp_id, message_id));
            }
            Given::Together => sink.on_fate(charged(otp_id, price), submitted(otp_id, message_id)),
        }
        let _ = sink.record_now(receipt(message_id));
    }
    start.elapsed()
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("delivery_sink");
    for (name, given, price) in [
        ("two_updates_free", Given::TwoUpdates, 0),
        ("together_free", Given::Together, 0),
        ("together_priced", Given::Together, 10_000),
    ] {
        g.bench_function(name, |b| {
            b.iter_custom(|iters| reports(iters, given, price))
        });
    }
    g.finish();

    // Ratios from bounded runs, the variants alternating (the machine is shared and noisy).
    const N: u64 = 100_000;
    const ROUNDS: usize = 5;
    let mut per = [Vec::new(), Vec::new(), Vec::new()];
    for _ in 0..ROUNDS {
        per[0].push(reports(N, Given::TwoUpdates, 0));
        per[1].push(reports(N, Given::Together, 0));
        per[2].push(reports(N, Given::Together, 10_000));
    }
    let median = |v: &mut Vec<Duration>| {
        v.sort();
        v[v.len() / 2] / u32::try_from(N).unwrap_or(u32::MAX)
    };
    let [two, together, priced] = per.each_mut().map(median);
    println!("per message, medians of {ROUNDS} runs of {N}: charge and Submitted as two updates {two:?}, together {together:?}, together and priced {priced:?}");
    println!(
        "together / two updates: {:.2}x; priced / free: {:.2}x",
        together.as_secs_f64() / two.as_secs_f64(),
        priced.as_secs_f64() / together.as_secs_f64()
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
