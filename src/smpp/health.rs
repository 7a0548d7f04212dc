//! Whether an SMSC can take traffic: which of its binds are up and which are paused, as the
//! sessions report it, read by the router and by `readiness()`.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use tokio::time::Instant;

/// One submit-capable bind (a transceiver, or the transmitter of a pair).
#[derive(Debug, Default)]
pub struct BindSlot {
    up: AtomicBool,
    /// Milliseconds since the engine epoch until which the bind sends nothing.
    paused_until: AtomicU64,
}

#[derive(Debug)]
pub struct Health {
    epoch: Instant,
    slots: Vec<BindSlot>,
    /// When a bind of this SMSC was last seen up (ms since the epoch). Starts at 0: the engine
    /// start counts as "up" so that messages are taken while the first binds come up.
    last_up: AtomicU64,
}

impl Health {
    pub fn new(epoch: Instant, binds: usize) -> Self {
        Self {
            epoch,
            slots: (0..binds).map(|_| BindSlot::default()).collect(),
            last_up: AtomicU64::new(0),
        }
    }

    fn ms(&self, t: Instant) -> u64 {
        u64::try_from(t.saturating_duration_since(self.epoch).as_millis()).unwrap_or(u64::MAX)
    }

    pub fn set_up(&self, slot: usize, up: bool, now: Instant) {
        if let Some(s) = self.slots.get(slot) {
            s.up.store(up, Ordering::Release);
            if !up {
                s.paused_until.store(0, Ordering::Release);
            }
        }
        self.last_up.fetch_max(self.ms(now), Ordering::AcqRel);
    }

    pub fn pause(&self, slot: usize, until: Instant) {
        if let Some(s) = self.slots.get(slot) {
            s.paused_until.fetch_max(self.ms(until), Ordering::AcqRel);
        }
    }

    pub fn binds_up(&self) -> usize {
        self.slots
            .iter()
            .filter(|s| s.up.load(Ordering::Acquire))
            .count()
    }

    /// Up, and not paused beyond `now + bound`.
    fn usable_binds(&self, now: Instant, bound: Duration) -> usize {
        let limit = self.ms(now + bound);
        self.slots
            .iter()
            .filter(|s| {
                s.up.load(Ordering::Acquire) && s.paused_until.load(Ordering::Acquire) <= limit
            })
            .count()
    }

    fn last_up_at(&self, now: Instant) -> u64 {
        if self.binds_up() > 0 {
            self.ms(now)
        } else {
            self.last_up.load(Ordering::Acquire)
        }
    }

    /// Takes traffic: a bind is up and not paused past `bound`, or every bind went down less
    /// than `bound` ago (a reconnect in progress).
    pub fn healthy(&self, now: Instant, bound: Duration) -> bool {
        if self.usable_binds(now, bound) > 0 {
            return true;
        }
        if self.binds_up() > 0 {
            // Up but paused past the bound.
            return false;
        }
        self.ms(now).saturating_sub(self.last_up_at(now)) < ms_u64(bound)
    }

    /// A bind was up within `window`.
    pub fn recently_up(&self, now: Instant, window: Duration) -> bool {
        self.ms(now).saturating_sub(self.last_up_at(now)) < ms_u64(window)
    }
}

fn ms_u64(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grace_at_start_then_down() {
        let t0 = Instant::now();
        let h = Health::new(t0, 2);
        let bound = Duration::from_secs(5);
        assert!(h.healthy(t0 + Duration::from_secs(1), bound));
        assert!(!h.healthy(t0 + Duration::from_secs(6), bound));
        assert!(h.recently_up(t0 + Duration::from_secs(6), Duration::from_secs(60)));
        h.set_up(1, true, t0 + Duration::from_secs(7));
        assert!(h.healthy(t0 + Duration::from_secs(100), bound));
        h.set_up(1, false, t0 + Duration::from_secs(100));
        assert!(h.healthy(t0 + Duration::from_secs(104), bound));
        assert!(!h.healthy(t0 + Duration::from_secs(106), bound));
    }

    #[test]
    fn paused_past_the_bound_is_unhealthy() {
        let t0 = Instant::now();
        let h = Health::new(t0, 1);
        let bound = Duration::from_secs(5);
        h.set_up(0, true, t0);
        h.pause(0, t0 + Duration::from_secs(2));
        assert!(h.healthy(t0, bound));
        h.pause(0, t0 + Duration::from_secs(30));
        assert!(!h.healthy(t0, bound));
        assert_eq!(h.binds_up(), 1);
    }
}
