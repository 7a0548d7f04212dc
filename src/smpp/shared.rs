//! State shared by the engine's tasks and its handle: the SMSCs (configuration, queue,
//! health), the router, the sink, the queue depth, the delayed retries and the shutdown
//! state.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

use super::config::{ms, EngineSettings, SmscConfig};
use super::health::Health;
use super::message::Work;
use super::queue::{Depth, SmscQueue};
use super::receipt_clock::ReceiptClock;
use super::receipt_watch::ReceiptWatch;
use super::router::{Allowed, Router, MAX_SMSCS};
use super::submit::References;
use crate::dispatch::{DeliverySink, SmscChoice, WallClock};

pub struct Smsc {
    pub index: usize,
    pub cfg: SmscConfig,
    pub queue: SmscQueue,
    pub health: Health,
    /// Parts waiting for a final receipt, to ask about with query_sm.
    pub watch: ReceiptWatch,
}

/// Retries waiting out their backoff, by due time.
#[derive(Default)]
pub struct Delayed {
    items: Mutex<BTreeMap<(Instant, u64), (usize, Work)>>,
    tiebreak: AtomicU64,
    pub notify: Notify,
}

impl Delayed {
    pub fn push(&self, due: Instant, smsc: usize, work: Work) {
        let key = (due, self.tiebreak.fetch_add(1, Ordering::Relaxed));
        self.items
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, (smsc, work));
        self.notify.notify_one();
    }

    /// The works due at `now`, oldest first.
    pub fn take_due(&self, now: Instant) -> Vec<(usize, Work)> {
        let mut items = self.items.lock().unwrap_or_else(|e| e.into_inner());
        let later = items.split_off(&(now, u64::MAX));
        let due = std::mem::replace(&mut *items, later);
        due.into_values().collect()
    }

    pub fn next_due(&self) -> Option<Instant> {
        self.items
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .keys()
            .next()
            .map(|(d, _)| *d)
    }

    pub fn drain(&self) -> Vec<(usize, Work)> {
        std::mem::take(&mut *self.items.lock().unwrap_or_else(|e| e.into_inner()))
            .into_values()
            .collect()
    }
}

pub struct Shared {
    pub settings: EngineSettings,
    pub smscs: Vec<Arc<Smsc>>,
    pub router: Router,
    pub sink: Arc<dyn DeliverySink>,
    /// Wall time for validity periods and expiry.
    pub wall: Arc<dyn WallClock>,
    pub depth: Arc<Depth>,
    pub delayed: Delayed,
    pub references: References,
    pub receipt_clock: ReceiptClock,
    order: AtomicU64,
    pub shutting_down: AtomicBool,
    /// When the windows must have drained, set once at shutdown.
    pub drain_deadline: OnceLock<Instant>,
}

impl Shared {
    pub fn new(
        smscs: Vec<SmscConfig>,
        settings: EngineSettings,
        sink: Arc<dyn DeliverySink>,
        wall: Arc<dyn WallClock>,
    ) -> Self {
        let epoch = Instant::now();
        let depth = Arc::new(Depth::new(settings.queue_capacity));
        let router = Router::new(
            smscs
                .iter()
                .map(|c| (c.routes.as_slice(), c.priority, c.weight)),
        );
        let smscs = smscs
            .into_iter()
            .enumerate()
            .map(|(index, cfg)| {
                Arc::new(Smsc {
                    index,
                    queue: SmscQueue::new(depth.clone()),
                    health: Health::new(epoch, cfg.binds),
                    watch: ReceiptWatch::new(
                        Duration::from_secs(cfg.query_after_s),
                        settings.receipt_clock_capacity,
                    ),
                    cfg,
                })
            })
            .collect();
        Self {
            receipt_clock: ReceiptClock::new(settings.receipt_clock_capacity),
            settings,
            smscs,
            router,
            sink,
            wall,
            depth,
            delayed: Delayed::default(),
            references: References::default(),
            order: AtomicU64::new(0),
            shutting_down: AtomicBool::new(false),
            drain_deadline: OnceLock::new(),
        }
    }

    pub fn next_order(&self) -> u64 {
        self.order.fetch_add(1, Ordering::Relaxed)
    }

    pub fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::Acquire)
    }

    pub fn smsc(&self, index: usize) -> Option<&Arc<Smsc>> {
        self.smscs.get(index)
    }

    pub fn smsc_name(&self, index: usize) -> &str {
        self.smscs
            .get(index)
            .map(|s| s.cfg.name.as_str())
            .unwrap_or("?")
    }

    pub fn failover_after(&self) -> Duration {
        ms(self.settings.failover_after_ms)
    }

    pub fn retry_after(&self) -> Duration {
        ms(self.settings.retry_after_ms)
    }

    pub fn healthy(&self, index: usize, now: Instant) -> bool {
        self.smscs
            .get(index)
            .is_some_and(|s| s.health.healthy(now, self.failover_after()))
    }

    pub fn recently_up(&self, index: usize, now: Instant) -> bool {
        self.smscs.get(index).is_some_and(|s| {
            s.health
                .recently_up(now, ms(self.settings.no_route_after_ms))
        })
    }

    /// An SMSC of `route` for a message of a tenant limited to `choice`, other than
    /// `exclude`; only a healthy one when `require_healthy`.
    pub fn pick(
        &self,
        route: usize,
        choice: Option<&SmscChoice>,
        exclude: Option<usize>,
        now: Instant,
        require_healthy: bool,
    ) -> Option<usize> {
        self.pick_by(
            route,
            choice,
            exclude,
            |i| self.healthy(i, now),
            |i| self.recently_up(i, now),
            require_healthy,
        )
    }

    /// [`Shared::pick`] with the health of each SMSC told by `healthy` and `recent` (another
    /// view than this engine's binds).
    pub fn pick_by(
        &self,
        route: usize,
        choice: Option<&SmscChoice>,
        exclude: Option<usize>,
        healthy: impl Fn(usize) -> bool,
        recent: impl Fn(usize) -> bool,
        require_healthy: bool,
    ) -> Option<usize> {
        let mut preferred = [0usize; MAX_SMSCS];
        let mut n = 0;
        let names = choice.map_or(&[][..], |c| &c.preference[..]);
        for index in names.iter().filter_map(|name| self.index_of(name)) {
            if let Some(slot) = preferred.get_mut(n) {
                *slot = index;
                n += 1;
            }
        }
        let allowed = Allowed {
            mask: self.mask_of(choice),
            preferred: preferred.get(..n).unwrap_or(&[]),
        };
        self.router
            .pick(route, exclude, allowed, healthy, recent, require_healthy)
    }

    /// The route a message of a tenant limited to `choice` takes to `destination`: the
    /// longest prefix that holds one of its SMSCs.
    pub fn route_of(&self, destination: &str, choice: Option<&SmscChoice>) -> Option<usize> {
        self.router.lookup_within(destination, self.mask_of(choice))
    }

    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.smscs.iter().position(|s| s.cfg.name == name)
    }

    /// The bit of each SMSC `choice` allows (all of them without a choice or an empty list).
    fn mask_of(&self, choice: Option<&SmscChoice>) -> u64 {
        match choice {
            Some(c) if !c.allowed.is_empty() => self
                .smscs
                .iter()
                .take(MAX_SMSCS)
                .enumerate()
                .filter(|(_, s)| c.allows(&s.cfg.name))
                .fold(0, |mask, (i, _)| mask | (1u64 << i)),
            _ => Allowed::ALL.mask,
        }
    }

    pub fn binds_up(&self) -> usize {
        self.smscs.iter().map(|s| s.health.binds_up()).sum()
    }
}
