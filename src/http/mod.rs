//! The HTTP front (sms.cx OTP API v1 compatible): startup wiring, the router, handlers, errors,
//! authentication, metrics and the OpenAPI document.
//!
//! Startup order: [`prepare_store`] builds the clock, the store and the [`StoreSink`] the SMPP
//! engine reports to; the engine is built with that sink; [`run_server`] then serves the API
//! with the engine as its [`Dispatcher`].

mod auth;
mod body;
pub mod error;
mod handlers;
pub mod listener;
pub mod metrics;
pub mod openapi;
mod ops;
mod process;
mod routes;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::{Notify, Semaphore};

use crate::callbacks::{CallbackObserver, CallbackQueue, CallbackTask};
use crate::config::Config;
use crate::config::StoreKind;
use crate::dispatch::{DeliverySink, Dispatcher};
use crate::otp::abuse::AbuseGuard;
use crate::otp::guard::PumpingGuard;
use crate::otp::pin::PinHasher;
use crate::otp::redis::abuse::RedisGuard;
use crate::otp::redis::rate::RedisRate;
use crate::otp::redis::{RedisOptions, Target};
use crate::otp::store::StoreError;
use crate::otp::tenant::{LocalRate, TenantRate, Tenants};
use crate::otp::{Clock, MemoryStore, OtpService, RedisStore, Store, StoreSink};

pub use routes::router;

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("HTTP server: {0}")]
    Serve(#[from] std::io::Error),
    #[error(transparent)]
    Callbacks(#[from] crate::callbacks::CallbackError),
}

/// The OTP core before the engine exists: clock, store and the sink for the engine.
pub struct Prepared {
    pub clock: Arc<Clock>,
    pub store: Arc<dyn Store>,
    /// The pumping guard: per node with the memory store, shared with the Redis store.
    pub abuse: Arc<dyn PumpingGuard>,
    /// The tenants' create rate: per node with the memory store, shared with the Redis store.
    pub rate: Arc<dyn TenantRate>,
    pub sink: Arc<StoreSink>,
    pub hasher: PinHasher,
    /// Status changes waiting to be POSTed to their `otpCallbackUrl`.
    pub callbacks: Arc<CallbackQueue>,
}

impl Prepared {
    /// The sink to hand to the SMPP engine.
    pub fn delivery_sink(&self) -> Arc<dyn DeliverySink> {
        self.sink.clone()
    }
}

/// Builds the in-memory store and its sink from `config` (whatever `[store] kind` says; see
/// [`prepare_store`]). Without `[security] pin_secret` a random key is used (PINs then do not
/// survive a restart nor verify on another node) and a warning is logged.
pub fn prepare(config: &Config) -> Prepared {
    // Before the engine starts: its first bind-up and window gauges must not be lost.
    metrics::install();
    metrics::register_known(config);
    let clock = Arc::new(Clock::new());
    let store = Arc::new(MemoryStore::new(
        clock.clone(),
        config.otp.max_live,
        config.otp.retain_after_expiry_s,
    ));
    let abuse = Arc::new(AbuseGuard::new(config.abuse.clone()));
    let rate = Arc::new(LocalRate::new(clock.clone()));
    assemble(config, clock, store, abuse, rate)
}

/// Builds the store `[store] kind` names: the in-memory one, or the Redis one (connecting to
/// it: fails when Redis does not answer within `[store] timeout_ms`).
pub async fn prepare_store(config: &Config) -> Result<Prepared, StoreError> {
    match config.store.kind {
        StoreKind::Memory => Ok(prepare(config)),
        StoreKind::Redis => {
            let clock = Arc::new(Clock::new());
            let s = &config.store;
            let target = if s.cluster_nodes.is_empty() {
                Target::Single(s.url.clone())
            } else {
                Target::Cluster(s.cluster_nodes.clone())
            };
            let opts = RedisOptions {
                target,
                key_prefix: s.key_prefix.clone(),
                timeout: Duration::from_millis(s.timeout_ms),
                retain_s: config.otp.retain_after_expiry_s,
                max_live: config.otp.max_live,
            };
            let store = Arc::new(RedisStore::connect(opts, clock.clone()).await?);
            let abuse = Arc::new(RedisGuard::new(store.clone(), config.abuse.clone()));
            let rate = Arc::new(RedisRate::new(store.clone()));
            Ok(assemble(config, clock, store, abuse, rate))
        }
    }
}

/// Wires a store into the callback queue and the delivery sink.
pub fn assemble(
    config: &Config,
    clock: Arc<Clock>,
    store: Arc<dyn Store>,
    abuse: Arc<dyn PumpingGuard>,
    rate: Arc<dyn TenantRate>,
) -> Prepared {
    let callbacks = Arc::new(CallbackQueue::new(config.callbacks.queue_capacity));
    store.set_observer(Arc::new(CallbackObserver::new(
        callbacks.clone(),
        clock.clone(),
        config.otp.price_per_part,
    )));
    let sink = Arc::new(StoreSink::new(store.clone(), clock.clone()));
    let hasher = match &config.security.pin_secret {
        Some(s) => PinHasher::new(s.as_bytes()),
        None => {
            tracing::warn!(
                "security.pin_secret is not set: using a random key; PINs will not verify \
                 after a restart or on another node"
            );
            PinHasher::random()
        }
    };
    Prepared {
        clock,
        store,
        abuse,
        rate,
        sink,
        hasher,
        callbacks,
    }
}

/// Shared state of the handlers.
pub struct App {
    pub service: OtpService,
    pub tenants: Tenants,
    /// Where the tenants' create tokens are counted.
    pub rate: Arc<dyn TenantRate>,
    pub config: Config,
    /// Woken whenever an idempotency key is completed or released.
    pub idem_changed: Notify,
    pub in_flight: Semaphore,
}

/// Builds the handler state.
pub fn app(config: &Config, prepared: &Prepared, dispatcher: Arc<dyn Dispatcher>) -> Arc<App> {
    error::set_doc_url(&config.http.error_doc_url);
    let service = OtpService::new(
        prepared.store.clone(),
        dispatcher,
        prepared.hasher.clone(),
        prepared.clock.clone(),
        config.otp.clone(),
        config.limits.clone(),
        prepared.abuse.clone(),
    );
    Arc::new(App {
        service,
        tenants: Tenants::new(&config.tenants, prepared.clock.instant()),
        rate: prepared.rate.clone(),
        config: config.clone(),
        idem_changed: Notify::new(),
        in_flight: Semaphore::new(config.http.max_in_flight),
    })
}

/// How long requests in progress may take to finish once shutdown has begun; connections
/// still open then (a client that never completes its request) are closed.
pub const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

/// Serves the API on `listener` until `shutdown` completes, then finishes the requests in
/// progress (within [`SHUTDOWN_GRACE`]). Runs the expiry task and the callback task for the same time; the callback task
/// then gets `[callbacks] shutdown_grace_ms` for the requests it has in flight.
pub async fn run_server(
    config: Config,
    listener: TcpListener,
    prepared: Prepared,
    dispatcher: Arc<dyn Dispatcher>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), HttpError> {
    if config.tenants.is_empty() {
        tracing::warn!("no [[tenants]] configured: every API request will be refused");
    }
    metrics::install();
    let state = app(&config, &prepared, dispatcher);
    let router = routes::router(state);
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let callbacks = CallbackTask::new(
        prepared.callbacks.clone(),
        &config.callbacks,
        &config.tenants,
        stop_rx.clone(),
    )?;
    let callbacks_handle = tokio::spawn(tracing::Instrument::instrument(
        callbacks.run(),
        tracing::info_span!("callbacks"),
    ));
    let mut expiry_stop = stop_rx.clone();
    let expiry_handle = tokio::spawn(prepared.store.clone().housekeeping(Box::pin(async move {
        let _ = expiry_stop.wait_for(|s| *s).await;
    })));
    let fd_limit = listener::raise_fd_limit();
    if let Ok(addr) = listener.local_addr() {
        tracing::info!(%addr, ?fd_limit, max_connections = config.http.max_connections, "HTTP API listening");
    }
    let result = listener::serve(listener, router, &config.http, shutdown).await;
    let _ = stop_tx.send(true);
    let _ = expiry_handle.await;
    let _ = callbacks_handle.await;
    tracing::info!("HTTP API stopped");
    result.map_err(HttpError::from)
}
