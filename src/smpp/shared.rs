//! State shared by the engine's tasks and its handle: the SMSCs (configuration, queue,
//! health), the router, the sink, the queue depth, the delayed retries and the shutdown
//! state.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use arc_swap::ArcSwap;
use tokio::sync::Notify;
use tokio::time::Instant;

use super::config::{ms, EngineSettings, SmscConfig};
use super::control::SmscControl;
use super::health::Health;
use super::message::{Message, Work};
use super::queue::{Depth, SmscQueue};
use super::receipt_clock::ReceiptClock;
use super::receipt_watch::ReceiptWatch;
use super::router::{Allowed, Router, MAX_SMSCS};
use super::submit::References;
use crate::dispatch::{DeliverySink, RouteSmscs, SmscChoice, SmscPick, WallClock};

pub struct Smsc {
    /// Its slot in the [`SmscSet`]: what messages, retries and the router name it by. An
    /// SMSC keeps its slot across reloads while its name stays configured.
    pub index: usize,
    /// As configured when its binds started (a reload that changes only its routes, priority
    /// or weight keeps this object: the router holds those).
    pub cfg: SmscConfig,
    pub queue: SmscQueue,
    pub health: Health,
    /// Parts waiting for a final receipt, to ask about with query_sm (kept when the entry is
    /// rebound with new settings: the same SMSC answers for the same message ids).
    pub watch: Arc<ReceiptWatch>,
    /// Stopped by an operator, and its binds' status.
    pub control: SmscControl,
}

impl Smsc {
    pub fn new(
        index: usize,
        cfg: SmscConfig,
        depth: &Arc<Depth>,
        settings: &EngineSettings,
    ) -> Self {
        Self {
            index,
            queue: SmscQueue::new(depth.clone()),
            // the start (or the reload) counts as "up": messages are taken while it binds
            health: Health::new(Instant::now(), cfg.binds),
            watch: Arc::new(ReceiptWatch::new(
                Duration::from_secs(cfg.query_after_s),
                settings.receipt_clock_capacity,
            )),
            control: SmscControl::new(&cfg),
            cfg,
        }
    }
}

/// The configured SMSCs by slot and the router over them, replaced whole by a reload.
#[derive(Default)]
pub struct SmscSet {
    pub slots: Vec<Option<Arc<Smsc>>>,
    pub router: Router,
    /// Tells this set from every other of the process (an `SmscPick` holds only within it).
    generation: u32,
}

/// The generation of the next set made.
static SET_GENERATION: AtomicU32 = AtomicU32::new(0);

impl SmscSet {
    /// `slots`, routed by `routing` (each slot's routes, priority and weight).
    pub fn new(slots: Vec<Option<Arc<Smsc>>>, routing: &[Option<&SmscConfig>]) -> Self {
        let none: &[String] = &[];
        let router = Router::new(routing.iter().map(|c| match c {
            Some(c) => (c.routes.as_slice(), c.priority, c.weight),
            None => (none, 0, 0),
        }));
        let generation = SET_GENERATION.fetch_add(1, Ordering::Relaxed);
        Self {
            slots,
            router,
            generation,
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = &Arc<Smsc>> {
        self.slots.iter().flatten()
    }

    pub fn get(&self, index: usize) -> Option<&Arc<Smsc>> {
        self.slots.get(index).and_then(Option::as_ref)
    }

    pub fn slot_of(&self, name: &str) -> Option<usize> {
        self.iter().find(|s| s.cfg.name == name).map(|s| s.index)
    }
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
    set: ArcSwap<SmscSet>,
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
        let depth = Arc::new(Depth::new(settings.queue_capacity));
        let routing: Vec<Option<&SmscConfig>> = smscs.iter().map(Some).collect();
        let slots = smscs
            .iter()
            .enumerate()
            .map(|(index, cfg)| Some(Arc::new(Smsc::new(index, cfg.clone(), &depth, &settings))))
            .collect();
        let set = SmscSet::new(slots, &routing);
        Self {
            receipt_clock: ReceiptClock::new(settings.receipt_clock_capacity),
            settings,
            set: ArcSwap::from_pointee(set),
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

    /// The SMSC set in force.
    pub fn set(&self) -> Arc<SmscSet> {
        self.set.load_full()
    }

    /// Puts `set` in force (see `engine::apply_smscs`).
    pub fn replace_set(&self, set: SmscSet) {
        self.set.store(Arc::new(set));
    }

    /// Every configured SMSC.
    pub fn smscs(&self) -> Vec<Arc<Smsc>> {
        self.set.load().iter().cloned().collect()
    }

    pub fn smsc(&self, index: usize) -> Option<Arc<Smsc>> {
        self.set.load().get(index).cloned()
    }

    /// `f` of the SMSC at `index` in the set in force, without a counted reference to it: the
    /// per-message paths (estimate, dispatch, charge) of both HTTP workers and the engine would
    /// otherwise all write its reference count.
    pub fn with_smsc<R>(&self, index: usize, f: impl FnOnce(&Smsc) -> R) -> Option<R> {
        self.set.load().get(index).map(|s| f(s))
    }

    /// The SMSC called `name` in the set in force (no copy of the set).
    pub fn smsc_named(&self, name: &str) -> Option<Arc<Smsc>> {
        let set = self.set.load();
        set.slot_of(name).and_then(|i| set.get(i).cloned())
    }

    pub fn smsc_name(&self, index: usize) -> String {
        self.set
            .load()
            .get(index)
            .map_or_else(|| "?".to_owned(), |s| s.cfg.name.clone())
    }

    pub fn failover_after(&self) -> Duration {
        ms(self.settings.failover_after_ms)
    }

    pub fn retry_after(&self) -> Duration {
        ms(self.settings.retry_after_ms)
    }

    /// A stopped SMSC is down for the router: its queue fails over at once.
    fn healthy_in(&self, set: &SmscSet, index: usize, now: Instant) -> bool {
        set.get(index).is_some_and(|s| {
            !s.control.is_stopped() && s.health.healthy(now, self.failover_after())
        })
    }

    pub fn healthy(&self, index: usize, now: Instant) -> bool {
        self.healthy_in(&self.set.load(), index, now)
    }

    fn recently_up_in(&self, set: &SmscSet, index: usize, now: Instant) -> bool {
        set.get(index).is_some_and(|s| {
            !s.control.is_stopped()
                && s.health
                    .recently_up(now, ms(self.settings.no_route_after_ms))
        })
    }

    /// An SMSC of `route` for a message of a tenant limited to `choice`, other than
    /// `exclude`; only a healthy one when `require_healthy`.
    fn pick_in(
        &self,
        set: &SmscSet,
        route: usize,
        choice: Option<&SmscChoice>,
        exclude: Option<usize>,
        now: Instant,
        require_healthy: bool,
    ) -> Option<usize> {
        pick_with(
            set,
            route,
            choice,
            exclude,
            |i| self.healthy_in(set, i, now),
            |i| self.recently_up_in(set, i, now),
            require_healthy,
        )
    }

    /// The SMSC a message to `destination` of a tenant limited to `choice` would take (other
    /// than `exclude`), with the health of each SMSC told by `healthy` and `recent`: another
    /// view than this engine's binds (the cluster's).
    pub fn choose_by(
        &self,
        destination: &str,
        choice: Option<&SmscChoice>,
        exclude: Option<&str>,
        healthy: impl Fn(&str) -> bool,
        recent: impl Fn(&str) -> bool,
        require_healthy: bool,
    ) -> Option<String> {
        let set = self.set.load();
        let route = set
            .router
            .lookup_within(destination, mask_of(&set, choice))?;
        let exclude = exclude.and_then(|name| set.slot_of(name));
        let name = |i: usize| set.get(i).map_or("", |s| s.cfg.name.as_str());
        let picked = pick_with(
            &set,
            route,
            choice,
            exclude,
            |i| healthy(name(i)),
            |i| recent(name(i)),
            require_healthy,
        )?;
        set.get(picked).map(|s| s.cfg.name.clone())
    }

    /// The route and the SMSC a message to `destination` of a tenant limited to `choice`
    /// takes now (other than `exclude`; only a healthy one when `require_healthy`), read
    /// from one SMSC set: the route is the longest prefix that holds one of its SMSCs.
    pub fn choose(
        &self,
        destination: &str,
        choice: Option<&SmscChoice>,
        exclude: Option<usize>,
        now: Instant,
        require_healthy: bool,
    ) -> Option<(usize, usize)> {
        let set = self.set.load();
        self.choose_in(&set, destination, choice, exclude, now, require_healthy)
    }

    /// [`choose`](Self::choose) in `set`.
    fn choose_in(
        &self,
        set: &SmscSet,
        destination: &str,
        choice: Option<&SmscChoice>,
        exclude: Option<usize>,
        now: Instant,
        require_healthy: bool,
    ) -> Option<(usize, usize)> {
        let route = set
            .router
            .lookup_within(destination, mask_of(set, choice))?;
        let smsc = self.pick_in(set, route, choice, exclude, now, require_healthy)?;
        Some((route, smsc))
    }

    /// [`choose`](Self::choose) of any SMSC, with the pick that names it for
    /// [`take_pick`](Self::take_pick).
    pub fn choose_pick(
        &self,
        destination: &str,
        choice: Option<&SmscChoice>,
        now: Instant,
    ) -> Option<(usize, SmscPick)> {
        let set = self.set.load();
        let (_, smsc) = self.choose_in(&set, destination, choice, None, now, false)?;
        let index = u32::try_from(smsc).ok()?;
        Some((
            smsc,
            SmscPick(u64::from(set.generation) << 32 | u64::from(index)),
        ))
    }

    /// The SMSC `pick` names while it holds: the set that made it still in force, that SMSC
    /// healthy. Else `None`, and the caller chooses anew.
    pub fn take_pick(&self, pick: SmscPick, now: Instant) -> Option<usize> {
        let set = self.set.load();
        let (generation, index) = (pick.0 >> 32, pick.0 & u64::from(u32::MAX));
        let index = usize::try_from(index).ok()?;
        (generation == u64::from(set.generation) && self.healthy_in(&set, index, now))
            .then_some(index)
    }

    /// Another SMSC for `msg` than `exclude`, healthy, on its route in the set in force.
    pub fn other_for(&self, msg: &Message, exclude: usize, now: Instant) -> Option<usize> {
        let choice = msg.sms.smscs.as_deref();
        self.choose(&msg.sms.destination, choice, Some(exclude), now, true)
            .map(|(_, smsc)| smsc)
    }

    /// Whether a tenant limited to `choice` has a route to `destination`.
    pub fn covers(&self, destination: &str, choice: Option<&SmscChoice>) -> bool {
        let set = self.set.load();
        set.router
            .lookup_within(destination, mask_of(&set, choice))
            .is_some()
    }

    pub fn binds_up(&self) -> usize {
        self.set.load().iter().map(|s| s.health.binds_up()).sum()
    }

    /// Each SMSC of the set in force: its name and `window` x `binds`.
    pub fn smsc_windows(&self) -> Vec<(String, usize)> {
        let set = self.set.load();
        set.iter()
            .map(|s| (s.cfg.name.clone(), s.cfg.window.saturating_mul(s.cfg.binds)))
            .collect()
    }

    /// Every route of the set in force: its prefix (with its `+`) and its SMSCs' names.
    pub fn routes(&self) -> Vec<RouteSmscs> {
        let set = self.set.load();
        set.router
            .routes()
            .iter()
            .map(|r| RouteSmscs {
                prefix: format!("+{}", r.prefix),
                smscs: r
                    .groups
                    .iter()
                    .flatten()
                    .filter_map(|(i, _)| set.get(*i).map(|s| s.cfg.name.clone()))
                    .collect(),
            })
            .collect()
    }
}

/// The bit of each SMSC slot `choice` allows (all of them without a choice or an empty list).
fn mask_of(set: &SmscSet, choice: Option<&SmscChoice>) -> u64 {
    match choice {
        Some(c) if !c.allowed.is_empty() => set
            .iter()
            .filter(|s| s.index < MAX_SMSCS && c.allows(&s.cfg.name))
            .fold(0, |mask, s| mask | (1u64 << s.index)),
        _ => Allowed::ALL.mask,
    }
}

/// An SMSC of `route` in `set` for a message of a tenant limited to `choice`, other than
/// `exclude`, by the health `healthy` and `recent` tell; only a healthy one when
/// `require_healthy`.
fn pick_with(
    set: &SmscSet,
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
    for index in names.iter().filter_map(|name| set.slot_of(name)) {
        if let Some(slot) = preferred.get_mut(n) {
            *slot = index;
            n += 1;
        }
    }
    let allowed = Allowed {
        mask: mask_of(set, choice),
        preferred: preferred.get(..n).unwrap_or(&[]),
    };
    set.router
        .pick(route, exclude, allowed, healthy, recent, require_healthy)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dispatch::{DeliveryUpdate, SystemClock};

    struct NoSink;

    impl DeliverySink for NoSink {
        fn on_update(&self, _: DeliveryUpdate) {}
    }

    fn configs() -> Vec<SmscConfig> {
        ["a", "b"]
            .into_iter()
            .map(|name| SmscConfig {
                name: name.into(),
                ..SmscConfig::default()
            })
            .collect()
    }

    #[test]
    fn a_pick_is_taken_again_only_in_its_own_set_and_while_its_smsc_is_healthy() {
        let smscs = configs();
        let shared = Shared::new(
            smscs.clone(),
            EngineSettings::default(),
            Arc::new(NoSink),
            Arc::new(SystemClock),
        );
        let now = Instant::now();
        let (index, pick) = shared.choose_pick("+447400100000", None, now).unwrap();
        assert_eq!(shared.take_pick(pick, now), Some(index));

        // no bind ever came up: past the start's grace the SMSC is not healthy
        let late = now + shared.failover_after() + Duration::from_secs(1);
        assert_eq!(shared.take_pick(pick, late), None);

        // the same SMSCs again (a reload): a pick of the set before is not taken
        let routing: Vec<Option<&SmscConfig>> = smscs.iter().map(Some).collect();
        let slots = shared.set.load().slots.clone();
        shared.set.store(Arc::new(SmscSet::new(slots, &routing)));
        assert_eq!(shared.take_pick(pick, now), None);
        let (again, new_pick) = shared.choose_pick("+447400100000", None, now).unwrap();
        assert_ne!(new_pick, pick);
        assert_eq!(shared.take_pick(new_pick, now), Some(again));
    }
}
