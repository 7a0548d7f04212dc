//! `[cluster]`: who this node is among the nodes sharing one Redis, and how long what it
//! claims there (bind leases) lasts without renewal.

use serde::Deserialize;

/// Shortest and longest `lease_ttl_ms`.
pub const LEASE_TTL_MS_RANGE: std::ops::RangeInclusive<u64> = 1_000..=600_000;

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClusterSettings {
    /// This node's name in Redis; unique per running node. Default: the host name and a
    /// random suffix made at start (a restarted node is a new node).
    pub node_id: String,
    /// A bind lease not renewed within this time expires and another node takes its slot.
    pub lease_ttl_ms: u64,
}

impl Default for ClusterSettings {
    fn default() -> Self {
        Self {
            node_id: generated_node_id(),
            lease_ttl_ms: 10_000,
        }
    }
}

impl ClusterSettings {
    /// What is wrong with these settings, if anything: (field, reason).
    pub fn problem(&self) -> Option<(&'static str, String)> {
        let id_ok = !self.node_id.is_empty()
            && self.node_id.len() <= 128
            && self
                .node_id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b));
        if !id_ok {
            return Some((
                "cluster.node_id",
                "1-128 characters among letters, digits, '-', '_', '.', ':'".into(),
            ));
        }
        if !LEASE_TTL_MS_RANGE.contains(&self.lease_ttl_ms) {
            return Some((
                "cluster.lease_ttl_ms",
                format!(
                    "must be within {}..={}",
                    LEASE_TTL_MS_RANGE.start(),
                    LEASE_TTL_MS_RANGE.end()
                ),
            ));
        }
        None
    }
}

/// The host name (as the kernel reports it) and 8 random hex digits.
fn generated_node_id() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| {
            h.trim()
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '.')
                .take(100)
                .collect::<String>()
        })
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "otpgate".into());
    format!("{host}-{:08x}", rand::random::<u32>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_node_id_is_valid_and_differs_per_start() {
        let (a, b) = (ClusterSettings::default(), ClusterSettings::default());
        assert_eq!(a.problem(), None);
        assert_ne!(a.node_id, b.node_id);
    }

    #[test]
    fn odd_node_ids_and_ttls_are_refused() {
        for (id, ttl, field) in [
            ("", 10_000, "cluster.node_id"),
            ("a b", 10_000, "cluster.node_id"),
            ("node-1", 999, "cluster.lease_ttl_ms"),
            ("node-1", 600_001, "cluster.lease_ttl_ms"),
        ] {
            let s = ClusterSettings {
                node_id: id.into(),
                lease_ttl_ms: ttl,
            };
            assert_eq!(s.problem().map(|p| p.0), Some(field), "{id:?} {ttl}");
        }
    }
}
