//! Metrics, logs and the monitoring configuration after one run of real traffic
//! (`support::traffic`), which installs the global JSON log capture of this binary: every log
//! line of the process is in it, so tests that log must not join this binary.
// A test binary: an unwrap that fails is a failed test.
#![allow(clippy::unwrap_used)]

#[path = "../support/mod.rs"]
mod support;

mod observability_config;
mod observability_fresh;
mod observability_logs;
mod observability_stack;
