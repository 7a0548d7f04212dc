//! What an operator steers and watches per SMSC: whether it is stopped (its binds drain,
//! unbind and stay down until started again) and a small status cell per bind that the bind
//! task and its session publish into (state, last error, last bind, window, throttle rate).
//! Nothing here is on the per-PDU path beyond an atomic store.

use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use tokio::sync::{watch, Semaphore};

use super::config::{BindMode, SmscConfig};
use super::role::Role;

/// Where a bind is in its life, as the status report shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BindState {
    Binding,
    Up,
    BackingOff,
    Draining,
    Stopped,
}

impl BindState {
    pub fn as_str(self) -> &'static str {
        match self {
            BindState::Binding => "binding",
            BindState::Up => "up",
            BindState::BackingOff => "backing_off",
            BindState::Draining => "draining",
            BindState::Stopped => "stopped",
        }
    }

    fn from_u8(v: u8) -> Self {
        match v {
            1 => BindState::Up,
            2 => BindState::BackingOff,
            3 => BindState::Draining,
            4 => BindState::Stopped,
            _ => BindState::Binding,
        }
    }

    fn to_u8(self) -> u8 {
        match self {
            BindState::Binding => 0,
            BindState::Up => 1,
            BindState::BackingOff => 2,
            BindState::Draining => 3,
            BindState::Stopped => 4,
        }
    }
}

/// One bind's published status.
#[derive(Debug)]
pub struct BindCell {
    pub label: String,
    pub role: Role,
    state: AtomicU8,
    /// The throttle's current rate (f64 bits; 0 = unthrottled).
    rate_bits: AtomicU64,
    /// The window of the current session: in use = size - available permits.
    window: Mutex<Option<Arc<Semaphore>>>,
    last_error: Mutex<Option<String>>,
    last_bind: Mutex<Option<SystemTime>>,
}

impl BindCell {
    fn new(label: String, role: Role) -> Self {
        Self {
            label,
            role,
            state: AtomicU8::new(BindState::Binding.to_u8()),
            rate_bits: AtomicU64::new(0),
            window: Mutex::new(None),
            last_error: Mutex::new(None),
            last_bind: Mutex::new(None),
        }
    }

    pub fn set_state(&self, state: BindState) {
        self.state.store(state.to_u8(), Ordering::Release);
    }

    pub fn state(&self) -> BindState {
        BindState::from_u8(self.state.load(Ordering::Acquire))
    }

    /// Called once per bind: the bind is up now, with this window.
    pub fn bound(&self, window: Arc<Semaphore>) {
        *self.window.lock().unwrap_or_else(|e| e.into_inner()) = Some(window);
        *self.last_bind.lock().unwrap_or_else(|e| e.into_inner()) = Some(SystemTime::now());
        self.set_state(BindState::Up);
    }

    pub fn unbound(&self) {
        *self.window.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// `error` must hold no secret (the bind errors name statuses and addresses only).
    pub fn failed(&self, error: String) {
        *self.last_error.lock().unwrap_or_else(|e| e.into_inner()) = Some(error);
    }

    pub fn publish_rate(&self, rate: Option<f64>) {
        self.rate_bits
            .store(rate.unwrap_or(0.0).to_bits(), Ordering::Relaxed);
    }

    pub fn rate(&self) -> Option<f64> {
        let r = f64::from_bits(self.rate_bits.load(Ordering::Relaxed));
        (r > 0.0).then_some(r)
    }

    pub fn window_in_use(&self, size: usize) -> usize {
        self.window
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .map_or(0, |s| size.saturating_sub(s.available_permits()))
    }

    pub fn last_error(&self) -> Option<String> {
        self.last_error
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn last_bind(&self) -> Option<SystemTime> {
        *self.last_bind.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// An SMSC's stop switch and its binds' status cells.
#[derive(Debug)]
pub struct SmscControl {
    stopped: watch::Sender<bool>,
    pub binds: Vec<Arc<BindCell>>,
}

impl SmscControl {
    /// One cell per bind task, labelled as the engine labels its binds ("0", "1"... or
    /// "0tx"/"0rx" for a pair).
    pub fn new(cfg: &SmscConfig) -> Self {
        let mut binds = Vec::new();
        for i in 0..cfg.binds {
            match cfg.bind_mode {
                BindMode::Transceiver => binds.push((i.to_string(), Role::Transceiver)),
                BindMode::TransmitterReceiver => {
                    binds.push((format!("{i}tx"), Role::Transmitter));
                    binds.push((format!("{i}rx"), Role::Receiver));
                }
            }
        }
        Self {
            stopped: watch::Sender::new(false),
            binds: binds
                .into_iter()
                .map(|(label, role)| Arc::new(BindCell::new(label, role)))
                .collect(),
        }
    }

    pub fn cell(&self, label: &str) -> Option<Arc<BindCell>> {
        self.binds.iter().find(|c| c.label == label).cloned()
    }

    pub fn is_stopped(&self) -> bool {
        *self.stopped.borrow()
    }

    /// Whether it changed.
    pub fn set_stopped(&self, stopped: bool) -> bool {
        self.stopped.send_replace(stopped) != stopped
    }

    pub fn watch(&self) -> watch::Receiver<bool> {
        self.stopped.subscribe()
    }
}
