//! (SMSC, message id) -> OTP, for delivery receipts. Each entry holds the SMSC's number (see
//! [`SmscNumbers`]) and the id in its canonical form (inline as a number when it is
//! hexadecimal, as most SMSCs' ids are), the OTP's handle, and the next entry of the same OTP:
//! an OTP keeps only the head of its chain, and the chain is how its ids leave the index with it.

use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::RwLock;

use foldhash::fast::RandomState;

use super::slab::{Handle, Keyed, Slab, SlabFull};

/// SMSC names as small numbers, for the index keys. Names come from the configuration, so
/// the table stays small; past `MAX_SMSCS` names share one number (still correct when their
/// ids differ, as they do unless two such SMSCs return the same id).
#[derive(Debug, Default)]
pub struct SmscNumbers {
    names: RwLock<Vec<Box<str>>>,
}

const MAX_SMSCS: usize = 4096;

impl SmscNumbers {
    pub fn number(&self, name: &str) -> u16 {
        let position = |names: &[Box<str>]| names.iter().position(|n| &**n == name);
        let read = self.names.read().unwrap_or_else(|e| e.into_inner());
        if let Some(i) = position(&read) {
            return i as u16;
        }
        drop(read);
        let mut names = self.names.write().unwrap_or_else(|e| e.into_inner());
        if let Some(i) = position(&names) {
            return i as u16;
        }
        if names.len() >= MAX_SMSCS {
            return MAX_SMSCS as u16;
        }
        names.push(name.into());
        (names.len() - 1) as u16
    }
}

/// A canonical message id of an SMSC (see `otpgate_codec::dlr::message_id_variants`); the
/// SMSC's number sits in the padding after the tag, so it costs no byte.
#[derive(Debug, Clone, PartialEq, Eq)]
enum MessageKey {
    /// Lowercase hexadecimal digits, no leading zero, at most 16 of them: their value.
    Hex(u16, u64),
    Text(u16, Box<str>),
}

/// A message id as looked up, without allocating.
#[derive(Clone, Copy, PartialEq, Eq)]
enum KeyRef<'a> {
    Hex(u16, u64),
    Text(u16, &'a str),
}

impl Hash for KeyRef<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        match self {
            KeyRef::Hex(smsc, n) => (smsc, n).hash(state),
            KeyRef::Text(smsc, s) => (smsc, s).hash(state),
        }
    }
}

/// `id` read as lowercase hex digits (at most 16: no overflow), checked and read in one pass.
fn lowercase_hex(id: &str) -> Option<u64> {
    id.bytes().try_fold(0u64, |n, b| {
        let digit = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            _ => return None,
        };
        n.checked_mul(16)?.checked_add(u64::from(digit))
    })
}

impl<'a> KeyRef<'a> {
    fn of(smsc: u16, id: &'a str) -> Self {
        let canonical_hex = (1..=16).contains(&id.len()) && (id == "0" || !id.starts_with('0'));
        match canonical_hex.then(|| lowercase_hex(id)).flatten() {
            Some(n) => KeyRef::Hex(smsc, n),
            None => KeyRef::Text(smsc, id),
        }
    }

    fn to_owned(self) -> MessageKey {
        match self {
            KeyRef::Hex(smsc, n) => MessageKey::Hex(smsc, n),
            KeyRef::Text(smsc, s) => MessageKey::Text(smsc, s.into()),
        }
    }
}

impl MessageKey {
    fn as_ref(&self) -> KeyRef<'_> {
        match self {
            MessageKey::Hex(smsc, n) => KeyRef::Hex(*smsc, *n),
            MessageKey::Text(smsc, s) => KeyRef::Text(*smsc, s),
        }
    }
}

#[derive(Debug)]
pub struct MessageEntry {
    key: MessageKey,
    /// The OTP the id belongs to; `NONE` once a newer OTP reported the same id (the entry
    /// then only waits for its chain to be dropped).
    otp: Handle,
    next: Handle,
}

impl Keyed for MessageEntry {
    fn key_hash(&self, hasher: &RandomState) -> u64 {
        hasher.hash_one(self.key.as_ref())
    }
}

#[derive(Debug, Default)]
pub struct MessageIndex {
    slab: Slab<MessageEntry>,
}

impl MessageIndex {
    pub fn len(&self) -> usize {
        self.slab.len()
    }

    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.slab.len() == 0
    }

    /// Indexes canonical id `id` of SMSC `smsc` for `otp` at the head of the chain `head`;
    /// returns the new head. An id already indexed for another OTP now leads to this one (the
    /// newer submission wins); one already indexed for this OTP is left as it is.
    pub fn add(&self, smsc: u16, id: &str, otp: Handle, head: Handle) -> Result<Handle, SlabFull> {
        let key = KeyRef::of(smsc, id);
        let (mut shard, hash, found) = self
            .slab
            .locate(key, |e| e.key.as_ref() == key && !e.otp.is_none());
        if let Some(existing) = found {
            match shard.get_mut(existing) {
                Some(e) if e.otp == otp => return Ok(head),
                Some(e) => e.otp = Handle::NONE,
                None => {}
            }
        }
        shard.insert(
            hash,
            MessageEntry {
                key: key.to_owned(),
                otp,
                next: head,
            },
        )
    }

    /// The OTP handle canonical id `id` of SMSC `smsc` leads to.
    pub fn find(&self, smsc: u16, id: &str) -> Option<Handle> {
        let key = KeyRef::of(smsc, id);
        let (shard, _, found) = self
            .slab
            .locate(key, |e| e.key.as_ref() == key && !e.otp.is_none());
        shard.get(found?).map(|e| e.otp)
    }

    /// Drops the whole chain starting at `head`.
    pub fn drop_chain(&self, mut head: Handle) {
        while !head.is_none() {
            head = self
                .slab
                .lock_handle(head)
                .remove(head)
                .map_or(Handle::NONE, |e| e.next);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn otp(n: u32) -> Handle {
        Handle::from_raw(n)
    }

    #[test]
    fn keys_are_exact() {
        assert!(matches!(KeyRef::of(0, "1a2b"), KeyRef::Hex(0, 0x1a2b)));
        assert!(matches!(KeyRef::of(0, "0"), KeyRef::Hex(0, 0)));
        assert!(matches!(
            KeyRef::of(0, "ffffffffffffffff"),
            KeyRef::Hex(0, u64::MAX)
        ));
        for text in [
            "01a",
            "1A2B",
            "",
            "12345678901234567",
            "id-7",
            "g1",
            "+1",
            "1 ",
        ] {
            assert!(
                matches!(KeyRef::of(0, text), KeyRef::Text(0, t) if t == text),
                "{text}"
            );
        }
    }

    #[test]
    fn hex_is_read_as_from_str_radix_reads_lowercase_digits() {
        for id in [
            "0",
            "9",
            "a",
            "f",
            "10",
            "7fffffff",
            "deadbeef",
            "ffffffffffffffff",
            "g",
            "A",
        ] {
            let library = id
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
                .then(|| u64::from_str_radix(id, 16).ok())
                .flatten();
            assert_eq!(lowercase_hex(id), library, "{id}");
        }
    }

    #[test]
    fn ids_lead_to_their_otp_until_their_chain_is_dropped() {
        let index = MessageIndex::default();
        let (a, b) = (otp(1), otp(2));
        let mut chain_a = Handle::NONE;
        for id in ["abc1", "abc2", "e1f7c6b2-7f53-4d3c-9a43-5f0e3c1c9f00"] {
            chain_a = index.add(0, id, a, chain_a).expect("room");
        }
        let chain_b = index.add(0, "99", b, Handle::NONE).expect("room");
        assert_eq!(index.find(0, "abc2"), Some(a));
        assert_eq!(
            index.find(0, "e1f7c6b2-7f53-4d3c-9a43-5f0e3c1c9f00"),
            Some(a)
        );
        assert_eq!(index.find(0, "99"), Some(b));
        assert_eq!(index.find(0, "abc3"), None);
        // the same id again for the same OTP changes nothing
        assert_eq!(index.add(0, "abc1", a, chain_a), Ok(chain_a));
        index.drop_chain(chain_a);
        assert_eq!(index.find(0, "abc1"), None);
        assert_eq!(index.len(), 1);
        index.drop_chain(chain_b);
        assert!(index.is_empty());
    }

    #[test]
    fn a_reused_id_leads_to_the_newer_otp_and_survives_the_older_chain() {
        let index = MessageIndex::default();
        let (a, b) = (otp(1), otp(2));
        let chain_a = index.add(0, "7", a, Handle::NONE).expect("room");
        let chain_b = index.add(0, "7", b, Handle::NONE).expect("room");
        assert_eq!(index.find(0, "7"), Some(b));
        index.drop_chain(chain_a);
        assert_eq!(index.find(0, "7"), Some(b));
        index.drop_chain(chain_b);
        assert_eq!(index.find(0, "7"), None);
        assert!(index.is_empty());
    }

    #[test]
    fn the_same_id_from_two_smscs_leads_to_two_otps() {
        let index = MessageIndex::default();
        let smscs = SmscNumbers::default();
        let (x, y) = (smscs.number("x"), smscs.number("y"));
        assert_eq!((x, y, smscs.number("x")), (0, 1, 0));
        let chain_a = index.add(x, "7", otp(1), Handle::NONE).expect("room");
        let chain_b = index.add(y, "7", otp(2), Handle::NONE).expect("room");
        assert_eq!(index.find(x, "7"), Some(otp(1)));
        assert_eq!(index.find(y, "7"), Some(otp(2)));
        index.drop_chain(chain_a);
        assert_eq!(index.find(x, "7"), None);
        assert_eq!(index.find(y, "7"), Some(otp(2)));
        index.drop_chain(chain_b);
        // the SMSC costs no byte of a key
        assert_eq!(std::mem::size_of::<MessageKey>(), 24);
    }
}
