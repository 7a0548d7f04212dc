//! The sliding-window counter behind every create limit (per number, per number prefix): the
//! previous fixed window weighted by its remaining overlap, plus the current one. A few bytes
//! each, as the memory store keeps one per phone number.

use std::time::Duration;

/// The length of a window of `window_s` seconds (at least 1) and the start of the fixed window
/// of that length holding `now`.
pub fn fixed_window(now: u32, window_s: u32) -> (u32, u32) {
    let w = window_s.max(1);
    (w, now - now % w)
}

/// What a window counts in: `u16` where it is kept per phone number (memory is budgeted per
/// OTP), `u32` elsewhere.
pub trait Count: Copy + Default + Into<f64> {
    /// One more, stopping at the maximum.
    fn plus_one(self) -> Self;
}

impl Count for u16 {
    fn plus_one(self) -> Self {
        self.saturating_add(1)
    }
}

impl Count for u32 {
    fn plus_one(self) -> Self {
        self.saturating_add(1)
    }
}

/// A sliding-window counter. Every method takes the window length `w` (seconds, at least 1):
/// the counter does not store it.
#[derive(Debug, Clone, Copy, Default)]
pub struct SlidingWindow<C = u16> {
    /// Start (UNIX seconds) of the current fixed window.
    start: u32,
    prev: C,
    cur: C,
}

impl<C: Count> SlidingWindow<C> {
    /// An empty counter whose window starts at `now` (not aligned, so the first `roll` starts
    /// afresh).
    pub fn starting(now: u32) -> Self {
        Self {
            start: now,
            prev: C::default(),
            cur: C::default(),
        }
    }

    /// Moves to the fixed window holding `now`: the current count becomes the previous one
    /// when the windows are adjacent, and is forgotten otherwise.
    pub fn roll(&mut self, now: u32, w: u32) {
        let (_, start) = fixed_window(now, w);
        if self.start != start {
            self.prev = if self.start.saturating_add(w) == start {
                self.cur
            } else {
                C::default()
            };
            self.cur = C::default();
            self.start = start;
        }
    }

    /// The count over the last `w` seconds, as estimated at `now`.
    pub fn estimate(&self, now: u32, w: u32) -> f64 {
        let elapsed = f64::from(now.saturating_sub(self.start).min(w));
        let wf = f64::from(w);
        self.prev.into() * (wf - elapsed) / wf + self.cur.into()
    }

    /// Counts one.
    pub fn add(&mut self) {
        self.cur = self.cur.plus_one();
    }

    /// Start (UNIX seconds) of the current fixed window.
    pub fn start(&self) -> u32 {
        self.start
    }

    /// Seconds until the current window ends (at least 1).
    pub fn until_next(&self, now: u32, w: u32) -> Duration {
        let end = self.start.saturating_add(w);
        Duration::from_secs(u64::from(end.saturating_sub(now).max(1)))
    }

    /// `None` when one more fits under `limit` at `now` (after `roll`); otherwise how long
    /// until it does, assuming nothing more is counted meanwhile (at most two windows).
    pub fn wait_for_room(&self, limit: u32, now: u32, w: u32) -> Option<Duration> {
        let limit_f = f64::from(limit);
        if self.estimate(now, w) + 1.0 <= limit_f {
            return None;
        }
        let (prev, cur): (f64, f64) = (self.prev.into(), self.cur.into());
        let elapsed = now.saturating_sub(self.start).min(w);
        let wf = f64::from(w);
        let allowed = limit_f - 1.0; // the estimate must fall to this
        let wait = if cur <= allowed && prev > 0.0 {
            // within this window, once the previous one weighs little enough
            let e_needed = wf * (1.0 - (allowed - cur) / prev);
            (e_needed - f64::from(elapsed)).max(1.0)
        } else {
            // next window, where this one becomes the previous
            let e_needed = if cur > 0.0 {
                wf * (1.0 - allowed / cur)
            } else {
                0.0
            };
            f64::from(w - elapsed) + e_needed.max(0.0)
        };
        let secs = wait.ceil().clamp(1.0, f64::from(2 * w)) as u64;
        Some(Duration::from_secs(secs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_previous_window_fades_out() {
        let w = 100;
        let mut c = SlidingWindow::<u32>::default();
        c.roll(1_000, w);
        for _ in 0..10 {
            c.add();
        }
        assert_eq!(c.estimate(1_050, w), 10.0);
        c.roll(1_125, w);
        assert_eq!(c.start(), 1_100);
        assert_eq!(c.estimate(1_125, w), 7.5);
        assert_eq!(c.until_next(1_125, w), Duration::from_secs(75));
        // a gap of a whole window forgets everything
        c.roll(1_300, w);
        assert_eq!(c.estimate(1_300, w), 0.0);
    }

    #[test]
    fn fixed_windows_are_at_least_a_second() {
        assert_eq!(fixed_window(1_234, 0), (1, 1_234));
        assert_eq!(fixed_window(1_234, 100), (100, 1_200));
    }

    #[test]
    fn the_wait_is_until_one_more_fits() {
        let w = 600;
        let mut c = SlidingWindow::<u16>::starting(6_005);
        c.roll(6_005, w);
        assert_eq!(c.wait_for_room(1, 6_005, w), None);
        c.add();
        assert_eq!(
            c.wait_for_room(1, 6_005, w),
            Some(Duration::from_secs(1_195))
        );
    }
}
