//! Hostile input and secrets: PIN brute force, no PIN or secret in logs, metrics or replies,
//! slow clients, verification timing, malformed PDU floods, OpenAPI conformance (schemathesis),
//! the SMS pumping guard, costly phone numbers, slow callback-host lookups, each tenant's OTPs
//! by its id on a shared Redis. `security_secrets` installs the global log subscriber of this
//! binary (nothing else here does). `pumping_guard` counts `otpgate_blocked_total` exactly, which is
//! global to the process: no other test here is refused by a country or abuse limit (the API
//! tests are: `http_api` refuses a denied country).
// A test binary: an unwrap that fails is a failed test.
#![allow(clippy::unwrap_used)]

#[path = "../support/mod.rs"]
mod support;

mod hostile_dns;
mod hostile_flood;
mod hostile_phone;
mod hostile_schemathesis;
mod number_types;
mod pumping_guard;
mod security_bruteforce;
mod security_secrets;
mod security_slowloris;
mod security_timing;
mod tenant_id_config;
mod tenant_identity;
mod tenant_scale;
