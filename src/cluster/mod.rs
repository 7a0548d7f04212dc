//! What the nodes sharing one Redis agree on (Redis store). Which node holds which bind of
//! each SMSC account ([`leases`], the engine's [`BindPermits`](crate::smpp::BindPermits)), so
//! that `binds` and `tps` of an `[[smsc]]` hold for the whole cluster; and the send queue
//! they share: an accepted OTP's SMS is in Redis before the create answers, and whichever
//! node has a bind of its SMSC up sends it; a node that dies leaves its unsettled entries to
//! the others. See `docs/cluster.md`.
//!
//! Layout: [`settings`] (`[cluster]`); [`leases`]: bind slots; `seal`: entries encrypted at rest; `stream`: the
//! Redis commands; `view`: the cluster's binds and queue lengths, refreshed in the
//! background; `dispatcher`: where creates append; `consumer`: a task per SMSC feeding
//! this node's engine; `members`: the SMSCs followed as reloads change the engine's;
//! `sink`: the engine's reports, settling entries; `held`: the entries this node holds;
//! `mover`: entries of an SMSC down everywhere (or removed) go to the next of their route.
//!
//! Sits between `app`/`serve` and the parts it joins (`dispatch`, the OTP store and its sink,
//! `telemetry`); neither the OTP core nor the SMPP engine knows it.

mod consumer;
mod dispatcher;
mod held;
pub mod leases;
mod members;
mod mover;
pub mod seal;
pub mod settings;
mod sink;
mod stream;
mod view;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot, Notify};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::dispatch::{DeliverySink, Dispatcher, WallClock};
use crate::otp::redis::{Conn, Redis, Target};
use crate::otp::store::{Store, StoreError};
use crate::otp::StoreSink;
pub use consumer::EXPIRED_BEFORE_SEND;
use held::{HeldSet, Outcome};
pub use leases::{LeaseOptions, RedisLeases};
pub use seal::Sealer;
pub use settings::ClusterSettings;
use stream::Streams;
use view::View;

/// What the shared queue needs from the configuration (gathered by `serve`).
pub struct Options {
    pub settings: ClusterSettings,
    pub target: Target,
    pub key_prefix: String,
    pub timeout: Duration,
    /// `[security] pin_secret`: the key of the entries derives from it.
    pub secret: Vec<u8>,
    /// Each SMSC's name (at start: the cluster then follows the engine's SMSCs).
    pub smscs: Vec<String>,
    /// `[engine] failover_after_ms`, `no_route_after_ms`, `retry_after_ms`.
    pub failover_after: Duration,
    pub no_route_after: Duration,
    pub retry_after: Duration,
}

/// What every task of the shared queue on this node works with.
pub(crate) struct Queue {
    node: String,
    settings: ClusterSettings,
    streams: Streams,
    sealer: Sealer,
    view: Arc<View>,
    held: HeldSet,
    store: Arc<dyn Store>,
    /// The store's own sink: fates are recorded through it before their entries are settled.
    sink: Arc<StoreSink>,
    wall: Arc<dyn WallClock>,
    engine: OnceLock<Arc<dyn Dispatcher>>,
    wakers: Mutex<Vec<(String, Arc<Notify>)>>,
    /// The consumer task of each SMSC of the engine, and what stops it alone.
    consumers: Mutex<Vec<(String, CancellationToken, JoinHandle<()>)>>,
    outcomes: mpsc::UnboundedSender<sink::Job>,
    /// Consumers and the mover stop.
    reading: CancellationToken,
    stopping: AtomicBool,
    retry_after: Duration,
}

impl Queue {
    /// Notified when `smsc`'s stream gets an entry from this node or room is freed here.
    fn waker(&self, smsc: &str) -> Arc<Notify> {
        let mut wakers = lock(&self.wakers);
        if let Some((_, w)) = wakers.iter().find(|(n, _)| n == smsc) {
            return w.clone();
        }
        let w = Arc::new(Notify::new());
        wakers.push((smsc.to_owned(), w.clone()));
        w
    }

    fn wake(&self, smsc: &str) {
        if let Some((_, w)) = lock(&self.wakers).iter().find(|(n, _)| n == smsc) {
            w.notify_one();
        }
    }

    /// The channel is unbounded, but what goes in is bounded: entries held (at most the
    /// prefetch of each SMSC) and those of one read.
    fn outcome(&self, o: Outcome) {
        let _ = self.outcomes.send(sink::Job::Outcome(o));
    }
}

/// The shared send queue of this node.
pub struct Cluster {
    queue: Arc<Queue>,
    outcomes: Mutex<Option<mpsc::UnboundedReceiver<sink::Job>>>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
    refresh: Mutex<Option<JoinHandle<()>>>,
    acker: Mutex<Option<JoinHandle<()>>>,
    view_stop: CancellationToken,
}

impl Cluster {
    /// Connects to Redis (its own connection: the queue's polling does not wait behind the
    /// store's requests) and reads the cluster's binds once.
    pub async fn connect(
        opts: Options,
        store: Arc<dyn Store>,
        sink: Arc<StoreSink>,
        wall: Arc<dyn WallClock>,
    ) -> Result<Cluster, StoreError> {
        let conn = Conn::connect(&opts.target, opts.timeout).await?;
        let streams = Streams::new(Redis::new(conn, opts.timeout), &opts.key_prefix);
        let names = opts.smscs;
        for name in &names {
            streams.ensure_group(name).await?;
        }
        crate::telemetry::register_sendq(&names);
        let view = Arc::new(View::new(
            names.clone(),
            opts.failover_after,
            opts.no_route_after,
        ));
        let node = opts.settings.resolved_node_id();
        view.refresh(&streams, &node, &|_| 0).await;
        let (tx, rx) = mpsc::unbounded_channel();
        tracing::info!(node = %node, smscs = names.len(), "shared send queue on Redis");
        let queue = Arc::new(Queue {
            node,
            sealer: Sealer::new(&opts.secret),
            streams,
            view,
            held: HeldSet::default(),
            store,
            sink,
            wall,
            engine: OnceLock::new(),
            wakers: Mutex::new(names.iter().map(|n| (n.clone(), Arc::default())).collect()),
            consumers: Mutex::new(Vec::new()),
            outcomes: tx,
            reading: CancellationToken::new(),
            stopping: AtomicBool::new(false),
            retry_after: opts.retry_after,
            settings: opts.settings,
        });
        Ok(Cluster {
            queue,
            outcomes: Mutex::new(Some(rx)),
            tasks: Mutex::new(Vec::new()),
            refresh: Mutex::new(None),
            acker: Mutex::new(None),
            view_stop: CancellationToken::new(),
        })
    }

    /// This node's id among the nodes.
    pub fn node_id(&self) -> &str {
        &self.queue.node
    }

    /// The sink to give the engine: reports go to the store and settle their entries.
    pub fn sink(&self) -> Arc<dyn DeliverySink> {
        Arc::new(sink::SettlingSink::new(self.queue.clone()))
    }

    /// Starts feeding `engine` from the shared queue; the dispatcher the HTTP front sends
    /// through.
    pub fn start(&self, engine: Arc<dyn Dispatcher>) -> Arc<dyn Dispatcher> {
        let q = &self.queue;
        let _ = q.engine.set(engine.clone());
        let binds: Arc<dyn Fn(&str) -> usize + Send + Sync> = {
            let engine = engine.clone();
            Arc::new(move |smsc: &str| engine.smsc_binds_up(smsc))
        };
        let span = || tracing::info_span!("sendq");
        use tracing::Instrument;
        *lock(&self.refresh) = Some(tokio::spawn(
            view::run(
                q.view.clone(),
                q.streams.clone(),
                q.node.clone(),
                binds,
                self.view_stop.clone(),
            )
            .instrument(span()),
        ));
        if let Some(rx) = lock(&self.outcomes).take() {
            *lock(&self.acker) = Some(tokio::spawn(sink::run(q.clone(), rx).instrument(span())));
        }
        // the consumers of the engine's SMSCs now, then of those its reloads add
        members::follow(q, &*engine);
        let mut tasks = lock(&self.tasks);
        tasks.push(tokio::spawn(members::run(q.clone()).instrument(span())));
        tasks.push(tokio::spawn(mover::run(q.clone()).instrument(span())));
        Arc::new(dispatcher::ClusterDispatcher {
            queue: q.clone(),
            engine,
        })
    }

    /// Stops taking entries (before the engine drains): creates are refused from now on,
    /// and what the engine still has queued at its shutdown goes back to the shared queue.
    pub async fn stop_reading(&self) {
        self.queue.stopping.store(true, Ordering::Release);
        self.queue.reading.cancel();
        let tasks: Vec<_> = lock(&self.tasks).drain(..).collect();
        for t in tasks {
            let _ = t.await;
        }
        let consumers: Vec<_> = lock(&self.queue.consumers).drain(..).collect();
        for (_, _, t) in consumers {
            let _ = t.await;
        }
    }

    /// After the engine stopped: settles or hands back the last entries (within `within`)
    /// and withdraws this node's binds from the cluster's view.
    pub async fn finish(&self, within: Duration) {
        let (tx, rx) = oneshot::channel();
        if self.queue.outcomes.send(sink::Job::Flush(tx)).is_ok()
            && tokio::time::timeout(within, rx).await.is_err()
        {
            tracing::warn!("send-queue entries still unsettled at shutdown: taken over later");
        }
        let acker = lock(&self.acker).take();
        if let Some(acker) = acker {
            acker.abort();
        }
        self.view_stop.cancel();
        let refresh = lock(&self.refresh).take();
        if let Some(refresh) = refresh {
            let _ = tokio::time::timeout(within, refresh).await;
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
