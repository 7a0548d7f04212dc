//! Delivery receipt text, and the inputs the fuzz targets found replayed with their
//! properties (`fuzz_inputs/`).

mod dlr_receipts;
mod fuzz_regressions;
