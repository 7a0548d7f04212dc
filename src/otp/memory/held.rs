//! Receipts that came before the submit_sm_resp telling their message id: held by (SMSC
//! number, canonical id) for a bounded time and count, taken when the id gets indexed. One
//! hold time for all, so arrival order is deadline order: the oldest is both the first to
//! expire and the first to shed.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard};

use crate::otp::store::HeldReceipt;

type Key = (u16, Box<str>);

#[derive(Debug, Default)]
pub struct HeldReceipts {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
pub struct Inner {
    /// (deadline, arrival number) -> (key, receipt).
    by_age: BTreeMap<(u32, u64), (Key, HeldReceipt)>,
    by_key: HashMap<Key, Vec<(u32, u64)>>,
    next: u64,
}

impl HeldReceipts {
    /// Held receipts change only under this lock; the store looks its index up while holding
    /// it, so a lookup-then-hold is one step for `take`.
    pub fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn len(&self) -> usize {
        self.lock().by_age.len()
    }

    /// Removes and returns what is held under these canonical ids, oldest first.
    pub fn take(&self, smsc: u16, ids: &[String]) -> Vec<HeldReceipt> {
        let mut inner = self.lock();
        let mut seqs: Vec<(u32, u64)> = Vec::new();
        for id in ids {
            if let Some(s) = inner.by_key.remove(&(smsc, id.as_str().into())) {
                seqs.extend(s);
            }
        }
        // in arrival order
        seqs.sort_unstable_by_key(|s| s.1);
        seqs.iter()
            .filter_map(|s| inner.by_age.remove(s).map(|(_, r)| r))
            .collect()
    }

    /// The first deadline of a held receipt.
    pub fn earliest(&self) -> Option<u32> {
        self.lock().by_age.first_key_value().map(|(k, _)| k.0)
    }

    /// Drops what is due at `now`; returns how many.
    pub fn expire(&self, now: u32) -> usize {
        let mut inner = self.lock();
        let mut n = 0;
        while inner
            .by_age
            .first_key_value()
            .is_some_and(|(k, _)| k.0 <= now)
        {
            inner.pop_oldest();
            n += 1;
        }
        n
    }
}

impl Inner {
    /// Holds `receipt` under `id` until `deadline`; sheds the oldest beyond `max` and returns
    /// how many were shed.
    pub fn hold(
        &mut self,
        smsc: u16,
        id: &str,
        receipt: HeldReceipt,
        deadline: u32,
        max: usize,
    ) -> usize {
        let mut shed = 0;
        while self.by_age.len() >= max.max(1) {
            self.pop_oldest();
            shed += 1;
        }
        let seq = self.next;
        self.next += 1;
        let key: Key = (smsc, id.into());
        self.by_key
            .entry(key.clone())
            .or_default()
            .push((deadline, seq));
        self.by_age.insert((deadline, seq), (key, receipt));
        shed
    }

    pub fn len(&self) -> usize {
        self.by_age.len()
    }

    fn pop_oldest(&mut self) {
        let Some((seq, (key, _))) = self.by_age.pop_first() else {
            return;
        };
        if let Some(seqs) = self.by_key.get_mut(&key) {
            seqs.retain(|s| *s != seq);
            if seqs.is_empty() {
                self.by_key.remove(&key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::otp::model::DeliveryStatus;

    fn receipt(status: Option<DeliveryStatus>) -> HeldReceipt {
        HeldReceipt {
            status,
            error: None,
        }
    }

    #[test]
    fn held_until_taken_expired_or_shed() {
        let held = HeldReceipts::default();
        {
            let mut h = held.lock();
            assert_eq!(h.hold(0, "a", receipt(None), 10, 3), 0);
            assert_eq!(
                h.hold(0, "a", receipt(Some(DeliveryStatus::Delivered)), 10, 3),
                0
            );
            assert_eq!(h.hold(1, "a", receipt(None), 11, 3), 0);
            // a fourth sheds the oldest
            assert_eq!(h.hold(0, "b", receipt(None), 12, 3), 1);
        }
        let got = held.take(0, &["a".into(), "c".into()]);
        assert_eq!(got, vec![receipt(Some(DeliveryStatus::Delivered))]);
        assert_eq!(held.len(), 2);
        assert_eq!(held.expire(10), 0);
        assert_eq!(held.expire(11), 1);
        assert!(held.take(1, &["a".into()]).is_empty());
        assert_eq!(held.expire(20), 1);
        assert_eq!(held.len(), 0);
        assert!(held.lock().by_key.is_empty());
    }
}
