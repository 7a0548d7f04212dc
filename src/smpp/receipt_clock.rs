//! The bounded clock that measures submit-to-receipt delay: when each recently accepted
//! message id was accepted, forgotten oldest first.

use std::collections::{HashMap, VecDeque};
use std::hash::BuildHasher;
use std::sync::Mutex;
use std::time::Duration;

use foldhash::fast::RandomState;
use otpgate_codec::dlr::{canonical_message_id, message_id_other_forms};
use tokio::time::Instant;

/// An id's canonical form hashed by a foldhash of random seed (the ids come from the SMSC):
/// no string kept per message. Two ids of one hash would only swap their delays in a metric.
type Key = u64;

/// Key to acceptance time, and the keys in acceptance order (for eviction).
type Clock = (HashMap<Key, Instant, RandomState>, VecDeque<(Instant, Key)>);

/// Message ids accepted recently, with when: at most `capacity`, oldest forgotten first, none
/// older than a day.
pub struct ReceiptClock {
    inner: Mutex<Clock>,
    capacity: usize,
    keys: RandomState,
}

const MAX_AGE: Duration = Duration::from_secs(86_400);

impl ReceiptClock {
    pub fn new(capacity: usize) -> Self {
        Self {
            inner: Mutex::new((HashMap::default(), VecDeque::new())),
            capacity,
            keys: RandomState::default(),
        }
    }

    pub fn record(&self, message_id: &str, _smsc: usize, now: Instant) {
        if self.capacity == 0 {
            return;
        }
        let key = self
            .keys
            .hash_one(canonical_message_id(message_id).as_ref());
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let (map, order) = &mut *g;
        while order.len() >= self.capacity
            || order
                .front()
                .is_some_and(|(t, _)| now.saturating_duration_since(*t) > MAX_AGE)
        {
            match order.pop_front() {
                Some((t, k)) => {
                    if map.get(&k) == Some(&t) {
                        map.remove(&k);
                    }
                }
                None => break,
            }
        }
        map.insert(key, now);
        order.push_back((now, key));
    }

    /// When the message a receipt names was accepted (its id in any hex/decimal form).
    pub fn take(&self, receipt_id: &str) -> Option<Instant> {
        let first = self
            .keys
            .hash_one(canonical_message_id(receipt_id).as_ref());
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        // the other forms only when the first is not known (nearly never)
        g.0.remove(&first).or_else(|| {
            message_id_other_forms(receipt_id)
                .find_map(|v| g.0.remove(&self.keys.hash_one(v.as_str())))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_matches_hex_and_decimal_and_stays_bounded() {
        let c = ReceiptClock::new(2);
        let t = Instant::now();
        c.record("0000FF", 0, t);
        assert!(c.take("255").is_some());
        assert!(c.take("255").is_none());
        c.record("1", 0, t);
        c.record("2", 0, t);
        c.record("3", 0, t);
        assert!(c.take("1").is_none());
        assert!(c.take("3").is_some());
    }
}
