//! otpgate-codec: everything otpgate needs to speak SMPP and to put text into SMS.
//!
//! Layout:
//! - [`pdu`]: SMPP v3.4 PDUs as typed values ([`pdu::Pdu`], [`pdu::Body`], TLVs, command ids and
//!   statuses) with their wire encoding and decoding.
//! - [`framing`]: the `tokio_util` [`framing::SmppCodec`] that cuts a byte stream into PDUs,
//!   bounded by a configurable maximum PDU length.
//! - [`text`]: GSM 03.38 (default alphabet, extension table, national shift tables), UCS-2,
//!   Latin-1, the choice of the cheapest encoding and segmentation into concatenated parts.
//! - [`dlr`]: delivery receipts (`id:… stat:…` text and TLVs) and message-id normalisation.
//!
//! The crate knows nothing of HTTP, OTPs or sessions: sequence numbers are chosen by the caller,
//! lengths and command ids only by the encoder.
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::arithmetic_side_effects,
        clippy::panic
    )
)]

pub mod dlr;
pub mod framing;
pub mod pdu;
pub mod text;

pub use framing::{Frame, FramingError, InvalidPdu, SmppCodec};
pub use pdu::{decode_pdu, encode_pdu, DecodeError, EncodeError, Pdu};
