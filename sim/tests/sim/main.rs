//! The simulator's integration tests, one binary: binds and submits, faults, receipts, over
//! real TCP on loopback (`common`: a small SMPP client and simulator start-up).

mod common;
mod sim_basic;
mod sim_faults;
mod sim_receipts;
