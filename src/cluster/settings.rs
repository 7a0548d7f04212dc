//! `[cluster]`: who this node is among the nodes sharing one Redis, how long what it claims
//! there (bind leases, its pending send-queue entries) lasts without renewal, and the shared
//! send queue's bounds (read only with `[store] kind = "redis"`).

use std::time::Duration;

use serde::Deserialize;

/// Shortest and longest `lease_ttl_ms`.
pub const LEASE_TTL_MS_RANGE: std::ops::RangeInclusive<u64> = 1_000..=600_000;

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct ClusterSettings {
    /// This node's name in Redis (bind leases, the send queue's consumer); unique per running
    /// node. Default: the host name and a random suffix made at start (a restarted node is a
    /// new node).
    pub node_id: String,
    /// A bind lease or a pending queue entry not renewed within this time is another node's
    /// to take.
    pub lease_ttl_ms: u64,
    /// A send-queue entry taken by a node that has not renewed it for this long is taken over
    /// by a live node. 0: `lease_ttl_ms` + 10 s.
    pub reclaim_after_ms: u64,
    /// Entries each SMSC's shared send queue holds at most (queued and in flight on some
    /// node); beyond, creates answer 503 `queue_full`.
    pub queue_capacity: u64,
    /// Entries of one SMSC's queue a node takes at once for its own binds (handed to its
    /// engine, not yet settled). 0: twice the SMSC's `window` times its `binds`.
    pub prefetch: usize,
    /// How often a node without new entries looks at the queues again.
    pub poll_ms: u64,
}

impl Default for ClusterSettings {
    fn default() -> Self {
        Self {
            node_id: generated_node_id(),
            lease_ttl_ms: 10_000,
            reclaim_after_ms: 0,
            queue_capacity: 100_000,
            prefetch: 0,
            poll_ms: 50,
        }
    }
}

impl ClusterSettings {
    /// The time after which another node takes over an entry this node did not renew.
    pub fn reclaim_after(&self) -> Duration {
        match self.reclaim_after_ms {
            0 => Duration::from_millis(self.lease_ttl_ms.saturating_add(10_000)),
            ms => Duration::from_millis(ms),
        }
    }

    pub fn poll(&self) -> Duration {
        Duration::from_millis(self.poll_ms.max(1))
    }

    /// This node's id (generated at start unless configured).
    pub fn resolved_node_id(&self) -> String {
        self.node_id.clone()
    }

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
        if self.reclaim_after_ms != 0 && !(1_000..=3_600_000).contains(&self.reclaim_after_ms) {
            return Some((
                "cluster.reclaim_after_ms",
                "must be 0 or 1000..=3600000".into(),
            ));
        }
        if !(1..=100_000_000).contains(&self.queue_capacity) {
            return Some(("cluster.queue_capacity", "must be 1..=100000000".into()));
        }
        if self.prefetch > 100_000 {
            return Some(("cluster.prefetch", "must be 0..=100000".into()));
        }
        if !(1..=5_000).contains(&self.poll_ms) {
            return Some(("cluster.poll_ms", "must be 1..=5000".into()));
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
        assert_eq!(a.resolved_node_id(), a.node_id);
    }

    #[test]
    fn reclaim_defaults_to_the_lease_ttl_plus_10_s() {
        let s = ClusterSettings::default();
        assert_eq!(s.reclaim_after(), Duration::from_secs(20));
        let s = ClusterSettings {
            reclaim_after_ms: 3_000,
            ..s
        };
        assert_eq!(s.reclaim_after(), Duration::from_secs(3));
    }

    #[test]
    fn odd_settings_are_refused() {
        for (id, ttl, reclaim, capacity, field) in [
            ("", 10_000, 0, 10, "cluster.node_id"),
            ("a b", 10_000, 0, 10, "cluster.node_id"),
            ("node-1", 999, 0, 10, "cluster.lease_ttl_ms"),
            ("node-1", 600_001, 0, 10, "cluster.lease_ttl_ms"),
            ("node-1", 10_000, 5, 10, "cluster.reclaim_after_ms"),
            ("node-1", 10_000, 0, 0, "cluster.queue_capacity"),
        ] {
            let s = ClusterSettings {
                node_id: id.into(),
                lease_ttl_ms: ttl,
                reclaim_after_ms: reclaim,
                queue_capacity: capacity,
                ..ClusterSettings::default()
            };
            assert_eq!(s.problem().map(|p| p.0), Some(field), "{id:?} {ttl}");
        }
    }
}
