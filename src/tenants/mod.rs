//! Tenants provisioned through the admin API: their records (every `[[tenants]]` setting, the
//! tokens as MACs only, a suspended flag, a tombstone once deleted), where the records live
//! (`registry`: Redis for every node, a state file for this node, or memory), and how the set
//! in force follows them (`follow`).
//!
//! The configuration file's `[[tenants]]` are a seed: a tenant whose id has a record is taken
//! from its record (also a deleted one, which stays deleted), never from the file
//! ([`effective`]).

pub mod follow;
pub mod registry;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::otp::settings::TenantConfig;
use crate::otp::token_index::StoredToken;

pub use registry::{PersistError, Persistence, TenantRegistry};

/// One provisioned tenant, as every node reads it.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantRecord {
    /// Every setting but the token (its `id` always set).
    pub settings: TenantConfig,
    /// Its tokens' MACs: one, or two during a rotation's overlap.
    pub tokens: Vec<StoredToken>,
    #[serde(default)]
    pub suspended: bool,
    /// Deleted through the API: a tombstone, so that the file's seed does not bring it back.
    #[serde(default)]
    pub deleted: bool,
    /// Unix seconds.
    pub created_at: u64,
    pub updated_at: u64,
    /// Changes made to this record (1 at creation).
    pub revision: u64,
}

impl TenantRecord {
    pub fn id(&self) -> &str {
        self.settings.id()
    }

    /// The tenant as the set in force takes it.
    pub fn to_config(&self) -> TenantConfig {
        let mut c = self.settings.clone();
        c.id = Some(self.id().to_owned());
        c.token.clear();
        c.stored_tokens.clone_from(&self.tokens);
        c.suspended = self.suspended;
        c
    }

    /// Forgets the tokens whose overlap is over at `now`.
    pub fn prune_tokens(&mut self, now: u64) {
        self.tokens.retain(|t| t.live_at(now));
    }
}

impl std::fmt::Debug for TenantRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TenantRecord")
            .field("id", &self.id())
            .field("tokens", &self.tokens.len())
            .field("suspended", &self.suspended)
            .field("deleted", &self.deleted)
            .field("revision", &self.revision)
            .finish_non_exhaustive()
    }
}

/// Every record, by id, with the registry's version when read.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub version: u64,
    pub records: BTreeMap<String, TenantRecord>,
}

/// The set in force: the file's tenants (`seed`), each replaced by its record when it has one
/// (dropped when that record is deleted), then the other live records, oldest first.
pub fn effective(seed: &[TenantConfig], snapshot: &Snapshot) -> Vec<TenantConfig> {
    let mut set = Vec::with_capacity(seed.len() + snapshot.records.len());
    for t in seed {
        match snapshot.records.get(t.id()) {
            Some(r) if r.deleted => {}
            Some(r) => set.push(r.to_config()),
            None => set.push(t.clone()),
        }
    }
    let mut added: Vec<&TenantRecord> = snapshot
        .records
        .values()
        .filter(|r| !r.deleted && !seed.iter().any(|t| t.id() == r.id()))
        .collect();
    added.sort_by(|a, b| (a.created_at, a.id()).cmp(&(b.created_at, b.id())));
    set.extend(added.into_iter().map(TenantRecord::to_config));
    set
}

/// Why a set of tenants was not put in force.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Refused {
    /// It does not validate: the field (`tenants[3].allowed_senders[0]`) and why.
    #[error("{field}: {message}")]
    Invalid {
        field: String,
        message: String,
        /// The id of the tenant the field belongs to, when it is one's.
        tenant: Option<String>,
    },
    /// No configuration to build it on.
    #[error("{0}")]
    Unavailable(String),
}

/// Whoever owns the set in force (the configuration reload): checks and applies the set a
/// snapshot of the registry makes with the file's seed.
#[async_trait::async_trait]
pub trait TenantsInForce: Send + Sync {
    /// The tenants in force now (the file's seed merged with the last snapshot applied).
    fn current(&self) -> Vec<TenantConfig>;
    /// Whether `snapshot` makes a valid set (with every other setting in force).
    async fn check(&self, snapshot: &Snapshot) -> Result<(), Refused>;
    /// Puts the set of `snapshot` in force (unless an as recent one already is).
    async fn apply(&self, snapshot: Snapshot) -> Result<(), Refused>;
    /// The version of the snapshot in force.
    fn version(&self) -> u64;
    /// Whether a tenant in force has `token` (suspended, or in an overlap, included).
    fn token_taken(&self, token: &str) -> bool;
}

pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(id: &str) -> TenantConfig {
        TenantConfig {
            name: id.into(),
            token: format!("{id}-token-123"),
            ..TenantConfig::default()
        }
    }

    fn record(id: &str, created_at: u64, deleted: bool) -> TenantRecord {
        TenantRecord {
            settings: TenantConfig {
                name: format!("{id} (api)"),
                id: Some(id.into()),
                ..TenantConfig::default()
            },
            tokens: vec![StoredToken {
                mac: [1; 32],
                expires_at: None,
            }],
            suspended: false,
            deleted,
            created_at,
            updated_at: created_at,
            revision: 1,
        }
    }

    #[test]
    fn records_win_over_the_seed_and_tombstones_stay() {
        let seed = [file("a"), file("b"), file("c")];
        let mut snap = Snapshot::default();
        for r in [
            record("b", 5, false),
            record("c", 5, true),
            record("z", 1, false),
            record("y", 2, false),
            record("x", 3, true),
        ] {
            snap.records.insert(r.id().to_owned(), r);
        }
        let set = effective(&seed, &snap);
        let ids: Vec<&str> = set.iter().map(TenantConfig::id).collect();
        assert_eq!(ids, ["a", "b", "z", "y"]);
        assert_eq!(set[0].token, "a-token-123");
        assert_eq!(set[1].name, "b (api)");
        assert!(set[1].token.is_empty() && set[1].provisioned());
    }
}
