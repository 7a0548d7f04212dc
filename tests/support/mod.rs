//! What the integration test binaries share, included by each as
//! `#[path = "../support/mod.rs"] mod support;`. Every binary uses part of it only.
//!
//! - [`server`]: the HTTP front in-process with a recording dispatcher (read the PIN from the
//!   SMS), the test tenants and configuration.
//! - [`receiver`]: a callback receiver; [`proxy`]: a TCP relay a test can cut;
//!   [`resolver`]: a callback-host resolver the test controls.
//! - [`smpp`]: the SMPP engine against the simulator: a recording delivery sink, short
//!   timings, bounded waits.
//! - [`stack`]: the whole stack from a TOML text, run sizes (`OTPGATE_FAULT_SCALE`), RSS,
//!   a timed HTTP driver.
//! - [`store`]: the stores under test (memory; Redis and Redis Cluster when configured).
//! - [`traffic`]: one run of real traffic through the whole stack, with its scrape and logs.
//! - [`prom`]: reading a `/metrics` scrape.
//! - [`tls`]: a CA and a server certificate made for the TLS tests.
//! - [`tools`]: external tools a test needs, found or failed loudly.
#![allow(dead_code)]

pub mod browser;
pub mod logs;
pub mod prom;
pub mod proxy;
pub mod receiver;
pub mod resolver;
pub mod server;
pub mod smpp;
pub mod stack;
pub mod store;
pub mod tls;
pub mod tools;
pub mod traffic;

/// Held by the tests that load the whole machine or measure time (the 10,000 slow connections,
/// the verification timing), so that they never overlap each other now that they share a
/// process: each one would disturb the other's figures.
pub static HEAVY: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
