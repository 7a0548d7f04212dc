//! The engine's public face: [`SmppEngine::start`] spawns a slot task per bind slot of every SMSC
//! and the supervisor; [`EngineHandle`] takes messages (`Dispatcher`), reports readiness and
//! shuts the whole down gracefully.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::config::{EngineSettings, SettingError, SmscConfig};
use super::message::{Message, Work};
use super::permits::{AlwaysPermit, BindPermits};
use super::pricing::{plan_text, price_for};
use super::shared::{Shared, Smsc};
use super::slot::SlotTask;
use super::supervisor::Supervisor;
use super::validate::validate;
use crate::dispatch::{
    DeliverySink, DispatchError, Dispatcher, OutboundSms, Readiness, RouteSmscs, SendEstimate,
    SmscChoice, SmscHealth, SmscPick, SystemClock, WallClock,
};

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Setting(#[from] SettingError),
    #[error("the SMPP engine must be started inside a tokio runtime")]
    NoRuntime,
}

pub struct SmppEngine;

impl SmppEngine {
    /// Validates the settings (the same checks as the configuration loader) and starts every
    /// bind, reading wall time from the system clock. Must run inside a tokio runtime.
    pub fn start(
        smscs: Vec<SmscConfig>,
        settings: EngineSettings,
        sink: Arc<dyn DeliverySink>,
    ) -> Result<EngineHandle, EngineError> {
        Self::start_with_clock(smscs, settings, sink, Arc::new(SystemClock))
    }

    /// [`SmppEngine::start`] with the wall clock of the OTP core (validity periods and expiry
    /// follow it).
    pub fn start_with_clock(
        smscs: Vec<SmscConfig>,
        settings: EngineSettings,
        sink: Arc<dyn DeliverySink>,
        wall: Arc<dyn WallClock>,
    ) -> Result<EngineHandle, EngineError> {
        let none = BTreeSet::new();
        Self::start_with_permits(smscs, settings, sink, wall, Arc::new(AlwaysPermit), &none)
    }

    /// [`SmppEngine::start_with_clock`] where each bind slot opens only while `permits` grants
    /// it (the binds of an SMSC account shared by a cluster), and the SMSCs named in `stopped`
    /// are stopped before any of their binds runs (an operator's stop that outlives a restart:
    /// the binds may start on another thread at once, so stopping them afterwards would let
    /// them bind first).
    pub fn start_with_permits(
        smscs: Vec<SmscConfig>,
        settings: EngineSettings,
        sink: Arc<dyn DeliverySink>,
        wall: Arc<dyn WallClock>,
        permits: Arc<dyn BindPermits>,
        stopped: &BTreeSet<String>,
    ) -> Result<EngineHandle, EngineError> {
        validate(&smscs, &settings)?;
        // its SMSCs' series at zero, the embedded simulator's included (configured at start)
        for smsc in &smscs {
            crate::telemetry::register_smsc(&smsc.name);
        }
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| EngineError::NoRuntime)?;
        let shared = Arc::new(Shared::new(smscs, settings, sink, wall));
        for name in stopped {
            if let Some(smsc) = shared.smsc_named(name) {
                smsc.control.set_stopped(true);
                tracing::warn!(smsc = %name, "SMSC stays stopped: an operator stopped it");
            }
        }
        let drain = CancellationToken::new();
        let stop = CancellationToken::new();
        let mut binds = HashMap::new();
        for smsc in shared.smscs() {
            let slot = SlotBinds::spawn(&runtime, &shared, &smsc, &drain, &permits);
            binds.insert(smsc.index, slot);
        }
        let supervisor = Supervisor {
            shared: shared.clone(),
            stop: stop.clone(),
        };
        let supervisor = runtime.spawn(
            supervisor
                .run()
                .instrument(tracing::info_span!("smpp_supervisor")),
        );
        Ok(EngineHandle {
            inner: Arc::new(Inner {
                shared,
                drain,
                stop,
                tasks: Mutex::new(Some(Tasks {
                    binds,
                    retiring: Vec::new(),
                    supervisor,
                })),
                done: tokio::sync::Mutex::new(false),
                applying: tokio::sync::Mutex::new(()),
                permits,
                runtime,
            }),
        })
    }
}

/// The bind tasks of one SMSC and what drains them (a child of the engine's drain).
pub(super) struct SlotBinds {
    pub drain: CancellationToken,
    pub tasks: Vec<JoinHandle<()>>,
}

impl SlotBinds {
    /// Starts every bind slot of `smsc` (a transceiver, or a transmitter and a receiver, each
    /// slot under its permit).
    pub fn spawn(
        runtime: &tokio::runtime::Handle,
        shared: &Arc<Shared>,
        smsc: &Arc<Smsc>,
        engine_drain: &CancellationToken,
        permits: &Arc<dyn BindPermits>,
    ) -> Self {
        let drain = engine_drain.child_token();
        let tasks = (0..smsc.cfg.binds)
            .map(|slot| {
                let task = SlotTask {
                    shared: shared.clone(),
                    smsc: smsc.clone(),
                    slot,
                    permits: permits.clone(),
                    drain: drain.clone(),
                };
                runtime.spawn(task.run())
            })
            .collect();
        Self { drain, tasks }
    }
}

/// The bind tasks by SMSC slot, the tasks retiring SMSCs a reload removed or changed, and the
/// supervisor.
pub(super) struct Tasks {
    pub binds: HashMap<usize, SlotBinds>,
    pub retiring: Vec<JoinHandle<()>>,
    pub supervisor: JoinHandle<()>,
}

pub(super) struct Inner {
    pub shared: Arc<Shared>,
    pub drain: CancellationToken,
    stop: CancellationToken,
    /// `None` once shut down.
    pub tasks: Mutex<Option<Tasks>>,
    done: tokio::sync::Mutex<bool>,
    /// One reload of the SMSC set at a time.
    pub applying: tokio::sync::Mutex<()>,
    /// Who may open each bind slot (SMSCs a reload adds or rebinds ask it too).
    pub permits: Arc<dyn BindPermits>,
    /// The runtime the engine started on: the binds a reload starts run there too.
    pub runtime: tokio::runtime::Handle,
}

/// The running engine. Cheap to clone; `try_dispatch` never waits.
#[derive(Clone)]
pub struct EngineHandle {
    pub(super) inner: Arc<Inner>,
}

impl EngineHandle {
    pub(super) fn shared(&self) -> &Arc<Shared> {
        &self.inner.shared
    }

    /// Submit-capable binds up, across every SMSC.
    pub fn binds_up(&self) -> usize {
        self.inner.shared.binds_up()
    }

    /// Submit-capable binds up of the SMSC called `smsc`.
    pub fn smsc_binds_up(&self, smsc: &str) -> usize {
        self.inner
            .shared
            .smsc_named(smsc)
            .map_or(0, |s| s.health.binds_up())
    }

    /// Stops taking messages, lets the windows drain, unbinds every bind and reports whatever
    /// is still queued as `Failed("shutdown")`, all within about `deadline`. Idempotent.
    pub async fn shutdown(&self, deadline: Duration) {
        let mut done = self.inner.done.lock().await;
        if *done {
            return;
        }
        let shared = &self.inner.shared;
        let start = Instant::now();
        shared.shutting_down.store(true, Ordering::Release);
        // Windows drain in the first half; unbinds fit in the rest.
        let _ = shared.drain_deadline.set(start + deadline / 2);
        self.inner.drain.cancel();
        for s in shared.smscs() {
            s.queue.wake();
        }
        let tasks = self
            .inner
            .tasks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(Tasks {
            binds,
            retiring,
            supervisor,
        }) = tasks
        {
            let binds: Vec<_> = binds.into_values().flat_map(|b| b.tasks).collect();
            let aborts: Vec<_> = binds.iter().map(|b| b.abort_handle()).collect();
            let all = futures::future::join_all(binds.into_iter().chain(retiring));
            if tokio::time::timeout(deadline, all).await.is_err() {
                tracing::warn!("binds did not close within the shutdown deadline");
                aborts.iter().for_each(|a| a.abort());
            }
            self.inner.stop.cancel();
            let _ = tokio::time::timeout(Duration::from_secs(1), supervisor).await;
        }
        self.fail_leftovers();
        tracing::info!(elapsed = ?start.elapsed(), "SMPP engine stopped");
        *done = true;
    }

    fn fail_leftovers(&self) {
        let shared = &self.inner.shared;
        let mut failed = 0usize;
        let mut fail = |w: Work| {
            if !w.msg.is_finished() {
                shared.report_failed(&w.msg, "shutdown");
                failed += 1;
            }
        };
        for s in shared.smscs() {
            s.queue.drain().into_iter().for_each(&mut fail);
        }
        shared
            .delayed
            .drain()
            .into_iter()
            .for_each(|(_, w)| fail(w));
        if failed > 0 {
            tracing::warn!(failed, "messages still queued at shutdown reported failed");
        }
    }
}

impl Dispatcher for EngineHandle {
    fn try_dispatch(&self, sms: OutboundSms) -> Result<(), DispatchError> {
        self.dispatch_picked(sms, None)
    }

    fn dispatch_now(
        &self,
        sms: OutboundSms,
        pick: Option<SmscPick>,
    ) -> Result<Result<(), DispatchError>, Box<OutboundSms>> {
        Ok(self.dispatch_picked(sms, pick))
    }

    fn refuses_any(&self) -> Option<DispatchError> {
        let shared = &self.inner.shared;
        if shared.is_shutting_down() {
            let retry_after = shared.retry_after();
            return Some(DispatchError::ShuttingDown { retry_after });
        }
        shared.depth.is_full().then(|| DispatchError::QueueFull {
            retry_after: shared.retry_after(),
        })
    }

    fn estimate(&self, sms: &OutboundSms) -> Option<SendEstimate> {
        let shared = &self.inner.shared;
        // within the tenant's SMSCs, preferred first, as `try_dispatch` picks; the pick lets
        // the dispatch of this SMS take the same SMSC
        let choice = sms.smscs.as_deref();
        let (smsc, pick) = shared.choose_pick(&sms.destination, choice, Instant::now())?;
        shared
            .with_smsc(smsc, |smsc| {
                let plan = plan_text(&sms.text, &smsc.cfg).ok()?;
                Some(SendEstimate {
                    smsc: smsc.cfg.name.clone(),
                    pick: Some(pick),
                    encoding: plan.encoding,
                    parts: plan.parts,
                    price_per_part: price_for(&smsc.cfg.prices, &sms.destination),
                })
            })
            .flatten()
    }

    fn covers(&self, destination: &str, smscs: Option<&SmscChoice>) -> bool {
        self.inner.shared.covers(destination, smscs)
    }

    fn route_by(
        &self,
        sms: &OutboundSms,
        health: &dyn SmscHealth,
        exclude: Option<&str>,
        require_healthy: bool,
    ) -> Option<String> {
        self.inner.shared.choose_by(
            &sms.destination,
            sms.smscs.as_deref(),
            exclude,
            |name| health.healthy(name),
            |name| health.recently_up(name),
            require_healthy,
        )
    }

    fn estimate_on(&self, sms: &OutboundSms, smsc: &str) -> Option<SendEstimate> {
        let shared = &self.inner.shared;
        let smsc = shared.smsc_named(smsc)?;
        let plan = plan_text(&sms.text, &smsc.cfg).ok()?;
        Some(SendEstimate {
            smsc: smsc.cfg.name.clone(),
            pick: None,
            encoding: plan.encoding,
            parts: plan.parts,
            price_per_part: price_for(&smsc.cfg.prices, &sms.destination),
        })
    }

    fn smsc_binds_up(&self, smsc: &str) -> usize {
        EngineHandle::smsc_binds_up(self, smsc)
    }

    fn routes(&self) -> Vec<RouteSmscs> {
        self.inner.shared.routes()
    }

    fn smsc_windows(&self) -> Vec<(String, usize)> {
        self.inner.shared.smsc_windows()
    }

    fn readiness(&self) -> Readiness {
        let shared = &self.inner.shared;
        let binds_up = shared.binds_up();
        let queue_depth = shared.depth.get();
        let queue_capacity = shared.depth.capacity();
        let mut reasons = Vec::new();
        if shared.is_shutting_down() {
            reasons.push("shutting down".to_string());
        }
        if binds_up == 0 {
            reasons.push("no SMSC bind is up".to_string());
        }
        if queue_depth >= queue_capacity {
            reasons.push(format!("send queue full ({queue_depth}/{queue_capacity})"));
        }
        // shown, not required: one bind up anywhere keeps a single node ready
        let uncovered_routes = shared
            .routes()
            .into_iter()
            .filter(|r| r.smscs.iter().all(|s| self.smsc_binds_up(s) == 0))
            .map(|r| r.prefix)
            .collect();
        Readiness {
            ready: reasons.is_empty(),
            binds_up,
            queue_depth,
            queue_capacity,
            reasons,
            uncovered_routes,
        }
    }
}

impl EngineHandle {
    /// Queues `sms` on the SMSC `pick` names while it holds (what its estimate chose), else
    /// on the one chosen now.
    fn dispatch_picked(
        &self,
        sms: OutboundSms,
        pick: Option<SmscPick>,
    ) -> Result<(), DispatchError> {
        let shared = &self.inner.shared;
        let retry_after = shared.retry_after();
        if shared.is_shutting_down() {
            return Err(DispatchError::ShuttingDown { retry_after });
        }
        let now = Instant::now();
        let picked = pick.and_then(|p| shared.take_pick(p, now));
        let smsc = match picked {
            Some(smsc) => smsc,
            None => {
                let choice = sms.smscs.as_deref();
                shared
                    .choose(&sms.destination, choice, None, now, false)
                    .ok_or(DispatchError::NoRoute { retry_after })?
                    .1
            }
        };
        if !shared.depth.try_reserve() {
            return Err(DispatchError::QueueFull { retry_after });
        }
        let msg = Arc::new(Message::new(shared.next_order(), sms, smsc));
        if msg.is_expired(shared.wall.at(now)) {
            shared.depth.release_reserved();
            shared.report_failed(&msg, "expired before it could be sent");
            return Ok(());
        }
        if shared
            .with_smsc(smsc, |s| s.queue.push_reserved(Work::fresh(msg)))
            .is_none()
        {
            shared.depth.release_reserved();
        }
        Ok(())
    }
}
