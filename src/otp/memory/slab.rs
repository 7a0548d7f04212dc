//! A sharded slab: values live in fixed-size chunks (a growing table never doubles and never
//! moves them) and are found through a per-shard hash index holding 4-byte slot numbers. A
//! value's [`Handle`] (shard and slot) stays valid until the value is removed, so other tables
//! point at it in 4 bytes instead of repeating its key.

use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

use std::hash::BuildHasher;

use foldhash::fast::RandomState;
use hashbrown::HashTable;

const SHARD_BITS: u32 = 6;
const SHARDS: usize = 1 << SHARD_BITS;
/// Values per chunk: small enough that a shard's last, partly used chunk wastes little.
const CHUNK: usize = 1024;
/// Slots per shard; the highest handle value is kept free for [`Handle::NONE`].
const MAX_SLOTS: u32 = (1 << (32 - SHARD_BITS)) - 1;

/// Where a value lives: its shard and slot, packed in 4 bytes.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Handle(u32);

impl Handle {
    /// Points at nothing (no slot ever has this handle).
    pub const NONE: Handle = Handle(u32::MAX);

    fn new(shard: usize, slot: u32) -> Self {
        Handle((slot << SHARD_BITS) | shard as u32)
    }

    fn shard(self) -> usize {
        (self.0 as usize) & (SHARDS - 1)
    }

    fn slot(self) -> u32 {
        self.0 >> SHARD_BITS
    }

    pub fn is_none(self) -> bool {
        self == Self::NONE
    }

    /// A handle as [`Handle::raw`] gave it.
    pub fn from_raw(raw: u32) -> Self {
        Handle(raw)
    }

    /// The handle as a number, for a table that keeps it in a field shared with other data.
    pub fn raw(self) -> u32 {
        self.0
    }
}

/// A value that knows the hash of its own key (to rebuild the index as it grows).
pub trait Keyed {
    fn key_hash(&self, hasher: &RandomState) -> u64;
}

/// The table is at its maximum number of slots in the key's shard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlabFull;

/// Values a shard adds or takes before it reports them to the slab's running total: the total
/// is then within `SHARDS x (REPORT_EVERY - 1)` of the exact count, which the shards hold. One
/// count written by every insert of both HTTP workers (and the engine, for message ids) moved
/// its cache line between them at each.
const REPORT_EVERY: isize = 32;

pub struct Slab<T> {
    shards: Box<[ShardSlot<T>]>,
    hasher: RandomState,
    /// What the shards reported of their counts.
    reported: AtomicIsize,
}

/// A shard and its exact count, together: the count is written under the shard's lock (a
/// store, no read-modify-write) and read without it.
struct ShardSlot<T> {
    shard: Mutex<Shard<T>>,
    len: AtomicUsize,
}

struct Shard<T> {
    chunks: Vec<Vec<Option<T>>>,
    free: Vec<u32>,
    index: HashTable<u32>,
    /// Values added (or taken, below zero) since this shard last reported to `reported`.
    unreported: isize,
}

impl<T> std::fmt::Debug for Slab<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Slab")
            .field(
                "len",
                &self
                    .shards
                    .iter()
                    .map(|s| s.len.load(Ordering::Relaxed))
                    .sum::<usize>(),
            )
            .finish()
    }
}

impl<T: Keyed> Default for Slab<T> {
    fn default() -> Self {
        Self {
            shards: (0..SHARDS)
                .map(|_| ShardSlot {
                    shard: Mutex::new(Shard {
                        chunks: Vec::new(),
                        free: Vec::new(),
                        index: HashTable::new(),
                        unreported: 0,
                    }),
                    len: AtomicUsize::new(0),
                })
                .collect(),
            hasher: RandomState::default(),
            reported: AtomicIsize::new(0),
        }
    }
}

impl<T: Keyed> Slab<T> {
    /// The values held (each shard's count, read without its lock).
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.len.load(Ordering::Relaxed))
            .sum()
    }

    /// Whether the slab holds `n` values or more: from the running total while it is clearly
    /// short of `n`, else from the shards' exact counts.
    pub fn holds_at_least(&self, n: usize) -> bool {
        let slack = (SHARDS as isize).saturating_mul(REPORT_EVERY - 1);
        let within = self.reported.load(Ordering::Relaxed).saturating_add(slack);
        if within < isize::try_from(n).unwrap_or(isize::MAX) {
            return false;
        }
        self.len() >= n
    }

    /// The shard of a key hash: middle bits, because the index itself uses the low bits
    /// (bucket) and the top seven (tag) of the same hash.
    fn shard_of(hash: u64) -> usize {
        ((hash >> 32) as usize) & (SHARDS - 1)
    }

    /// Hashes `key`, locks its shard and looks for the value for which `is_key` holds: the
    /// locked shard, the key's hash (for an insert) and the value's handle if it is there.
    pub fn locate<K: std::hash::Hash>(
        &self,
        key: K,
        is_key: impl FnMut(&T) -> bool,
    ) -> (Locked<'_, T>, u64, Option<Handle>) {
        let hash = self.hasher.hash_one(key);
        let shard = self.lock(hash);
        let found = shard.find(hash, is_key);
        (shard, hash, found)
    }

    /// Locks the shard that holds (or would hold) the key with this hash.
    pub fn lock(&self, hash: u64) -> Locked<'_, T> {
        self.lock_shard(Self::shard_of(hash))
    }

    /// Locks the shard of a handle.
    pub fn lock_handle(&self, h: Handle) -> Locked<'_, T> {
        self.lock_shard(h.shard())
    }

    fn lock_shard(&self, shard: usize) -> Locked<'_, T> {
        let guard = self.shards[shard]
            .shard
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        Locked {
            shard,
            guard,
            slab: self,
        }
    }
}

/// One locked shard.
pub struct Locked<'a, T> {
    shard: usize,
    guard: MutexGuard<'a, Shard<T>>,
    slab: &'a Slab<T>,
}

fn position(slot: u32) -> (usize, usize) {
    let slot = slot as usize;
    (slot / CHUNK, slot % CHUNK)
}

impl<T: Keyed> Locked<'_, T> {
    /// The value with this key hash for which `is_key` holds.
    pub fn find(&self, hash: u64, mut is_key: impl FnMut(&T) -> bool) -> Option<Handle> {
        let shard = &*self.guard;
        shard
            .index
            .find(hash, |&slot| {
                slot_ref(&shard.chunks, slot).is_some_and(&mut is_key)
            })
            .map(|&slot| Handle::new(self.shard, slot))
    }

    pub fn get(&self, h: Handle) -> Option<&T> {
        if h.shard() != self.shard {
            return None;
        }
        slot_ref(&self.guard.chunks, h.slot())
    }

    pub fn get_mut(&mut self, h: Handle) -> Option<&mut T> {
        if h.shard() != self.shard {
            return None;
        }
        let (chunk, at) = position(h.slot());
        self.guard.chunks.get_mut(chunk)?.get_mut(at)?.as_mut()
    }

    /// Stores `value` under its key hash `hash` (the caller has checked that the key is not
    /// there yet).
    pub fn insert(&mut self, hash: u64, value: T) -> Result<Handle, SlabFull> {
        let slab = self.slab;
        let shard = &mut *self.guard;
        let slot = match shard.free.pop() {
            Some(slot) => {
                let (chunk, at) = position(slot);
                match shard.chunks.get_mut(chunk).and_then(|c| c.get_mut(at)) {
                    Some(place) => *place = Some(value),
                    None => return Err(SlabFull), // a free slot always exists; never reached
                }
                slot
            }
            None => {
                let used = shard.chunks.len().saturating_sub(1) * CHUNK
                    + shard.chunks.last().map_or(0, Vec::len);
                let slot = u32::try_from(used).map_err(|_| SlabFull)?;
                if slot >= MAX_SLOTS {
                    return Err(SlabFull);
                }
                match shard.chunks.last_mut() {
                    Some(chunk) if chunk.len() < CHUNK => chunk.push(Some(value)),
                    _ => {
                        let mut chunk = Vec::with_capacity(CHUNK);
                        chunk.push(Some(value));
                        shard.chunks.push(chunk);
                    }
                }
                slot
            }
        };
        let chunks = &shard.chunks;
        shard.index.insert_unique(hash, slot, |&s| {
            slot_ref(chunks, s).map_or(0, |v| v.key_hash(&slab.hasher))
        });
        self.count(1);
        Ok(Handle::new(self.shard, slot))
    }

    /// Takes the value out of its slot, which becomes free for a later insert.
    pub fn remove(&mut self, h: Handle) -> Option<T> {
        if h.shard() != self.shard {
            return None;
        }
        let slab = self.slab;
        let shard = &mut *self.guard;
        let slot = h.slot();
        let hash = slot_ref(&shard.chunks, slot)?.key_hash(&slab.hasher);
        if let Ok(entry) = shard.index.find_entry(hash, |&s| s == slot) {
            entry.remove();
        }
        let (chunk, at) = position(slot);
        let value = shard.chunks.get_mut(chunk)?.get_mut(at)?.take()?;
        shard.free.push(slot);
        self.count(-1);
        Some(value)
    }

    /// One value added (`1`) or taken (`-1`), the shard locked.
    fn count(&mut self, change: isize) {
        let len = &self.slab.shards[self.shard].len;
        // the lock is held: no other write can come between the load and the store
        len.store(
            len.load(Ordering::Relaxed).saturating_add_signed(change),
            Ordering::Relaxed,
        );
        let shard = &mut *self.guard;
        shard.unreported += change;
        if shard.unreported.abs() >= REPORT_EVERY {
            self.slab
                .reported
                .fetch_add(shard.unreported, Ordering::Relaxed);
            shard.unreported = 0;
        }
    }
}

fn slot_ref<T>(chunks: &[Vec<Option<T>>], slot: u32) -> Option<&T> {
    let (chunk, at) = position(slot);
    chunks.get(chunk)?.get(at)?.as_ref()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq)]
    struct Entry {
        key: u64,
        value: u32,
    }

    impl Keyed for Entry {
        fn key_hash(&self, hasher: &RandomState) -> u64 {
            std::hash::BuildHasher::hash_one(hasher, self.key)
        }
    }

    fn put(slab: &Slab<Entry>, key: u64, value: u32) -> Handle {
        let (mut shard, hash, found) = slab.locate(key, |e| e.key == key);
        assert!(found.is_none());
        shard.insert(hash, Entry { key, value }).expect("room")
    }

    fn find(slab: &Slab<Entry>, key: u64) -> Option<(Handle, u32)> {
        let (shard, _, found) = slab.locate(key, |e| e.key == key);
        let h = found?;
        Some((h, shard.get(h)?.value))
    }

    #[test]
    fn finds_by_key_and_by_handle_across_chunks() {
        let slab = Slab::<Entry>::default();
        let n = 5 * CHUNK as u64 * SHARDS as u64 / 2;
        let handles: Vec<Handle> = (0..n).map(|k| put(&slab, k, k as u32 * 3)).collect();
        assert_eq!(slab.len(), n as usize);
        for (k, h) in handles.iter().enumerate() {
            assert_eq!(find(&slab, k as u64), Some((*h, k as u32 * 3)));
            assert_eq!(slab.lock_handle(*h).get(*h).map(|e| e.key), Some(k as u64));
        }
        assert_eq!(find(&slab, n), None);
    }

    #[test]
    fn removed_slots_are_reused_and_forgotten() {
        let slab = Slab::<Entry>::default();
        let handles: Vec<Handle> = (0..1000).map(|k| put(&slab, k, 0)).collect();
        for (k, h) in handles.iter().enumerate().filter(|(k, _)| k % 2 == 0) {
            let removed = slab.lock_handle(*h).remove(*h);
            assert_eq!(removed.map(|e| e.key), Some(k as u64));
            assert!(slab.lock_handle(*h).remove(*h).is_none(), "removed twice");
        }
        assert_eq!(slab.len(), 500);
        for k in (0..1000).step_by(2) {
            assert_eq!(find(&slab, k), None, "key {k} still found");
        }
        for k in (1..1000).step_by(2) {
            assert!(find(&slab, k).is_some(), "key {k} lost");
        }
        // keys put back (into the same shards) take the freed slots instead of growing them
        let mut taken: Vec<Handle> = (0..1000).step_by(2).map(|k| put(&slab, k, 1)).collect();
        let mut freed: Vec<Handle> = handles.iter().step_by(2).copied().collect();
        freed.sort();
        taken.sort();
        assert_eq!(freed, taken);
        for k in 0..1000 {
            assert_eq!(
                find(&slab, k).map(|(_, v)| v),
                Some((k % 2 == 0) as u32),
                "key {k}"
            );
        }
    }

    #[test]
    fn holds_at_least_is_exact_at_every_count_while_shards_report_in_batches() {
        let slab = Slab::<Entry>::default();
        let slack = SHARDS * (REPORT_EVERY as usize - 1);
        let mut handles = Vec::new();
        // up past the running total's slack and back down to nothing, one value at a time
        for k in 0..(2 * slack as u64) {
            let len = k as usize;
            assert!(slab.holds_at_least(len), "{len} held");
            assert!(!slab.holds_at_least(len + 1), "{} not held", len + 1);
            handles.push(put(&slab, k, 0));
        }
        assert_eq!(slab.len(), 2 * slack);
        while let Some(h) = handles.pop() {
            assert!(slab.lock_handle(h).remove(h).is_some());
            let len = handles.len();
            assert_eq!(slab.len(), len);
            assert!(
                slab.holds_at_least(len) && !slab.holds_at_least(len + 1),
                "{len}"
            );
        }
        assert!(slab.holds_at_least(0));
        assert!(!slab.holds_at_least(1));
    }

    #[test]
    fn a_handle_of_another_shard_reads_nothing() {
        let slab = Slab::<Entry>::default();
        let h = put(&slab, 42, 1);
        let other = (h.shard() + 1) % SHARDS;
        assert!(slab.lock_shard(other).get(h).is_none());
        let last = slab.lock_handle(Handle::NONE);
        assert!(last.get(Handle::NONE).is_none());
    }
}
