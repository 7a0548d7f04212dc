//! The per-bind throttle: a token bucket counting segments (one token per submit_sm), whose
//! rate falls by half on ESME_RTHROTTLED and climbs back additively (AIMD).

use std::time::{Duration, Instant};

/// Lowest rate the throttle falls to, in segments per second.
const MIN_RATE: f64 = 1.0;
/// Fraction of the ceiling won back per second without throttling.
const RECOVERY_PER_SEC: f64 = 0.1;

#[derive(Debug)]
pub struct Throttle {
    /// Configured rate for this bind; `None` = unthrottled.
    ceiling: Option<f64>,
    /// Rate in force; `None` = unthrottled.
    rate: Option<f64>,
    tokens: f64,
    last_refill: Instant,
    last_decrease: Instant,
    /// Segments sent in the current and the previous second (an unthrottled bind learns its
    /// rate from them when the SMSC first pushes back).
    window_start: Instant,
    sent_this_window: u32,
    sent_last_window: u32,
}

impl Throttle {
    /// `tps` segments per second; 0 or less = unthrottled.
    pub fn new(tps: f64, now: Instant) -> Self {
        let ceiling = (tps > 0.0).then_some(tps);
        Self {
            ceiling,
            rate: ceiling,
            tokens: burst(ceiling).min(1.0),
            last_refill: now,
            last_decrease: now,
            window_start: now,
            sent_this_window: 0,
            sent_last_window: 0,
        }
    }

    #[cfg(test)]
    pub fn rate(&self) -> Option<f64> {
        self.rate
    }

    /// When the next segment may go: `now` if a token is available.
    pub fn ready_at(&mut self, now: Instant) -> Instant {
        self.refill(now);
        match self.rate {
            None => now,
            Some(_) if self.tokens >= 1.0 => now,
            Some(rate) => {
                let missing = (1.0 - self.tokens).max(0.0);
                now + Duration::from_secs_f64(missing / rate)
            }
        }
    }

    /// Takes one token (call after `ready_at(now) <= now`).
    pub fn take(&mut self, now: Instant) {
        self.refill(now);
        if self.rate.is_some() {
            self.tokens -= 1.0;
        }
        self.roll_window(now);
        self.sent_this_window = self.sent_this_window.saturating_add(1);
    }

    /// The SMSC said ESME_RTHROTTLED: halve the rate (at most once per 100 ms, so that a burst
    /// of throttled responses to one window counts once) and empty the bucket.
    pub fn decrease(&mut self, now: Instant) {
        self.refill(now);
        if now.duration_since(self.last_decrease) < Duration::from_millis(100)
            && self.rate.is_some()
        {
            self.tokens = self.tokens.min(0.0);
            return;
        }
        self.roll_window(now);
        let current = match self.rate {
            Some(r) => r,
            None => f64::from(self.sent_last_window.max(self.sent_this_window)).max(MIN_RATE),
        };
        self.rate = Some((current / 2.0).max(MIN_RATE));
        self.tokens = 0.0;
        self.last_decrease = now;
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now
            .saturating_duration_since(self.last_refill)
            .as_secs_f64();
        self.last_refill = now;
        let Some(rate) = self.rate else { return };
        // Additive recovery towards the ceiling (or towards unthrottled).
        let step_base = self.ceiling.unwrap_or_else(|| rate.max(10.0));
        let mut new_rate = rate + step_base * RECOVERY_PER_SEC * elapsed;
        match self.ceiling {
            Some(c) => new_rate = new_rate.min(c),
            None => {
                // Back to unthrottled once the learned rate has doubled back.
                if new_rate >= 2.0 * f64::from(self.sent_last_window.max(1)) && elapsed > 0.0 {
                    self.rate = None;
                    return;
                }
            }
        }
        self.rate = Some(new_rate);
        self.tokens = (self.tokens + new_rate * elapsed).min(burst(Some(new_rate)));
    }

    fn roll_window(&mut self, now: Instant) {
        let since = now.saturating_duration_since(self.window_start);
        if since >= Duration::from_secs(2) {
            self.sent_last_window = 0;
            self.sent_this_window = 0;
            self.window_start = now;
        } else if since >= Duration::from_secs(1) {
            self.sent_last_window = self.sent_this_window;
            self.sent_this_window = 0;
            self.window_start = now;
        }
    }
}

/// Bucket depth: a tenth of a second of traffic, at least one segment.
fn burst(rate: Option<f64>) -> f64 {
    rate.map(|r| (r / 10.0).max(1.0)).unwrap_or(f64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sends as fast as the throttle allows over `secs` simulated seconds; returns the count.
    fn run(t: &mut Throttle, start: Instant, secs: u64) -> u32 {
        let end = start + Duration::from_secs(secs);
        let mut now = start;
        let mut sent = 0;
        while now < end {
            let at = t.ready_at(now);
            if at > now {
                now = at;
                continue;
            }
            t.take(now);
            sent += 1;
        }
        sent
    }

    #[test]
    fn holds_the_configured_rate() {
        let start = Instant::now();
        let mut t = Throttle::new(50.0, start);
        let sent = run(&mut t, start, 10);
        assert!((495..=506).contains(&sent), "sent {sent}");
    }

    #[test]
    fn unthrottled_never_waits() {
        let now = Instant::now();
        let mut t = Throttle::new(0.0, now);
        for _ in 0..10_000 {
            assert_eq!(t.ready_at(now), now);
            t.take(now);
        }
    }

    #[test]
    fn halves_on_throttle_then_recovers_additively() {
        let start = Instant::now();
        let mut t = Throttle::new(100.0, start);
        t.decrease(start + Duration::from_millis(200));
        assert_eq!(t.rate(), Some(50.0));
        // A second response of the same burst does not halve again.
        t.decrease(start + Duration::from_millis(250));
        let r = t.rate().unwrap();
        assert!((50.0..51.0).contains(&r), "rate {r}");
        // 10 % of the ceiling per second: back to 100 after 5 s.
        let _ = t.ready_at(start + Duration::from_millis(2_250));
        let r = t.rate().unwrap();
        assert!((69.0..=71.0).contains(&r), "rate {r}");
        let _ = t.ready_at(start + Duration::from_secs(10));
        assert_eq!(t.rate(), Some(100.0));
    }

    #[test]
    fn unthrottled_bind_learns_a_rate_when_pushed_back() {
        let start = Instant::now();
        let mut t = Throttle::new(0.0, start);
        for i in 0..400u64 {
            t.take(start + Duration::from_micros(i * 2_500));
        }
        t.decrease(start + Duration::from_millis(1_001));
        let r = t.rate().expect("throttled now");
        assert!((100.0..=200.0).contains(&r), "rate {r}");
        let _ = t.ready_at(start + Duration::from_secs(60));
        assert_eq!(t.rate(), None);
    }
}
