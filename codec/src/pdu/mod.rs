//! SMPP v3.4 PDUs: typed values ([`types`], [`tlv`]) and their wire form ([`encode`],
//! [`decode`]).

mod c_octet;
pub mod decode;
pub mod encode;
mod error;
pub mod field;
pub mod json;
mod message;
mod reader;
mod sink;
pub mod tlv;
mod tlv_wire;
pub mod types;

pub use decode::{decode_pdu, decode_pdu_slice, peek_header};
pub use encode::{encode_pdu, encoded_len};
pub use error::{DecodeError, EncodeError};
pub use field::Field;
pub use json::{decode_hex_pdu, pdu_to_json, tag_by_name, tag_name, HexDecodeError};
pub use tlv::{tag, Tlv, TlvList};
pub use types::*;

pub(crate) use c_octet::lossy;

/// Size of the PDU header: command_length, command_id, command_status, sequence_number.
pub const HEADER_LEN: usize = 16;
/// The interface_version otpgate binds with.
pub const SMPP_VERSION_34: u8 = 0x34;
