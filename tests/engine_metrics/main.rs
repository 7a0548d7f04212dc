//! The SMPP engine's metric names, labels and exact values. Alone in its binary: it installs
//! a debugging recorder for the whole process and counts every part and receipt, so any other
//! engine (or an HTTP server, which installs the Prometheus recorder) would change its figures.
// A test binary: an unwrap that fails is a failed test.
#![allow(clippy::unwrap_used)]

#[path = "../support/mod.rs"]
mod support;

mod smpp_metrics;
