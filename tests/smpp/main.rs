//! The SMPP engine against the simulator and a third-party SMSC: submit flow, links and
//! failover, binds under leases, protocol details, receipts, TLS, the node `smpp` interop,
//! and link faults (`reliability_links`: disconnects, sustained throttling, a hung SMSC). `reliability_links`
//! installs the only metrics recorder of this binary (a debugging one) and reads counters of its
//! own SMSC names only.
// A test binary: an unwrap that fails is a failed test.
#![allow(clippy::unwrap_used)]

#[path = "../support/mod.rs"]
mod support;

mod interop_node_smpp;
mod reliability_links;
mod smpp_flow;
mod smpp_leases;
mod smpp_links;
mod smpp_protocol;
mod smpp_receipts;
mod smpp_receipts_in_flight;
mod smpp_tls;
