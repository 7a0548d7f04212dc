//! `[callbacks]`: the settings of status callbacks to `otpCallbackUrl`.

use serde::Deserialize;

/// `[callbacks]`: status-change callbacks to `otpCallbackUrl`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CallbacksConfig {
    /// Accept callback URLs on loopback / private networks.
    pub allow_private: bool,
    pub timeout_ms: u64,
    pub max_retries: u32,
    /// At most this many OTP objects per callback request.
    pub batch_max: usize,
    /// An update waits at most this long for others to the same URL before it is sent.
    pub flush_ms: u64,
    /// Updates waiting to be sent, at most, all tenants together; beyond, the oldest update
    /// of the tenant holding the most is shed (and counted).
    pub queue_capacity: usize,
    /// Updates waiting to be sent, at most, for one tenant; beyond, that tenant's oldest is
    /// shed (and counted), so a tenant cannot push the others' updates out.
    pub queue_per_tenant: usize,
    /// Callback requests in flight at once (one per URL at a time, to keep the order); a
    /// failed batch waits for its retry without holding one.
    pub concurrency: usize,
    /// First retry delay; doubled on each failure up to `retry_max_ms`, with jitter.
    pub retry_base_ms: u64,
    pub retry_max_ms: u64,
    /// DNS lookups of callback hosts (at create and at delivery) time out after this.
    pub resolve_timeout_ms: u64,
    /// DNS lookups of callback hosts in flight at once, at create and at delivery each; a
    /// lookup that finds them all busy for `resolve_timeout_ms` counts as not resolved.
    pub resolve_concurrency: usize,
    /// At shutdown, requests in flight get this long to finish.
    pub shutdown_grace_ms: u64,
}

impl Default for CallbacksConfig {
    fn default() -> Self {
        Self {
            allow_private: false,
            timeout_ms: 5_000,
            max_retries: 5,
            batch_max: 200,
            flush_ms: 200,
            queue_capacity: 100_000,
            queue_per_tenant: 10_000,
            concurrency: 32,
            retry_base_ms: 500,
            retry_max_ms: 60_000,
            resolve_timeout_ms: 1_000,
            resolve_concurrency: 16,
            shutdown_grace_ms: 2_000,
        }
    }
}
