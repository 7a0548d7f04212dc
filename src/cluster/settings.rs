//! `[cluster]`: how the nodes sharing one Redis name themselves and hand work over when one
//! of them dies (read only with `[store] kind = "redis"`).

use std::time::Duration;

use rand::RngCore;
use serde::Deserialize;

/// `[cluster]` settings.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct ClusterSettings {
    /// This node's name among the nodes (the consumer name of the send queue). Empty: the
    /// host name and a random suffix, new at each start.
    pub node_id: String,
    /// How long a node's claim on shared work (a bind lease, its pending queue entries) lasts
    /// without being renewed.
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
            node_id: String::new(),
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

    /// `node_id`, or the host name and a random suffix when it is empty.
    pub fn resolved_node_id(&self) -> String {
        if !self.node_id.is_empty() {
            return self.node_id.clone();
        }
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .or_else(|| std::env::var("HOSTNAME").ok())
            .map(|h| h.trim().to_owned())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "node".into());
        let mut suffix = [0u8; 4];
        rand::rng().fill_bytes(&mut suffix);
        format!("{host}-{}", hex::encode(suffix))
    }

    /// Checks the values (the configuration loader names the field that is wrong).
    pub fn check(&self) -> Result<(), (&'static str, &'static str)> {
        let id_ok = self.node_id.len() <= 64
            && self
                .node_id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
        if !id_ok {
            return Err((
                "cluster.node_id",
                "at most 64 characters among letters, digits, '-', '_' and '.'",
            ));
        }
        if !(1_000..=600_000).contains(&self.lease_ttl_ms) {
            return Err(("cluster.lease_ttl_ms", "must be 1000..=600000"));
        }
        if self.reclaim_after_ms != 0 && !(1_000..=3_600_000).contains(&self.reclaim_after_ms) {
            return Err(("cluster.reclaim_after_ms", "must be 0 or 1000..=3600000"));
        }
        if !(1..=100_000_000).contains(&self.queue_capacity) {
            return Err(("cluster.queue_capacity", "must be 1..=100000000"));
        }
        if self.prefetch > 100_000 {
            return Err(("cluster.prefetch", "must be 0..=100000"));
        }
        if !(1..=5_000).contains(&self.poll_ms) {
            return Err(("cluster.poll_ms", "must be 1..=5000"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn a_generated_node_id_differs_at_each_start() {
        let s = ClusterSettings::default();
        let (a, b) = (s.resolved_node_id(), s.resolved_node_id());
        assert_ne!(a, b);
        let named = ClusterSettings {
            node_id: "edge-1".into(),
            ..s
        };
        assert_eq!(named.resolved_node_id(), "edge-1");
        assert!(named.check().is_ok());
        let bad = ClusterSettings {
            node_id: "a b".into(),
            ..named
        };
        assert_eq!(bad.check().map_err(|e| e.0), Err("cluster.node_id"));
    }
}
