//! The PDU layer: encoding and decoding by hand, framing, JSON, properties, cross-checks
//! against rusmpp, and the SMPP 3.4 test vectors.
// A test binary: an unwrap that fails is a failed test.
#![allow(clippy::unwrap_used)]

mod pdu_basic;
mod pdu_framing;
mod pdu_json;
mod pdu_proptest;
mod pdu_rusmpp;
mod pdu_vectors;
mod pdu_vectors_other;
