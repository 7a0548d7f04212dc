//! The per-bind throttle: a token bucket counting segments (one token per submit_sm), whose
//! rate falls by half when the SMSC answers ESME_RTHROTTLED to most of what it is sent, and
//! climbs back additively (AIMD).
//!
//! The decrease is a response to congestion, not to each answer: at most once per second, and
//! only when at least half of the answers of the last second or two were ESME_RTHROTTLED.
//! An SMSC that throttles a smaller share is still taking most of the traffic; the bind pauses
//! after each throttled answer (see the session) and sends the message again, but keeps its
//! rate, or it would fall to the floor under any steady share of throttled answers.

use std::time::Duration;

use tokio::time::Instant;

/// Lowest rate the throttle falls to, in segments per second.
const MIN_RATE: f64 = 1.0;
/// Fraction of the ceiling won back per second without throttling.
const RECOVERY_PER_SEC: f64 = 0.1;
/// Shortest time between two decreases: one per burst of throttled answers.
const DECREASE_EVERY: Duration = Duration::from_secs(1);

#[derive(Debug)]
pub struct Throttle {
    /// Configured rate for this bind; `None` = unthrottled.
    ceiling: Option<f64>,
    /// Rate in force; `None` = unthrottled.
    rate: Option<f64>,
    tokens: f64,
    last_refill: Instant,
    last_decrease: Option<Instant>,
    /// Answers in the current and the previous second: accepted, throttled.
    answers: Answers,
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
            last_decrease: None,
            answers: Answers::new(now),
            window_start: now,
            sent_this_window: 0,
            sent_last_window: 0,
        }
    }

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

    /// The SMSC accepted a submit_sm.
    pub fn accepted(&mut self, now: Instant) {
        self.answers.record(now, false);
    }

    /// The SMSC said ESME_RTHROTTLED: empty the bucket, and halve the rate when most recent
    /// answers were throttled (at most once per second, so that a burst of throttled answers
    /// to one window counts once).
    pub fn decrease(&mut self, now: Instant) {
        self.refill(now);
        self.answers.record(now, true);
        let recent = self
            .last_decrease
            .is_some_and(|d| now.saturating_duration_since(d) < DECREASE_EVERY);
        if recent || !self.answers.mostly_throttled() {
            if self.rate.is_some() {
                self.tokens = self.tokens.min(0.0);
            }
            return;
        }
        self.roll_window(now);
        let current = match self.rate {
            Some(r) => r,
            None => f64::from(self.sent_last_window.max(self.sent_this_window)).max(MIN_RATE),
        };
        self.rate = Some((current / 2.0).max(MIN_RATE));
        self.tokens = 0.0;
        self.last_decrease = Some(now);
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

/// Counts of answers over a sliding window of one to two seconds.
#[derive(Debug)]
struct Answers {
    start: Instant,
    now: [u32; 2],
    last: [u32; 2],
}

impl Answers {
    fn new(now: Instant) -> Self {
        Self {
            start: now,
            now: [0; 2],
            last: [0; 2],
        }
    }

    fn record(&mut self, now: Instant, throttled: bool) {
        let since = now.saturating_duration_since(self.start);
        if since >= Duration::from_secs(2) {
            self.last = [0; 2];
            self.now = [0; 2];
            self.start = now;
        } else if since >= Duration::from_secs(1) {
            self.last = self.now;
            self.now = [0; 2];
            self.start = now;
        }
        let i = usize::from(throttled);
        if let Some(c) = self.now.get_mut(i) {
            *c = c.saturating_add(1);
        }
    }

    /// At least half of the recent answers were ESME_RTHROTTLED.
    fn mostly_throttled(&self) -> bool {
        let ok = u64::from(self.now[0]) + u64::from(self.last[0]);
        let throttled = u64::from(self.now[1]) + u64::from(self.last[1]);
        throttled >= ok
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
    fn a_minority_of_throttled_answers_keeps_the_rate() {
        let start = Instant::now();
        let mut t = Throttle::new(100.0, start);
        // 3 answers in 10 throttled, for 20 s: the SMSC takes most of the traffic.
        for i in 0..2_000u64 {
            let now = start + Duration::from_millis(i * 10);
            if i % 10 < 3 {
                t.decrease(now);
            } else {
                t.accepted(now);
            }
        }
        assert_eq!(t.rate(), Some(100.0));
    }

    #[test]
    fn mostly_throttled_halves_at_most_once_per_second() {
        let start = Instant::now();
        let mut t = Throttle::new(100.0, start);
        for i in 0..10u64 {
            t.accepted(start + Duration::from_millis(i));
        }
        // 30 throttled answers in 300 ms after 10 accepted: halved once.
        for i in 0..30u64 {
            t.decrease(start + Duration::from_millis(10 + i * 10));
        }
        let r = t.rate().unwrap();
        assert!((50.0..53.0).contains(&r), "rate {r}");
        // Still mostly throttled a second later: halved again.
        t.decrease(start + Duration::from_millis(1_200));
        let r = t.rate().unwrap();
        assert!((28.0..33.0).contains(&r), "rate {r}");
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
