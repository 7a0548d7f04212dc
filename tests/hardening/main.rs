//! The HTTP front against hostile clients, and callback URLs kept out of the logs
//! (`http_hardening`). It installs the only log subscriber of this binary (a global capture that
//! keeps each test's lines apart), so it shares the process with no other log-reading test.
// A test binary: an unwrap that fails is a failed test.
#![allow(clippy::unwrap_used)]

#[path = "../support/mod.rs"]
mod support;

mod http_hardening;
