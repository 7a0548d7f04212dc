//! The HTTP front against hostile clients, and callback URLs kept out of the logs
//! (`http_hardening`). It installs the only log subscriber of this binary (a global capture that
//! keeps each test's lines apart), so it shares the process with no other log-reading test.

#[path = "../support/mod.rs"]
mod support;

mod http_hardening;
