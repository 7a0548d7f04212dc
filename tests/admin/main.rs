//! The admin listener: its tokens, the status of SMSCs and binds against real simulators,
//! stopping and starting an SMSC under load, the stopped state across restarts (state file,
//! Redis shared by two nodes), the configuration checks, the status page in Chromium,
//! tenants provisioned through the API (one node with its state file, two nodes over Redis),
//! and the tenants' usage per UTC day.
// A test binary: an unwrap that fails is a failed test.
#![allow(clippy::unwrap_used)]

#[path = "../support/mod.rs"]
mod support;

mod admin_api;
mod admin_page;
mod admin_persist;
mod admin_stop;
mod admin_usage;
mod harness;
mod tenants_api;
mod tenants_cluster;
mod tenants_support;
