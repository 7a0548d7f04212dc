//! Starting and stopping the whole engine in order: the OTP core, the SMPP engine (with the
//! embedded SMSC simulator when no `[[smsc]]` is configured), the HTTP front; on shutdown the
//! HTTP front stops taking requests first, then the SMPP windows drain and the binds unbind,
//! then the simulator stops.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use otpgate_sim::{self as sim, SimConfig, SimHandle};
use rand::RngCore;
use tokio::net::TcpListener;

use crate::admin::{ConfigReload, ConfigView, ReloadNotAvailable, ReloadRefused};
use crate::app::Prepared;
use crate::callbacks::{CallbackError, CallbackTask};
use crate::cluster::{Cluster, Options as ClusterOptions};
use crate::config::{Config, ConfigSource, Loaded, StoreKind, TenantConfig};
use crate::dispatch::Dispatcher;
use crate::http::{self, Front, HttpError};
use crate::otp::redis::Target;
use crate::reload::{self, Reloader};
use crate::smpp::thread::EngineThread;
use crate::smpp::{EngineError, SmppEngine, SmscConfig};
use crate::telemetry;

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("embedded SMSC simulator: {0}")]
    Simulator(String),
    #[error("SMPP engine: {0}")]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Http(#[from] HttpError),
    #[error(transparent)]
    Callbacks(#[from] CallbackError),
    #[error("listener: {0}")]
    Io(#[from] std::io::Error),
    #[error("configuration: {0}")]
    Config(#[from] crate::config::ConfigError),
    #[error("OTP store: {0}")]
    Store(#[from] crate::otp::store::StoreError),
    #[error("the serving task failed: {0}")]
    Task(String),
    #[error("admin listener: {0}")]
    Admin(String),
    #[error("tenant registry: {0}")]
    Tenants(String),
    #[error("did not stop within {0:?}")]
    StopTimeout(Duration),
    #[error("was not up within {0:?}")]
    StartTimeout(Duration),
}

/// `[demo]`: whether a configuration file may leave out `[[tenants]]` or `[[smsc]]` and get the
/// demo parts instead (the embedded simulator, a temporary `demo` tenant). Without a file the
/// demo always starts; with one, a missing section is a mistake unless asked for here, so that a
/// production file with a typo never serves from a simulator.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DemoConfig {
    pub enabled: bool,
}

/// What was started, for the caller to announce (and for tests to use).
#[derive(Clone)]
pub struct Started {
    pub http_addr: SocketAddr,
    /// The admin listener's address (`[admin] listen`).
    pub admin_addr: Option<SocketAddr>,
    /// Whether the API is served over TLS (`[http] tls_cert`).
    pub tls: bool,
    /// The in-process SMSC simulator, when no SMSC was configured.
    pub simulator: Option<SimHandle>,
    /// The token of the temporary `demo` tenant, when no tenant was configured.
    pub demo_token: Option<String>,
    /// Reloads the configuration file (what `SIGHUP` does), when started from one.
    pub reloader: Option<Arc<Reloader>>,
}

/// How long the SMPP engine may take to drain its windows and unbind at shutdown.
const ENGINE_SHUTDOWN_DEADLINE: Duration = Duration::from_secs(10);
/// How long the delivery updates the engine reported may take to reach the store at shutdown.
const SINK_FLUSH_DEADLINE: Duration = Duration::from_secs(5);

/// Runs otpgate on `listener` until `shutdown` completes. `on_started` is called once every
/// part is up.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
    on_started: impl FnOnce(&Started),
) -> Result<(), ServeError> {
    run_reloadable(config, None, listener, shutdown, on_started).await
}

/// [`run`], reloading `source` on `SIGHUP` when given (`config` is its reading `loaded`).
pub async fn run_reloadable(
    mut config: Config,
    source: Option<(ConfigSource, Loaded)>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
    on_started: impl FnOnce(&Started),
) -> Result<(), ServeError> {
    let demo_token = config.tenants.is_empty().then(|| {
        let token = random_token();
        config.tenants.push(TenantConfig {
            name: "demo".into(),
            token: token.clone(),
            ..TenantConfig::default()
        });
        token
    });
    let demo_tenant = demo_token
        .as_ref()
        .and_then(|_| config.tenants.first().cloned());
    // checked here too: a configuration built in code may not have gone through the loader
    config.validate()?;
    // an unreadable certificate stops the start before anything else is up
    http::load_tls(&config.http).map_err(HttpError::from)?;
    let prepared = crate::app::prepare_store(&config).await?;
    // each node's embedded simulator is its own SMSC: nothing to share between nodes
    let cluster = match (config.store.kind, config.smsc.is_empty()) {
        (StoreKind::Redis, false) => Some(connect_cluster(&config, &prepared).await?),
        _ => None,
    };
    let simulator = if config.smsc.is_empty() {
        let sim_listener = TcpListener::bind("127.0.0.1:0").await?;
        let handle = sim::spawn(sim_listener, SimConfig::default())
            .await
            .map_err(|e| ServeError::Simulator(e.to_string()))?;
        let defaults = SmscConfig::default();
        config.smsc.push(SmscConfig {
            name: "embedded-sim".into(),
            host: handle.local_addr().ip().to_string(),
            port: handle.local_addr().port(),
            ..defaults
        });
        handle.log_messages();
        Some(handle)
    } else {
        None
    };
    let demo_smsc = if simulator.is_some() {
        config.smsc.first().cloned()
    } else {
        None
    };

    // The phone-number metadata loads on first use (a second in a debug build): load it now,
    // not in the first requests after a start.
    let _ = tokio::task::spawn_blocking(|| {
        let _ = crate::otp::phone::parse_phone("+447400123456", None);
    })
    .await;
    let admin_setup = crate::admin::start::prepare(&config.admin, &config.store)
        .await
        .map_err(|e| ServeError::Admin(e.to_string()))?;
    let registry = crate::tenants::registry::open(&config.store)
        .await
        .map_err(|e| ServeError::Tenants(e.to_string()))?;
    let permits = crate::app::bind_permits(&config, simulator.is_some()).await?;
    let engine_sink = match &cluster {
        Some(c) => c.sink(),
        None => prepared.delivery_sink(),
    };
    // the binds on a thread of their own: a loaded front does not delay refilling a window
    let engine_thread = EngineThread::start()?;
    let engine = {
        let _on_engine_thread = engine_thread.handle().enter();
        SmppEngine::start_with_permits(
            config.smsc.clone(),
            config.engine.clone(),
            engine_sink,
            prepared.clock.clone(),
            permits,
            admin_setup
                .as_ref()
                .map(|setup| setup.remembered())
                .unwrap_or(&Default::default()),
        )?
    };
    // with the Redis store the front sends through the shared queue, which feeds this engine
    let dispatcher: Arc<dyn Dispatcher> = match &cluster {
        Some(c) => c.start(Arc::new(engine.clone())),
        None => Arc::new(engine.clone()),
    };
    let front = FrontParts::build(&config, &prepared, dispatcher.clone())?;
    let parts = reload::Parts {
        front: front.front.clone(),
        prepared: prepared.clone(),
        dispatcher,
        engine: Some(engine.clone()),
        secrets: front.callbacks.secrets(),
        tls: front.tls.clone(),
        demo_smsc,
        demo_tenant,
    };
    // the tenant registry applies through it even without a file to reload
    let in_force = Arc::new(Reloader::new(source, config.clone(), parts));
    let reloader = in_force.reloadable().then(|| in_force.clone());
    let follower = crate::tenants::follow::start(registry.clone(), in_force.clone()).await;
    let admin = match admin_setup {
        Some(setup) => {
            let (reload, view): (Arc<dyn ConfigReload>, ConfigView) = match &reloader {
                Some(reloader) => {
                    let shown = reloader.clone();
                    (
                        Arc::new(AdminReload(reloader.clone())),
                        Arc::new(move || shown.config().masked_json()),
                    )
                }
                // a configuration built in code has no file to read again
                None => {
                    let view = config.clone();
                    (
                        Arc::new(ReloadNotAvailable),
                        Arc::new(move || view.masked_json()),
                    )
                }
            };
            let usage = usage_access(&config, &prepared, in_force.clone());
            let tenants = crate::admin::Provisioning {
                registry,
                in_force,
                token_key: config.security.token_key(),
            };
            Some(
                setup
                    .with_usage(usage)
                    .start(&config.http, &engine, view, reload, tenants)
                    .map_err(|e| ServeError::Admin(e.to_string()))?,
            )
        }
        None => None,
    };
    let started = Started {
        http_addr: listener.local_addr()?,
        admin_addr: admin.as_ref().map(|a| a.addr()),
        tls: config.http.tls_cert.is_some() && config.http.tls_key.is_some(),
        simulator: simulator.clone(),
        demo_token,
        reloader: reloader.clone(),
    };
    on_started(&started);

    let sink = prepared.sink.clone();
    let store = prepared.store.clone();
    let served = serve_front(listener, prepared, front, reloader, shutdown).await;
    if let Some(admin) = admin {
        admin.stop().await;
    }
    follower.stop().await;
    if let Some(c) = &cluster {
        c.stop_reading().await;
    }
    engine.shutdown(ENGINE_SHUTDOWN_DEADLINE).await;
    if let Some(c) = &cluster {
        c.finish(SINK_FLUSH_DEADLINE).await;
    }
    // what the engine reported while it drained is recorded before the process goes
    if tokio::time::timeout(SINK_FLUSH_DEADLINE, sink.flush())
        .await
        .is_err()
    {
        tracing::warn!("delivery updates still unrecorded at shutdown");
    }
    // with what the engine charged while it drained
    let _ = tokio::task::spawn_blocking(move || store.persist_usage()).await;
    if let Some(sim) = simulator {
        sim.shutdown().await;
    }
    drop(engine_thread);
    served
}

/// What the admin API's usage endpoint reads: the store's counters, for the tenants in force
/// (those of the last reload applied).
fn usage_access(
    config: &Config,
    prepared: &crate::app::Prepared,
    in_force: Arc<Reloader>,
) -> crate::admin::usage::UsageAccess {
    // the set in force: the file's tenants and those provisioned through the admin API
    let tenant_known = move |id: &str| in_force.config().tenants.iter().any(|t| t.id() == id);
    crate::admin::usage::UsageAccess {
        store: prepared.store.clone(),
        tenant_known: Arc::new(tenant_known),
        currency: config.otp.currency.clone(),
        clock: prepared.clock.clone(),
    }
}

/// The send queue shared through Redis by the nodes (`[store] kind = "redis"`).
async fn connect_cluster(config: &Config, prepared: &Prepared) -> Result<Cluster, ServeError> {
    let s = &config.store;
    let target = if s.cluster_nodes.is_empty() {
        Target::Single(s.url.clone())
    } else {
        Target::Cluster(s.cluster_nodes.clone())
    };
    let secret = config
        .security
        .pin_secret
        .as_deref()
        .unwrap_or_default()
        .as_bytes()
        .to_vec();
    let ms = Duration::from_millis;
    let options = ClusterOptions {
        settings: config.cluster.clone(),
        target,
        key_prefix: s.key_prefix.clone(),
        timeout: ms(s.timeout_ms),
        secret,
        smscs: config.smsc.iter().map(|m| m.name.clone()).collect(),
        failover_after: ms(config.engine.failover_after_ms),
        no_route_after: ms(config.engine.no_route_after_ms),
        retry_after: ms(config.engine.retry_after_ms),
    };
    let store = prepared.store.clone();
    let wall = prepared.clock.clone();
    Ok(Cluster::connect(options, store, prepared.sink.clone(), wall).await?)
}

/// Runs the HTTP front on `listener`, with the OTP core's background tasks (the store's
/// housekeeping and the callback delivery), until `shutdown` completes; then the front
/// finishes its requests, the housekeeping stops, and the callback task gets
/// `[callbacks] shutdown_grace_ms` for the requests it has in flight.
pub async fn run_front(
    config: &Config,
    listener: TcpListener,
    prepared: Prepared,
    dispatcher: Arc<dyn Dispatcher>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let front = FrontParts::build(config, &prepared, dispatcher)?;
    serve_front(listener, prepared, front, None, shutdown).await
}

/// The HTTP front's parts, built before it serves (a reload needs them).
struct FrontParts {
    front: Front,
    callbacks: CallbackTask,
    tls: Option<Arc<http::tls::TlsCerts>>,
    stop_tx: tokio::sync::watch::Sender<bool>,
}

impl FrontParts {
    fn build(
        config: &Config,
        prepared: &Prepared,
        dispatcher: Arc<dyn Dispatcher>,
    ) -> Result<Self, ServeError> {
        let tls = http::load_tls(&config.http).map_err(HttpError::from)?;
        let front = crate::app::front(config, prepared, dispatcher);
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let callbacks = CallbackTask::new(
            prepared.callbacks.clone(),
            &config.callbacks,
            &config.tenants,
            prepared.resolver.clone(),
            stop_rx,
        )?;
        Ok(Self {
            front,
            callbacks,
            tls,
            stop_tx,
        })
    }
}

async fn serve_front(
    listener: TcpListener,
    prepared: Prepared,
    parts: FrontParts,
    reloader: Option<Arc<Reloader>>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let FrontParts {
        front,
        callbacks,
        tls,
        stop_tx,
    } = parts;
    let stop_rx = stop_tx.subscribe();
    let reload_handle = tokio::spawn(reload_on_sighup(
        hangups(),
        tls.clone(),
        reloader,
        stop_rx.clone(),
    ));
    let callbacks_handle = tokio::spawn(tracing::Instrument::instrument(
        callbacks.run(),
        tracing::info_span!("callbacks"),
    ));
    let upkeep_handle = tokio::spawn(telemetry::keep_up(
        telemetry::UPKEEP_EVERY,
        stopped(stop_rx.clone()),
    ));
    let expiry_handle = tokio::spawn(
        prepared
            .store
            .clone()
            .housekeeping(Box::pin(stopped(stop_rx))),
    );
    let result = http::serve(front, listener, tls, shutdown).await;
    let _ = stop_tx.send(true);
    let _ = reload_handle.await;
    let _ = expiry_handle.await;
    let _ = upkeep_handle.await;
    let _ = callbacks_handle.await;
    result.map_err(ServeError::from)
}

/// Resolves once `stop` turns true (or its sender is gone): the end of a background task.
async fn stopped(mut stop: tokio::sync::watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

/// The `SIGHUP`s to come, listened to from now on (before the listener answers, so that a
/// reload sent once the API is up is never the default action, which ends the process).
#[cfg(unix)]
fn hangups() -> Option<tokio::signal::unix::Signal> {
    use tokio::signal::unix::{signal, SignalKind};
    signal(SignalKind::hangup())
        .map_err(|e| tracing::warn!(error = %e, "cannot listen for SIGHUP"))
        .ok()
}

#[cfg(not(unix))]
fn hangups() -> Option<()> {
    None
}

/// Reloads the configuration on each `SIGHUP` until `stop` (the certificate with it); started
/// without a configuration file, re-reads the HTTPS certificate only (without TLS either, a
/// `SIGHUP` is logged and otherwise ignored).
#[cfg(unix)]
async fn reload_on_sighup(
    hangups: Option<tokio::signal::unix::Signal>,
    tls: Option<Arc<http::tls::TlsCerts>>,
    reloader: Option<Arc<Reloader>>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let Some(mut hangups) = hangups else {
        return;
    };
    loop {
        let got = tokio::select! {
            _ = stop.wait_for(|s| *s) => return,
            got = hangups.recv() => got,
        };
        if got.is_none() {
            return;
        }
        if let Some(reloader) = &reloader {
            // the outcome is logged and counted by reload itself
            let _ = reloader.reload().await;
            continue;
        }
        match &tls {
            // the outcome is logged and counted by reload itself
            Some(certs) => {
                let _ = certs.reload();
            }
            None => tracing::info!("SIGHUP: no TLS certificate to re-read"),
        }
    }
}

#[cfg(not(unix))]
async fn reload_on_sighup(
    _hangups: Option<()>,
    _tls: Option<Arc<http::tls::TlsCerts>>,
    _reloader: Option<Arc<Reloader>>,
    _stop: tokio::sync::watch::Receiver<bool>,
) {
}

/// otpgate running in a background task of the current runtime: how an embedder (or a test)
/// starts the whole engine and later stops it in order.
pub struct Running {
    pub started: Started,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Result<(), ServeError>>,
}

impl Running {
    /// Starts otpgate on `listener` and returns once every part is up, or with the error that
    /// kept it from starting.
    pub async fn start(config: Config, listener: TcpListener) -> Result<Running, ServeError> {
        Self::start_with(config, None, listener).await
    }

    async fn start_with(
        config: Config,
        source: Option<(ConfigSource, Loaded)>,
        listener: TcpListener,
    ) -> Result<Running, ServeError> {
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (up_tx, up_rx) = tokio::sync::oneshot::channel();
        let task = tokio::spawn(run_reloadable(
            config,
            source,
            listener,
            async move {
                let _ = stopped.await;
            },
            move |s: &Started| {
                let _ = up_tx.send(s.clone());
            },
        ));
        match up_rx.await {
            Ok(started) => Ok(Running {
                started,
                stop,
                task,
            }),
            // The task ended before it was up: its result says why.
            Err(_) => Err(match task.await {
                Ok(Err(e)) => e,
                Ok(Ok(())) => ServeError::Task("stopped before it was up".into()),
                Err(e) => ServeError::Task(e.to_string()),
            }),
        }
    }

    /// Starts otpgate from the configuration file of `source` on `listener`, reloadable
    /// (`started.reloader`) as with `SIGHUP`.
    pub async fn start_from(
        source: ConfigSource,
        listener: TcpListener,
    ) -> Result<Running, ServeError> {
        let loaded = source.read()?;
        let config = loaded.config.clone();
        Self::start_with(config, Some((source, loaded)), listener).await
    }

    /// Starts otpgate on a free port of 127.0.0.1, waiting at most `within` for it to be up
    /// (for tests and local tools).
    pub async fn start_on_loopback(
        config: Config,
        within: Duration,
    ) -> Result<Running, ServeError> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        tokio::time::timeout(within, Self::start(config, listener))
            .await
            .map_err(|_| ServeError::StartTimeout(within))?
    }

    /// `http://ADDR` (`https://` with TLS) of the HTTP API.
    pub fn base_url(&self) -> String {
        let scheme = if self.started.tls { "https" } else { "http" };
        format!("{scheme}://{}", self.started.http_addr)
    }

    /// Stops it (HTTP front, then the SMPP engine, then the simulator) and waits at most
    /// `within` for that to finish.
    pub async fn stop(self, within: Duration) -> Result<(), ServeError> {
        let _ = self.stop.send(());
        match tokio::time::timeout(within, self.task).await {
            Err(_) => Err(ServeError::StopTimeout(within)),
            Ok(Err(e)) => Err(ServeError::Task(e.to_string())),
            Ok(Ok(result)) => result,
        }
    }
}

/// A fresh 128-bit token from the OS CSPRNG, as hex.
fn random_token() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// `POST /admin/reload`: the same reload as `SIGHUP`, its report as the admin API shows it.
struct AdminReload(Arc<Reloader>);

#[async_trait::async_trait]
impl ConfigReload for AdminReload {
    async fn reload(&self) -> Result<crate::admin::ReloadReport, ReloadRefused> {
        match self.0.reload().await {
            Ok(report) => Ok(report.for_admin()),
            Err(reload::ReloadError::Invalid(text)) => Err(ReloadRefused::Invalid(text)),
            Err(reload::ReloadError::NotAvailable) => Err(ReloadRefused::NotAvailable),
        }
    }
}
