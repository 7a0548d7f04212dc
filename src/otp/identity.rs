//! A tenant's stable identity: its `[[tenants]] id` (its name unless set), never its position
//! in the list. What every OTP record, idempotency key, limit counter and callback carries is
//! the id's [`TenantTag`], 4 bytes derived from the id by a fixed hash, so that reordering the
//! tenants, or nodes of one Redis with their tenants in different orders, never hand one
//! tenant's OTPs to another.

use sha2::{Digest, Sha256};

/// Longest explicit `id`.
pub const MAX_ID_LEN: usize = 64;

/// The stored form of a tenant's id: the first four bytes, big-endian, of the SHA-256 of the
/// id's UTF-8 bytes. Fixed and documented (not a per-process hasher): records written by one
/// node or version are read by every other. Two ids of one configuration never share a tag
/// (the configuration refuses it), and no id has [`TenantTag::NONE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TenantTag(u32);

impl TenantTag {
    /// Belongs to no tenant: what a record whose tenant cannot be resolved carries (a record
    /// of an older version whose tenant position is past the end of the list).
    pub const NONE: Self = Self(0);

    /// The tag of `id`.
    pub fn of(id: &str) -> Self {
        let digest = Sha256::digest(id.as_bytes());
        let mut first = [0u8; 4];
        first.copy_from_slice(&digest[..4]);
        Self(u32::from_be_bytes(first))
    }

    /// A tag as stored.
    pub fn from_raw(raw: u32) -> Self {
        Self(raw)
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

/// Eight lowercase hex digits, as in store keys (`t` first: `t1a2b3c4d`).
impl std::fmt::Display for TenantTag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "t{:08x}", self.0)
    }
}

/// Whether `id` is acceptable as an explicit `[[tenants]] id`: 1 to [`MAX_ID_LEN`] ASCII
/// letters, digits, `.`, `_` or `-` (safe in store keys, logs and URLs).
pub fn valid_id(id: &str) -> bool {
    (1..=MAX_ID_LEN).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// Why a list of ids cannot identify its tenants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdProblem {
    /// Positions `first` and `second` have the same id.
    Duplicate { first: usize, second: usize },
    /// Positions `first` and `second` have different ids with the same tag.
    TagCollision { first: usize, second: usize },
    /// The id at this position has [`TenantTag::NONE`].
    ReservedTag(usize),
}

/// Checks that `ids` (in configuration order) tell their tenants apart by their tags.
pub fn check_ids<'a>(ids: impl IntoIterator<Item = &'a str>) -> Result<(), IdProblem> {
    let mut seen: std::collections::HashMap<TenantTag, (usize, &str)> =
        std::collections::HashMap::new();
    for (i, id) in ids.into_iter().enumerate() {
        let tag = TenantTag::of(id);
        if tag == TenantTag::NONE {
            return Err(IdProblem::ReservedTag(i));
        }
        if let Some(&(first, other)) = seen.get(&tag) {
            return Err(if other == id {
                IdProblem::Duplicate { first, second: i }
            } else {
                IdProblem::TagCollision { first, second: i }
            });
        }
        seen.insert(tag, (i, id));
    }
    Ok(())
}

/// What a tenant's own limit counters (per number, per number prefix) are keyed by. Built in
/// [`Tenant::limit_key`](super::tenant::Tenant::limit_key) only: the stores derive their keys from it, so changing what
/// identifies a tenant is one edit there. Shared stores key by the tenant's [`TenantTag`]
/// (its `Display`); the in-memory phone table counts the first tenant (`dense` 0) in the
/// number's own entry and every other tenant in an entry keyed by the number and its tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LimitKey {
    dense: u32,
    tag: TenantTag,
}

impl LimitKey {
    /// The first tenant's key (for tests: its tag is [`TenantTag::NONE`]).
    pub const ZERO: Self = Self {
        dense: 0,
        tag: TenantTag::NONE,
    };

    /// Most tenants of one configuration (a bound on what is loaded, not a limit of any
    /// table: the keys are 32 bits wide).
    pub const MAX_TENANTS: usize = 1 << 20;

    /// A key of `dense` number and `tag` (for tools and tests; the engine takes
    /// [`Tenant::limit_key`](super::tenant::Tenant::limit_key)).
    pub fn new(dense: u32, tag: TenantTag) -> Self {
        Self { dense, tag }
    }

    /// The key numbered `n`, its tag `n` too (for tools and tests).
    pub fn from_raw(n: u32) -> Self {
        Self::new(n, TenantTag::from_raw(n))
    }

    /// The tenant's number in this process: `0..MAX_TENANTS` for a valid configuration.
    pub fn dense(self) -> u32 {
        self.dense
    }

    pub fn tag(self) -> TenantTag {
        self.tag
    }
}

/// The tag: what shared stores' keys hold.
impl std::fmt::Display for LimitKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.tag.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tag_is_the_documented_hash() {
        // SHA-256("acme") starts 822b33ad: the same in every process and version
        assert_eq!(TenantTag::of("acme").get(), 0x822b_33ad);
        let digest = Sha256::digest(b"acme");
        let want = u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]);
        assert_eq!(TenantTag::of("acme").get(), want);
        assert_ne!(TenantTag::of("acme"), TenantTag::of("Acme"));
        assert_eq!(TenantTag::from_raw(0x1a2b).to_string(), "t00001a2b");
    }

    #[test]
    fn ids_are_checked() {
        assert!(valid_id("acme-eu_1.prod"));
        for bad in [
            "",
            "a b",
            "a/b",
            "é",
            "a:b",
            "{a}",
            &"x".repeat(MAX_ID_LEN + 1),
        ] {
            assert!(!valid_id(bad), "{bad:?}");
        }
        assert_eq!(check_ids(["a", "b", "c"]), Ok(()));
        assert_eq!(
            check_ids(["a", "b", "a"]),
            Err(IdProblem::Duplicate {
                first: 0,
                second: 2
            })
        );
    }

    #[test]
    fn two_ids_with_one_tag_are_refused() {
        // a collision of the 32-bit tag, found by an offline search among short ids
        let (a, b) = ("c17439", "c24164");
        assert_eq!(TenantTag::of(a), TenantTag::of(b));
        assert_eq!(TenantTag::of(a).to_string(), "tc51deb06");
        assert_eq!(
            check_ids([a, "x", b]),
            Err(IdProblem::TagCollision {
                first: 0,
                second: 2
            })
        );
    }
}
