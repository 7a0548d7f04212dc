//! The entries this node holds: handed to its engine and not settled yet, by otpId (a
//! resend can put a second entry of one OTP in flight), so that the engine's report of an
//! SMS's fate finds the entry to settle. An entry whose fate is reported stays counted (and
//! renewed) until that fate is in the store and the entry settled in Redis: a node killed in
//! between leaves it to be sent again, so the prefetch bounds what a kill can duplicate.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Mutex;

/// One entry held by this node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    /// The SMSC whose stream holds it.
    pub smsc: String,
    /// Its stream entry id.
    pub entry: String,
    pub otp_id: String,
    /// The sealed SMS, to give it back to the queue at shutdown.
    pub sealed: Vec<u8>,
}

/// What to do with an entry whose fate is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Acknowledge and delete it (sent, refused or failed for good).
    Settle(Held),
    /// Put it back at the end of its stream for any node (this node is stopping).
    Requeue(Held),
}

#[derive(Default)]
pub struct HeldSet {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    by_otp: HashMap<String, VecDeque<Held>>,
    /// Per SMSC: the entries whose fate is reported and not yet settled in Redis.
    settling: HashMap<String, HashSet<String>>,
    /// Per SMSC: entries held or settling.
    per_smsc: HashMap<String, usize>,
}

impl HeldSet {
    pub fn insert(&self, held: Held) {
        let mut i = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        *i.per_smsc.entry(held.smsc.clone()).or_default() += 1;
        i.by_otp
            .entry(held.otp_id.clone())
            .or_default()
            .push_back(held);
    }

    /// The oldest entry held for `otp_id`, now settling: still counted until
    /// [`HeldSet::settled`].
    pub fn take(&self, otp_id: &str) -> Option<Held> {
        let mut i = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let list = i.by_otp.get_mut(otp_id)?;
        let held = list.pop_front()?;
        if list.is_empty() {
            i.by_otp.remove(otp_id);
        }
        i.settling
            .entry(held.smsc.clone())
            .or_default()
            .insert(held.entry.clone());
        Some(held)
    }

    /// `entries` of `smsc`'s stream are settled in Redis (or given up): no longer counted.
    /// Entries that were never held are ignored.
    pub fn settled(&self, smsc: &str, entries: &[String]) {
        let mut i = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let Some(set) = i.settling.get_mut(smsc) else {
            return;
        };
        let before = set.len();
        for e in entries {
            set.remove(e);
        }
        let gone = before - set.len();
        if set.is_empty() {
            i.settling.remove(smsc);
        }
        if let Some(n) = i.per_smsc.get_mut(smsc) {
            *n = n.saturating_sub(gone);
        }
    }

    /// `entry` of `otp_id`, no longer held (the engine refused it).
    pub fn remove(&self, otp_id: &str, entry: &str) -> Option<Held> {
        let mut i = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let list = i.by_otp.get_mut(otp_id)?;
        let at = list.iter().position(|h| h.entry == entry)?;
        let held = list.remove(at)?;
        if list.is_empty() {
            i.by_otp.remove(otp_id);
        }
        if let Some(n) = i.per_smsc.get_mut(&held.smsc) {
            *n = n.saturating_sub(1);
        }
        Some(held)
    }

    /// Entries held or settling for `smsc`'s stream.
    pub fn count(&self, smsc: &str) -> usize {
        let i = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        i.per_smsc.get(smsc).copied().unwrap_or(0)
    }

    /// The entry ids held or settling for `smsc`'s stream (pending in Redis under this node).
    pub fn entries_of(&self, smsc: &str) -> Vec<String> {
        let i = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        i.by_otp
            .values()
            .flatten()
            .filter(|h| h.smsc == smsc)
            .map(|h| h.entry.clone())
            .chain(i.settling.get(smsc).into_iter().flatten().cloned())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held(otp: &str, entry: &str) -> Held {
        Held {
            smsc: "alpha".into(),
            entry: entry.into(),
            otp_id: otp.into(),
            sealed: Vec::new(),
        }
    }

    #[test]
    fn a_resent_otp_settles_its_entries_oldest_first() {
        let set = HeldSet::default();
        set.insert(held("a", "1-0"));
        set.insert(held("a", "2-0"));
        set.insert(held("b", "3-0"));
        assert_eq!(set.count("alpha"), 3);
        assert_eq!(set.take("a").map(|h| h.entry), Some("1-0".into()));
        assert_eq!(set.remove("b", "3-0").map(|h| h.entry), Some("3-0".into()));
        let mut pending = set.entries_of("alpha");
        pending.sort();
        assert_eq!(pending, vec!["1-0".to_owned(), "2-0".to_owned()]);
        assert_eq!(set.take("a").map(|h| h.entry), Some("2-0".into()));
        assert_eq!(set.take("a"), None);
        assert_eq!(set.count("alpha"), 2, "settling entries still count");
        set.settled("alpha", &["1-0".into(), "2-0".into(), "9-0".into()]);
        assert_eq!(set.count("alpha"), 0);
        assert!(set.entries_of("alpha").is_empty());
    }

    #[test]
    fn an_entry_stays_counted_until_settled_in_redis() {
        let set = HeldSet::default();
        set.insert(held("a", "1-0"));
        assert!(set.take("a").is_some());
        assert_eq!(set.count("alpha"), 1);
        assert_eq!(set.entries_of("alpha"), vec!["1-0".to_owned()]);
        // settling an entry this node never held changes nothing
        set.settled("alpha", &["5-0".into()]);
        assert_eq!(set.count("alpha"), 1);
        set.settled("alpha", &["1-0".into()]);
        assert_eq!(set.count("alpha"), 0);
    }
}
