//! The `POST /otp` create path without the network: the whole router (authentication, body,
//! validation, store, metrics, JSON reply) called through `tower::ServiceExt::oneshot` with a
//! dispatcher that accepts every SMS and drops it, and phone validation alone, ours against
//! `phonenumber::parse` + `is_valid` + the E.164 format. Prints ops/s and the ratio.
//! Run with `cargo bench -p otpgate --bench http_create`.

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use otpgate::config::{Config, TenantConfig};
use otpgate::dispatch::{DispatchError, Dispatcher, OutboundSms, Readiness};
use otpgate::otp::phone::parse_phone;
use tower::ServiceExt;

const TOKEN: &str = "bench-token-0001";

/// Takes every SMS and forgets it.
struct Discard;

impl Dispatcher for Discard {
    fn try_dispatch(&self, sms: OutboundSms) -> Result<(), DispatchError> {
        black_box(sms);
        Ok(())
    }

    fn readiness(&self) -> Readiness {
        Readiness {
            ready: true,
            binds_up: 1,
            queue_depth: 0,
            queue_capacity: 1,
            reasons: Vec::new(),
            uncovered_routes: Vec::new(),
        }
    }
}

fn config() -> Config {
    let mut c = Config {
        tenants: vec![TenantConfig {
            name: "bench".into(),
            token: TOKEN.into(),
            ..TenantConfig::default()
        }],
        ..Config::default()
    };
    c.security.pin_secret = Some("bench-only-secret-0123456789".into());
    c.limits.per_number = 0;
    c.log.level = "warn".into();
    c
}

/// UK mobile numbers +447400100000 to +447400199999, as the load test sends them.
fn phone(i: u64) -> String {
    format!("+4474001{:05}", i % 100_000)
}

fn create_request(i: u64) -> Request<Body> {
    let body = format!(r#"{{"phoneNumber":"{}"}}"#, phone(i));
    Request::post("/otp")
        .header("authorization", format!("Bearer {TOKEN}"))
        .header("content-type", "application/json")
        .header("content-length", body.len())
        .body(Body::from(body))
        .unwrap_or_else(|e| panic!("request: {e}"))
}

fn library(number: &str) -> Option<(u64, u16)> {
    let pn = phonenumber::parse(None, number).ok()?;
    if !phonenumber::is_valid(&pn) {
        return None;
    }
    pn.country().id()?;
    let e164 = pn.format().mode(phonenumber::Mode::E164).to_string();
    Some((e164.strip_prefix('+')?.parse().ok()?, pn.code().value()))
}

fn ours(number: &str) -> Option<(u64, u16)> {
    parse_phone(number, None)
        .ok()
        .map(|p| (p.digits, p.calling_code))
}

/// Calls `f` over `numbers` for about `budget`; calls per second.
fn rate(numbers: &[String], budget: Duration, f: fn(&str) -> Option<(u64, u16)>) -> f64 {
    let started = Instant::now();
    let mut calls = 0u64;
    while started.elapsed() < budget {
        for n in numbers {
            black_box(f(black_box(n)));
        }
        calls += numbers.len() as u64;
    }
    calls as f64 / started.elapsed().as_secs_f64()
}

fn phone_validation(c: &mut Criterion) {
    let numbers: Vec<String> = [
        "+447400123456",
        "+33612345678",
        "+12025550123",
        "+4915123456789",
        "+5511987654321",
        "+919876543210",
        "+79161234567",
        "+8613812345678",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    for n in &numbers {
        assert_eq!(ours(n), library(n), "{n}");
    }
    let mut group = c.benchmark_group("phone");
    group.throughput(Throughput::Elements(numbers.len() as u64));
    group.bench_function("otpgate parse_phone", |b| {
        b.iter(|| {
            numbers
                .iter()
                .filter(|n| ours(black_box(n)).is_some())
                .count()
        })
    });
    group.bench_function("phonenumber parse+is_valid+E164", |b| {
        b.iter(|| {
            numbers
                .iter()
                .filter(|n| library(black_box(n)).is_some())
                .count()
        })
    });
    group.finish();

    // Mixed countries: the library's regex cache (100 patterns, LRU) keeps evicting and
    // compiling. One country (the load test's UK mobiles): its patterns stay cached.
    let uk: Vec<String> = (0..8).map(|i| phone(i * 7919)).collect();
    let budget = Duration::from_secs(2);
    for (what, set) in [("8 countries", &numbers), ("UK only", &uk)] {
        let (fast, slow) = (rate(set, budget, ours), rate(set, budget, library));
        println!(
            "phone validation, {what}: otpgate {fast:.0}/s, phonenumber {slow:.0}/s, ratio {:.1}x",
            fast / slow
        );
    }
}

fn create(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("runtime: {e}"));
    let config = config();
    let prepared = otpgate::app::prepare(&config);
    let app = otpgate::app::front(&config, &prepared, Arc::new(Discard));
    let router = otpgate::http::router(app);
    let counter = AtomicU64::new(0);

    let one = |router: axum::Router| {
        let i = counter.fetch_add(1, Ordering::Relaxed);
        async move {
            let res = router.oneshot(create_request(i)).await;
            let res = res.unwrap_or_else(|e| match e {});
            assert_eq!(res.status(), StatusCode::CREATED);
            let body = axum::body::to_bytes(res.into_body(), 64 * 1024).await;
            black_box(body.map(|b| b.len()).unwrap_or(0))
        }
    };

    let mut group = c.benchmark_group("http");
    group.throughput(Throughput::Elements(1));
    group.bench_function("POST /otp (router, no network)", |b| {
        b.to_async(&rt).iter(|| one(router.clone()))
    });
    group.finish();

    let started = Instant::now();
    let mut done = 0u64;
    rt.block_on(async {
        while started.elapsed() < Duration::from_secs(2) {
            one(router.clone()).await;
            done += 1;
        }
    });
    println!(
        "POST /otp through the router: {:.0} creates/s on one thread",
        done as f64 / started.elapsed().as_secs_f64()
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(5));
    targets = phone_validation, create
}
criterion_main!(benches);
