//! The OTP stores: one contract suite against memory, Redis and Redis Cluster, two nodes on
//! one Redis, bind leases on Redis, records of the older format, and the store gauges of a
//! scrape. `observability_store_gauges` is the only test here with an HTTP server on the
//! memory store: the gauges are global to the process.
//! one Redis, records of the older format, the delivery sink's order per OTP, and the store gauges of a scrape. `observability_store_gauges` is the only test
//! here with an HTTP server on the memory store: the gauges are global to the process.
// A test binary: an unwrap that fails is a failed test.
#![allow(clippy::unwrap_used)]

#[path = "../support/mod.rs"]
mod support;

mod cluster_members;
mod cluster_sendq;
mod delivery_sink_order;
mod observability_store_gauges;
mod redis_bind_leases;
mod redis_nodes;
mod redis_old_records;
// its `suite!` runs the cases of the modules after it too
#[macro_use]
mod store_contract;
mod store_one_step;
