//! Idempotency keys: the first reply of a create is remembered (per tenant and key, with the
//! request's fingerprint) and replayed to retries; a concurrent retry waits for it.

use dashmap::mapref::entry::Entry;
use dashmap::DashMap;

use super::store::{IdemKey, IdemReply, IdemReserve};

/// A reservation not completed within this time is considered abandoned.
pub const IN_FLIGHT_TIMEOUT_S: u32 = 60;

#[derive(Debug, Clone)]
struct IdemEntry {
    fingerprint: [u8; 32],
    reply: Option<IdemReply>,
    expires: u32,
}

#[derive(Debug, Default)]
pub struct IdempotencyTable {
    map: DashMap<IdemKey, IdemEntry>,
}

impl IdempotencyTable {
    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Returns the verdict and, when a new entry was made, its expiry time.
    pub fn reserve(&self, key: &IdemKey, fp: [u8; 32], now: u32) -> (IdemReserve, Option<u32>) {
        let fresh = IdemEntry {
            fingerprint: fp,
            reply: None,
            expires: now.saturating_add(IN_FLIGHT_TIMEOUT_S),
        };
        let expires = fresh.expires;
        match self.map.entry(key.clone()) {
            Entry::Vacant(v) => {
                v.insert(fresh);
                (IdemReserve::Reserved, Some(expires))
            }
            Entry::Occupied(mut o) => {
                let e = o.get();
                if e.expires <= now {
                    o.insert(fresh);
                    (IdemReserve::Reserved, Some(expires))
                } else if e.fingerprint != fp {
                    (IdemReserve::Conflict, None)
                } else if let Some(r) = &e.reply {
                    (IdemReserve::Replay(r.clone()), None)
                } else {
                    (IdemReserve::InFlight, None)
                }
            }
        }
    }

    /// Stores the reply; returns the entry's new expiry time.
    pub fn complete(&self, key: &IdemKey, reply: IdemReply, now: u32, ttl_s: u32) -> u32 {
        let expires = now.saturating_add(ttl_s);
        if let Some(mut e) = self.map.get_mut(key) {
            e.reply = Some(reply);
            e.expires = expires;
        }
        expires
    }

    pub fn release(&self, key: &IdemKey) {
        self.map.remove_if(key, |_, e| e.reply.is_none());
    }

    /// Drops the entry if it has expired; otherwise returns when to look again.
    pub fn expire(&self, key: &IdemKey, now: u32) -> Option<u32> {
        if self.map.remove_if(key, |_, e| e.expires <= now).is_some() {
            return None;
        }
        self.map.get(key).map(|e| e.expires)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    #[test]
    fn reserve_replay_conflict_expire() {
        let t = IdempotencyTable::default();
        let k = IdemKey {
            tenant: crate::otp::identity::TenantTag::of("a"),
            key: "k1".into(),
        };
        assert_eq!(t.reserve(&k, [1; 32], 10).0, IdemReserve::Reserved);
        assert_eq!(t.reserve(&k, [1; 32], 10).0, IdemReserve::InFlight);
        assert_eq!(t.reserve(&k, [2; 32], 10).0, IdemReserve::Conflict);
        let reply = IdemReply {
            status: 201,
            body: Bytes::from_static(b"{}"),
        };
        assert_eq!(t.complete(&k, reply.clone(), 11, 100), 111);
        assert_eq!(t.reserve(&k, [1; 32], 12).0, IdemReserve::Replay(reply));
        t.release(&k); // a completed entry is kept
        assert_eq!(t.expire(&k, 50), Some(111));
        assert_eq!(t.expire(&k, 111), None);
        assert_eq!(t.reserve(&k, [2; 32], 112).0, IdemReserve::Reserved);
        t.release(&k);
        assert!(t.is_empty());
    }
}
