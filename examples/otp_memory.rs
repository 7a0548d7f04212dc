//! Measures the memory of the in-memory store per live OTP, indexes included: a counting
//! global allocator tracks the bytes held after inserting N OTPs (default 1 000 000; pass
//! another count as the first argument), then after their SMS was sent as the engine reports
//! it (its charge, nothing at the default prices, and its `Submitted`: one SMSC message id
//! indexed per OTP), then after a second part with a 36-character id.
//!
//! Run: `cargo run --example otp_memory -- 1000000`
//! (The store's futures are ready at once: `block_on` drives them without a runtime.)

use std::alloc::System;
use std::sync::Arc;

use futures::executor::block_on;
use stats_alloc::{StatsAlloc, INSTRUMENTED_SYSTEM};

use otpgate::otp::model::{OtpId, Record};
use otpgate::otp::pin::PinHash;
use otpgate::otp::store::{DeliveryChange, NumberLimitStore, NumberScope, OtpStore, SendCharge};
use otpgate::otp::tenant::LimitKey;
use otpgate::otp::{Clock, MemoryStore};

/// The system allocator, counting the bytes it hands out and takes back.
#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Bytes held by the process's allocations now. A realloc's growth or shrinkage is already in
/// `bytes_allocated` / `bytes_deallocated`; `bytes_reallocated` repeats it, so it is not added.
fn held() -> usize {
    let s = GLOBAL.stats();
    s.bytes_allocated.saturating_sub(s.bytes_deallocated)
}

/// Resident memory in bytes (Linux), to check the allocator count against what the process
/// really holds (allocator overhead included).
fn resident() -> Option<usize> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: usize = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let clock = Arc::new(Clock::new());
    let now = clock.unix_secs();
    let store = MemoryStore::new(clock, n + 1, 300);
    let before = held();
    let rss_before = resident();
    let mut ids = Vec::with_capacity(n);
    let ids_bytes = held() - before;
    for i in 0..n {
        let id = OtpId::random();
        let phone = 33_600_000_000 + i as u64;
        let _ = block_on(store.hit_number_limit(
            NumberScope::Tenant(LimitKey::ZERO),
            phone,
            5,
            600,
            now,
        ));
        let record = Record {
            language: Record::pack_language(Some("fr")),
            ..Record::pending(PinHash([7; 16]), phone, *b"FR", now, 600, 5)
        };
        block_on(store.insert(id, record)).expect("insert");
        ids.push(id);
    }
    let queued = held() - before - ids_bytes;
    let rss_queued = resident();
    let free = SendCharge {
        charge: 0,
        parts: 1,
        sent_as: None,
    };
    for (i, id) in ids.iter().enumerate() {
        let message_ids = [format!("{:08x}", 0x1000_0000 + i)];
        let _ = block_on(store.charged_and_submitted(id, free, "sim", &message_ids, now));
    }
    let submitted = held() - before - ids_bytes;
    for id in &ids {
        let change = DeliveryChange::Submitted {
            smsc: "sim".into(),
            message_ids: vec![uuid::Uuid::new_v4().to_string()],
        };
        let _ = block_on(store.apply_delivery(id, change, now));
    }
    let two_parts = held() - before - ids_bytes;
    let (otps, phones, msgids, idem, queue) = store.sizes();
    println!("live OTPs: {otps} (phone entries {phones}, message ids {msgids}, idempotency {idem}, queued deadlines {queue})");
    println!("record size: {} bytes", std::mem::size_of::<Record>());
    println!(
        "queued (otp map + phone index and limiter + expiry queues): {:.1} bytes per OTP",
        queued as f64 / n as f64
    );
    if let (Some(a), Some(b)) = (rss_before, rss_queued) {
        let ids_held = n * std::mem::size_of::<OtpId>();
        println!(
            "cross-check, resident memory growth while queuing (the id list excluded): {:.1} bytes per OTP",
            (b.saturating_sub(a).saturating_sub(ids_held)) as f64 / n as f64
        );
    }
    println!(
        "sent: charged and submitted (plus one 8-character hexadecimal message id indexed): {:.1} bytes per OTP",
        submitted as f64 / n as f64
    );
    println!(
        "a second part with a 36-character message id: {:.1} bytes per OTP",
        two_parts as f64 / n as f64
    );
}
