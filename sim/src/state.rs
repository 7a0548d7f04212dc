//! State shared by the listener, sessions, receipt scheduler and handle: accounts and their
//! live behaviour, runtime fault switches, counters, ids, the message log, receiver registry.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

use otpgate_codec::pdu::DeliverSm;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::capture::Capture;
use super::config::{AccountConfig, Behaviour, SimConfig};
use super::counters::Counters;
use super::ids::IdGenerator;
use super::message_states::MessageStates;
use super::messages::MessageLog;
use super::timer::PreciseTimer;

/// A receipt waiting for its time: sent by the handlers, held by the receipt scheduler
/// (`receipts`), which hands it back to a session through [`Shared`].
pub struct ScheduledReceipt {
    pub due: tokio::time::Instant,
    pub system_id: String,
    pub deliver: DeliverSm,
}

/// An account as sessions see it: credentials, behaviour and the TPS bucket its sessions share.
#[derive(Debug)]
pub struct Account {
    pub system_id: String,
    pub password: String,
    pub max_binds: Option<u32>,
    pub behaviour: Arc<Behaviour>,
    pub bucket: Option<Mutex<TokenBucket>>,
}

impl Account {
    fn new(cfg: &AccountConfig, default: &Behaviour) -> Self {
        let behaviour = Arc::new(cfg.behaviour.clone().unwrap_or_else(|| default.clone()));
        let bucket = behaviour.tps.map(|tps| Mutex::new(TokenBucket::new(tps)));
        Self {
            system_id: cfg.system_id.clone(),
            password: cfg.password.clone(),
            max_binds: cfg.max_binds,
            behaviour,
            bucket,
        }
    }

    /// Takes one token; `false` means throttled.
    pub fn take_token(&self) -> bool {
        match &self.bucket {
            None => true,
            Some(b) => b
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take(Instant::now()),
        }
    }
}

/// A token bucket refilled at `rate` per second, holding at most one second of tokens.
#[derive(Debug)]
pub struct TokenBucket {
    rate: f64,
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    pub fn new(rate: u32) -> Self {
        Self {
            rate: f64::from(rate),
            tokens: f64::from(rate),
            last: Instant::now(),
        }
    }
    pub fn take(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * self.rate).min(self.rate.max(1.0));
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// Something the scheduler hands a session to write.
#[derive(Debug)]
pub enum Outbound {
    Receipt(Box<DeliverSm>),
}

/// Receiving sessions of one account: (session id, its outbound queue).
type Receivers = HashMap<String, Vec<(u64, mpsc::Sender<Outbound>)>>;

/// Sessions able to receive deliver_sm, by system_id.
#[derive(Default)]
pub struct Registry {
    receivers: Mutex<Receivers>,
    next: AtomicUsize,
}

impl Registry {
    fn lock(&self) -> std::sync::MutexGuard<'_, Receivers> {
        self.receivers.lock().unwrap_or_else(|e| e.into_inner())
    }
    pub fn add(&self, system_id: &str, session: u64, tx: mpsc::Sender<Outbound>) {
        self.lock()
            .entry(system_id.to_owned())
            .or_default()
            .push((session, tx));
    }
    pub fn remove(&self, system_id: &str, session: u64) {
        let mut map = self.lock();
        if let Some(v) = map.get_mut(system_id) {
            v.retain(|(id, _)| *id != session);
            if v.is_empty() {
                map.remove(system_id);
            }
        }
    }
    /// Hands `out` to one receiving session of `system_id` (round robin); gives it back when
    /// none is bound or all are full.
    pub fn offer(&self, system_id: &str, out: Outbound) -> Result<(), Outbound> {
        let map = self.lock();
        let Some(v) = map.get(system_id).filter(|v| !v.is_empty()) else {
            return Err(out);
        };
        let start = self.next.fetch_add(1, Relaxed);
        let mut out = out;
        for i in 0..v.len() {
            let Some((_, tx)) = v.get(start.wrapping_add(i) % v.len()) else {
                continue;
            };
            match tx.try_send(out) {
                Ok(()) => return Ok(()),
                Err(mpsc::error::TrySendError::Full(o) | mpsc::error::TrySendError::Closed(o)) => {
                    out = o
                }
            }
        }
        Err(out)
    }
}

/// Everything shared.
pub struct Shared {
    pub config: SimConfig,
    accounts: RwLock<HashMap<String, Arc<Account>>>,
    default_behaviour: RwLock<Behaviour>,
    /// Bumped on every runtime change of accounts or behaviour; sessions re-read then.
    pub generation: AtomicU64,
    pub bind_counts: Mutex<HashMap<String, u32>>,
    pub counters: Counters,
    pub ids: IdGenerator,
    pub messages: MessageLog,
    /// Outcome of each accepted part, for query_sm.
    pub states: MessageStates,
    pub hang: AtomicBool,
    pub kick: watch::Sender<u64>,
    pub registry: Registry,
    pub receipts: mpsc::Sender<ScheduledReceipt>,
    /// Releases answers held back by latency, to the microsecond.
    pub timer: PreciseTimer,
    pub capture: Option<Capture>,
    pub shutdown: CancellationToken,
    pub tracker: TaskTracker,
    next_session: AtomicU64,
}

impl Shared {
    pub fn new(
        config: SimConfig,
        receipts: mpsc::Sender<ScheduledReceipt>,
        capture: Option<Capture>,
        timer: PreciseTimer,
    ) -> Self {
        let accounts = build_accounts(&config.accounts, &config.behaviour);
        let (kick, _) = watch::channel(0);
        Self {
            messages: MessageLog::new(config.message_log_capacity),
            states: MessageStates::new(config.message_log_capacity),
            default_behaviour: RwLock::new(config.behaviour.clone()),
            config,
            accounts: RwLock::new(accounts),
            generation: AtomicU64::new(0),
            bind_counts: Mutex::new(HashMap::new()),
            counters: Counters::default(),
            ids: IdGenerator::new(),
            hang: AtomicBool::new(false),
            kick,
            registry: Registry::default(),
            receipts,
            capture,
            timer,
            shutdown: CancellationToken::new(),
            tracker: TaskTracker::new(),
            next_session: AtomicU64::new(1),
        }
    }

    pub fn next_session_id(&self) -> u64 {
        self.next_session.fetch_add(1, Relaxed)
    }

    pub fn account(&self, system_id: &str) -> Option<Arc<Account>> {
        self.accounts
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(system_id)
            .cloned()
    }

    /// Replaces every account (sessions already bound stay bound).
    pub fn set_accounts(&self, accounts: &[AccountConfig]) {
        let default = self
            .default_behaviour
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        *self.accounts.write().unwrap_or_else(|e| e.into_inner()) =
            build_accounts(accounts, &default);
        self.generation.fetch_add(1, Relaxed);
    }

    /// Applies `f` to the default behaviour and to every account's own behaviour.
    pub fn update_behaviour(&self, f: impl Fn(&mut Behaviour)) {
        let mut default = self
            .default_behaviour
            .write()
            .unwrap_or_else(|e| e.into_inner());
        f(&mut default);
        let mut accounts = self.accounts.write().unwrap_or_else(|e| e.into_inner());
        let configs: Vec<AccountConfig> = accounts
            .values()
            .map(|a| {
                let mut b = (*a.behaviour).clone();
                f(&mut b);
                AccountConfig {
                    system_id: a.system_id.clone(),
                    password: a.password.clone(),
                    max_binds: a.max_binds,
                    behaviour: Some(b),
                }
            })
            .collect();
        *accounts = build_accounts(&configs, &default);
        self.generation.fetch_add(1, Relaxed);
    }

    /// Changes one account's password; `false` if there is no such account.
    pub fn set_password(&self, system_id: &str, password: &str) -> bool {
        let mut accounts = self.accounts.write().unwrap_or_else(|e| e.into_inner());
        let Some(a) = accounts.get(system_id) else {
            return false;
        };
        let cfg = AccountConfig {
            system_id: a.system_id.clone(),
            password: password.to_owned(),
            max_binds: a.max_binds,
            behaviour: Some((*a.behaviour).clone()),
        };
        let default = self
            .default_behaviour
            .read()
            .unwrap_or_else(|e| e.into_inner());
        accounts.insert(system_id.to_owned(), Arc::new(Account::new(&cfg, &default)));
        self.generation.fetch_add(1, Relaxed);
        true
    }
}

fn build_accounts(cfgs: &[AccountConfig], default: &Behaviour) -> HashMap<String, Arc<Account>> {
    cfgs.iter()
        .map(|c| (c.system_id.clone(), Arc::new(Account::new(c, default))))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn bucket_refills_at_rate() {
        let mut b = TokenBucket::new(10);
        let t0 = Instant::now();
        let taken = (0..20).filter(|_| b.take(t0)).count();
        assert_eq!(taken, 10);
        assert!(!b.take(t0));
        assert!(b.take(t0 + Duration::from_millis(100)));
        assert!(!b.take(t0 + Duration::from_millis(100)));
    }
}
