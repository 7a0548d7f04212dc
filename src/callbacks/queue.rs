//! The callback queue: updates waiting to be POSTed, one lane per destination (tenant and
//! URL) so that a lane's batches go out one at a time and in order. Bounded: past its
//! capacity the oldest waiting update is shed and counted. Pushing never blocks (a short
//! mutex section), so the store can push while it makes a change.

use crate::telemetry::names;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

use crate::otp::OtpView;

/// Where a batch goes: the URL, signed with its tenant's secret.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Dest {
    pub tenant: u16,
    pub url: Arc<str>,
}

#[derive(Debug)]
struct Item {
    seq: u64,
    at: Instant,
    view: OtpView,
}

#[derive(Debug, Default)]
struct Lane {
    items: VecDeque<Item>,
    /// A batch of this lane is being delivered.
    busy: bool,
}

#[derive(Debug, Default)]
struct State {
    lanes: HashMap<Dest, Lane>,
    total: usize,
    seq: u64,
    shed: u64,
}

/// Batches ready to send, and when to look again for the others.
#[derive(Debug, Default)]
pub struct Ready {
    pub batches: Vec<(Dest, Vec<OtpView>)>,
    pub next: Option<Instant>,
}

#[derive(Debug)]
pub struct CallbackQueue {
    state: Mutex<State>,
    capacity: usize,
    pub(crate) wake: Notify,
}

impl CallbackQueue {
    pub fn new(capacity: usize) -> Self {
        Self {
            state: Mutex::new(State::default()),
            capacity,
            wake: Notify::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Updates waiting (not counting the batches being delivered).
    pub fn depth(&self) -> usize {
        self.lock().total
    }

    /// Updates shed so far because the queue was full.
    pub fn shed(&self) -> u64 {
        self.lock().shed
    }

    /// Queues one update; sheds the oldest waiting one when full.
    pub fn push(&self, dest: Dest, view: OtpView) {
        let mut s = self.lock();
        s.seq = s.seq.wrapping_add(1);
        let item = Item {
            seq: s.seq,
            at: Instant::now(),
            view,
        };
        s.lanes.entry(dest).or_default().items.push_back(item);
        s.total = s.total.saturating_add(1);
        if s.total > self.capacity {
            shed_oldest(&mut s);
        }
        metrics::gauge!(names::CALLBACK_QUEUE_DEPTH).set(s.total as f64);
        drop(s);
        self.wake.notify_one();
    }

    /// Takes up to `slots` batches from idle lanes: a lane is ready when it holds `batch_max`
    /// updates, when its oldest has waited `flush`, or always when `all` is set.
    pub fn take_ready(
        &self,
        now: Instant,
        batch_max: usize,
        flush: Duration,
        slots: usize,
        all: bool,
    ) -> Ready {
        let mut out = Ready::default();
        let mut s = self.lock();
        let mut taken = 0usize;
        for (dest, lane) in s.lanes.iter_mut() {
            if lane.busy {
                continue;
            }
            let Some(front) = lane.items.front() else {
                continue;
            };
            let due = front.at + flush;
            if all || lane.items.len() >= batch_max || due <= now {
                if out.batches.len() >= slots {
                    // every slot is taken: a finished batch wakes the task
                    continue;
                }
                let n = lane.items.len().min(batch_max);
                let views = lane.items.drain(..n).map(|i| i.view).collect();
                taken += n;
                lane.busy = true;
                out.batches.push((dest.clone(), views));
            } else {
                out.next = Some(out.next.map_or(due, |t| t.min(due)));
            }
        }
        s.total = s.total.saturating_sub(taken);
        s.lanes.retain(|_, l| l.busy || !l.items.is_empty());
        metrics::gauge!(names::CALLBACK_QUEUE_DEPTH).set(s.total as f64);
        out
    }

    /// A batch of `dest` is finished: its lane may send the next one.
    pub fn release(&self, dest: &Dest) {
        let mut s = self.lock();
        let empty = match s.lanes.get_mut(dest) {
            Some(lane) => {
                lane.busy = false;
                lane.items.is_empty()
            }
            None => false,
        };
        if empty {
            s.lanes.remove(dest);
        }
        drop(s);
        self.wake.notify_one();
    }

    /// Empties the queue; returns how many updates were waiting.
    pub fn clear(&self) -> usize {
        let mut s = self.lock();
        let n = s.total;
        s.lanes.clear();
        s.total = 0;
        metrics::gauge!(names::CALLBACK_QUEUE_DEPTH).set(0.0);
        n
    }
}

/// Drops the oldest waiting update over every lane.
fn shed_oldest(s: &mut State) {
    let oldest = s
        .lanes
        .iter()
        .filter_map(|(d, l)| l.items.front().map(|i| (i.seq, d.clone())))
        .min_by_key(|(seq, _)| *seq);
    if let Some((_, dest)) = oldest {
        if let Some(lane) = s.lanes.get_mut(&dest) {
            lane.items.pop_front();
        }
        s.total = s.total.saturating_sub(1);
        s.shed = s.shed.saturating_add(1);
        metrics::counter!(names::CALLBACK_DELIVERIES, "outcome" => "shed").increment(1);
        if s.shed.is_power_of_two() {
            tracing::warn!(
                shed = s.shed,
                "callback queue full: shedding the oldest updates"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::otp::model::{DeliveryStatus, OtpStatus};

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
            date_created: String::new(),
            date_expires: String::new(),
            language: None,
            encoding: "GSM7",
            delivery_status: DeliveryStatus::Sent,
            date_status_changed: String::new(),
            date_delivery_status_changed: String::new(),
            smpp_error: None,
            date_verified: None,
            date_cancelled: None,
            date_sent: None,
            date_delivered: None,
            resends: 0,
            warnings: Vec::new(),
        }
    }

    fn dest(url: &str) -> Dest {
        Dest {
            tenant: 0,
            url: url.into(),
        }
    }

    #[test]
    fn sheds_the_oldest_when_full() {
        let q = CallbackQueue::new(3);
        q.push(dest("a"), view(1));
        q.push(dest("b"), view(2));
        q.push(dest("a"), view(3));
        q.push(dest("b"), view(4));
        assert_eq!((q.depth(), q.shed()), (3, 1));
        let ready = q.take_ready(Instant::now(), 10, Duration::ZERO, 10, true);
        let mut ids: Vec<String> = ready
            .batches
            .iter()
            .flat_map(|(_, v)| v.iter().map(|v| v.otp_id.clone()))
            .collect();
        ids.sort();
        assert_eq!(ids, ["2", "3", "4"], "update 1 was the oldest");
    }

    #[test]
    fn one_batch_per_lane_at_a_time_and_at_most_batch_max() {
        let q = CallbackQueue::new(100);
        for i in 0..5 {
            q.push(dest("a"), view(i));
        }
        let now = Instant::now();
        // not full and not old enough: nothing yet, but a deadline
        let r = q.take_ready(now, 10, Duration::from_secs(60), 10, false);
        assert!(r.batches.is_empty() && r.next.is_some());
        let r = q.take_ready(now, 2, Duration::from_secs(60), 10, false);
        assert_eq!(r.batches.len(), 1);
        assert_eq!(r.batches[0].1.len(), 2);
        // the lane is busy until released, whatever is waiting
        let r = q.take_ready(now, 2, Duration::ZERO, 10, true);
        assert!(r.batches.is_empty());
        q.release(&dest("a"));
        let r = q.take_ready(now, 2, Duration::ZERO, 10, true);
        let ids: Vec<&str> = r.batches[0].1.iter().map(|v| v.otp_id.as_str()).collect();
        assert_eq!(ids, ["2", "3"], "in order");
        assert_eq!(q.depth(), 1);
    }
}
