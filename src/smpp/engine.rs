//! The engine's public face: [`SmppEngine::start`] spawns a bind task per bind of every SMSC
//! and the supervisor; [`EngineHandle`] takes messages (`Dispatcher`), reports readiness and
//! shuts the whole down gracefully.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::config::{validate, BindMode, EngineSettings, SettingError, SmscConfig};
use super::message::{Message, Work};
use super::pricing::{plan_text, price_for};
use super::role::{BindTask, Role};
use super::shared::Shared;
use super::supervisor::Supervisor;
use crate::dispatch::{
    DeliverySink, DispatchError, Dispatcher, OutboundSms, Readiness, SendEstimate, SmscChoice,
    SmscHealth, SystemClock, WallClock,
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
        validate(&smscs, &settings)?;
        // its SMSCs' series at zero, the embedded simulator's included (configured at start)
        for smsc in &smscs {
            crate::telemetry::register_smsc(&smsc.name);
        }
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| EngineError::NoRuntime)?;
        let shared = Arc::new(Shared::new(smscs, settings, sink, wall));
        let drain = CancellationToken::new();
        let stop = CancellationToken::new();
        let mut binds = Vec::new();
        for smsc in &shared.smscs {
            for i in 0..smsc.cfg.binds {
                let roles: &[(Role, Option<usize>, String)] = &match smsc.cfg.bind_mode {
                    BindMode::Transceiver => vec![(Role::Transceiver, Some(i), i.to_string())],
                    BindMode::TransmitterReceiver => vec![
                        (Role::Transmitter, Some(i), format!("{i}tx")),
                        (Role::Receiver, None, format!("{i}rx")),
                    ],
                };
                for (role, slot, label) in roles.iter().cloned() {
                    let span =
                        tracing::info_span!("smpp_bind", smsc = %smsc.cfg.name, bind = %label);
                    let task = BindTask {
                        shared: shared.clone(),
                        smsc: smsc.clone(),
                        role,
                        slot,
                        label,
                        drain: drain.clone(),
                    };
                    binds.push(runtime.spawn(task.run().instrument(span)));
                }
            }
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
                tasks: Mutex::new(Some((binds, supervisor))),
                done: tokio::sync::Mutex::new(false),
            }),
        })
    }
}

/// The bind tasks and the supervisor.
type Tasks = (Vec<JoinHandle<()>>, JoinHandle<()>);

struct Inner {
    shared: Arc<Shared>,
    drain: CancellationToken,
    stop: CancellationToken,
    tasks: Mutex<Option<Tasks>>,
    done: tokio::sync::Mutex<bool>,
}

/// The running engine. Cheap to clone; `try_dispatch` never waits.
#[derive(Clone)]
pub struct EngineHandle {
    inner: Arc<Inner>,
}

impl EngineHandle {
    /// Submit-capable binds up, across every SMSC.
    pub fn binds_up(&self) -> usize {
        self.inner.shared.binds_up()
    }

    /// Submit-capable binds up of the SMSC called `smsc`.
    pub fn smsc_binds_up(&self, smsc: &str) -> usize {
        self.inner
            .shared
            .smscs
            .iter()
            .find(|s| s.cfg.name == smsc)
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
        for s in &shared.smscs {
            s.queue.wake();
        }
        let tasks = self
            .inner
            .tasks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some((binds, supervisor)) = tasks {
            let aborts: Vec<_> = binds.iter().map(|b| b.abort_handle()).collect();
            let all = futures::future::join_all(binds);
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
        for s in &shared.smscs {
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
        let shared = &self.inner.shared;
        let retry_after = shared.retry_after();
        if shared.is_shutting_down() {
            return Err(DispatchError::ShuttingDown { retry_after });
        }
        let now = Instant::now();
        let choice = sms.smscs.as_deref();
        let route = shared
            .route_of(&sms.destination, choice)
            .ok_or(DispatchError::NoRoute { retry_after })?;
        let smsc = shared
            .pick(route, choice, None, now, false)
            .ok_or(DispatchError::NoRoute { retry_after })?;
        if !shared.depth.try_reserve() {
            return Err(DispatchError::QueueFull { retry_after });
        }
        let msg = Arc::new(Message::new(shared.next_order(), sms, route, smsc));
        if msg.is_expired(shared.wall.now()) {
            shared.depth.release_reserved();
            shared.report_failed(&msg, "expired before it could be sent");
            return Ok(());
        }
        match shared.smsc(smsc) {
            Some(s) => s.queue.push_reserved(Work::fresh(msg)),
            None => shared.depth.release_reserved(),
        }
        Ok(())
    }

    fn estimate(&self, sms: &OutboundSms) -> Option<SendEstimate> {
        let shared = &self.inner.shared;
        // within the tenant's SMSCs, preferred first, as `try_dispatch` picks
        let choice = sms.smscs.as_deref();
        let route = shared.route_of(&sms.destination, choice)?;
        let smsc = shared.smsc(shared.pick(route, choice, None, Instant::now(), false)?)?;
        let plan = plan_text(&sms.text, &smsc.cfg).ok()?;
        Some(SendEstimate {
            smsc: smsc.cfg.name.clone(),
            encoding: plan.encoding,
            parts: plan.parts,
            price_per_part: price_for(&smsc.cfg.prices, &sms.destination),
        })
    }

    fn covers(&self, destination: &str, smscs: Option<&SmscChoice>) -> bool {
        self.inner.shared.route_of(destination, smscs).is_some()
    }

    fn route_by(
        &self,
        sms: &OutboundSms,
        health: &dyn SmscHealth,
        exclude: Option<&str>,
        require_healthy: bool,
    ) -> Option<String> {
        let shared = &self.inner.shared;
        let choice = sms.smscs.as_deref();
        let route = shared.route_of(&sms.destination, choice)?;
        let exclude = exclude.and_then(|name| shared.index_of(name));
        let name = |i: usize| shared.smsc_name(i);
        let picked = shared.pick_by(
            route,
            choice,
            exclude,
            |i| health.healthy(name(i)),
            |i| health.recently_up(name(i)),
            require_healthy,
        )?;
        Some(name(picked).to_owned())
    }

    fn estimate_on(&self, sms: &OutboundSms, smsc: &str) -> Option<SendEstimate> {
        let shared = &self.inner.shared;
        let smsc = shared.smsc(shared.index_of(smsc)?)?;
        let plan = plan_text(&sms.text, &smsc.cfg).ok()?;
        Some(SendEstimate {
            smsc: smsc.cfg.name.clone(),
            encoding: plan.encoding,
            parts: plan.parts,
            price_per_part: price_for(&smsc.cfg.prices, &sms.destination),
        })
    }

    fn smsc_binds_up(&self, smsc: &str) -> usize {
        EngineHandle::smsc_binds_up(self, smsc)
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
        Readiness {
            ready: reasons.is_empty(),
            binds_up,
            queue_depth,
            queue_capacity,
            reasons,
        }
    }
}
