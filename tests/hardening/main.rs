//! The HTTP front against hostile clients, and callback URLs kept out of the logs
//! (`http_hardening`); the PIN never in the logs (`http_logs`). Both capture logs through the
//! one global subscriber of this binary (`support::logs`, which keeps each test's lines apart),
//! so no other log-reading test shares the process.
// A test binary: an unwrap that fails is a failed test.
#![allow(clippy::unwrap_used)]

#[path = "../support/mod.rs"]
mod support;

mod http2_tls_hardening;
mod http_hardening;
mod http_logs;
