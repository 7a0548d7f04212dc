//! Assembles one engine's parts from its configuration: the clock, the OTP store (memory or
//! Redis) with the callback observer it reports changes to, the pumping guard, the tenants'
//! create rate, the PIN hasher, the callback queue and the delivery sink that the SMPP engine
//! reports to, and the bind permits (cluster leases with Redis). The only module that knows every part: each part knows only those below it,
//! and the HTTP front receives them already built.

use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;

use crate::callbacks::resolve::{HostResolver, SystemResolver};
use crate::callbacks::{CallbackObserver, CallbackQueue};
use crate::cluster::{LeaseOptions, RedisLeases};
use crate::config::{Config, StoreKind};
use crate::dispatch::{DeliverySink, Dispatcher};
use crate::http::{self, Front};
use crate::otp::abuse::AbuseGuard;
use crate::otp::credit::{Credit, CreditLedger, MemoryLedger};
use crate::otp::guard::PumpingGuard;
use crate::otp::identity::TenantTag;
use crate::otp::model::Cost;
use crate::otp::pin::PinHasher;
use crate::otp::redis::abuse::RedisGuard;
use crate::otp::redis::rate::RedisRate;
use crate::otp::redis::{RedisOptions, Target};
use crate::otp::sender_rules::DefaultSenders;
use crate::otp::store::{ChangeObserver, StoreError};
use crate::otp::tenant::{LocalRate, TenantRate};
use crate::otp::usage::{UsageBook, UsageFileError};
use crate::otp::{Clock, MemoryStore, OtpService, RedisStore, Store, StoreSink};
use crate::smpp::{AlwaysPermit, BindPermits};
use crate::telemetry;

/// The OTP core before the engine exists: clock, store and the sink for the engine.
#[derive(Clone)]
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
    /// How callback hosts are looked up, at create and at delivery (the system resolver;
    /// replaceable before the front starts).
    pub resolver: Arc<dyn HostResolver>,
    /// The tenants' credit (`[[tenants]] credit`), kept beside the store.
    pub credit: Arc<Credit>,
    /// The senders callbacks show when an OTP stores none (the tenants' defaults).
    pub default_senders: Arc<ArcSwap<DefaultSenders>>,
}

impl Prepared {
    /// The sink to hand to the SMPP engine.
    pub fn delivery_sink(&self) -> Arc<dyn DeliverySink> {
        self.sink.clone()
    }
}

/// The OTP service of `config`'s request-facing settings over these parts, sending through
/// `dispatcher` (built again, over the same parts, by a reload).
pub fn service(
    config: &Config,
    prepared: &Prepared,
    dispatcher: Arc<dyn Dispatcher>,
) -> OtpService {
    OtpService::new(
        prepared.store.clone(),
        dispatcher,
        prepared.hasher.clone(),
        prepared.clock.clone(),
        config.otp.clone(),
        config.limits.clone(),
        prepared.abuse.clone(),
    )
    .with_senders(config.senders.clone())
    .with_credit(prepared.credit.clone())
}

/// The HTTP front's state: the OTP service over these parts, sending through `dispatcher`.
pub fn front(config: &Config, prepared: &Prepared, dispatcher: Arc<dyn Dispatcher>) -> Front {
    http::app(
        config,
        service(config, prepared, dispatcher),
        prepared.rate.clone(),
        prepared.resolver.clone(),
        prepared.clock.instant(),
    )
}

/// The label values the configuration announces, for the series registered at zero.
fn known(config: &Config) -> telemetry::Known {
    telemetry::Known {
        smscs: config.smsc.iter().map(|s| s.name.clone()).collect(),
        tenants: {
            let count = config.tenants.len();
            let labels: std::collections::BTreeSet<&str> = config
                .tenants
                .iter()
                .map(|t| t.metric_label(count))
                .collect();
            labels.into_iter().map(str::to_owned).collect()
        },
        store: config.store.kind.as_str(),
        max_live: config.otp.max_live,
    }
}

/// The callback queue and the observer that fills it, made before the store that reports to
/// it.
fn callbacks(config: &Config, clock: &Arc<Clock>) -> Begun {
    let queue = Arc::new(CallbackQueue::new(crate::callbacks::queue::Limits::of(
        &config.callbacks,
    )));
    let observer = CallbackObserver::new(queue.clone(), clock.clone(), config.otp.price_per_part)
        .with_default_senders(default_senders(config));
    let senders = observer.default_senders();
    (clock.clone(), queue, Arc::new(observer), senders)
}

/// The default sender of each tenant (the `[otp]` one for a tenant without its own).
pub fn default_senders(config: &Config) -> DefaultSenders {
    DefaultSenders::new(&config.otp.default_sender, &config.tenants)
}

type Begun = (
    Arc<Clock>,
    Arc<CallbackQueue>,
    Arc<dyn ChangeObserver>,
    Arc<ArcSwap<DefaultSenders>>,
);

/// What every store is built with: the recorder installed and the known series registered
/// (before the engine starts, so that its first bind-up and window gauges are not lost), the
/// clock, and the callback queue with the observer that fills it.
fn begin(config: &Config) -> Begun {
    telemetry::install();
    telemetry::register_known(&known(config));
    callbacks(config, &Arc::new(Clock::new()))
}

/// Builds the in-memory store and its sink from `config` (whatever `[store] kind` says; see
/// [`prepare_store`]). Without `[security] pin_secret` a random key is used (PINs then do not
/// survive a restart nor verify on another node) and a warning is logged.
pub fn prepare(config: &Config) -> Prepared {
    let (clock, callbacks, observer, senders) = begin(config);
    let store = Arc::new(
        MemoryStore::new(
            clock.clone(),
            config.otp.max_live,
            config.otp.retain_after_expiry_s,
        )
        .with_receipt_hold(config.otp.receipt_hold())
        .with_usage(usage_book(config, &clock))
        .with_observer(observer),
    );
    let abuse = Arc::new(AbuseGuard::new(config.abuse.clone()));
    let rate = Arc::new(LocalRate::new(clock.clone()));
    let ledger = Arc::new(MemoryLedger::default());
    Prepared {
        default_senders: senders,
        ..assemble(config, clock, store, abuse, rate, callbacks, ledger)
    }
}

/// The memory store's usage counters: read back from `[store] state_dir` when set. A file
/// that is not usage counters is set aside (and counting starts again); one that cannot be
/// read leaves the counters in memory only, rather than overwrite it.
fn usage_book(config: &Config, clock: &Clock) -> Arc<UsageBook> {
    let days = config.store.usage_retention_days;
    let Some(dir) = &config.store.state_dir else {
        return Arc::new(UsageBook::new(days));
    };
    let now = clock.unix_secs();
    let book = match UsageBook::persisted(days, dir.clone(), now) {
        Err(e @ UsageFileError::Unreadable { .. }) => {
            tracing::error!(error = %e, "usage counters not read back: counting from zero");
            UsageBook::persisted(days, dir.clone(), now)
        }
        other => other,
    };
    Arc::new(book.unwrap_or_else(|e| {
        tracing::error!(error = %e, "usage counters not read back: kept in memory only");
        UsageBook::new(days)
    }))
}

/// Builds the store `[store] kind` names: the in-memory one, or the Redis one (connecting to
/// it: fails when Redis does not answer within `[store] timeout_ms`).
pub async fn prepare_store(config: &Config) -> Result<Prepared, StoreError> {
    match config.store.kind {
        StoreKind::Memory => Ok(prepare(config)),
        StoreKind::Redis => {
            let (clock, callbacks, observer, senders) = begin(config);
            let s = &config.store;
            let opts = RedisOptions {
                target: redis_target(s),
                key_prefix: s.key_prefix.clone(),
                timeout: Duration::from_millis(s.timeout_ms),
                retain_s: config.otp.retain_after_expiry_s,
                max_live: config.otp.max_live,
            };
            let legacy_tenants = config
                .tenants
                .iter()
                .map(|t| TenantTag::of(t.id()))
                .collect();
            let store = Arc::new(
                RedisStore::connect(opts, clock.clone())
                    .await?
                    .with_legacy_tenants(legacy_tenants)
                    .with_receipt_hold(config.otp.receipt_hold())
                    .with_usage_retention(s.usage_retention_days)
                    .with_observer(observer),
            );
            let abuse = Arc::new(RedisGuard::new(store.clone(), config.abuse.clone()));
            let rate = Arc::new(RedisRate::new(store.clone()));
            Ok(Prepared {
                default_senders: senders,
                ..assemble(config, clock, store.clone(), abuse, rate, callbacks, store)
            })
        }
    }
}

/// The credit of each tenant that has one (`[[tenants]] credit`).
pub fn credit_limits(config: &Config) -> Vec<(TenantTag, crate::otp::credit::CreditLimit)> {
    config
        .tenants
        .iter()
        .filter_map(|t| {
            let limit = t.credit.as_ref()?.limit()?;
            Some((TenantTag::of(t.id()), limit))
        })
        .collect()
}

/// Wires a store (already reporting to `callbacks`) into the delivery sink, with the PIN key.
pub fn assemble(
    config: &Config,
    clock: Arc<Clock>,
    store: Arc<dyn Store>,
    abuse: Arc<dyn PumpingGuard>,
    rate: Arc<dyn TenantRate>,
    callbacks: Arc<CallbackQueue>,
    ledger: Arc<dyn CreditLedger>,
) -> Prepared {
    let sink = Arc::new(StoreSink::new(store.clone(), clock.clone()));
    sink.set_fallback_price(Cost::micros(config.otp.price_per_part));
    let credit = Arc::new(Credit::new(credit_limits(config), ledger));
    sink.set_credit(credit.clone());
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
        resolver: Arc::new(SystemResolver),
        credit,
        default_senders: Arc::new(ArcSwap::from_pointee(default_senders(config))),
    }
}

/// Who may open which bind: with the Redis store, the cluster's bind leases (the `binds` and
/// `tps` of each `[[smsc]]` shared by every node); with the memory store, or against the
/// embedded simulator (each node has its own), every bind.
pub async fn bind_permits(
    config: &Config,
    embedded_simulator: bool,
) -> Result<Arc<dyn BindPermits>, StoreError> {
    if config.store.kind != StoreKind::Redis || embedded_simulator {
        return Ok(Arc::new(AlwaysPermit));
    }
    let s = &config.store;
    let opts = LeaseOptions {
        target: redis_target(s),
        key_prefix: s.key_prefix.clone(),
        node_id: config.cluster.node_id.clone(),
        ttl: Duration::from_millis(config.cluster.lease_ttl_ms),
        timeout: Duration::from_millis(s.timeout_ms),
    };
    let smscs: Vec<String> = config.smsc.iter().map(|c| c.name.clone()).collect();
    Ok(Arc::new(RedisLeases::start(opts, &smscs).await?))
}

fn redis_target(s: &crate::config::StoreConfig) -> Target {
    if s.cluster_nodes.is_empty() {
        Target::Single(s.url.clone())
    } else {
        Target::Cluster(s.cluster_nodes.clone())
    }
}
