//! The simulator's integration tests, one binary: binds and submits, faults, receipts, over
//! real TCP on loopback (`common`: a small SMPP client and simulator start-up).
// A test binary: an unwrap that fails is a failed test.
#![allow(clippy::unwrap_used)]

mod common;
mod sim_basic;
mod sim_faults;
mod sim_receipts;
