//! External tools and services some tests need (redis-server, promtool, node, Python,
//! schemathesis), named by environment variables that `.ci/install.d` exports. Such a test is
//! `#[ignore]`d, so the quick `cargo test` does not run it; when it runs (`--include-ignored`)
//! and its variable is missing, it fails: a test never passes without having run.

use std::ffi::OsString;

/// The value of `var`; panics, naming `set_by`, when it is unset or empty.
pub fn required(var: &str, set_by: &str) -> String {
    match std::env::var(var) {
        Ok(v) if !v.is_empty() => v,
        _ => panic!("{var} is not set: this test needs it ({set_by} sets it)"),
    }
}

/// [`required`] for a path, which need not be UTF-8.
pub fn required_path(var: &str, set_by: &str) -> OsString {
    match std::env::var_os(var) {
        Some(v) if !v.is_empty() => v,
        _ => panic!("{var} is not set: this test needs it ({set_by} sets it)"),
    }
}
