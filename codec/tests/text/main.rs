//! Short message text: GSM 7-bit and national tables, UCS-2, splitting into parts,
//! properties, cross-checks against rusmpp.

mod text_national_indian;
mod text_props;
mod text_rusmpp;
mod text_split;
