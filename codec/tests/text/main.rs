//! Short message text: GSM 7-bit and national tables, UCS-2, splitting into parts,
//! properties, cross-checks against rusmpp.
// A test binary: an unwrap that fails is a failed test.
#![allow(clippy::unwrap_used)]

mod text_national_indian;
mod text_props;
mod text_rusmpp;
mod text_split;
