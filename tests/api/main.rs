//! The HTTP API and the process around it: OTP lifecycle, errors, limits, logs, operations
//! endpoints, resend, callbacks, the command-line tools, `serve` end to end,
//! and the official sms.cx Python client against it.
// A test binary: an unwrap that fails is a failed test.
#![allow(clippy::unwrap_used)]

#[path = "../support/mod.rs"]
mod support;

mod browser_cors;
mod callbacks_delivery;
mod callbacks_hosts;
mod cli_tools;
mod e2e_serve;
mod http_api;
mod http_cors;
mod http_credit;
mod http_errors;
mod http_language;
mod http_limits;
mod http_ops;
mod http_prices;
mod http_regulatory;
mod http_resend;
mod http_tenant_routes;
mod http_tls;
mod receipts_overtaking;
mod sdk_smscx;
