//! Delivery receipts as SMSCs send them, and what the engine does when none comes
//! (`receipts_query`: query_sm). `receipts_query` installs the only metrics recorder of this
//! binary (a counter recorder that never resets, read by SMSC name).
// A test binary: an unwrap that fails is a failed test.
#![allow(clippy::unwrap_used)]

#[path = "../support/mod.rs"]
mod support;

mod receipts_query;
