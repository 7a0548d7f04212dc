//! The HTTP front (sms.cx OTP API v1 compatible): it owns the sms.cx wire format (the create
//! body, the error codes, the OTP object, idempotent replies), the router, the handlers,
//! authentication, the per-request metrics and the OpenAPI document. It receives the OTP core
//! already assembled (see `app`), the SMPP engine behind its dispatcher.

mod admission;
mod auth;
mod body;
pub mod cors;
pub mod create_body;
pub mod early_refusal;
pub mod error;
mod handlers;
mod header_names;
mod idle_io;
pub mod listener;
pub mod metrics;
pub mod openapi;
mod ops;
mod per_address;
mod request_headers;
mod routes;
pub mod settings;
pub mod tls;
mod wake_gate;

use std::future::Future;
use std::sync::Arc;

use arc_swap::ArcSwap;
use tokio::net::TcpListener;
use tokio::sync::{Notify, Semaphore};

use crate::callbacks::resolve::{BoundedResolver, HostResolver};
use crate::callbacks::CallbacksConfig;
use crate::otp::phone::LibraryPool;
use crate::otp::settings::{LimitsConfig, StoreKind, TenantConfig};
use crate::otp::tenant::{TenantRate, Tenants};
use crate::otp::token_index::TokenKey;
use crate::otp::{OtpConfig, OtpService};

pub use routes::router;
pub use settings::HttpConfig;

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("HTTP server: {0}")]
    Serve(#[from] std::io::Error),
    #[error("HTTP TLS: {0}")]
    Tls(#[from] tls::TlsError),
}

/// What the HTTP front needs of the configuration (see `config` for the sections).
#[derive(Debug, Clone)]
pub struct FrontSettings {
    pub http: HttpConfig,
    pub otp: OtpConfig,
    pub limits: LimitsConfig,
    pub callbacks: CallbacksConfig,
    pub tenants: Vec<TenantConfig>,
    pub store_kind: StoreKind,
    /// The key of the tenants' token MACs (from `[security] pin_secret`; without it,
    /// provisioned tenants' tokens open nothing).
    pub token_key: Option<TokenKey>,
}

/// Shared state of the handlers: one snapshot of the request-facing configuration (tenants,
/// templates, limits, sender rules, callback settings) with the parts that outlive it. A
/// request takes one snapshot when it starts and uses it to the end (see [`Front`]).
pub struct App {
    pub service: OtpService,
    pub tenants: Tenants,
    /// Where the tenants' create tokens are counted.
    pub rate: Arc<dyn TenantRate>,
    pub config: FrontSettings,
    /// Whether a tenant narrows `[http] cors_allowed_origins` (then answers are checked).
    pub tenants_narrow_cors: bool,
    /// What every snapshot shares.
    pub lasting: Arc<Lasting>,
}

/// The parts of the front that a configuration reload keeps.
pub struct Lasting {
    /// Woken whenever an idempotency key is completed or released.
    pub idem_changed: Notify,
    pub in_flight: Semaphore,
    /// The library's parse of the numbers the fast paths cannot answer.
    pub phones: LibraryPool,
    /// Create-time lookups of callback hosts.
    pub callback_hosts: BoundedResolver,
}

impl std::ops::Deref for App {
    type Target = Lasting;
    fn deref(&self) -> &Lasting {
        &self.lasting
    }
}

impl App {
    /// A snapshot of `settings` around `service`, sharing this one's lasting parts (its
    /// in-flight limit, idempotency waiters, parse pool and resolver) and its rate counter.
    pub fn renewed(
        &self,
        settings: impl Into<FrontSettings>,
        service: OtpService,
        now: tokio::time::Instant,
    ) -> App {
        let config: FrontSettings = settings.into();
        App {
            service,
            tenants: Tenants::keyed(&config.tenants, config.token_key.as_ref(), now),
            rate: self.rate.clone(),
            tenants_narrow_cors: narrows_cors(&config.tenants),
            config,
            lasting: self.lasting.clone(),
        }
    }
}

fn narrows_cors(tenants: &[TenantConfig]) -> bool {
    tenants.iter().any(|t| !t.cors_allowed_origins.is_empty())
}

/// The router's state: the current [`App`] snapshot, replaced whole by a reload. Handlers
/// extract `State<Arc<App>>`, which loads the snapshot of the moment.
#[derive(Clone)]
pub struct Front {
    current: Arc<ArcSwap<App>>,
}

impl Front {
    pub fn new(app: App) -> Front {
        Front {
            current: Arc::new(ArcSwap::from_pointee(app)),
        }
    }

    /// The snapshot in force.
    pub fn load(&self) -> Arc<App> {
        self.current.load_full()
    }

    /// The snapshot in force, for a look that ends before the next await.
    pub fn current(&self) -> arc_swap::Guard<Arc<App>> {
        self.current.load()
    }

    /// Puts `app` in force: requests that start from now on see it, those in progress finish
    /// with the one they started with.
    pub fn replace(&self, app: App) {
        self.current.store(Arc::new(app));
    }
}

impl axum::extract::FromRef<Front> for Arc<App> {
    fn from_ref(front: &Front) -> Arc<App> {
        front.load()
    }
}

/// Builds the handler state around an OTP service (see `app::front`); callback hosts are
/// looked up with `resolver`.
pub fn app(
    settings: impl Into<FrontSettings>,
    service: OtpService,
    rate: Arc<dyn TenantRate>,
    resolver: Arc<dyn HostResolver>,
    now: tokio::time::Instant,
) -> Front {
    let config: FrontSettings = settings.into();
    error::set_doc_url(&config.http.error_doc_url);
    Front::new(App {
        service,
        tenants: Tenants::keyed(&config.tenants, config.token_key.as_ref(), now),
        rate,
        tenants_narrow_cors: narrows_cors(&config.tenants),
        lasting: Arc::new(Lasting {
            in_flight: Semaphore::new(config.http.max_in_flight),
            phones: LibraryPool::new(
                config.otp.phone_parse_threads,
                std::time::Duration::from_millis(config.otp.phone_parse_wait_ms),
            ),
            callback_hosts: BoundedResolver::of(resolver, &config.callbacks),
            idem_changed: Notify::new(),
        }),
        config,
    })
}

/// How long requests in progress may take to finish once shutdown has begun; connections
/// still open then (a client that never completes its request) are closed.
pub const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

/// The certificate of `[http] tls_cert` / `tls_key` when both are set; an error names the file
/// at fault.
pub fn load_tls(config: &HttpConfig) -> Result<Option<Arc<tls::TlsCerts>>, tls::TlsError> {
    match (&config.tls_cert, &config.tls_key) {
        (Some(cert), Some(key)) => tls::TlsCerts::load(cert, key).map(Some),
        _ => Ok(None),
    }
}

/// Serves the API of `state` on `listener` (over TLS with `tls`) until `shutdown` completes,
/// then finishes the requests in progress (within [`SHUTDOWN_GRACE`]).
pub async fn serve(
    front: Front,
    listener: TcpListener,
    tls: Option<Arc<tls::TlsCerts>>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), HttpError> {
    let state = front.load();
    if state.config.tenants.is_empty() {
        tracing::warn!("no [[tenants]] configured: every API request will be refused");
    }
    crate::telemetry::install();
    let http = state.config.http.clone();
    drop(state);
    let (router, direct) = routes::router_and_direct_create(front.clone());
    // after `telemetry::install`: it takes its metric handles now
    let shortcuts = listener::Shortcuts {
        early: Some(early_refusal::EarlyRefusal::new(front)),
        direct,
    };
    let fd_limit = listener::raise_fd_limit();
    if tls.is_some() {
        tls::register_metrics();
    }
    if let Ok(addr) = listener.local_addr() {
        let scheme = if tls.is_some() { "https" } else { "http" };
        tracing::info!(%addr, scheme, ?fd_limit, max_connections = http.max_connections, "HTTP API listening");
    }
    listener::warn_if_metrics_open(&listener, &http);
    let result = listener::serve(listener, router, shortcuts, &http, tls, shutdown).await;
    tracing::info!("HTTP API stopped");
    result.map_err(HttpError::from)
}
