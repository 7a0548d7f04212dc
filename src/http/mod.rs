//! The HTTP front (sms.cx OTP API v1 compatible): startup wiring, the router, handlers, errors,
//! authentication, metrics and the OpenAPI document.
//!
//! Startup order: [`prepare`] builds the clock, the store and the [`StoreSink`] the SMPP
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
mod routes;

use std::future::Future;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::{Notify, Semaphore};

use crate::callbacks::{CallbackObserver, CallbackQueue, CallbackTask};
use crate::config::Config;
use crate::dispatch::{DeliverySink, Dispatcher};
use crate::otp::expiry::ExpiryTask;
use crate::otp::pin::PinHasher;
use crate::otp::tenant::Tenants;
use crate::otp::{Clock, MemoryStore, OtpService, StoreSink};

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
    pub store: Arc<MemoryStore>,
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

/// Builds store and sink from `config`. Without `[security] pin_secret` a random key is used
/// (PINs then do not survive a restart nor verify on another node) and a warning is logged.
pub fn prepare(config: &Config) -> Prepared {
    let clock = Arc::new(Clock::new());
    let store = Arc::new(MemoryStore::new(
        clock.clone(),
        config.otp.max_live,
        config.otp.retain_after_expiry_s,
    ));
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
        sink,
        hasher,
        callbacks,
    }
}

/// Shared state of the handlers.
pub struct App {
    pub service: OtpService,
    pub tenants: Tenants,
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
        config.abuse.clone(),
    );
    Arc::new(App {
        service,
        tenants: Tenants::new(&config.tenants, prepared.clock.instant()),
        config: config.clone(),
        idem_changed: Notify::new(),
        in_flight: Semaphore::new(config.http.max_in_flight),
    })
}

/// Serves the API on `listener` until `shutdown` completes, then finishes the requests in
/// progress. Runs the expiry task and the callback task for the same time; the callback task
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
    let expiry = ExpiryTask::new(prepared.store.clone());
    let mut expiry_stop = stop_rx.clone();
    let expiry_handle = tokio::spawn(async move {
        expiry
            .run(async move {
                let _ = expiry_stop.wait_for(|s| *s).await;
            })
            .await;
    });
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
