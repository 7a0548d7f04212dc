//! Several `otpgate serve` processes sharing one Redis and one SMSC account: the account's
//! binds and TPS hold for the whole cluster (bind leases).
// A test binary: an unwrap that fails is a failed test.
#![allow(clippy::unwrap_used)]

#[path = "../support/mod.rs"]
mod support;

mod cluster_binds;
