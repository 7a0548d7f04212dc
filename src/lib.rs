//! otpgate: an SMS one-time-PIN engine that speaks SMPP.
//!
//! Layout (one job per module; imports point down this list, never up):
//! - [`main`](../otpgate/index.html), [`cli`]: the `otpgate` command line.
//! - [`serve`]: starting and stopping the whole engine in order (embedded simulator included).
//! - [`app`]: assembles the parts from the configuration (stores, guards, callbacks, sink).
//! - [`config`]: the TOML file, environment overrides and validation; each section's type
//!   belongs to the subsystem it configures.
//! - [`cluster`]: with the Redis store, the nodes sharing one Redis: node id, bind leases
//!   (the SMPP engine's permits to bind) and the send queue they share (Redis streams),
//!   between the front and the engine of each node.
//! - [`admin`]: the operators' listener: status of every SMSC and bind, stop/start of an
//!   SMSC, reload, the masked configuration, a status page.
//! - [`tenants`]: tenants provisioned through the admin API: their records (Redis, state
//!   file or memory), the file's tenants as a seed, every node following the shared set.
//! - [`http`]: the HTTP front: the sms.cx OTP API v1 wire format, errors, auth, OpenAPI.
//! - [`callbacks`]: signed, batched status callbacks with retries and an SSRF guard.
//! - [`otp`]: the OTP core: typed requests, PINs and keyed hashing, the store traits with their
//!   sharded in-memory and Redis implementations, expiry, limits, the delivery sink.
//! - [`smpp`]: the SMPP client engine (binds, windows, throttles, routing, receipts).
//! - [`dispatch`]: the seam between the OTP core and the SMPP engine.
//! - [`tools`]: the offline `pdu decode` and `sms split` commands.
//! - [`telemetry`]: every metric name, the Prometheus recorder, process metrics.
//! - [`logging`]: the log subscriber (text or JSON) and phone-number masking for log lines.
//!
//! The SMPP wire format lives in the `otpgate-codec` crate; the SMSC simulator in
//! `otpgate-sim`.

pub mod admin;
pub mod app;
pub mod callbacks;
pub mod cli;
pub mod cluster;
pub mod config;
pub mod dispatch;
pub mod http;
pub mod logging;
pub mod otp;
pub mod reload;
pub mod serve;
pub mod smpp;
pub mod state_dir;
pub mod telemetry;
pub mod tenants;
pub mod tools;
