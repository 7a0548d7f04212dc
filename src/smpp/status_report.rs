//! A read-only snapshot of the engine for operators (the admin API and status page), and the
//! operator's stop / start of an SMSC.

use serde::Serialize;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::engine::EngineHandle;

#[derive(Debug, Clone, Serialize)]
pub struct EngineStatus {
    pub shutting_down: bool,
    pub queue_depth: usize,
    pub queue_capacity: usize,
    pub smscs: Vec<SmscStatus>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SmscStatus {
    pub name: String,
    pub stopped: bool,
    /// Messages waiting in its queue.
    pub queue_depth: usize,
    pub binds_configured: usize,
    pub binds_up: usize,
    /// The contract rate (`tps`; 0 = unthrottled).
    pub tps: u32,
    /// The sum of its up binds' current rates (AIMD may hold it below `tps`); `None` when
    /// unthrottled.
    pub current_tps: Option<f64>,
    /// A bind runs below its share of `tps` after the SMSC said ESME_RTHROTTLED.
    pub throttled: bool,
    pub window_size: usize,
    pub binds: Vec<BindStatus>,
}

#[derive(Debug, Clone, Serialize)]
pub struct BindStatus {
    pub label: String,
    pub role: &'static str,
    /// up, binding, backing_off, draining or stopped.
    pub state: &'static str,
    pub window_in_use: usize,
    pub window_size: usize,
    pub current_tps: Option<f64>,
    pub throttled: bool,
    pub last_error: Option<String>,
    /// When it last bound (RFC 3339, UTC).
    pub last_bind: Option<String>,
}

/// No SMSC has this name.
#[derive(Debug, thiserror::Error)]
#[error("no SMSC is named {0:?}")]
pub struct UnknownSmsc(pub String);

impl EngineHandle {
    pub fn status(&self) -> EngineStatus {
        let shared = self.shared();
        let smscs =
            shared
                .smscs()
                .iter()
                .map(|s| {
                    let cfg = &s.cfg;
                    let share = (cfg.tps > 0).then(|| f64::from(cfg.tps) / cfg.binds.max(1) as f64);
                    let binds: Vec<BindStatus> = s
                    .control
                    .binds
                    .iter()
                    .map(|c| {
                        let state = c.state();
                        let up = state == super::control::BindState::Up;
                        let rate = if up && c.role.submits() { c.rate() } else { None };
                        let window_size = if c.role.submits() { cfg.window } else { 0 };
                        BindStatus {
                            label: c.label.clone(),
                            role: c.role.name(),
                            state: state.as_str(),
                            window_in_use: c.window_in_use(window_size),
                            window_size,
                            current_tps: rate,
                            throttled: matches!((rate, share), (Some(r), Some(s)) if r + 1e-9 < s),
                            last_error: c.last_error(),
                            last_bind: c.last_bind().and_then(|t| {
                                OffsetDateTime::from(t).format(&Rfc3339).ok()
                            }),
                        }
                    })
                    .collect();
                    let rates: Vec<f64> = binds.iter().filter_map(|b| b.current_tps).collect();
                    SmscStatus {
                        name: cfg.name.clone(),
                        stopped: s.control.is_stopped(),
                        queue_depth: s.queue.len(),
                        binds_configured: cfg.binds,
                        binds_up: s.health.binds_up(),
                        tps: cfg.tps,
                        current_tps: (!rates.is_empty()).then(|| rates.iter().sum()),
                        throttled: binds.iter().any(|b| b.throttled),
                        window_size: cfg.window,
                        binds,
                    }
                })
                .collect();
        EngineStatus {
            shutting_down: shared.is_shutting_down(),
            queue_depth: shared.depth.get(),
            queue_capacity: shared.depth.capacity(),
            smscs,
        }
    }

    pub fn smsc_names(&self) -> Vec<String> {
        self.shared()
            .smscs()
            .iter()
            .map(|s| s.cfg.name.clone())
            .collect()
    }

    /// Stops (`true`) or starts the SMSC called `name`. Stopping drains its binds (their
    /// in-flight submits are answered or go back to the queue), unbinds them and keeps them
    /// down; the router treats it as down, so its queue fails over. Returns whether it changed.
    pub fn set_smsc_stopped(&self, name: &str, stopped: bool) -> Result<bool, UnknownSmsc> {
        let shared = self.shared();
        let smsc = shared
            .smsc_named(name)
            .ok_or_else(|| UnknownSmsc(name.to_owned()))?;
        let changed = smsc.control.set_stopped(stopped);
        // binds waiting for work look again; the supervisor moves the queue on its next tick
        smsc.queue.wake();
        Ok(changed)
    }
}
