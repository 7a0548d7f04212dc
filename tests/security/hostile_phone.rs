//! Costly phone numbers (docs/security.md): national-format numbers must not stall the
//! runtime. 32 clients create OTPs for national numbers rotating over 80 countries (about one
//! in ten in a form only the phone-number library parses) while a probe times `/healthz`; its
//! median must stay near the baseline of the same run, where the same clients send invalid
//! E.164 numbers. And the library's threads are a bound: creates beyond them are refused, not
//! queued.

use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use phonenumber::metadata::DATABASE;
use serde_json::{json, Value};

use crate::support::server::{test_config, Server, TOKEN};
use crate::support::HEAVY;

const CLIENTS: usize = 32;
const COUNTRIES: usize = 80;
/// Each phase lasts this long, or until this many creates, whichever comes first.
const PHASE: Duration = Duration::from_secs(4);
const MAX_CREATES: usize = 40_000;
/// `/healthz` is probed this often.
const PROBE_EVERY: Duration = Duration::from_millis(5);
/// The national phase's median may be at most this many times the baseline's: successful
/// creates cost more than refused ones, so about x2-3 with the fast paths and the pool; the
/// library on the async workers measured x80 on a debug build.
const MAX_RATIO: f64 = 5.0;

/// Create bodies: a mobile number of each of 80 countries in national format (its national
/// prefix, then the number in groups), and about one in ten in a form only the library parses
/// (`+CC (0) number`, for countries whose national prefix is 0).
fn national_bodies() -> Vec<Value> {
    let mut regions: Vec<_> = DATABASE
        .iter()
        .filter(|m| m.id().len() == 2)
        .filter_map(|m| Some((m, m.descriptors().mobile()?.example()?.to_owned())))
        .collect();
    regions.sort_by_key(|(m, _)| m.id().to_owned());
    // spread over the alphabet rather than the first 80
    let step = (regions.len() / COUNTRIES).max(1);
    let picked: Vec<_> = regions.into_iter().step_by(step).take(COUNTRIES).collect();
    assert_eq!(picked.len(), COUNTRIES);
    let mut zero_prefixed = 0;
    picked
        .iter()
        .map(|(meta, example)| {
            let prefix = meta.national_prefix().unwrap_or("");
            let (head, tail) = example.split_at(example.len() / 2);
            zero_prefixed += usize::from(prefix == "0");
            if prefix == "0" && zero_prefixed % 6 == 0 {
                let body = format!("+{} (0) {head} {tail}", meta.country_code());
                json!({"phoneNumber": body})
            } else {
                json!({"phoneNumber": format!("{prefix}{head} {tail}"), "countryIso": meta.id()})
            }
        })
        .collect()
}

/// Invalid E.164 numbers the fast path refuses (too short for their country).
fn invalid_bodies() -> Vec<Value> {
    (0..COUNTRIES)
        .map(|i| json!({"phoneNumber": format!("+336{:04}", 1000 + i)}))
        .collect()
}

/// Runs `CLIENTS` clients creating with `bodies` in turn for one phase, while probing
/// `/healthz`; returns the probe's median and how many creates were answered.
fn phase(base: &str, bodies: Vec<Value>) -> (Duration, usize) {
    let base = base.to_owned();
    // the clients and the probe run on their own threads: the server's workers are measured
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let client = reqwest::Client::builder()
                .timeout(Duration::from_secs(20))
                .pool_max_idle_per_host(CLIENTS + 1)
                .build()
                .unwrap();
            let stop = Arc::new(AtomicBool::new(false));
            let started = Instant::now();
            let load = {
                let (client, base, stop) = (client.clone(), base.clone(), stop.clone());
                tokio::spawn(async move {
                    futures::stream::iter(0..MAX_CREATES)
                        .take_while(|_| {
                            let go = !stop.load(SeqCst);
                            async move { go }
                        })
                        .map(|i| {
                            let body = bodies[i % bodies.len()].clone();
                            let req = client
                                .post(format!("{base}/otp"))
                                .bearer_auth(TOKEN)
                                .json(&body);
                            async move {
                                let res = req.send().await.ok()?;
                                Some(res.status().as_u16())
                            }
                        })
                        .buffer_unordered(CLIENTS)
                        .filter_map(|s| async move { s })
                        .count()
                        .await
                })
            };
            let mut probes = Vec::new();
            // at least 20 probes, however slow they are, within three phases
            while (started.elapsed() < PHASE || probes.len() < 20) && started.elapsed() < 3 * PHASE
            {
                let t = Instant::now();
                let res = client.get(format!("{base}/healthz")).send().await.unwrap();
                assert!(res.status().is_success());
                probes.push(t.elapsed());
                tokio::time::sleep(PROBE_EVERY).await;
            }
            stop.store(true, SeqCst);
            let answered = load.await.unwrap();
            assert!(!probes.is_empty());
            probes.sort();
            (probes[probes.len() / 2], answered)
        })
    })
    .join()
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "load: 32 clients for two phases of 4 s each"]
async fn national_numbers_do_not_stall_health_checks() {
    let _heavy = HEAVY.lock().await;
    let mut c = test_config();
    c.limits.per_number = 0;
    c.http.max_in_flight = 4 * CLIENTS;
    let s = Server::start(c).await;
    let base = s.base.clone();
    let national = national_bodies();
    let library_only = national
        .iter()
        .filter(|b| b["phoneNumber"].as_str().is_some_and(|n| n.contains("(0)")))
        .count();
    assert!(library_only >= 4, "library-only forms: {library_only}");
    // every national body is a number the engine takes
    for body in &national {
        let (status, reply) = s.create(body.clone()).await;
        assert_eq!(status, 201, "{body} -> {reply}");
    }
    let b = base.clone();
    let (baseline, baseline_n) = tokio::task::spawn_blocking(move || phase(&b, invalid_bodies()))
        .await
        .unwrap();
    let (loaded, loaded_n) = tokio::task::spawn_blocking(move || phase(&base, national))
        .await
        .unwrap();
    let ratio = loaded.as_secs_f64() / baseline.as_secs_f64().max(1e-6);
    eprintln!(
        "healthz median: {baseline:?} with {baseline_n} invalid E.164 creates, \
         {loaded:?} with {loaded_n} national creates (x{ratio:.2})"
    );
    assert!(baseline_n > 0 && loaded_n > 0);
    assert!(
        ratio <= MAX_RATIO,
        "healthz median {loaded:?} under national numbers, {baseline:?} under invalid E.164 (x{ratio:.2} > x{MAX_RATIO})"
    );
    s.stop().await;
}

/// Numbers only the library parses, of every country whose national prefix is 0 (`+CC (0)
/// number`), each checked to miss the fast paths.
fn library_only_numbers() -> Vec<String> {
    let numbers: Vec<String> = DATABASE
        .iter()
        .filter(|m| m.id().len() == 2 && m.national_prefix() == Some("0"))
        .filter_map(|m| {
            let example = m.descriptors().mobile()?.example()?;
            Some(format!("+{} (0) {example}", m.country_code()))
        })
        .filter(|n| {
            matches!(
                otpgate::otp::phone::parse_fast(n, None),
                otpgate::otp::phone::Parsed::Library(_)
            )
        })
        .collect();
    assert!(
        numbers.len() >= 40,
        "library-only numbers: {}",
        numbers.len()
    );
    numbers
}

/// The library's threads are a bound, not a queue: creates that find them busy past
/// `phone_parse_wait_ms` are refused at once with 503 code 1020, the others are served.
#[tokio::test]
async fn library_numbers_beyond_the_pool_are_refused_not_queued() {
    let mut c = test_config();
    c.limits.per_number = 0;
    c.otp.phone_parse_threads = 1;
    c.otp.phone_parse_wait_ms = 1;
    let s = Server::start(c).await;
    let numbers = library_only_numbers();
    let answers: Vec<(u16, Value, Option<String>)> = futures::stream::iter(numbers)
        .map(|n| {
            let req = s.post("/otp").json(&json!({"phoneNumber": n}));
            async move {
                let res = req.send().await.unwrap();
                let status = res.status().as_u16();
                let retry = res
                    .headers()
                    .get("retry-after")
                    .map(|v| v.to_str().unwrap().to_owned());
                (status, res.json().await.unwrap(), retry)
            }
        })
        .buffer_unordered(64)
        .collect()
        .await;
    let mut busy = 0;
    let mut parsed = 0;
    for (status, body, retry) in &answers {
        match status {
            503 => {
                assert_eq!(body["error"]["code"], 1020, "{body}");
                assert_eq!(body["error"]["reason"], "phone_parser_busy", "{body}");
                assert_eq!(retry.as_deref(), Some("1"));
                busy += 1;
            }
            // a number the library parsed: created, or refused as not valid
            201 | 400 => parsed += 1,
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert!(busy >= 1 && parsed >= 1, "busy {busy}, parsed {parsed}");
    let scrape = s
        .get("/metrics")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let counted = crate::support::prom::value(
        &scrape,
        "otpgate_phone_library_parses_total",
        &[("outcome", "busy")],
    );
    // global to the process: the load test may add its own
    assert!(
        counted.is_some_and(|n| n >= busy as f64),
        "{counted:?}, busy {busy}"
    );
    s.stop().await;
}
