//! Delivery receipt text, and the inputs the fuzz targets found replayed with their
//! properties (`fuzz_inputs/`).
// A test binary: an unwrap that fails is a failed test.
#![allow(clippy::unwrap_used)]

mod dlr_receipts;
mod fuzz_regressions;
