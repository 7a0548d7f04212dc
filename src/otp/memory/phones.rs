//! Per-phone-number state: the latest OTP (as a handle into the OTP table) and the create
//! limit, a [`SlidingWindow`] counter: 24 bytes per entry. A number's entry holds its latest
//! OTP and the first tenant's counter; another tenant's counter, and the count across tenants
//! (`[limits] per_number_global`), are entries of their own, told apart by a mark in the key's
//! high bits and, for a tenant, its tag in the slot a number's own entry uses for its latest
//! OTP. A deployment with one tenant keeps one entry per number; every further tenant that
//! sends to a number adds an entry; the number of tenants is not limited by the key.

use std::hash::BuildHasher;
use std::num::NonZeroU64;

use foldhash::fast::RandomState;

use super::slab::{Handle, Keyed, Slab, SlabFull};
use crate::otp::store::{NumberLimit, NumberScope};
use crate::otp::window::{fixed_window, SlidingWindow};

#[derive(Debug, Clone, Copy)]
pub struct PhoneEntry {
    /// The number, marked above bit 50 when the entry is a counter of its own.
    phone: NonZeroU64,
    /// In a number's own entry, the handle of its latest OTP; in a tenant's counter entry,
    /// the tenant's tag (part of the key).
    slot: u32,
    /// Creates, in `u16` counts to keep the entry small.
    creates: SlidingWindow<u16>,
    /// The entry may be dropped at this time (UNIX seconds) if no OTP points at it.
    keep_until: u32,
}

// one per phone number: its size is part of the memory budget per OTP
const _: () = assert!(std::mem::size_of::<PhoneEntry>() == 24);

/// E.164 numbers have at most 15 digits, under 2^50: the bits above mark counter entries.
const MARK_SHIFT: u32 = 50;
/// A tenant's counter (the tenant in [`PhoneEntry::slot`]).
const TENANT_MARK: u64 = 1 << MARK_SHIFT;
/// The count across tenants.
const GLOBAL_MARK: u64 = 2 << MARK_SHIFT;

/// What finds an entry: the (marked) number, and the tenant's tag for a tenant's counter (0
/// otherwise, where the slot is not part of the key).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EntryKey {
    phone: NonZeroU64,
    tenant: u32,
}

impl EntryKey {
    /// The entry of `phone`'s latest OTP.
    fn number(phone: u64) -> Self {
        Self {
            phone: key(phone),
            tenant: 0,
        }
    }

    fn is_tenant_counter(phone: NonZeroU64) -> bool {
        phone.get() >> MARK_SHIFT == TENANT_MARK >> MARK_SHIFT
    }

    fn of(e: &PhoneEntry) -> Self {
        Self {
            phone: e.phone,
            tenant: if Self::is_tenant_counter(e.phone) {
                e.slot
            } else {
                0
            },
        }
    }
}

impl Keyed for PhoneEntry {
    fn key_hash(&self, hasher: &RandomState) -> u64 {
        hasher.hash_one(EntryKey::of(self))
    }
}

/// E.164 numbers are never 0; a 0 from elsewhere gets a key no real number has.
fn key(phone: u64) -> NonZeroU64 {
    NonZeroU64::new(phone).unwrap_or(NonZeroU64::MAX)
}

/// The entry key of `phone`'s counter in `scope`: the number itself (the entry of its latest
/// OTP) for the first tenant, the number marked as a tenant's counter with the tenant's tag for
/// the others (so that reordering the tenants keeps their counts), or marked as the count
/// across tenants.
pub fn counter_key(scope: NumberScope, phone: u64) -> EntryKey {
    let phone = phone & ((1 << MARK_SHIFT) - 1);
    match scope {
        NumberScope::Tenant(t) if t.dense() == 0 => EntryKey::number(phone),
        NumberScope::Tenant(t) => EntryKey {
            phone: key(phone | TENANT_MARK),
            tenant: t.tag().get(),
        },
        NumberScope::Global => EntryKey::number(phone | GLOBAL_MARK),
    }
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
        at: EntryKey,
        now: u32,
        f: impl FnOnce(&mut PhoneEntry) -> R,
    ) -> Result<(R, Option<Handle>), SlabFull> {
        let (mut shard, hash, found) = self.slab.locate(at, |e| EntryKey::of(e) == at);
        let (h, created) = match found {
            Some(h) => (h, false),
            None => {
                let slot = if EntryKey::is_tenant_counter(at.phone) {
                    at.tenant
                } else {
                    Handle::NONE.raw()
                };
                let blank = PhoneEntry {
                    phone: at.phone,
                    slot,
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
        let (_, created) = self.with_entry(EntryKey::number(phone), until, |e| {
            e.slot = otp.raw();
            e.keep_until = e.keep_until.max(until);
        })?;
        Ok(created)
    }

    /// The handle of the latest OTP of `phone` (the caller checks that it still holds an OTP
    /// of this number).
    pub fn latest(&self, phone: u64) -> Option<Handle> {
        let at = EntryKey::number(phone);
        let (shard, _, found) = self.slab.locate(at, |e| EntryKey::of(e) == at);
        shard.get(found?).and_then(PhoneEntry::latest)
    }

    /// Forgets `otp` as the latest OTP of `phone` (when it leaves the store).
    pub fn clear_latest(&self, phone: u64, otp: Handle) {
        let at = EntryKey::number(phone);
        let (mut shard, _, found) = self.slab.locate(at, |e| EntryKey::of(e) == at);
        if let Some(h) = found {
            if let Some(e) = shard.get_mut(h) {
                if e.latest() == Some(otp) {
                    e.slot = Handle::NONE.raw();
                }
            }
        }
    }

    /// Drops entry `h` if it is past `keep_until` and points at no OTP; otherwise returns when
    /// to look again.
    pub fn expire(&self, h: Handle, now: u32) -> Option<u32> {
        let mut shard = self.slab.lock_handle(h);
        let e = shard.get(h)?;
        if e.keep_until <= now && e.latest().is_none() {
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
        key: EntryKey,
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
    /// The latest OTP of a number's own entry (a counter entry has none).
    fn latest(&self) -> Option<Handle> {
        let holds_latest = !EntryKey::is_tenant_counter(self.phone);
        Some(Handle::from_raw(self.slot)).filter(|h| holds_latest && !h.is_none())
    }

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
            assert!(
                allowed(idx.hit(EntryKey::number(33), 5, 600, t0 + i)),
                "create {i}"
            );
        }
        let Ok((NumberLimit::Limited { retry_after }, _)) =
            idx.hit(EntryKey::number(33), 5, 600, t0 + 10)
        else {
            panic!("sixth create allowed");
        };
        assert!(retry_after.as_secs() >= 590, "{retry_after:?}");
        // another number is not affected
        assert!(allowed(idx.hit(EntryKey::number(34), 5, 600, t0 + 10)));
        // at the advertised time one more create passes, not two
        let t1 = t0 + 10 + u32::try_from(retry_after.as_secs()).unwrap_or(0);
        assert!(allowed(idx.hit(EntryKey::number(33), 5, 600, t1)));
        assert!(!allowed(idx.hit(EntryKey::number(33), 5, 600, t1)));
        // two windows later everything is forgotten
        assert!(allowed(idx.hit(EntryKey::number(33), 5, 600, t0 + 1800)));
    }

    #[test]
    fn each_tenant_and_the_global_counter_count_apart() {
        use crate::otp::identity::TenantTag;
        use crate::otp::tenant::LimitKey;
        let idx = PhoneIndex::default();
        let t0 = 600_000;
        let phone = 999_999_999_999_999; // the largest E.164 number
                                         // far more tenants than the spare bits of a number could number, tags at both ends
        let last = u32::try_from(LimitKey::MAX_TENANTS - 1).unwrap_or(u32::MAX);
        let tenants = [
            LimitKey::new(last, TenantTag::from_raw(u32::MAX)),
            LimitKey::new(last - 1, TenantTag::from_raw(1)),
            LimitKey::new(1, TenantTag::from_raw(0x00ff_ffff)),
            LimitKey::ZERO,
        ];
        let keys = tenants.map(|t| counter_key(NumberScope::Tenant(t), phone));
        let global = counter_key(NumberScope::Global, phone);
        for k in keys.into_iter().chain([global]) {
            assert!(allowed(idx.hit(k, 1, 600, t0)), "{k:?}");
            assert!(!allowed(idx.hit(k, 1, 600, t0)), "{k:?}");
        }
        assert_eq!(idx.len(), 5);
        // the first tenant counts in the number's own entry, which holds its latest OTP
        assert_eq!(idx.set_latest(phone, Handle::from_raw(1), t0), Ok(None));
        assert_eq!(idx.len(), 5);
        assert_eq!(idx.latest(phone), Some(Handle::from_raw(1)));
        // a tenant's counter entry holds no OTP: it goes when its window no longer matters
        let other = counter_key(NumberScope::Tenant(tenants[1]), 33);
        let Ok((_, Some((entry, keep)))) = idx.hit(other, 1, 600, t0) else {
            panic!("a new number makes an entry");
        };
        assert_eq!(idx.latest(33), None);
        assert_eq!(idx.expire(entry, keep - 1), Some(keep));
        assert_eq!(idx.expire(entry, keep), None);
        assert_eq!(idx.len(), 5);
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
        let Ok((NumberLimit::Allowed, Some((entry, keep)))) =
            idx.hit(EntryKey::number(44), 5, 600, t0)
        else {
            panic!("first hit must make an entry");
        };
        assert_eq!(
            keep,
            t0 + 1200,
            "the counter matters until the end of the next window"
        );
        assert!(matches!(
            idx.hit(EntryKey::number(44), 5, 600, t0 + 1),
            Ok((NumberLimit::Allowed, None))
        ));
        assert_eq!(idx.expire(entry, t0 + 1199), Some(t0 + 1200));
        assert_eq!(idx.expire(entry, t0 + 1200), None);
        assert!(idx.is_empty());
    }
}
