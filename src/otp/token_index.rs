//! Tenants by API token in constant time per request, whatever their number: a hash table
//! keyed by the HMAC-SHA256 of each token under a random key drawn when the tenant set is
//! built. A request's token is MACed once, looked up once, and the MAC found (or a dummy, on a
//! miss) is compared to it in constant time. The table's own probing only compares MACs the
//! caller cannot compute without the key, so its timing tells nothing about any token's bytes.
//!
//! Tokens provisioned through the admin API are only ever stored as such MACs, under a key
//! derived from `[security] pin_secret` ([`TokenKey`]): the same on every node and across
//! restarts. Each may carry an expiry (a rotated token's overlap), checked at every lookup.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

pub type TokenMac = [u8; 32];

const KEY_SALT: &[u8] = b"otpgate tenant tokens";
const KEY_INFO: &[u8] = b"hmac-sha256 token index v1";

/// The key of the stored token MACs: HKDF-SHA256 of `[security] pin_secret`, so that every
/// node sharing the secret computes the same MAC of a token, before and after a restart.
#[derive(Clone)]
pub struct TokenKey([u8; 32]);

impl TokenKey {
    pub fn derive(secret: &str) -> Self {
        use ring::hkdf;
        let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, KEY_SALT).extract(secret.as_bytes());
        let mut key = [0u8; 32];
        // 32 bytes is one HKDF-SHA256 block: expanding them never fails
        if let Ok(okm) = prk.expand(&[KEY_INFO], hkdf::HKDF_SHA256) {
            let _ = okm.fill(&mut key);
        }
        Self(key)
    }

    /// The MAC of `token` under this key (what a provisioned tenant's record keeps).
    pub fn mac(&self, token: &str) -> TokenMac {
        mac_with(&keyed(&self.0), token)
    }
}

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKey(<key>)")
    }
}

/// A token as a provisioned tenant's record keeps it: its MAC under the [`TokenKey`] and,
/// for the old token of a rotation, when it stops opening anything (Unix seconds).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoredToken {
    #[serde(with = "hex_mac")]
    pub mac: TokenMac,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<u64>,
}

impl StoredToken {
    pub fn live_at(&self, now_unix: u64) -> bool {
        self.expires_at.is_none_or(|t| now_unix < t)
    }
}

mod hex_mac {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(mac: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(mac))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
        let text = String::deserialize(d)?;
        let mut mac = [0u8; 32];
        hex::decode_to_slice(text, &mut mac).map_err(serde::de::Error::custom)?;
        Ok(mac)
    }
}

/// What one tenant is found by: its token in clear (from the configuration file) or a
/// [`StoredToken`] (provisioned).
pub enum TokenEntry<'a> {
    Clear(&'a str),
    Stored(&'a StoredToken),
}

fn keyed(key: &[u8; 32]) -> Hmac<Sha256> {
    // HMAC takes keys of any length: this never falls back
    Hmac::<Sha256>::new_from_slice(key)
        .unwrap_or_else(|_| <Hmac<Sha256> as Mac>::new(&Default::default()))
}

fn mac_with(keyed: &Hmac<Sha256>, token: &str) -> TokenMac {
    let mut mac = keyed.clone();
    mac.update(token.as_bytes());
    mac.finalize().into_bytes().into()
}

/// Where a MAC leads: the tenant's position, and the token's expiry (Unix seconds).
#[derive(Debug, Clone, Copy)]
struct Found {
    position: usize,
    expires_at: Option<u64>,
}

/// Token MAC -> position of the tenant in its list.
pub struct TokenIndex {
    /// Unique to this index (never reused), so that what a thread remembers of an index it
    /// outlived never answers for the one that replaced it.
    id: u64,
    /// The HMAC keyed once (its inner and outer pads computed): each lookup clones it.
    keyed: Hmac<Sha256>,
    by_mac: HashMap<TokenMac, Found>,
    /// What a miss compares against, so that a miss costs what a hit costs.
    dummy: TokenMac,
}

impl TokenIndex {
    /// The index of `tokens` (in list order; a token seen twice keeps its first position)
    /// under a fresh random key.
    pub fn new<'a>(tokens: impl IntoIterator<Item = &'a str>) -> Self {
        use rand::RngCore;
        let mut key = [0u8; 32];
        rand::rng().fill_bytes(&mut key);
        Self::with_key(&key, tokens)
    }

    fn with_key<'a>(key: &[u8; 32], tokens: impl IntoIterator<Item = &'a str>) -> Self {
        Self::of_entries(
            key,
            tokens
                .into_iter()
                .enumerate()
                .map(|(i, t)| (i, TokenEntry::Clear(t))),
        )
    }

    /// The index of `entries` (tenant position, token) under `key`: the [`TokenKey`] when
    /// some tokens are stored MACs. A token seen twice keeps its first position.
    pub fn keyed_by<'a>(
        key: &TokenKey,
        entries: impl IntoIterator<Item = (usize, TokenEntry<'a>)>,
    ) -> Self {
        Self::of_entries(&key.0, entries)
    }

    fn of_entries<'a>(
        key: &[u8; 32],
        entries: impl IntoIterator<Item = (usize, TokenEntry<'a>)>,
    ) -> Self {
        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        let mut index = Self {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            keyed: keyed(key),
            by_mac: HashMap::new(),
            dummy: [0; 32],
        };
        index.dummy = index.mac("\0dummy");
        let entries = entries.into_iter();
        index.by_mac.reserve(entries.size_hint().0);
        for (position, entry) in entries {
            let (mac, expires_at) = match entry {
                TokenEntry::Clear(token) => (index.mac(token), None),
                TokenEntry::Stored(stored) => (stored.mac, stored.expires_at),
            };
            index.by_mac.entry(mac).or_insert(Found {
                position,
                expires_at,
            });
        }
        index
    }

    fn mac(&self, token: &str) -> TokenMac {
        mac_with(&self.keyed, token)
    }

    /// The position of the tenant whose token is `token`, expired or not.
    fn lookup(&self, token: &str) -> Option<Found> {
        if let Some(found) = recent::find(self.id, token) {
            return Some(found);
        }
        let found = self.lookup_by_mac(token)?;
        recent::remember(self.id, token, found);
        Some(found)
    }

    fn lookup_by_mac(&self, token: &str) -> Option<Found> {
        let mac = self.mac(token);
        let (stored, found) = match self.by_mac.get_key_value(&mac) {
            Some((stored, &found)) => (stored, Some(found)),
            None => (&self.dummy, None),
        };
        let same: bool = stored.ct_eq(&mac).into();
        found.filter(|_| same)
    }

    /// The position of the tenant whose token is `token` (a token without expiry).
    pub fn find(&self, token: &str) -> Option<usize> {
        self.find_at(token, 0)
    }

    /// The position of the tenant whose token is `token`, unless it expired at `now_unix`.
    pub fn find_at(&self, token: &str, now_unix: u64) -> Option<usize> {
        self.find_then(token, || now_unix)
    }

    /// [`Self::find_at`] with the time read by `now_unix` only for a token that expires (a
    /// rotated one in its overlap): the others, nearly every request's, read no clock.
    pub fn find_then(&self, token: &str, now_unix: impl FnOnce() -> u64) -> Option<usize> {
        let found = self.lookup(token)?;
        let live = found.expires_at.is_none_or(|t| now_unix() < t);
        live.then_some(found.position)
    }

    /// Whether some tenant has `token`, expired or not.
    pub fn holds(&self, token: &str) -> bool {
        self.lookup(token).is_some()
    }

    pub fn len(&self) -> usize {
        self.by_mac.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_mac.is_empty()
    }
}

/// The tokens a thread found last. A client sends the same token request after request, and
/// its MAC is most of what refusing a create costs under overload: a token found again here
/// costs a constant-time comparison instead. Only found tokens are kept (a flood of wrong ones
/// evicts nothing), the expiry is still checked at every lookup by the caller, and an entry
/// answers only for the index that found it. A hit is faster than a miss, which tells a client
/// only what the answer tells it anyway: that its token is valid.
mod recent {
    use std::cell::RefCell;

    use subtle::ConstantTimeEq;

    use super::Found;

    /// Enough for the few tenants a worker thread serves at once; a linear scan.
    const SLOTS: usize = 4;

    struct Entry {
        index: u64,
        token: Box<[u8]>,
        found: Found,
    }

    #[derive(Default)]
    struct Recent {
        entries: [Option<Entry>; SLOTS],
        /// The slot the next new token takes (oldest first).
        next: usize,
    }

    thread_local! {
        static RECENT: RefCell<Recent> = RefCell::default();
    }

    pub(super) fn find(index: u64, token: &str) -> Option<Found> {
        RECENT.with_borrow(|r| {
            r.entries.iter().flatten().find_map(|e| {
                let same: bool = e.token.ct_eq(token.as_bytes()).into();
                (e.index == index && same).then_some(e.found)
            })
        })
    }

    pub(super) fn remember(index: u64, token: &str, found: Found) {
        RECENT.with_borrow_mut(|r| {
            let slot = r.next;
            r.entries[slot] = Some(Entry {
                index,
                token: token.as_bytes().into(),
                found,
            });
            r.next = (slot + 1) % SLOTS;
        });
    }
}

impl Default for TokenIndex {
    fn default() -> Self {
        Self::new([])
    }
}

impl std::fmt::Debug for TokenIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenIndex")
            .field("tokens", &self.by_mac.len())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_each_token_and_nothing_else() {
        let tokens: Vec<String> = (0..1000).map(|i| format!("token-{i:05}")).collect();
        let index = TokenIndex::new(tokens.iter().map(String::as_str));
        assert_eq!(index.len(), 1000);
        for (i, t) in tokens.iter().enumerate() {
            assert_eq!(index.find(t), Some(i), "{t}");
        }
        for miss in [
            "",
            "token-01000",
            "token-0000",
            "TOKEN-00001",
            "token-00001 ",
            "\0dummy",
        ] {
            assert_eq!(index.find(miss), None, "{miss:?}");
        }
    }

    #[test]
    fn a_repeated_token_keeps_its_first_tenant() {
        let index = TokenIndex::new(["a-token-1", "a-token-2", "a-token-1"]);
        assert_eq!(index.len(), 2);
        assert_eq!(index.find("a-token-1"), Some(0));
        assert_eq!(index.find("a-token-2"), Some(1));
    }

    #[test]
    fn each_index_has_its_own_key() {
        // two tenant sets (two processes, or a reloaded set) never share MACs
        let (a, b) = (TokenIndex::new(["same"]), TokenIndex::new(["same"]));
        assert_ne!(a.mac("same"), b.mac("same"));
        let fixed = TokenIndex::with_key(&[7; 32], ["same"]);
        assert_eq!(
            fixed.mac("same"),
            TokenIndex::with_key(&[7; 32], []).mac("same")
        );
        assert_ne!(fixed.mac("same"), fixed.mac("same "));
    }

    #[test]
    fn stored_macs_open_until_they_expire() {
        let key = TokenKey::derive("a-pin-secret-0123456789");
        assert_eq!(
            key.mac("t"),
            TokenKey::derive("a-pin-secret-0123456789").mac("t")
        );
        assert_ne!(
            key.mac("t"),
            TokenKey::derive("another-secret-0123").mac("t")
        );
        let old = StoredToken {
            mac: key.mac("old-token"),
            expires_at: Some(100),
        };
        let new = StoredToken {
            mac: key.mac("new-token"),
            expires_at: None,
        };
        let index = TokenIndex::keyed_by(
            &key,
            [
                (0, TokenEntry::Clear("file-token")),
                (1, TokenEntry::Stored(&old)),
                (1, TokenEntry::Stored(&new)),
            ],
        );
        assert_eq!(index.find_at("file-token", 99), Some(0));
        assert_eq!(index.find_at("old-token", 99), Some(1));
        assert_eq!(index.find_at("old-token", 100), None);
        assert!(index.holds("old-token"));
        assert_eq!(index.find_at("new-token", 10_000), Some(1));
        assert_eq!(index.find_at("other", 0), None);
        let json = serde_json::to_string(&old).unwrap();
        assert!(!json.contains("old-token"));
        assert_eq!(serde_json::from_str::<StoredToken>(&json).unwrap(), old);
    }

    #[test]
    fn a_token_found_before_answers_only_for_its_own_set() {
        // the same thread finds the token in one set, then asks the set that replaced it
        let before = TokenIndex::new(["kept", "removed"]);
        assert_eq!(before.find("removed"), Some(1));
        assert_eq!(before.find("kept"), Some(0));
        let after = TokenIndex::new(["other", "kept"]);
        assert_eq!(after.find("removed"), None);
        assert_eq!(after.find("kept"), Some(1));
        assert_eq!(before.find("kept"), Some(0), "each set its own positions");
        // more tokens than a thread remembers: every one still found, nothing else
        let tokens: Vec<String> = (0..10).map(|i| format!("t{i}")).collect();
        let many = TokenIndex::new(tokens.iter().map(String::as_str));
        for _ in 0..3 {
            for (i, t) in tokens.iter().enumerate() {
                assert_eq!(many.find(t), Some(i));
                assert_eq!(many.find(&format!("{t}x")), None);
            }
        }
    }
}
