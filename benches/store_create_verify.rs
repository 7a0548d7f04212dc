//! Create + verify (insert the record, count the per-number limit, verify with the right PIN)
//! through the in-memory store and through the Redis store (`OTPGATE_REDIS_URL`, skipped when
//! unset), then their ratio. Run: `cargo bench --bench store_create_verify`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use otpgate::otp::model::{OtpId, Record};
use otpgate::otp::pin::PinHash;
use otpgate::otp::redis::{RedisOptions, Target};
use otpgate::otp::store::NumberScope;
use otpgate::otp::tenant::LimitKey;
use otpgate::otp::{Clock, MemoryStore, RedisStore, Store};

fn record(phone: u64, now: u32) -> Record {
    Record::pending(PinHash([7; 16]), phone, *b"FR", now, 600, 5)
}

async fn create_verify(store: &dyn Store, clock: &Clock, n: u64) {
    let now = clock.unix_secs();
    let phone = 33_600_000_000 + n % 1_000_000;
    let _ = store
        .hit_number_limit(
            NumberScope::Tenant(LimitKey::ZERO),
            phone,
            1_000_000,
            600,
            now,
        )
        .await;
    let id = OtpId::random();
    store.insert(id, record(phone, now)).await.expect("insert");
    let r = store
        .verify(&id, &PinHash([7; 16]), now)
        .await
        .expect("store");
    assert!(r.is_ok(), "verified");
}

/// Mean time of one create + verify over `iters` sequential rounds.
async fn mean(store: &dyn Store, clock: &Clock, iters: u64) -> Duration {
    let start = Instant::now();
    for n in 0..iters {
        create_verify(store, clock, n).await;
    }
    start.elapsed() / u32::try_from(iters).unwrap_or(u32::MAX)
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let clock = Arc::new(Clock::new());
    let memory: Arc<dyn Store> = Arc::new(MemoryStore::new(clock.clone(), 50_000_000, 300));
    let redis: Option<Arc<dyn Store>> = std::env::var("OTPGATE_REDIS_URL").ok().map(|url| {
        let opts = RedisOptions {
            target: Target::Single(url),
            key_prefix: format!("bench-{}", OtpId::random()),
            timeout: Duration::from_secs(5),
            retain_s: 300,
            max_live: 50_000_000,
        };
        let store = rt
            .block_on(RedisStore::connect(opts, clock.clone()))
            .expect("connect to Redis");
        Arc::new(store) as Arc<dyn Store>
    });
    let mut g = c.benchmark_group("create_verify");
    let mut n = 0u64;
    g.bench_function("memory", |b| {
        b.to_async(&rt).iter(|| {
            n += 1;
            create_verify(memory.as_ref(), &clock, n)
        })
    });
    if let Some(redis) = &redis {
        g.bench_function("redis", |b| {
            b.to_async(&rt).iter(|| {
                n += 1;
                create_verify(redis.as_ref(), &clock, n)
            })
        });
    } else {
        eprintln!("OTPGATE_REDIS_URL is not set: only the memory store is measured");
    }
    g.finish();

    // The ratio, from bounded sequential runs (one client, one connection: latency-bound).
    let m = rt.block_on(mean(memory.as_ref(), &clock, 20_000));
    println!("create+verify, memory store: {m:?} per OTP");
    if let Some(redis) = &redis {
        let r = rt.block_on(mean(redis.as_ref(), &clock, 2_000));
        println!("create+verify, Redis store:  {r:?} per OTP");
        println!(
            "ratio Redis / memory: {:.0}x",
            r.as_secs_f64() / m.as_secs_f64().max(1e-12)
        );
        // and with 64 creates in flight (pipelined on the multiplexed connection)
        let start = Instant::now();
        let total = 6_400u64;
        rt.block_on(async {
            let tasks: Vec<_> = (0..64u64)
                .map(|t| {
                    let (s, c) = (redis.clone(), clock.clone());
                    tokio::spawn(async move {
                        for i in 0..total / 64 {
                            create_verify(s.as_ref(), &c, t * 1000 + i).await;
                        }
                    })
                })
                .collect();
            for t in tasks {
                t.await.expect("task");
            }
        });
        let per_s = total as f64 / start.elapsed().as_secs_f64();
        println!("Redis store, 64 concurrent: {per_s:.0} create+verify per second");
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).sample_size(20);
    targets = bench
}
criterion_main!(benches);
