//! The PDU layer: encoding and decoding by hand, framing, JSON, properties, cross-checks
//! against rusmpp, and the SMPP 3.4 test vectors.

mod pdu_basic;
mod pdu_framing;
mod pdu_json;
mod pdu_proptest;
mod pdu_rusmpp;
mod pdu_vectors;
mod pdu_vectors_other;
