//! HTTP load: `POST /otp` (optionally followed by verify with the PIN the simulator received),
//! Kannel-style `GET /cgi-bin/sendsms`, or a bare echo POST; open loop at a rate or closed
//! loop with C connections, always bounded in count and time.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::{Method, Request, Uri};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use tokio::runtime::Handle;
use tokio::sync::Semaphore;
use tokio_util::task::TaskTracker;

use super::report::{Recorder, Report};
use super::target::loopback_url;
use super::{percent_encode, Bounds, LoadError, Pace};

/// Which HTTP requests are sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HttpMode {
    /// `POST {url}/otp` with the body template.
    Otp,
    /// `GET {url}/cgi-bin/sendsms?username=&password=&to=&text=`.
    SendSms,
    /// `POST {url}` with the body template, for a bare-HTTP ceiling.
    Echo,
}

/// An HTTP load run.
#[derive(Clone, Debug)]
pub struct HttpLoad {
    pub mode: HttpMode,
    /// Base URL (loopback only), e.g. `http://127.0.0.1:8080`.
    pub url: String,
    pub token: Option<String>,
    /// JSON body; `{phone}` is replaced by the generated number.
    pub body_template: String,
    /// Numbers are `prefix` + counter on `digits` digits (wrapping), so per-number limits
    /// are not hit.
    pub phone_prefix: String,
    pub phone_digits: u32,
    /// sendsms: username, password, text.
    pub username: String,
    pub password: String,
    pub text: String,
    /// Verify each created OTP with the PIN read from the simulator's `/messages`.
    pub verify_sim_url: Option<String>,
    pub verify_timeout: Duration,
    pub pace: Pace,
    pub bounds: Bounds,
    pub request_timeout: Duration,
}

type HttpClient = Client<HttpConnector, Full<Bytes>>;

struct Ctx {
    cfg: HttpLoad,
    base: String,
    sim_base: Option<String>,
    client: HttpClient,
    main: Mutex<Recorder>,
    verify: Mutex<Recorder>,
}

/// Largest response body read.
const MAX_BODY: usize = 1 << 20;

impl HttpLoad {
    pub fn phone(&self, i: u64) -> String {
        let modulo = 10u64.checked_pow(self.phone_digits).unwrap_or(u64::MAX);
        let width = self.phone_digits as usize;
        format!("{}{:0width$}", self.phone_prefix, i % modulo)
    }
}

pub async fn run(cfg: HttpLoad) -> Result<Report, LoadError> {
    cfg.bounds.check()?;
    let uri = loopback_url(&cfg.url).await?;
    let sim_base = match &cfg.verify_sim_url {
        Some(u) => {
            loopback_url(u).await?;
            Some(u.trim_end_matches('/').to_owned())
        }
        None => None,
    };
    let conns = match cfg.pace {
        Pace::Concurrency(c) => c,
        Pace::Rate(_) => 256,
    };
    let client = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(conns)
        .build_http();
    let ctx = Arc::new(Ctx {
        base: cfg.url.trim_end_matches('/').to_owned(),
        sim_base,
        client,
        main: Mutex::new(Recorder::new()),
        verify: Mutex::new(Recorder::new()),
        cfg: cfg.clone(),
    });
    let started = Instant::now();
    let deadline = started + cfg.bounds.duration;
    let tracker = TaskTracker::new();
    match cfg.pace {
        Pace::Concurrency(c) => {
            let next = Arc::new(AtomicU64::new(0));
            for _ in 0..c.max(1) {
                let (ctx, next) = (ctx.clone(), next.clone());
                tracker.spawn(async move {
                    loop {
                        let i = next.fetch_add(1, Relaxed);
                        if i >= ctx.cfg.bounds.requests || Instant::now() >= deadline {
                            return;
                        }
                        one(&ctx, i, Instant::now()).await;
                    }
                });
            }
        }
        Pace::Rate(rate) => {
            // A tokio timer ticks in whole milliseconds: a request paced by one would start up
            // to a millisecond late, and since latency counts from the intended start that
            // delay would be charged to the server. A thread of its own sleeps to each due
            // instant (nanosleep, tens of microseconds late at most) and spawns the request.
            let interval = Duration::from_secs_f64(1.0 / rate.max(0.001));
            let (runtime, tracker) = (Handle::current(), tracker.clone());
            let pacer = std::thread::spawn({
                let ctx = ctx.clone();
                move || {
                    let inflight = Arc::new(Semaphore::new(10_000));
                    for i in 0..ctx.cfg.bounds.requests {
                        let due = started + interval.mul_f64(i as f64);
                        if due >= deadline {
                            break;
                        }
                        if let Some(wait) = due.checked_duration_since(Instant::now()) {
                            std::thread::sleep(wait);
                        }
                        match inflight.clone().try_acquire_owned() {
                            Ok(permit) => {
                                let ctx = ctx.clone();
                                let request = async move {
                                    // Latency counts from the intended start (no coordinated omission).
                                    one(&ctx, i, due).await;
                                    drop(permit);
                                };
                                tracker.spawn_on(request, &runtime);
                            }
                            Err(_) => lock(&ctx.main).count("client_overload", false),
                        }
                    }
                }
            });
            let joined = tokio::task::spawn_blocking(move || pacer.join()).await;
            if !matches!(joined, Ok(Ok(()))) {
                lock(&ctx.main).count("pacer_failed", false);
            }
        }
    }
    tracker.close();
    tracker.wait().await;
    let elapsed = started.elapsed();
    let main = lock(&ctx.main).summary(elapsed);
    let verify = ctx
        .sim_base
        .as_ref()
        .map(|_| lock(&ctx.verify).summary(elapsed));
    Ok(Report {
        mode: format!("{:?}", cfg.mode).to_lowercase(),
        target: uri.to_string(),
        main,
        verify,
        extra: Default::default(),
        smsc: None,
    })
}

fn lock(m: &Mutex<Recorder>) -> std::sync::MutexGuard<'_, Recorder> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Sends request `i`; records it (and its verification).
async fn one(ctx: &Ctx, i: u64, start: Instant) {
    let phone = ctx.cfg.phone(i);
    let wall_start_ms = super::unix_ms();
    let req = match build(ctx, &phone) {
        Ok(r) => r,
        Err(e) => {
            lock(&ctx.main).count(&format!("bad_request:{e}"), false);
            return;
        }
    };
    let (outcome, body) = send(ctx, req).await;
    let ok = outcome.starts_with('2');
    lock(&ctx.main).record(start.elapsed(), &outcome, ok);
    if let (true, Some(sim), HttpMode::Otp) = (ok, &ctx.sim_base, ctx.cfg.mode) {
        verify(ctx, sim, &phone, &body, wall_start_ms).await;
    }
}

fn build(ctx: &Ctx, phone: &str) -> Result<Request<Full<Bytes>>, hyper::http::Error> {
    let cfg = &ctx.cfg;
    let (method, uri, body) = match cfg.mode {
        HttpMode::Otp => (
            Method::POST,
            format!("{}/otp", ctx.base),
            cfg.body_template.replace("{phone}", phone),
        ),
        HttpMode::Echo => (
            Method::POST,
            ctx.base.clone(),
            cfg.body_template.replace("{phone}", phone),
        ),
        HttpMode::SendSms => (
            Method::GET,
            format!(
                "{}/cgi-bin/sendsms?username={}&password={}&to={}&text={}",
                ctx.base,
                percent_encode(&cfg.username),
                percent_encode(&cfg.password),
                percent_encode(phone),
                percent_encode(&cfg.text)
            ),
            String::new(),
        ),
    };
    let mut b = Request::builder().method(method).uri(uri);
    if let Some(t) = &cfg.token {
        b = b.header("authorization", format!("Bearer {t}"));
    }
    if !body.is_empty() {
        b = b.header("content-type", "application/json");
    }
    b.body(Full::new(Bytes::from(body)))
}

/// Sends; returns the outcome label (status code, `timeout`, `error`) and the body.
async fn send(ctx: &Ctx, req: Request<Full<Bytes>>) -> (String, Bytes) {
    let fut = async {
        let resp = ctx.client.request(req).await.map_err(|_| "error")?;
        let status = resp.status().as_u16().to_string();
        let body = Limited::new(resp.into_body(), MAX_BODY)
            .collect()
            .await
            .map(|c| c.to_bytes())
            .unwrap_or_default();
        Ok::<_, &str>((status, body))
    };
    match tokio::time::timeout(ctx.cfg.request_timeout, fut).await {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => (e.to_owned(), Bytes::new()),
        Err(_) => ("timeout".to_owned(), Bytes::new()),
    }
}

/// The PIN in a message text: the last run of 4-10 digits, else the last 4-10 character run
/// of capital letters and digits.
pub fn extract_pin(text: &str) -> Option<String> {
    let runs = |pred: fn(char) -> bool| -> Option<String> {
        text.split(|c: char| !pred(c))
            .rev()
            .find(|r| (4..=10).contains(&r.chars().count()))
            .map(str::to_owned)
    };
    runs(|c| c.is_ascii_digit()).or_else(|| runs(|c| c.is_ascii_uppercase() || c.is_ascii_digit()))
}

async fn verify(ctx: &Ctx, sim: &str, phone: &str, created: &Bytes, since_ms: u64) {
    let Some(otp_id) = serde_json::from_slice::<serde_json::Value>(created)
        .ok()
        .and_then(|v| v.get("otpId")?.as_str().map(str::to_owned))
    else {
        lock(&ctx.verify).count("no_otp_id", false);
        return;
    };
    let Some(pin) = wait_pin(ctx, sim, phone, since_ms).await else {
        lock(&ctx.verify).count("pin_not_received", false);
        return;
    };
    let started = Instant::now();
    let req = Request::post(format!("{}/otp/{otp_id}/verify", ctx.base))
        .header("content-type", "application/json")
        .header(
            "authorization",
            format!("Bearer {}", ctx.cfg.token.as_deref().unwrap_or("")),
        )
        .body(Full::new(Bytes::from(
            serde_json::json!({ "pin": pin }).to_string(),
        )));
    let Ok(req) = req else {
        lock(&ctx.verify).count("bad_request", false);
        return;
    };
    let (outcome, _) = send(ctx, req).await;
    let ok = outcome == "200";
    lock(&ctx.verify).record(started.elapsed(), &outcome, ok);
}

/// Polls the simulator's `/messages?to=` for a message received since `since_ms`.
async fn wait_pin(ctx: &Ctx, sim: &str, phone: &str, since_ms: u64) -> Option<String> {
    let deadline = Instant::now() + ctx.cfg.verify_timeout;
    let uri: Uri = format!("{sim}/messages?to={}", percent_encode(phone))
        .parse()
        .ok()?;
    while Instant::now() < deadline {
        let req = Request::get(uri.clone())
            .body(Full::new(Bytes::new()))
            .ok()?;
        let (status, body) = send(ctx, req).await;
        if status == "200" {
            let msgs: Vec<otpgate_sim::ReceivedMessage> =
                serde_json::from_slice(&body).unwrap_or_default();
            if let Some(m) = msgs.iter().rev().find(|m| m.received_at_ms + 1 >= since_ms) {
                return extract_pin(&m.text);
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_are_found() {
        assert_eq!(
            extract_pin("Your verification code is 123456").as_deref(),
            Some("123456")
        );
        assert_eq!(extract_pin("Code 12 then 98765").as_deref(), Some("98765"));
        assert_eq!(extract_pin("Your code: AB12CD").as_deref(), Some("AB12CD"));
        assert_eq!(extract_pin("no pin here"), None);
    }
}
