//! SMPP v3.4 PDUs: typed values ([`types`], [`tlv`]) and their wire form ([`encode`],
//! [`decode`]).

pub mod decode;
pub mod encode;
pub mod field;
pub mod json;
mod reader;
pub mod tlv;
mod tlv_wire;
pub mod types;

pub use decode::{decode_pdu, decode_pdu_slice, peek_header, DecodeError};
pub use encode::{encode_pdu, encoded_len, EncodeError};
pub use field::Field;
pub use json::{decode_hex_pdu, pdu_to_json, HexDecodeError};
pub use tlv::{tag, Tlv, TlvList};
pub use types::*;

/// Size of the PDU header: command_length, command_id, command_status, sequence_number.
pub const HEADER_LEN: usize = 16;
/// The interface_version otpgate binds with.
pub const SMPP_VERSION_34: u8 = 0x34;
