//! The callback queue: updates waiting to be POSTed, one lane per destination (tenant and
//! URL) so that a lane's batches go out one at a time and in order. Bounded twice: each
//! tenant holds at most `queue_per_tenant` waiting updates (past it, that tenant's oldest is
//! shed), and all together at most `queue_capacity` (past it, the oldest update of the
//! tenant holding the most is shed); every shed update is counted. Pushing never blocks (a
//! short mutex section), so the store can push while it makes a change.
//!
//! Lanes are indexed, so a round of [`CallbackQueue::take_ready`] costs what is due, not the
//! number of lanes: a lane waiting for its flush time or for a retry sits in a timer set
//! ordered by due time; a due lane joins its tenant's ready list; ready batches are taken
//! from the tenants in turn (round-robin), so a tenant with many ready lanes cannot take
//! every slot. A failed batch comes back with [`CallbackQueue::retry_at`] and keeps its lane
//! busy (order per URL is kept) without holding a slot during its backoff.

use crate::telemetry::names;
use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

use super::settings::CallbacksConfig;
use crate::otp::identity::TenantTag;
use crate::otp::OtpView;

/// Where a batch goes: the URL, signed with its tenant's secret (found by the tenant's tag,
/// never by its position in the configuration).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Dest {
    pub tenant: TenantTag,
    pub url: Arc<str>,
}

/// A batch taken from the queue: deliver it, then hand it back with
/// [`CallbackQueue::release`] (done) or [`CallbackQueue::retry_at`] (failed, try again).
#[derive(Debug)]
pub struct Batch {
    pub dest: Dest,
    pub views: Vec<OtpView>,
    /// Failed attempts so far.
    pub attempt: u32,
    /// The queue order of its first update, so that a batch back for a retry is shed
    /// before what was queued after it.
    seq: u64,
}

#[derive(Debug)]
struct Item {
    seq: u64,
    at: Instant,
    view: OtpView,
}

/// A failed batch waiting for its retry, in its lane ahead of the lane's items.
#[derive(Debug)]
struct Held {
    seq: u64,
    views: VecDeque<OtpView>,
    attempt: u32,
    due: Instant,
}

type LaneId = u64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Waiting for a due time (its key in the timer set), or for nothing when empty.
    Waiting(Option<Instant>),
    /// In its tenant's ready list.
    Ready,
    /// A batch of this lane is out (being delivered).
    Busy,
}

#[derive(Debug)]
struct Lane {
    dest: Dest,
    held: Option<Held>,
    items: VecDeque<Item>,
    stage: Stage,
    /// The queue order of the lane's oldest waiting update: its key in its tenant's index.
    front: Option<u64>,
}

impl Lane {
    fn waiting(&self) -> usize {
        self.items.len() + self.held.as_ref().map_or(0, |h| h.views.len())
    }

    fn front_seq(&self) -> Option<u64> {
        match &self.held {
            Some(h) if !h.views.is_empty() => Some(h.seq),
            _ => self.items.front().map(|i| i.seq),
        }
    }
}

#[derive(Debug, Default)]
struct Tenant {
    /// Updates waiting (held retries included).
    waiting: usize,
    /// Each lane with waiting updates, by the queue order of its oldest: the first is the
    /// tenant's oldest update, the one shed when the tenant is over its cap.
    fronts: BTreeSet<(u64, LaneId)>,
    /// Lanes due, in the order they became due.
    ready: VecDeque<LaneId>,
    in_ring: bool,
}

#[derive(Debug, Default)]
struct State {
    lanes: HashMap<LaneId, Lane>,
    by_dest: HashMap<Dest, LaneId>,
    next_lane: LaneId,
    tenants: HashMap<TenantTag, Tenant>,
    /// Lanes waiting for a flush time or a retry, by due time.
    timers: BTreeSet<(Instant, LaneId)>,
    /// Tenants with ready lanes, served in turn.
    ring: VecDeque<TenantTag>,
    total: usize,
    seq: u64,
    shed: u64,
}

/// Batches ready to send, and when to look again for the others.
#[derive(Debug, Default)]
pub struct Ready {
    pub batches: Vec<Batch>,
    pub next: Option<Instant>,
}

/// The limits the queue works to.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Updates waiting at most, all tenants together.
    pub capacity: usize,
    /// Updates waiting at most for one tenant.
    pub per_tenant: usize,
    /// OTP objects per batch at most; a lane holding this many is due at once.
    pub batch_max: usize,
    /// A lane is due when its oldest update has waited this long.
    pub flush: Duration,
}

impl Limits {
    pub fn of(cfg: &CallbacksConfig) -> Self {
        Self {
            capacity: cfg.queue_capacity,
            per_tenant: cfg.queue_per_tenant,
            batch_max: cfg.batch_max,
            flush: Duration::from_millis(cfg.flush_ms),
        }
    }
}

#[derive(Debug)]
pub struct CallbackQueue {
    state: Mutex<State>,
    limits: Limits,
    pub(crate) wake: Notify,
}

impl State {
    fn tenant(&mut self, t: TenantTag) -> &mut Tenant {
        self.tenants.entry(t).or_default()
    }

    fn lane_of(&mut self, dest: &Dest) -> LaneId {
        if let Some(id) = self.by_dest.get(dest) {
            return *id;
        }
        self.next_lane = self.next_lane.wrapping_add(1);
        let id = self.next_lane;
        self.by_dest.insert(dest.clone(), id);
        self.lanes.insert(
            id,
            Lane {
                dest: dest.clone(),
                held: None,
                items: VecDeque::new(),
                stage: Stage::Waiting(None),
                front: None,
            },
        );
        id
    }

    /// Keeps the tenant's index of lane fronts in step with the lane.
    fn refront(&mut self, id: LaneId) {
        let Some(lane) = self.lanes.get_mut(&id) else {
            return;
        };
        let new = lane.front_seq();
        let old = std::mem::replace(&mut lane.front, new);
        if old == new {
            return;
        }
        let tenant = lane.dest.tenant;
        let t = self.tenant(tenant);
        if let Some(s) = old {
            t.fronts.remove(&(s, id));
        }
        if let Some(s) = new {
            t.fronts.insert((s, id));
        }
    }

    /// Sets the due time of a lane that is neither ready nor busy (a retry's, else its
    /// flush time, else at once when it holds a full batch); removes it when empty.
    fn schedule(&mut self, id: LaneId, now: Instant, limits: &Limits) {
        let Some(lane) = self.lanes.get_mut(&id) else {
            return;
        };
        let Stage::Waiting(old) = lane.stage else {
            return;
        };
        if lane.held.as_ref().is_some_and(|h| h.views.is_empty()) {
            lane.held = None;
        }
        let due = match (&lane.held, lane.items.front()) {
            (Some(h), _) => Some(h.due),
            (None, None) => None,
            (None, Some(_)) if lane.items.len() >= limits.batch_max => Some(now),
            (None, Some(front)) => Some(front.at + limits.flush),
        };
        lane.stage = Stage::Waiting(due);
        if old != due {
            if let Some(t) = old {
                self.timers.remove(&(t, id));
            }
            if let Some(t) = due {
                self.timers.insert((t, id));
            }
        }
        if due.is_none() {
            self.remove(id);
        }
    }

    /// Forgets an empty lane that is not busy.
    fn remove(&mut self, id: LaneId) {
        let Some(lane) = self.lanes.get(&id) else {
            return;
        };
        if lane.stage == Stage::Busy || lane.waiting() > 0 {
            return;
        }
        self.refront(id);
        if let Some(lane) = self.lanes.remove(&id) {
            self.by_dest.remove(&lane.dest);
            match lane.stage {
                Stage::Waiting(Some(t)) => {
                    self.timers.remove(&(t, id));
                }
                Stage::Ready => self.tenant(lane.dest.tenant).ready.retain(|l| *l != id),
                Stage::Waiting(None) | Stage::Busy => {}
            }
        }
    }

    /// Sheds the oldest waiting update of `tenant`.
    fn shed_oldest(&mut self, tenant: TenantTag, now: Instant, limits: &Limits) {
        let Some(&(_, id)) = self.tenant(tenant).fronts.first() else {
            return;
        };
        let Some(lane) = self.lanes.get_mut(&id) else {
            return;
        };
        let dropped = match lane.held.as_mut() {
            Some(h) if !h.views.is_empty() => h.views.pop_front().is_some(),
            _ => lane.items.pop_front().is_some(),
        };
        if !dropped {
            return;
        }
        let t = self.tenant(tenant);
        t.waiting = t.waiting.saturating_sub(1);
        self.total = self.total.saturating_sub(1);
        self.shed = self.shed.saturating_add(1);
        metrics::counter!(names::CALLBACK_DELIVERIES, "outcome" => "shed").increment(1);
        if self.shed.is_power_of_two() {
            tracing::warn!(
                shed = self.shed,
                tenant = %tenant,
                "callback queue full: shedding the oldest updates"
            );
        }
        self.refront(id);
        self.schedule(id, now, limits);
        self.remove(id);
    }

    /// Brings the tenant under its cap, then everything under the capacity (shedding from
    /// the tenant holding the most, so a small tenant's updates are not the ones lost).
    fn enforce(&mut self, tenant: TenantTag, now: Instant, limits: &Limits) {
        while self.tenant(tenant).waiting > limits.per_tenant {
            let before = self.total;
            self.shed_oldest(tenant, now, limits);
            if self.total == before {
                break;
            }
        }
        while self.total > limits.capacity {
            let Some(biggest) = self
                .tenants
                .iter()
                .max_by_key(|(_, t)| t.waiting)
                .map(|(k, _)| *k)
            else {
                break;
            };
            let before = self.total;
            self.shed_oldest(biggest, now, limits);
            if self.total == before {
                break;
            }
        }
    }

    fn publish(&self) {
        metrics::gauge!(names::CALLBACK_QUEUE_DEPTH).set(self.total as f64);
    }
}

impl CallbackQueue {
    pub fn new(limits: Limits) -> Self {
        Self {
            state: Mutex::new(State::default()),
            limits,
            wake: Notify::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Updates waiting (retries waiting their backoff included, batches being delivered not).
    pub fn depth(&self) -> usize {
        self.lock().total
    }

    /// Updates shed so far because a tenant's share or the queue was full.
    pub fn shed(&self) -> u64 {
        self.lock().shed
    }

    /// Queues one update; sheds its tenant's oldest when the tenant is over its cap, and the
    /// biggest tenant's oldest when the queue is full.
    pub fn push(&self, dest: Dest, view: OtpView) {
        let now = Instant::now();
        let mut s = self.lock();
        s.seq = s.seq.wrapping_add(1);
        let item = Item {
            seq: s.seq,
            at: now,
            view,
        };
        let tenant = dest.tenant;
        let id = s.lane_of(&dest);
        if let Some(lane) = s.lanes.get_mut(&id) {
            lane.items.push_back(item);
        }
        s.tenant(tenant).waiting += 1;
        s.total = s.total.saturating_add(1);
        s.refront(id);
        s.schedule(id, now, &self.limits);
        s.enforce(tenant, now, &self.limits);
        s.publish();
        drop(s);
        self.wake.notify_one();
    }

    /// Takes up to `slots` batches from due lanes, serving the tenants in turn: a lane is due
    /// when it holds `batch_max` updates, when its oldest has waited `flush`, when its retry
    /// is due, or always when `all` is set.
    pub fn take_ready(&self, now: Instant, slots: usize, all: bool) -> Ready {
        let mut out = Ready::default();
        let mut s = self.lock();
        while let Some(&(t, id)) = s.timers.first() {
            if !all && t > now {
                break;
            }
            s.timers.remove(&(t, id));
            let Some(lane) = s.lanes.get_mut(&id) else {
                continue;
            };
            lane.stage = Stage::Ready;
            let tenant = lane.dest.tenant;
            let mut ring = false;
            let te = s.tenant(tenant);
            te.ready.push_back(id);
            if !te.in_ring {
                te.in_ring = true;
                ring = true;
            }
            if ring {
                s.ring.push_back(tenant);
            }
        }
        while out.batches.len() < slots {
            let Some(tenant) = s.ring.pop_front() else {
                break;
            };
            let mut batch = None;
            while batch.is_none() {
                let Some(id) = s.tenant(tenant).ready.pop_front() else {
                    break;
                };
                batch = self.take_lane(&mut s, id);
            }
            let te = s.tenant(tenant);
            te.in_ring = !te.ready.is_empty();
            if te.in_ring {
                s.ring.push_back(tenant);
            }
            out.batches.extend(batch);
        }
        // With every slot taken, a finished batch wakes the task.
        out.next = s.timers.first().map(|(t, _)| *t);
        s.publish();
        out
    }

    /// One batch out of a ready lane: its retry, else up to `batch_max` of its updates.
    fn take_lane(&self, s: &mut State, id: LaneId) -> Option<Batch> {
        let lane = s.lanes.get_mut(&id)?;
        if lane.stage != Stage::Ready {
            return None;
        }
        let batch = match lane.held.take() {
            Some(h) if !h.views.is_empty() => Batch {
                dest: lane.dest.clone(),
                views: h.views.into(),
                attempt: h.attempt,
                seq: h.seq,
            },
            _ => {
                let n = lane.items.len().min(self.limits.batch_max);
                let seq = lane.items.front().map(|i| i.seq)?;
                Batch {
                    dest: lane.dest.clone(),
                    views: lane.items.drain(..n).map(|i| i.view).collect(),
                    attempt: 0,
                    seq,
                }
            }
        };
        lane.stage = Stage::Busy;
        let n = batch.views.len();
        let t = s.tenant(batch.dest.tenant);
        t.waiting = t.waiting.saturating_sub(n);
        s.total = s.total.saturating_sub(n);
        s.refront(id);
        Some(batch)
    }

    /// A batch of `dest` is finished (delivered or given up): its lane may send the next one.
    pub fn release(&self, dest: &Dest) {
        let now = Instant::now();
        let mut s = self.lock();
        if let Some(&id) = s.by_dest.get(dest) {
            if let Some(lane) = s.lanes.get_mut(&id) {
                if lane.stage == Stage::Busy {
                    lane.stage = Stage::Waiting(None);
                }
            }
            s.schedule(id, now, &self.limits);
        }
        drop(s);
        self.wake.notify_one();
    }

    /// A batch failed: it waits in its lane until `due` (the lane stays busy for anything
    /// newer, so the order per URL is kept) and holds no slot meanwhile. Its updates count
    /// as waiting again, within the caps.
    pub fn retry_at(&self, batch: Batch, due: Instant) {
        let now = Instant::now();
        let mut s = self.lock();
        let tenant = batch.dest.tenant;
        let n = batch.views.len();
        let id = s.lane_of(&batch.dest);
        if let Some(lane) = s.lanes.get_mut(&id) {
            lane.held = Some(Held {
                seq: batch.seq,
                views: batch.views.into(),
                attempt: batch.attempt,
                due,
            });
            lane.stage = Stage::Waiting(None);
        }
        s.tenant(tenant).waiting += n;
        s.total = s.total.saturating_add(n);
        s.refront(id);
        s.schedule(id, now, &self.limits);
        s.enforce(tenant, now, &self.limits);
        s.publish();
        drop(s);
        self.wake.notify_one();
    }

    /// Empties the queue; returns how many updates were waiting.
    pub fn clear(&self) -> usize {
        let mut s = self.lock();
        let n = s.total;
        let (seq, shed, next_lane) = (s.seq, s.shed, s.next_lane);
        *s = State {
            seq,
            shed,
            next_lane,
            ..State::default()
        };
        s.publish();
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::otp::model::{DeliveryStatus, OtpStatus, Timestamp};

    fn view(n: u32) -> OtpView {
        OtpView {
            otp_id: n.to_string(),
            track_id: None,
            phone_number: String::new(),
            country_iso: "FR".into(),
            status: OtpStatus::Pending,
            cost: 0.0,
            parts: 1,
            max_attempts: 5,
            attempts: 0,
            ttl: 600,
            otp_callback_url: None,
            date_created: Timestamp(0),
            date_expires: Timestamp(0),
            language: None,
            encoding: "GSM7",
            delivery_status: DeliveryStatus::Sent,
            date_status_changed: Timestamp(0),
            date_delivery_status_changed: Timestamp(0),
            smpp_error: None,
            date_verified: None,
            date_cancelled: None,
            date_sent: None,
            from: "Verify".into(),
            date_delivered: None,
            resends: 0,
            warnings: Vec::new(),
        }
    }

    fn dest(url: &str) -> Dest {
        of(0, url)
    }

    fn of(tenant: u16, url: &str) -> Dest {
        Dest {
            tenant: TenantTag::from_raw(u32::from(tenant)),
            url: url.into(),
        }
    }

    fn limits(capacity: usize, per_tenant: usize, batch_max: usize, flush: Duration) -> Limits {
        Limits {
            capacity,
            per_tenant,
            batch_max,
            flush,
        }
    }

    fn ids(batches: &[Batch]) -> Vec<String> {
        let mut ids: Vec<String> = batches
            .iter()
            .flat_map(|b| b.views.iter().map(|v| v.otp_id.clone()))
            .collect();
        ids.sort();
        ids
    }

    /// Every index agrees with the lanes.
    fn check(q: &CallbackQueue) {
        let s = q.lock();
        let total: usize = s.lanes.values().map(Lane::waiting).sum();
        assert_eq!(s.total, total, "total");
        for (t, te) in &s.tenants {
            let lanes: Vec<(&LaneId, &Lane)> = s
                .lanes
                .iter()
                .filter(|(_, l)| l.dest.tenant == *t)
                .collect();
            let waiting: usize = lanes.iter().map(|(_, l)| l.waiting()).sum();
            assert_eq!(te.waiting, waiting, "tenant {t} waiting");
            let fronts: BTreeSet<(u64, LaneId)> = lanes
                .iter()
                .filter_map(|(id, l)| l.front_seq().map(|s| (s, **id)))
                .collect();
            assert_eq!(te.fronts, fronts, "tenant {t} fronts");
            assert_eq!(te.in_ring, s.ring.contains(t), "tenant {t} in the ring");
            assert!(!te.in_ring || !te.ready.is_empty(), "tenant {t} ready");
        }
        let timers: BTreeSet<(Instant, LaneId)> = s
            .lanes
            .iter()
            .filter_map(|(id, l)| match l.stage {
                Stage::Waiting(Some(t)) => Some((t, *id)),
                _ => None,
            })
            .collect();
        assert_eq!(s.timers, timers, "timers");
        for (id, l) in &s.lanes {
            assert_eq!(s.by_dest.get(&l.dest), Some(id), "by_dest");
            assert!(
                l.stage == Stage::Busy || l.waiting() > 0,
                "no idle empty lane"
            );
            if l.stage == Stage::Ready {
                assert!(
                    s.tenants[&l.dest.tenant].ready.contains(id),
                    "ready lane listed"
                );
            }
        }
        assert_eq!(s.by_dest.len(), s.lanes.len(), "by_dest size");
    }

    #[test]
    fn sheds_the_oldest_when_full() {
        let q = CallbackQueue::new(limits(3, 100, 10, Duration::ZERO));
        q.push(dest("a"), view(1));
        q.push(dest("b"), view(2));
        q.push(dest("a"), view(3));
        q.push(dest("b"), view(4));
        assert_eq!((q.depth(), q.shed()), (3, 1));
        check(&q);
        let ready = q.take_ready(Instant::now(), 10, true);
        assert_eq!(
            ids(&ready.batches),
            ["2", "3", "4"],
            "update 1 was the oldest"
        );
        check(&q);
    }

    #[test]
    fn one_batch_per_lane_at_a_time_and_at_most_batch_max() {
        let q = CallbackQueue::new(limits(100, 100, 2, Duration::from_secs(60)));
        q.push(dest("a"), view(0));
        let now = Instant::now();
        // not full and not old enough: nothing yet, but a deadline
        let r = q.take_ready(now, 10, false);
        assert!(r.batches.is_empty() && r.next.is_some());
        for i in 1..5 {
            q.push(dest("a"), view(i));
        }
        let r = q.take_ready(Instant::now(), 10, false);
        assert_eq!(r.batches.len(), 1);
        assert_eq!(ids(&r.batches), ["0", "1"]);
        // the lane is busy until released, whatever is waiting
        let r = q.take_ready(Instant::now(), 10, true);
        assert!(r.batches.is_empty());
        check(&q);
        q.release(&dest("a"));
        let r = q.take_ready(Instant::now(), 10, true);
        let got: Vec<&str> = r.batches[0]
            .views
            .iter()
            .map(|v| v.otp_id.as_str())
            .collect();
        assert_eq!(got, ["2", "3"], "in order");
        assert_eq!(q.depth(), 1);
        check(&q);
    }

    #[test]
    fn a_tenant_over_its_cap_sheds_its_own_oldest_and_keeps_the_others() {
        let q = CallbackQueue::new(limits(1_000, 3, 10, Duration::ZERO));
        q.push(of(1, "b"), view(100));
        q.push(of(1, "b"), view(101));
        for i in 0..6 {
            q.push(of(0, &format!("a{}", i % 2)), view(i));
        }
        assert_eq!((q.depth(), q.shed()), (5, 3), "tenant 0 kept at 3");
        check(&q);
        let ready = q.take_ready(Instant::now(), 10, true);
        assert_eq!(
            ids(&ready.batches),
            ["100", "101", "3", "4", "5"],
            "tenant 0's three oldest shed, tenant 1's kept"
        );
        check(&q);
    }

    #[test]
    fn a_tenant_flooding_the_queue_sheds_its_own_oldest_not_another_tenants() {
        let q = CallbackQueue::new(limits(3, 100, 10, Duration::ZERO));
        q.push(of(1, "b"), view(100));
        for i in 0..5 {
            q.push(dest("a"), view(i));
        }
        let ready = q.take_ready(Instant::now(), 10, true);
        let of_b: Vec<String> = ready
            .batches
            .iter()
            .filter(|b| b.dest == of(1, "b"))
            .flat_map(|b| b.views.iter().map(|v| v.otp_id.clone()))
            .collect();
        assert_eq!(of_b, ["100"], "tenant 1's update is kept");
    }

    #[test]
    fn ready_batches_are_taken_from_the_tenants_in_turn() {
        let q = CallbackQueue::new(limits(1_000, 1_000, 10, Duration::ZERO));
        for i in 0..10 {
            q.push(of(0, &format!("a{i}")), view(i));
        }
        q.push(of(1, "b"), view(100));
        q.push(of(2, "c"), view(200));
        let r = q.take_ready(Instant::now(), 3, false);
        let mut tenants: Vec<u32> = r.batches.iter().map(|b| b.dest.tenant.get()).collect();
        tenants.sort_unstable();
        assert_eq!(
            tenants,
            [0, 1, 2],
            "one slot each, whatever tenant 0 has ready"
        );
        check(&q);
    }

    #[test]
    fn a_failed_batch_waits_in_its_lane_without_a_slot_and_goes_first() {
        let q = CallbackQueue::new(limits(1_000, 1_000, 10, Duration::ZERO));
        q.push(dest("a"), view(1));
        let mut r = q.take_ready(Instant::now(), 1, false);
        let Some(mut failed) = r.batches.pop() else {
            panic!("a batch");
        };
        q.push(dest("a"), view(2));
        q.push(of(1, "b"), view(3));
        failed.attempt += 1;
        let due = Instant::now() + Duration::from_secs(3_600);
        q.retry_at(failed, due);
        check(&q);
        // the only slot serves tenant 1; lane "a" waits for its retry, not behind it
        let r = q.take_ready(Instant::now(), 1, false);
        assert_eq!(ids(&r.batches), ["3"]);
        assert_eq!(r.next, Some(due));
        q.release(&of(1, "b"));
        // when due, the retry goes before the newer update of its lane
        let r = q.take_ready(due, 10, false);
        assert_eq!(
            (ids(&r.batches), r.batches[0].attempt),
            (vec!["1".into()], 1)
        );
        q.release(&dest("a"));
        let r = q.take_ready(due, 10, false);
        assert_eq!(ids(&r.batches), ["2"]);
        check(&q);
    }

    #[test]
    fn many_idle_lanes_stay_indexed() {
        let q = CallbackQueue::new(limits(100_000, 100_000, 10, Duration::from_secs(60)));
        for i in 0..5_000u32 {
            q.push(of((i % 7) as u16, &format!("u{i}")), view(i));
        }
        check(&q);
        // nothing due: no batch, and the next look is the earliest flush time
        let r = q.take_ready(Instant::now(), 32, false);
        assert!(r.batches.is_empty());
        assert!(r.next.is_some());
        // one lane fills up: only it is due
        for i in 0..10 {
            q.push(of(3, "full"), view(10_000 + i));
        }
        let r = q.take_ready(Instant::now(), 32, false);
        assert_eq!(r.batches.len(), 1);
        assert_eq!(r.batches[0].dest, of(3, "full"));
        check(&q);
        q.release(&of(3, "full"));
        // everything due: 32 slots, 7 tenants in turn
        let r = q.take_ready(Instant::now(), 32, true);
        assert_eq!(r.batches.len(), 32);
        let mut per = [0usize; 7];
        for b in &r.batches {
            per[b.dest.tenant.get() as usize] += 1;
        }
        assert!(per.iter().all(|n| (4..=5).contains(n)), "{per:?}");
        check(&q);
        for b in &r.batches {
            q.release(&b.dest);
        }
        check(&q);
        assert_eq!(q.depth(), 5_000 - 32);
        assert_eq!(q.clear(), 5_000 - 32);
        check(&q);
    }
}
