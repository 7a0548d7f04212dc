//! Exponential backoff with full jitter, bounded: used for reconnects, for binds refused for
//! their credentials (with longer bounds) and for retries of transient submit errors.

use std::time::Duration;

use rand::Rng;

/// Delays that double from `min` up to `max`; each one drawn uniformly in
/// `[min, ceiling]` ("full jitter" above a floor, so a reconnect is never immediate).
#[derive(Debug, Clone)]
pub struct Backoff {
    min: Duration,
    max: Duration,
    attempt: u32,
}

impl Backoff {
    pub fn new(min: Duration, max: Duration) -> Self {
        let min = min.max(Duration::from_millis(1));
        Self {
            min,
            max: max.max(min),
            attempt: 0,
        }
    }

    /// The ceiling of the next delay, without jitter.
    pub fn ceiling(&self) -> Duration {
        ceiling(self.min, self.max, self.attempt)
    }

    /// The next delay; each call doubles the ceiling until `max`.
    pub fn next_delay(&mut self) -> Duration {
        let d = jittered(self.min, self.ceiling());
        self.attempt = self.attempt.saturating_add(1);
        d
    }

    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

/// `min * 2^attempt`, capped at `max`.
pub fn ceiling(min: Duration, max: Duration, attempt: u32) -> Duration {
    let factor = 1u32.checked_shl(attempt.min(30)).unwrap_or(u32::MAX);
    min.saturating_mul(factor).min(max)
}

/// Uniform in `[floor, ceiling]`.
pub fn jittered(floor: Duration, ceiling: Duration) -> Duration {
    if ceiling <= floor {
        return floor;
    }
    let lo = floor.as_micros() as u64;
    let hi = ceiling.as_micros() as u64;
    Duration::from_micros(rand::rng().random_range(lo..=hi))
}

/// The delay before retry number `attempt` (1-based) of a transient error.
pub fn retry_delay(min: Duration, max: Duration, attempt: u32) -> Duration {
    jittered(min, ceiling(min, max, attempt.saturating_sub(1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_max_and_stays_within_bounds() {
        let min = Duration::from_millis(100);
        let max = Duration::from_millis(1_000);
        let mut b = Backoff::new(min, max);
        let mut ceilings = Vec::new();
        for _ in 0..8 {
            let c = b.ceiling();
            let d = b.next_delay();
            assert!(d >= min && d <= c, "{d:?} outside [{min:?}, {c:?}]");
            ceilings.push(c.as_millis());
        }
        assert_eq!(ceilings, vec![100, 200, 400, 800, 1000, 1000, 1000, 1000]);
        b.reset();
        assert_eq!(b.ceiling(), min);
    }

    #[test]
    fn huge_attempt_counts_do_not_overflow() {
        let c = ceiling(Duration::from_secs(1), Duration::from_secs(60), u32::MAX);
        assert_eq!(c, Duration::from_secs(60));
        let d = retry_delay(Duration::from_secs(1), Duration::from_secs(60), u32::MAX);
        assert!(d <= Duration::from_secs(60));
    }
}
