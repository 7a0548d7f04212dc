//! Message ids of one SMSC still waiting for a final receipt, each due for a query_sm
//! `query_after_s` after its submit_sm_resp; bounded, the oldest forgotten first. Also holds
//! whether the SMSC answers query_sm at all.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use otpgate_codec::dlr::{canonical_message_id, message_id_variants};
use otpgate_codec::pdu::Address;
use tokio::time::Instant;

/// A message id to ask about, with the source address its submit_sm carried (query_sm must
/// name it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watched {
    pub message_id: String,
    pub source: Address,
}

/// Whether the SMSC answers query_sm. Until one is answered, one query at a time probes it
/// (so an SMSC without query_sm sees exactly one).
const UNKNOWN: u8 = 0;
const PROBING: u8 = 1;
const SUPPORTED: u8 = 2;
const OFF: u8 = 3;

/// What a bind may do with due ids now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryMode {
    /// Send query_sm for at most this many.
    Send(usize),
    /// The SMSC refused query_sm: due ids are given up without asking.
    Off,
}

#[derive(Default)]
struct Inner {
    /// Canonical id to the token of its live entry in `order`.
    ids: HashMap<String, u64>,
    /// Entries in submit order, so due ones are at the front; an entry whose token is no
    /// longer in `ids` was settled and is skipped.
    order: VecDeque<(Instant, String, u64, Watched)>,
    next_token: u64,
}

pub struct ReceiptWatch {
    after: Duration,
    capacity: usize,
    inner: Mutex<Inner>,
    support: AtomicU8,
}

impl ReceiptWatch {
    /// `after` zero (or no capacity) watches nothing.
    pub fn new(after: Duration, capacity: usize) -> Self {
        Self {
            after,
            capacity,
            inner: Mutex::new(Inner::default()),
            support: AtomicU8::new(UNKNOWN),
        }
    }

    pub fn enabled(&self) -> bool {
        !self.after.is_zero() && self.capacity > 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Watches an accepted part; returns how many live ids were forgotten to make room.
    pub fn record(&self, message_id: &str, source: &Address, now: Instant) -> usize {
        if !self.enabled() {
            return 0;
        }
        let key = canonical_message_id(message_id).into_owned();
        let mut g = self.lock();
        let inner = &mut *g;
        let mut forgotten = 0;
        while inner.order.len() >= self.capacity {
            let Some((_, k, token, _)) = inner.order.pop_front() else {
                break;
            };
            if inner.ids.get(&k) == Some(&token) {
                inner.ids.remove(&k);
                forgotten += 1;
            }
        }
        let token = inner.next_token;
        inner.next_token = inner.next_token.wrapping_add(1);
        inner.ids.insert(key.clone(), token);
        let watched = Watched {
            message_id: message_id.to_string(),
            source: source.clone(),
        };
        inner
            .order
            .push_back((now + self.after, key, token, watched));
        forgotten
    }

    /// A final state came for this id (in any hex/decimal form): no longer watched.
    pub fn settle(&self, message_id: &str) -> bool {
        if !self.enabled() {
            return false;
        }
        let mut g = self.lock();
        message_id_variants(message_id).any(|v| g.ids.remove(&v).is_some())
    }

    /// When the oldest entry falls due (possibly one already settled: a harmless wake-up).
    pub fn next_due(&self) -> Option<Instant> {
        if !self.enabled() {
            return None;
        }
        self.lock().order.front().map(|(due, ..)| *due)
    }

    /// Up to `max` ids due at `now`, no longer watched once taken.
    pub fn take_due(&self, now: Instant, max: usize) -> Vec<Watched> {
        let mut out = Vec::new();
        if !self.enabled() {
            return out;
        }
        let mut g = self.lock();
        let inner = &mut *g;
        while out.len() < max && inner.order.front().is_some_and(|(due, ..)| *due <= now) {
            let Some((_, k, token, watched)) = inner.order.pop_front() else {
                break;
            };
            if inner.ids.get(&k) == Some(&token) {
                inner.ids.remove(&k);
                out.push(watched);
            }
        }
        out
    }

    /// How many due ids a bind with `room` free query slots may take, and what to do with
    /// them. Claims the probe when the SMSC's support is still unknown.
    pub fn mode(&self, room: usize) -> QueryMode {
        match self.support.load(Ordering::Acquire) {
            OFF => QueryMode::Off,
            SUPPORTED => QueryMode::Send(room),
            _ if room == 0 => QueryMode::Send(0),
            _ => match self.support.compare_exchange(
                UNKNOWN,
                PROBING,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => QueryMode::Send(1),
                Err(OFF) => QueryMode::Off,
                Err(SUPPORTED) => QueryMode::Send(room),
                Err(_) => QueryMode::Send(0),
            },
        }
    }

    /// A bind is probing whether the SMSC answers query_sm: others wait for its answer.
    pub fn probing(&self) -> bool {
        self.support.load(Ordering::Acquire) == PROBING
    }

    /// The probe went out with nothing due after all, or got no answer: another may probe.
    pub fn probe_unanswered(&self) {
        let _ =
            self.support
                .compare_exchange(PROBING, UNKNOWN, Ordering::AcqRel, Ordering::Acquire);
    }

    /// The SMSC answered a query_sm (whatever the message's state).
    pub fn answered(&self) {
        let _ = self
            .support
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |s| {
                (s != OFF).then_some(SUPPORTED)
            });
    }

    /// The SMSC does not support query_sm; true the first time (to log it once).
    pub fn turn_off(&self) -> bool {
        self.support.swap(OFF, Ordering::AcqRel) != OFF
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src() -> Address {
        Address::default()
    }

    #[test]
    fn due_after_the_delay_settled_skipped_bounded() {
        let w = ReceiptWatch::new(Duration::from_secs(1), 2);
        let t = Instant::now();
        assert_eq!(w.record("0000FF", &src(), t), 0);
        assert_eq!(w.record("2", &src(), t), 0);
        assert!(w.take_due(t, 10).is_empty());
        assert!(w.settle("255"));
        let due = w.take_due(t + Duration::from_secs(1), 10);
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].message_id, "2");
        // Full: the oldest live id is forgotten and counted.
        w.record("3", &src(), t);
        w.record("4", &src(), t);
        assert_eq!(w.record("5", &src(), t), 1);
        let ids: Vec<_> = w
            .take_due(t + Duration::from_secs(2), 10)
            .into_iter()
            .map(|d| d.message_id)
            .collect();
        assert_eq!(ids, ["4", "5"]);
    }

    #[test]
    fn one_probe_until_answered_then_off_for_good() {
        let w = ReceiptWatch::new(Duration::from_secs(1), 10);
        assert_eq!(w.mode(8), QueryMode::Send(1));
        assert_eq!(w.mode(8), QueryMode::Send(0));
        w.probe_unanswered();
        assert_eq!(w.mode(8), QueryMode::Send(1));
        w.answered();
        assert_eq!(w.mode(8), QueryMode::Send(8));
        assert!(w.turn_off());
        assert!(!w.turn_off());
        w.answered();
        assert_eq!(w.mode(8), QueryMode::Off);
    }

    #[test]
    fn off_watches_nothing() {
        let w = ReceiptWatch::new(Duration::ZERO, 10);
        let t = Instant::now();
        w.record("1", &src(), t);
        assert_eq!(w.next_due(), None);
        assert!(w.take_due(t + Duration::from_secs(5), 10).is_empty());
    }
}
