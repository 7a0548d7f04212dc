//! Tenants by API token in constant time per request, whatever their number: a hash table
//! keyed by the HMAC-SHA256 of each token under a random key drawn when the tenant set is
//! built. A request's token is MACed once, looked up once, and the MAC found (or a dummy, on a
//! miss) is compared to it in constant time. The table's own probing only compares MACs the
//! caller cannot compute without the key, so its timing tells nothing about any token's bytes.

use std::collections::HashMap;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

type TokenMac = [u8; 32];

/// Token MAC -> position of the tenant in its list.
pub struct TokenIndex {
    /// The HMAC keyed once (its inner and outer pads computed): each lookup clones it.
    keyed: Hmac<Sha256>,
    by_mac: HashMap<TokenMac, usize>,
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
        // HMAC takes keys of any length: this never falls back
        let keyed = Hmac::<Sha256>::new_from_slice(key)
            .unwrap_or_else(|_| <Hmac<Sha256> as Mac>::new(&Default::default()));
        let mut index = Self {
            keyed,
            by_mac: HashMap::new(),
            dummy: [0; 32],
        };
        index.dummy = index.mac("\0dummy");
        let tokens = tokens.into_iter();
        index.by_mac.reserve(tokens.size_hint().0);
        for (i, token) in tokens.enumerate() {
            let mac = index.mac(token);
            index.by_mac.entry(mac).or_insert(i);
        }
        index
    }

    fn mac(&self, token: &str) -> TokenMac {
        let mut mac = self.keyed.clone();
        mac.update(token.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// The position of the tenant whose token is `token`.
    pub fn find(&self, token: &str) -> Option<usize> {
        let mac = self.mac(token);
        let (stored, position) = match self.by_mac.get_key_value(&mac) {
            Some((stored, &i)) => (stored, Some(i)),
            None => (&self.dummy, None),
        };
        let same: bool = stored.ct_eq(&mac).into();
        position.filter(|_| same)
    }

    pub fn len(&self) -> usize {
        self.by_mac.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_mac.is_empty()
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
}
