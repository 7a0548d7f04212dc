//! The callback task: takes ready batches from the [`CallbackQueue`], POSTs each to its URL
//! (signed, with a timeout), retries a failure with exponential backoff and jitter up to
//! `max_retries`, then drops it with a metric and a log line. One batch per URL at a time
//! (order per OTP is kept), at most `concurrency` requests at once.

use crate::telemetry::names;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rand::Rng;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::settings::CallbacksConfig;
use crate::otp::settings::TenantConfig;
use crate::otp::OtpView;

use super::queue::{CallbackQueue, Dest};
use super::sign;
use super::ssrf::{check_static, GuardedResolver};
use super::CallbackError;

/// Sends one batch, with its retries.
struct Sender {
    client: reqwest::Client,
    cfg: CallbacksConfig,
    /// `callback_secret` by tenant index.
    secrets: Vec<Option<Vec<u8>>>,
}

fn outcome(label: &'static str, n: usize) {
    metrics::counter!(names::CALLBACK_DELIVERIES, "outcome" => label).increment(n as u64);
}

/// The host of `url`, for logs (never the path or query, which may hold a token).
fn host_of(url: &str) -> String {
    url::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_default()
}

/// A failed request's cause without its URL: the kind, then the causes below it (connect
/// refused, DNS...), which name no URL.
fn error_text(e: reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connect failed"
    } else if e.is_redirect() {
        "redirect refused"
    } else if e.is_body() || e.is_decode() {
        "body error"
    } else {
        "request failed"
    };
    let e = e.without_url();
    let mut text = kind.to_owned();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

impl Sender {
    fn backoff(&self, attempt: u32) -> Duration {
        let base = self.cfg.retry_base_ms;
        let exp = base.saturating_mul(1u64 << attempt.min(20));
        let capped = exp.min(self.cfg.retry_max_ms);
        // full jitter over the upper half: never below half the nominal delay
        let ms = rand::rng().random_range(capped / 2..=capped.max(1));
        Duration::from_millis(ms)
    }

    async fn attempt(&self, dest: &Dest, body: &[u8]) -> Result<(), String> {
        let mut req = self
            .client
            .post(&*dest.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_vec());
        if let Some(Some(secret)) = self.secrets.get(usize::from(dest.tenant)) {
            let t = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .as_secs();
            req = req.header(sign::HEADER, sign::sign(secret, t, body));
        }
        let timeout = Duration::from_millis(self.cfg.timeout_ms);
        let started = Instant::now();
        let res = tokio::time::timeout(timeout, req.send()).await;
        metrics::histogram!(names::CALLBACK_DURATION).record(started.elapsed().as_secs_f64());
        match res {
            Err(_) => Err("timed out".into()),
            // reqwest's text names the URL, query included: drop it (the host is logged).
            Ok(Err(e)) => Err(error_text(e)),
            Ok(Ok(r)) if r.status().is_success() => Ok(()),
            Ok(Ok(r)) => Err(format!("HTTP {}", r.status().as_u16())),
        }
    }

    async fn deliver(&self, dest: &Dest, views: Vec<OtpView>, mut stop: watch::Receiver<bool>) {
        let n = views.len();
        let static_ok = url::Url::parse(&dest.url)
            .map_err(|_| ())
            .and_then(|u| check_static(&u, self.cfg.allow_private).map_err(|_| ()));
        if static_ok.is_err() {
            outcome("dropped", n);
            tracing::warn!(host = %host_of(&dest.url), updates = n, "callback URL refused by the SSRF guard; dropped");
            return;
        }
        let body =
            match serde_json::to_vec(&serde_json::json!({"event": "otp_update", "data": views})) {
                Ok(b) => b,
                Err(e) => {
                    outcome("dropped", n);
                    tracing::error!(error = %e, "cannot serialize a callback batch");
                    return;
                }
            };
        let mut attempt = 0u32;
        loop {
            match self.attempt(dest, &body).await {
                Ok(()) => {
                    outcome("delivered", n);
                    return;
                }
                Err(e) if attempt >= self.cfg.max_retries => {
                    outcome("dropped", n);
                    tracing::warn!(host = %host_of(&dest.url), tenant = dest.tenant, attempts = attempt + 1, updates = n, error = %e, "callback dropped after its retries");
                    return;
                }
                Err(e) => {
                    outcome("failed_retrying", n);
                    let wait = self.backoff(attempt);
                    tracing::warn!(host = %host_of(&dest.url), tenant = dest.tenant, attempt = attempt + 1, updates = n, error = %e, retry_in = ?wait, "callback failed; retrying");
                    attempt += 1;
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => {}
                        _ = stop.wait_for(|s| *s) => {
                            outcome("dropped", n);
                            tracing::warn!(host = %host_of(&dest.url), updates = n, "shutting down: callback retry abandoned");
                            return;
                        }
                    }
                }
            }
        }
    }
}

/// The long-lived callback task.
pub struct CallbackTask {
    queue: Arc<CallbackQueue>,
    sender: Arc<Sender>,
    stop: watch::Receiver<bool>,
}

impl CallbackTask {
    /// `stop` turning true ends [`run`](Self::run).
    pub fn new(
        queue: Arc<CallbackQueue>,
        cfg: &CallbacksConfig,
        tenants: &[TenantConfig],
        stop: watch::Receiver<bool>,
    ) -> Result<Self, CallbackError> {
        let timeout = Duration::from_millis(cfg.timeout_ms);
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .pool_max_idle_per_host(4)
            .user_agent(concat!("otpgate/", env!("CARGO_PKG_VERSION")))
            .dns_resolver(Arc::new(GuardedResolver {
                allow_private: cfg.allow_private,
                timeout: Duration::from_millis(cfg.resolve_timeout_ms),
            }))
            .build()
            .map_err(|e| CallbackError::Client(e.to_string()))?;
        let secrets = tenants
            .iter()
            .map(|t| t.callback_secret.as_ref().map(|s| s.as_bytes().to_vec()))
            .collect();
        for t in tenants.iter().filter(|t| t.callback_secret.is_none()) {
            tracing::warn!(tenant = %t.name, "no callback_secret: this tenant's callbacks are not signed");
        }
        Ok(Self {
            queue,
            sender: Arc::new(Sender {
                client,
                cfg: cfg.clone(),
                secrets,
            }),
            stop,
        })
    }

    pub async fn run(self) {
        let cfg = self.sender.cfg.clone();
        let flush = Duration::from_millis(cfg.flush_ms);
        let mut stop = self.stop.clone();
        let mut inflight: JoinSet<Dest> = JoinSet::new();
        loop {
            let woken = self.queue.wake.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            let slots = cfg.concurrency.saturating_sub(inflight.len());
            let ready = self
                .queue
                .take_ready(Instant::now(), cfg.batch_max, flush, slots, false);
            for (dest, views) in ready.batches {
                let sender = self.sender.clone();
                let stop = self.stop.clone();
                inflight.spawn(async move {
                    sender.deliver(&dest, views, stop).await;
                    dest
                });
            }
            let next = ready.next;
            tokio::select! {
                _ = stop.wait_for(|s| *s) => break,
                _ = &mut woken => {}
                _ = tokio::time::sleep_until(next.unwrap_or_else(Instant::now)), if next.is_some() => {}
                Some(done) = inflight.join_next(), if !inflight.is_empty() => {
                    if let Ok(dest) = done {
                        self.queue.release(&dest);
                    }
                }
            }
        }
        // Requests in flight get a grace period; retries waiting a backoff give up at once.
        let grace = Duration::from_millis(cfg.shutdown_grace_ms);
        let drained = tokio::time::timeout(grace, async {
            while inflight.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            tracing::warn!(
                requests = inflight.len(),
                "callbacks still in flight after the grace period: abandoned"
            );
            inflight.abort_all();
            while inflight.join_next().await.is_some() {}
        }
        let left = self.queue.clear();
        if left > 0 {
            outcome("dropped", left);
            tracing::warn!(
                updates = left,
                "shutting down: pending callback updates dropped"
            );
        }
        tracing::info!("callback task stopped");
    }
}
