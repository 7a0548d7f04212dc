//! The bounded clock that measures submit-to-receipt delay: when each recently accepted
//! message id was accepted, forgotten oldest first.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use foldhash::fast::RandomState;
use otpgate_codec::dlr::message_id_variants;
use tokio::time::Instant;

/// Id to acceptance time (hashed by foldhash: the ids come from the SMSC, the seed is random),
/// and the ids in acceptance order (for eviction).
type Clock = (
    HashMap<String, Instant, RandomState>,
    VecDeque<(Instant, String)>,
);

/// Message ids accepted recently, with when: at most `capacity`, oldest forgotten first, none
/// older than a day.
pub struct ReceiptClock {
    inner: Mutex<Clock>,
    capacity: usize,
}

const MAX_AGE: Duration = Duration::from_secs(86_400);

impl ReceiptClock {
    pub fn new(capacity: usize) -> Self {
        Self {
            inner: Mutex::new((HashMap::default(), VecDeque::new())),
            capacity,
        }
    }

    pub fn record(&self, message_id: &str, _smsc: usize, now: Instant) {
        if self.capacity == 0 {
            return;
        }
        let Some(key) = message_id_variants(message_id).next() else {
            return;
        };
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
        map.insert(key.clone(), now);
        order.push_back((now, key));
    }

    /// When the message a receipt names was accepted (its id in any hex/decimal form).
    pub fn take(&self, receipt_id: &str) -> Option<Instant> {
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        message_id_variants(receipt_id).find_map(|v| g.0.remove(&v))
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
