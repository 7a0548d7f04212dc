//! Faults seen from the HTTP front and from the process: refused binds, SMSC outage, full
//! queue, hanging callback receivers, SIGTERM with a full queue, resident memory over a run.
//! Sizes follow `OTPGATE_FAULT_SCALE` (see `support::stack`).
// A test binary: an unwrap that fails is a failed test.
#![allow(clippy::unwrap_used)]

#[path = "../support/mod.rs"]
mod support;

mod early_refusal;
mod reliability_front;
mod reliability_process;
mod reload_config;
