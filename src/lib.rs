//! otpgate: an SMS one-time-PIN engine that speaks SMPP.
//!
//! Layout (one job per module):
//! - [`config`]: the TOML configuration, its defaults, environment overrides and validation.
//! - [`otp`]: the OTP core: PIN generation and hashing, the `Store` trait and its sharded
//!   in-memory implementation, expiry, limits.
//! - [`http`]: the HTTP front (sms.cx OTP API v1 compatible), errors, auth, OpenAPI.
//! - [`callbacks`]: status callbacks to `otpCallbackUrl`: queue, signature, SSRF guard, delivery.
//! - [`dispatch`]: the seam between the OTP core and the SMPP engine.
//! - [`smpp`]: the SMPP client engine (binds, windows, throttles, routing, receipts).
//! - [`serve`]: starting and stopping the whole engine in order (embedded simulator included).
//! - [`tools`]: the offline `pdu decode` and `sms split` commands.
//! - [`callbacks`]: signed, batched status callbacks with retries and an SSRF guard.
//! - [`cli`]: the `otpgate` command line.
//! - [`logging`]: the log subscriber (text or JSON) and phone-number masking for log lines.
//!
//! The SMPP wire format lives in the `otpgate-codec` crate; the SMSC simulator in
//! `otpgate-sim`.

pub mod callbacks;
pub mod cli;
pub mod config;
pub mod dispatch;
pub mod http;
pub mod logging;
pub mod otp;
pub mod serve;
pub mod smpp;
pub mod tools;
