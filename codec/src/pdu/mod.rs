//! SMPP v3.4 PDUs: typed values ([`types`], [`tlv`]) and their wire form ([`encode`],
//! [`decode`]).

pub mod decode;
pub mod encode;
pub mod tlv;
pub mod types;

pub use decode::{decode_pdu, DecodeError};
pub use encode::{encode_pdu, EncodeError};
pub use tlv::{tag, Tlv, TlvList};
pub use types::*;

/// Size of the PDU header: command_length, command_id, command_status, sequence_number.
pub const HEADER_LEN: usize = 16;
/// The interface_version otpgate binds with.
pub const SMPP_VERSION_34: u8 = 0x34;
