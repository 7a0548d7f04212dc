//! The callback task: takes ready batches from the [`CallbackQueue`], POSTs each to its URL
//! (signed, with a timeout), retries a failure with exponential backoff and jitter up to
//! `max_retries`, then drops it with a metric and a log line. One batch per URL at a time
//! (order per OTP is kept), at most `concurrency` requests at once. A slot is held for one
//! request only: a failed batch waits for its retry back in its lane of the queue, so a
//! receiver that hangs or fails costs its tenant at most `timeout_ms` per slot, never the
//! slots of the other tenants for the length of its backoff.

use crate::telemetry::names;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rand::Rng;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::settings::CallbacksConfig;
use crate::otp::identity::TenantTag;
use crate::otp::settings::TenantConfig;

use arc_swap::ArcSwap;

use super::queue::{Batch, CallbackQueue, Dest};
use super::resolve::{BoundedResolver, HostResolver};
use super::sign;
use super::ssrf::{check_static, GuardedResolver};
use super::CallbackError;

/// Sends one batch, with its retries.
struct Sender {
    client: reqwest::Client,
    cfg: CallbacksConfig,
    secrets: Arc<TenantSecrets>,
}

/// Each configured tenant's `callback_secret` (`None`: unsigned), by the tenant's tag;
/// replaced whole when the tenants are reloaded.
pub struct TenantSecrets(ArcSwap<HashMap<TenantTag, Option<Vec<u8>>>>);

impl TenantSecrets {
    pub fn of(tenants: &[TenantConfig]) -> Self {
        Self(ArcSwap::from_pointee(Self::table(tenants)))
    }

    /// From now on, batches are signed with the secrets of `tenants` (a batch of a tenant
    /// that is gone is dropped).
    pub fn replace(&self, tenants: &[TenantConfig]) {
        self.0.store(Arc::new(Self::table(tenants)));
    }

    fn table(tenants: &[TenantConfig]) -> HashMap<TenantTag, Option<Vec<u8>>> {
        warn_unsigned(tenants);
        tenants
            .iter()
            .map(|t| {
                let secret = t.callback_secret.as_ref().map(|s| s.as_bytes().to_vec());
                (TenantTag::of(t.id()), secret)
            })
            .collect()
    }
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

    async fn attempt(&self, dest: &Dest, secret: Option<&[u8]>, body: &[u8]) -> Result<(), String> {
        let mut req = self
            .client
            .post(&*dest.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_vec());
        if let Some(secret) = secret {
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

    /// One attempt at a batch.
    async fn send(&self, batch: &Batch) -> Attempt {
        let dest = &batch.dest;
        // An OTP whose tenant is not configured (any more): its updates are neither signed
        // with another tenant's secret nor sent unsigned to a receiver expecting signatures.
        let secrets = self.secrets.0.load_full();
        let Some(secret) = secrets.get(&dest.tenant) else {
            return Attempt::Orphaned;
        };
        let static_ok = url::Url::parse(&dest.url)
            .map_err(|_| ())
            .and_then(|u| check_static(&u, self.cfg.allow_private).map_err(|_| ()));
        if static_ok.is_err() {
            return Attempt::Refused("callback URL refused by the SSRF guard; dropped");
        }
        let body = match serde_json::to_vec(
            &serde_json::json!({"event": "otp_update", "data": batch.views}),
        ) {
            Ok(b) => b,
            Err(e) => {
                tracing::error!(error = %e, "cannot serialize a callback batch");
                return Attempt::Refused("callback batch not serializable; dropped");
            }
        };
        match self.attempt(dest, secret.as_deref(), &body).await {
            Ok(()) => Attempt::Delivered,
            Err(e) => Attempt::Failed(e),
        }
    }

    /// Counts and logs how an attempt ended; hands the batch back to the queue (done, or
    /// due again after its backoff).
    fn settle(&self, queue: &CallbackQueue, mut batch: Batch, result: Attempt, retry: bool) {
        let n = batch.views.len();
        let dest = batch.dest.clone();
        match result {
            Attempt::Delivered => outcome("delivered", n),
            Attempt::Refused(why) => {
                outcome("dropped", n);
                tracing::warn!(host = %host_of(&dest.url), updates = n, "{why}");
            }
            Attempt::Orphaned => {
                outcome("orphaned", n);
                tracing::warn!(host = %host_of(&dest.url), tenant = %dest.tenant, updates = n,
                    "callback of a tenant that is not configured; dropped");
            }
            Attempt::Failed(e) if batch.attempt >= self.cfg.max_retries || !retry => {
                outcome("dropped", n);
                tracing::warn!(host = %host_of(&dest.url), tenant = %dest.tenant, attempts = batch.attempt + 1, updates = n, error = %e, "callback dropped after its retries");
            }
            Attempt::Failed(e) => {
                outcome("failed_retrying", n);
                let wait = self.backoff(batch.attempt);
                tracing::warn!(host = %host_of(&dest.url), tenant = %dest.tenant, attempt = batch.attempt + 1, updates = n, error = %e, retry_in = ?wait, "callback failed; retrying");
                batch.attempt += 1;
                queue.retry_at(batch, Instant::now() + wait);
                return;
            }
        }
        queue.release(&dest);
    }
}

/// How one attempt at a batch ended.
enum Attempt {
    Delivered,
    /// Never sendable (SSRF guard, serialization): dropped without a retry.
    Refused(&'static str),
    /// Its tenant is not configured: no secret to sign with; dropped without a retry.
    Orphaned,
    Failed(String),
}

/// The long-lived callback task.
pub struct CallbackTask {
    queue: Arc<CallbackQueue>,
    sender: Arc<Sender>,
    stop: watch::Receiver<bool>,
}

impl CallbackTask {
    /// `stop` turning true ends [`run`](Self::run). Hosts are looked up with `resolver`.
    pub fn new(
        queue: Arc<CallbackQueue>,
        cfg: &CallbacksConfig,
        tenants: &[TenantConfig],
        resolver: Arc<dyn HostResolver>,
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
                resolver: Arc::new(BoundedResolver::of(resolver, cfg)),
            }))
            .build()
            .map_err(|e| CallbackError::Client(e.to_string()))?;
        let secrets = Arc::new(TenantSecrets::of(tenants));
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

    /// The tenants' secrets this task signs with (for a reload to replace).
    pub fn secrets(&self) -> Arc<TenantSecrets> {
        self.sender.secrets.clone()
    }

    pub async fn run(self) {
        let cfg = self.sender.cfg.clone();
        let mut stop = self.stop.clone();
        let mut inflight: JoinSet<(Batch, Attempt)> = JoinSet::new();
        // The destination of each request in flight, to free its lane should its task fail.
        let mut dests: HashMap<tokio::task::Id, Dest> = HashMap::new();
        loop {
            let woken = self.queue.wake.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            let slots = cfg.concurrency.saturating_sub(inflight.len());
            let ready = self.queue.take_ready(Instant::now(), slots, false);
            for batch in ready.batches {
                let sender = self.sender.clone();
                let dest = batch.dest.clone();
                let handle = inflight.spawn(async move {
                    let result = sender.send(&batch).await;
                    (batch, result)
                });
                dests.insert(handle.id(), dest);
            }
            let next = ready.next;
            tokio::select! {
                _ = stop.wait_for(|s| *s) => break,
                _ = &mut woken => {}
                _ = tokio::time::sleep_until(next.unwrap_or_else(Instant::now)), if next.is_some() => {}
                Some(done) = inflight.join_next_with_id(), if !inflight.is_empty() => {
                    self.finished(done, &mut dests, true);
                }
            }
        }
        // Requests in flight get a grace period; retries waiting a backoff give up at once.
        let grace = Duration::from_millis(cfg.shutdown_grace_ms);
        let drained = tokio::time::timeout(grace, async {
            while let Some(done) = inflight.join_next_with_id().await {
                self.finished(done, &mut dests, false);
            }
        })
        .await;
        if drained.is_err() {
            tracing::warn!(
                requests = inflight.len(),
                "callbacks still in flight after the grace period: abandoned"
            );
            inflight.abort_all();
            while let Some(done) = inflight.join_next_with_id().await {
                self.finished(done, &mut dests, false);
            }
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

    /// A request is over: settle its batch (a retry only while running), or free the lane
    /// of a task that panicked or was aborted.
    fn finished(
        &self,
        done: Result<(tokio::task::Id, (Batch, Attempt)), tokio::task::JoinError>,
        dests: &mut HashMap<tokio::task::Id, Dest>,
        retry: bool,
    ) {
        match done {
            Ok((id, (batch, result))) => {
                dests.remove(&id);
                self.sender.settle(&self.queue, batch, result, retry);
            }
            Err(e) => {
                if let Some(dest) = dests.remove(&e.id()) {
                    tracing::warn!(host = %host_of(&dest.url), "callback request abandoned");
                    self.queue.release(&dest);
                }
            }
        }
    }
}

/// Most tenants named one by one in the start-up warning about unsigned callbacks (beyond,
/// one line gives their number: 100,000 tenants must not make 100,000 lines).
const UNSIGNED_NAMED: usize = 10;

fn warn_unsigned(tenants: &[TenantConfig]) {
    let unsigned: Vec<&str> = tenants
        .iter()
        .filter(|t| t.callback_secret.is_none())
        .map(|t| t.name.as_str())
        .collect();
    if unsigned.len() <= UNSIGNED_NAMED {
        for name in unsigned {
            tracing::warn!(tenant = %name, "no callback_secret: this tenant's callbacks are not signed");
        }
    } else {
        tracing::warn!(
            tenants = unsigned.len(),
            first = %unsigned[..UNSIGNED_NAMED].join(", "),
            "no callback_secret: these tenants' callbacks are not signed"
        );
    }
}
