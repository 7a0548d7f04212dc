//! Per-phone-number state: the latest OTP (as a handle into the OTP table) and the create
//! limit, a [`SlidingWindow`] counter: 24 bytes per entry. A number's entry holds its latest
//! OTP and the first tenant's counter; another tenant's counter, and the count across tenants
//! (`[limits] per_number_global`), are entries of their own, told apart by a tag in the key's
//! high bits. A deployment with one tenant keeps one entry per number; every further tenant
//! that sends to a number adds an entry.

use std::hash::BuildHasher;
use std::num::NonZeroU64;

use foldhash::fast::RandomState;

use super::slab::{Handle, Keyed, Slab, SlabFull};
use crate::otp::store::{NumberLimit, NumberScope};
use crate::otp::window::{fixed_window, SlidingWindow};

#[derive(Debug, Clone, Copy)]
pub struct PhoneEntry {
    phone: NonZeroU64,
    latest: Handle,
    /// Creates, in `u16` counts to keep the entry small.
    creates: SlidingWindow<u16>,
    /// The entry may be dropped at this time (UNIX seconds) if no OTP points at it.
    keep_until: u32,
}

// one per phone number: its size is part of the memory budget per OTP
const _: () = assert!(std::mem::size_of::<PhoneEntry>() == 24);

impl Keyed for PhoneEntry {
    fn key_hash(&self, hasher: &RandomState) -> u64 {
        hasher.hash_one(self.phone)
    }
}

/// E.164 numbers are never 0; a 0 from elsewhere gets a key no real number has.
fn key(phone: u64) -> NonZeroU64 {
    NonZeroU64::new(phone).unwrap_or(NonZeroU64::MAX)
}

/// E.164 numbers have at most 15 digits, under 2^50: the 14 bits above hold a tag.
const TAG_SHIFT: u32 = 50;

/// The tag of the count across tenants; tenants' tags are their dense keys
/// ([`LimitKey::dense`](crate::otp::tenant::LimitKey::dense)), below it.
const GLOBAL_TAG: u64 = (1 << 14) - 1;

/// The entry key of `phone`'s counter in `scope`: the number itself (the entry of its latest
/// OTP) for the first tenant, the number tagged with the tenant's key above bit 50 for the
/// others, or with [`GLOBAL_TAG`] for the count across tenants. The configuration allows at
/// most 2^14 - 1 tenants, so no tenant's tag is the global one.
pub fn counter_key(scope: NumberScope, phone: u64) -> u64 {
    let tag = match scope {
        NumberScope::Tenant(t) => u64::from(t.dense()),
        NumberScope::Global => GLOBAL_TAG,
    };
    phone | (tag << TAG_SHIFT)
}

/// Phone number -> latest OTP and create counter.
#[derive(Debug, Default)]
pub struct PhoneIndex {
    slab: Slab<PhoneEntry>,
}

impl PhoneIndex {
    pub fn len(&self) -> usize {
        self.slab.len()
    }

    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.slab.len() == 0
    }

    /// Runs `f` on the entry of `phone`, made blank first if there is none. Returns what `f`
    /// returned and, when the entry is new, its handle (its expiry must be queued; later
    /// extensions re-queue themselves).
    fn with_entry<R>(
        &self,
        phone: u64,
        now: u32,
        f: impl FnOnce(&mut PhoneEntry) -> R,
    ) -> Result<(R, Option<Handle>), SlabFull> {
        let phone = key(phone);
        let (mut shard, hash, found) = self.slab.locate(phone, |e| e.phone == phone);
        let (h, created) = match found {
            Some(h) => (h, false),
            None => {
                let blank = PhoneEntry {
                    phone,
                    latest: Handle::NONE,
                    creates: SlidingWindow::starting(now),
                    keep_until: now,
                };
                (shard.insert(hash, blank)?, true)
            }
        };
        let out = shard.get_mut(h).map(f).ok_or(SlabFull)?;
        Ok((out, created.then_some(h)))
    }

    /// Makes `otp` the latest OTP of `phone`; the entry lives at least until `until`.
    /// Returns the entry's handle when it is new.
    pub fn set_latest(
        &self,
        phone: u64,
        otp: Handle,
        until: u32,
    ) -> Result<Option<Handle>, SlabFull> {
        let (_, created) = self.with_entry(phone, until, |e| {
            e.latest = otp;
            e.keep_until = e.keep_until.max(until);
        })?;
        Ok(created)
    }

    /// The handle of the latest OTP of `phone` (the caller checks that it still holds an OTP
    /// of this number).
    pub fn latest(&self, phone: u64) -> Option<Handle> {
        let phone = key(phone);
        let (shard, _, found) = self.slab.locate(phone, |e| e.phone == phone);
        shard.get(found?).map(|e| e.latest).filter(|l| !l.is_none())
    }

    /// Forgets `otp` as the latest OTP of `phone` (when it leaves the store).
    pub fn clear_latest(&self, phone: u64, otp: Handle) {
        let phone = key(phone);
        let (mut shard, _, found) = self.slab.locate(phone, |e| e.phone == phone);
        if let Some(h) = found {
            if let Some(e) = shard.get_mut(h) {
                if e.latest == otp {
                    e.latest = Handle::NONE;
                }
            }
        }
    }

    /// Drops entry `h` if it is past `keep_until` and points at no OTP; otherwise returns when
    /// to look again.
    pub fn expire(&self, h: Handle, now: u32) -> Option<u32> {
        let mut shard = self.slab.lock_handle(h);
        let e = shard.get(h)?;
        if e.keep_until <= now && e.latest.is_none() {
            shard.remove(h);
            return None;
        }
        Some(e.keep_until.max(now + 1))
    }

    /// Counts a create unless the sliding window is full; `key` is a [`counter_key`]. Returns
    /// the verdict and, when the entry is new, its handle and the time it may be dropped (for
    /// the expiry queue).
    pub fn hit(
        &self,
        key: u64,
        limit: u32,
        window_s: u32,
        now: u32,
    ) -> Result<(NumberLimit, Option<(Handle, u32)>), SlabFull> {
        let ((verdict, keep_until), created) =
            self.with_entry(key, now, |e| (e.hit(limit, window_s, now), e.keep_until))?;
        Ok((verdict, created.map(|h| (h, keep_until))))
    }
}

impl PhoneEntry {
    fn hit(&mut self, limit: u32, window_s: u32, now: u32) -> NumberLimit {
        let (w, start) = fixed_window(now, window_s);
        self.creates.roll(now, w);
        if let Some(retry_after) = self.creates.wait_for_room(limit, now, w) {
            return NumberLimit::Limited { retry_after };
        }
        self.creates.add();
        // the counter matters until the end of the next window
        self.keep_until = self.keep_until.max(start.saturating_add(2 * w));
        NumberLimit::Allowed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed(v: Result<(NumberLimit, Option<(Handle, u32)>), SlabFull>) -> bool {
        matches!(v, Ok((NumberLimit::Allowed, _)))
    }

    #[test]
    fn five_per_window_then_limited_then_released() {
        let idx = PhoneIndex::default();
        let t0 = 1_000_000 - 1_000_000 % 600; // a window start
        for i in 0..5 {
            assert!(allowed(idx.hit(33, 5, 600, t0 + i)), "create {i}");
        }
        let Ok((NumberLimit::Limited { retry_after }, _)) = idx.hit(33, 5, 600, t0 + 10) else {
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
    fn each_tenant_and_the_global_counter_count_apart() {
        use crate::otp::tenant::LimitKey;
        let idx = PhoneIndex::default();
        let t0 = 600_000;
        let phone = 999_999_999_999_999; // the largest E.164 number
        let keys = [LimitKey::MAX_TENANTS - 1, 0].map(|t| {
            let t = u16::try_from(t).unwrap_or(u16::MAX);
            counter_key(NumberScope::Tenant(LimitKey::from_raw(t)), phone)
        });
        let global = counter_key(NumberScope::Global, phone);
        for k in keys.into_iter().chain([global]) {
            assert!(allowed(idx.hit(k, 1, 600, t0)));
            assert!(!allowed(idx.hit(k, 1, 600, t0)));
        }
        assert_eq!(idx.len(), 3);
        // the first tenant counts in the number's own entry, which holds its latest OTP
        assert_eq!(idx.set_latest(phone, Handle::from_raw(1), t0), Ok(None));
        assert_eq!(idx.len(), 3);
    }

    #[test]
    fn latest_and_expiry() {
        let idx = PhoneIndex::default();
        let (otp, other) = (Handle::from_raw(1), Handle::from_raw(2));
        let entry = idx
            .set_latest(7, otp, 100)
            .expect("room")
            .expect("new entry");
        assert_eq!(idx.set_latest(7, otp, 100), Ok(None));
        assert_eq!(idx.latest(7), Some(otp));
        assert_eq!(idx.expire(entry, 200), Some(200 + 1)); // still points at an OTP
        idx.clear_latest(7, other);
        assert_eq!(idx.latest(7), Some(otp));
        idx.clear_latest(7, otp);
        assert_eq!(idx.latest(7), None);
        assert_eq!(idx.expire(entry, 200), None);
        assert!(idx.is_empty());
    }

    #[test]
    fn a_new_entry_is_reported_once_with_its_keep_time() {
        let idx = PhoneIndex::default();
        let t0 = 600_000;
        let Ok((NumberLimit::Allowed, Some((entry, keep)))) = idx.hit(44, 5, 600, t0) else {
            panic!("first hit must make an entry");
        };
        assert_eq!(
            keep,
            t0 + 1200,
            "the counter matters until the end of the next window"
        );
        assert!(matches!(
            idx.hit(44, 5, 600, t0 + 1),
            Ok((NumberLimit::Allowed, None))
        ));
        assert_eq!(idx.expire(entry, t0 + 1199), Some(t0 + 1200));
        assert_eq!(idx.expire(entry, t0 + 1200), None);
        assert!(idx.is_empty());
    }
}
