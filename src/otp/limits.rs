//! Per-phone-number state: the latest OTP (the phone index) and the create limit, a sliding
//! window counter (the previous fixed window weighted by its remaining overlap plus the
//! current one), 8 bytes per number.

use std::time::Duration;

use dashmap::DashMap;

use super::model::OtpId;
use super::store::NumberLimit;

const NO_OTP: OtpId = OtpId([0; 16]);

#[derive(Debug, Clone, Copy)]
struct PhoneEntry {
    latest: OtpId,
    /// Start (UNIX seconds) of the current fixed window.
    window_start: u32,
    prev: u16,
    cur: u16,
    /// The entry may be dropped at this time (UNIX seconds) if no OTP points at it.
    keep_until: u32,
}

/// Phone number -> latest OTP and create counter.
#[derive(Debug, Default)]
pub struct PhoneIndex {
    map: DashMap<u64, PhoneEntry>,
}

impl PhoneIndex {
    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    fn blank(now: u32) -> PhoneEntry {
        PhoneEntry {
            latest: NO_OTP,
            window_start: now,
            prev: 0,
            cur: 0,
            keep_until: now,
        }
    }

    /// Makes `id` the latest OTP of `phone`; the entry lives at least until `until`. True when
    /// the entry is new (its expiry must then be queued; later extensions re-queue themselves).
    pub fn set_latest(&self, phone: u64, id: OtpId, until: u32) -> bool {
        let mut created = false;
        let mut e = self.map.entry(phone).or_insert_with(|| {
            created = true;
            Self::blank(until)
        });
        e.latest = id;
        e.keep_until = e.keep_until.max(until);
        created
    }

    pub fn latest(&self, phone: u64) -> Option<OtpId> {
        self.map
            .get(&phone)
            .map(|e| e.latest)
            .filter(|id| *id != NO_OTP)
    }

    /// Forgets `id` as the latest OTP of `phone` (when it leaves the store).
    pub fn clear_latest(&self, phone: u64, id: &OtpId) {
        if let Some(mut e) = self.map.get_mut(&phone) {
            if e.latest == *id {
                e.latest = NO_OTP;
            }
        }
    }

    /// Drops the entry of `phone` if it is past `keep_until` and points at no OTP; otherwise
    /// returns when to look again.
    pub fn expire(&self, phone: u64, now: u32) -> Option<u32> {
        let removed = self
            .map
            .remove_if(&phone, |_, e| e.keep_until <= now && e.latest == NO_OTP);
        if removed.is_some() {
            return None;
        }
        self.map.get(&phone).map(|e| e.keep_until.max(now + 1))
    }

    /// Counts a create unless the sliding window is full. Returns the verdict and, when the
    /// entry is new, the time it may be dropped (for the expiry queue).
    pub fn hit(
        &self,
        phone: u64,
        limit: u32,
        window_s: u32,
        now: u32,
    ) -> (NumberLimit, Option<u32>) {
        let w = window_s.max(1);
        let start = now - now % w;
        let mut created = false;
        let mut e = self.map.entry(phone).or_insert_with(|| {
            created = true;
            Self::blank(now)
        });
        if e.window_start != start {
            e.prev = if e.window_start.saturating_add(w) == start {
                e.cur
            } else {
                0
            };
            e.cur = 0;
            e.window_start = start;
        }
        let elapsed = now - start;
        let (prev, cur, limit_f) = (f64::from(e.prev), f64::from(e.cur), f64::from(limit));
        let wf = f64::from(w);
        let estimate = prev * (wf - f64::from(elapsed)) / wf + cur;
        if estimate + 1.0 > limit_f {
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
            return (
                NumberLimit::Limited {
                    retry_after: Duration::from_secs(secs),
                },
                created.then_some(e.keep_until),
            );
        }
        e.cur = e.cur.saturating_add(1);
        // the counter matters until the end of the next window
        e.keep_until = e.keep_until.max(start.saturating_add(2 * w));
        (NumberLimit::Allowed, created.then_some(e.keep_until))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed(v: (NumberLimit, Option<u32>)) -> bool {
        v.0 == NumberLimit::Allowed
    }

    #[test]
    fn five_per_window_then_limited_then_released() {
        let idx = PhoneIndex::default();
        let t0 = 1_000_000 - 1_000_000 % 600; // a window start
        for i in 0..5 {
            assert!(allowed(idx.hit(33, 5, 600, t0 + i)), "create {i}");
        }
        let (v, _) = idx.hit(33, 5, 600, t0 + 10);
        let NumberLimit::Limited { retry_after } = v else {
            panic!("sixth create allowed");
        };
        assert!(retry_after.as_secs() >= 590, "{retry_after:?}");
        // another number is not affected
        assert!(allowed(idx.hit(34, 5, 600, t0 + 10)));
        // at the advertised time one more create passes, not two
        let t1 = t0 + 10 + u32::try_from(retry_after.as_secs()).unwrap_or(0);
        assert!(allowed(idx.hit(33, 5, 600, t1)));
        assert!(!allowed(idx.hit(33, 5, 600, t1)));
        // two windows later everything is forgotten
        assert!(allowed(idx.hit(33, 5, 600, t0 + 1800)));
    }

    #[test]
    fn latest_and_expiry() {
        let idx = PhoneIndex::default();
        let id = OtpId([1; 16]);
        assert!(idx.set_latest(7, id, 100));
        assert!(!idx.set_latest(7, id, 100));
        assert_eq!(idx.latest(7), Some(id));
        assert_eq!(idx.expire(7, 200), Some(200 + 1)); // still points at an OTP
        idx.clear_latest(7, &OtpId([2; 16]));
        assert_eq!(idx.latest(7), Some(id));
        idx.clear_latest(7, &id);
        assert_eq!(idx.latest(7), None);
        assert_eq!(idx.expire(7, 200), None);
        assert!(idx.is_empty());
    }
}
