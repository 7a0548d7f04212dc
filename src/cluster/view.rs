//! What this node knows of the cluster, refreshed in the background (never a Redis read on
//! a create): for each SMSC, how many nodes have a bind of it up and its shared queue's
//! length; and whether Redis answered lately. Each refresh also publishes this node's own
//! binds.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use super::stream::Streams;
use crate::dispatch::SmscHealth;
use crate::telemetry::names;

/// How often the view is refreshed and this node's binds published.
pub const REFRESH: Duration = Duration::from_secs(1);
/// How long a node's word that it has a bind up holds without being renewed.
pub const PRESENCE_TTL: Duration = Duration::from_secs(3);
/// Redis silent for this long: the node is not ready.
const REDIS_STALE: Duration = Duration::from_secs(3);

#[derive(Debug, Clone)]
struct SmscState {
    name: String,
    /// No longer in this node's engine (removed by a reload): its entries move to the next
    /// SMSC of their route at once, and it leaves the view once its stream is empty.
    retired: bool,
    nodes_up: u64,
    /// When a node of the cluster last had a bind of it up (the start counts as up, as the
    /// engine counts it).
    last_up: Instant,
    depth: u64,
}

/// The cluster as this node last saw it, for the SMSCs of this node's engine (they follow its
/// reloads).
pub struct View {
    state: Mutex<Vec<SmscState>>,
    redis_ok_at: Mutex<Option<Instant>>,
    failover_after: Duration,
    no_route_after: Duration,
}

impl View {
    pub fn new(names: Vec<String>, failover_after: Duration, no_route_after: Duration) -> Self {
        let view = Self {
            state: Mutex::new(Vec::new()),
            redis_ok_at: Mutex::new(None),
            failover_after,
            no_route_after,
        };
        for name in names {
            view.add(&name);
        }
        view
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<SmscState>> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `smsc` joins the view (added by a reload), counting as up from now as at a start; a
    /// retired one is back.
    pub fn add(&self, smsc: &str) {
        let mut state = self.lock();
        match state.iter_mut().find(|s| s.name == smsc) {
            Some(s) => s.retired = false,
            None => state.push(SmscState {
                name: smsc.to_owned(),
                retired: false,
                nodes_up: 0,
                last_up: Instant::now(),
                depth: 0,
            }),
        }
    }

    /// `smsc` left this node's engine: no longer healthy here, its entries move.
    pub fn retire(&self, smsc: &str) {
        if let Some(s) = self.lock().iter_mut().find(|s| s.name == smsc) {
            s.retired = true;
        }
    }

    /// Every SMSC of the view, retired ones included (their streams still drain).
    pub fn names(&self) -> Vec<String> {
        self.lock().iter().map(|s| s.name.clone()).collect()
    }

    /// The SMSCs of this node's engine.
    pub fn active_names(&self) -> Vec<String> {
        self.lock()
            .iter()
            .filter(|s| !s.retired)
            .map(|s| s.name.clone())
            .collect()
    }

    fn with<T>(&self, smsc: &str, f: impl FnOnce(&SmscState) -> T) -> Option<T> {
        let state = self.lock();
        state.iter().find(|s| s.name == smsc).map(f)
    }

    /// Nodes with a bind of `smsc` up.
    pub fn nodes_up(&self, smsc: &str) -> u64 {
        self.with(smsc, |s| s.nodes_up).unwrap_or(0)
    }

    /// Entries in `smsc`'s shared queue (queued and in flight on some node).
    pub fn depth(&self, smsc: &str) -> u64 {
        self.with(smsc, |s| s.depth).unwrap_or(0)
    }

    /// Every SMSC's queue length, summed.
    pub fn total_depth(&self) -> u64 {
        self.lock().iter().map(|s| s.depth).sum()
    }

    /// SMSCs with a bind up on some node.
    pub fn smscs_up(&self) -> usize {
        self.lock().iter().filter(|s| s.nodes_up > 0).count()
    }

    /// Redis answered the last refreshes.
    pub fn redis_ok(&self) -> bool {
        let at = *self.redis_ok_at.lock().unwrap_or_else(|e| e.into_inner());
        at.is_some_and(|at| at.elapsed() < REDIS_STALE)
    }

    fn record(&self, smsc: &str, nodes_up: u64, depth: u64, now: Instant) {
        let mut state = self.lock();
        let Some(at) = state.iter().position(|s| s.name == smsc) else {
            return;
        };
        if let Some(s) = state.get_mut(at) {
            s.nodes_up = nodes_up;
            s.depth = depth;
            if nodes_up > 0 {
                s.last_up = now;
            }
            if s.retired && depth == 0 {
                // nothing left to move: gone from the view until a reload brings it back
                state.remove(at);
            }
        }
    }

    /// Publishes this node's binds (`binds_up(smsc)`) and reads the cluster's, once; false
    /// when Redis did not answer.
    pub async fn refresh(
        &self,
        streams: &Streams,
        node: &str,
        binds_up: &(dyn Fn(&str) -> usize + Sync),
    ) -> bool {
        let ttl = u64::try_from(PRESENCE_TTL.as_millis()).unwrap_or(u64::MAX);
        let mut ok = true;
        for name in &self.names() {
            match streams.presence(name, node, binds_up(name), ttl).await {
                Ok((nodes_up, depth)) => {
                    self.record(name, nodes_up, depth, Instant::now());
                    metrics::gauge!(names::SENDQ_DEPTH, "smsc" => name.clone(), "scope" => "cluster")
                        .set(depth as f64);
                    metrics::gauge!(names::CLUSTER_NODES_WITH_BIND, "smsc" => name.clone())
                        .set(nodes_up as f64);
                }
                Err(e) => {
                    ok = false;
                    tracing::warn!(smsc = %name, error = %e, "cluster view not refreshed");
                }
            }
        }
        if ok {
            *self.redis_ok_at.lock().unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
        }
        ok
    }
}

impl SmscHealth for View {
    fn healthy(&self, smsc: &str) -> bool {
        self.with(smsc, |s| {
            !s.retired && (s.nodes_up > 0 || s.last_up.elapsed() < self.failover_after)
        })
        .unwrap_or(false)
    }

    fn recently_up(&self, smsc: &str) -> bool {
        self.with(smsc, |s| {
            !s.retired && s.last_up.elapsed() < self.no_route_after
        })
        .unwrap_or(false)
    }
}

/// Refreshes `view` every [`REFRESH`] until `stop`.
pub async fn run(
    view: Arc<View>,
    streams: Streams,
    node: String,
    binds_up: Arc<dyn Fn(&str) -> usize + Send + Sync>,
    stop: tokio_util::sync::CancellationToken,
) {
    let mut tick = tokio::time::interval(REFRESH);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = stop.cancelled() => break,
            _ = tick.tick() => {
                view.refresh(&streams, &node, &*binds_up).await;
            }
        }
    }
    // this node's binds are no longer offered: the others stop counting them now
    let _ = view.refresh(&streams, &node, &|_| 0).await;
}
