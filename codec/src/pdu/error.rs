//! Why a frame could not be decoded ([`DecodeError`]) or a PDU could not be encoded
//! ([`EncodeError`]). A module of their own so that the wire helpers shared by both directions
//! (reader, TLVs, sink) need not import the encoder or the decoder to name their errors.

use super::field::Field;
use super::types::CommandStatus;

/// Why a frame could not be decoded. Offsets count from the first octet of the frame.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("frame of {len} octets is shorter than the 16-octet header")]
    FrameTooShort { len: usize },
    #[error("command_length {command_length} does not match the frame's {frame_len} octets")]
    LengthMismatch {
        command_length: u32,
        frame_len: usize,
    },
    #[error("body ends before {field} at offset {offset}")]
    Truncated { field: Field, offset: usize },
    #[error("{field} at offset {offset} has no NUL within its {max} octets")]
    UnterminatedCString {
        field: Field,
        offset: usize,
        max: usize,
    },
    #[error("sm_length {sm_length} at offset {offset} exceeds 254")]
    InvalidSmLength { sm_length: u8, offset: usize },
    #[error("short_message of sm_length {sm_length} at offset {offset} runs past the body ({available} octets left)")]
    ShortMessageOverrun {
        sm_length: u8,
        offset: usize,
        available: usize,
    },
    #[error("number_of_dests {number_of_dests} at offset {offset} exceeds 254")]
    InvalidNumberOfDests { number_of_dests: u8, offset: usize },
    #[error(
        "dest_flag {dest_flag} at offset {offset} is neither 1 (SME) nor 2 (distribution list)"
    )]
    InvalidDestFlag { dest_flag: u8, offset: usize },
    #[error("TLV header at offset {offset} is cut short ({available} octets left)")]
    TlvTruncated { offset: usize, available: usize },
    #[error(
        "TLV 0x{tag:04X} at offset {offset} has length {length} but only {available} octets remain"
    )]
    TlvOverrun {
        tag: u16,
        offset: usize,
        length: u16,
        available: usize,
    },
    #[error("{count} unexpected octets at offset {offset} after the last field of command 0x{command_id:08X}")]
    TrailingBytes {
        command_id: u32,
        offset: usize,
        count: usize,
    },
}

impl DecodeError {
    /// The command_status a generic_nack (or the command's _resp) should carry.
    pub fn command_status(&self) -> CommandStatus {
        match self {
            DecodeError::FrameTooShort { .. }
            | DecodeError::LengthMismatch { .. }
            | DecodeError::Truncated { .. }
            | DecodeError::TrailingBytes { .. } => CommandStatus::ESME_RINVCMDLEN,
            DecodeError::UnterminatedCString { field, .. } => field.invalid_status(),
            DecodeError::InvalidSmLength { .. } | DecodeError::ShortMessageOverrun { .. } => {
                CommandStatus::ESME_RINVMSGLEN
            }
            DecodeError::InvalidNumberOfDests { .. } => CommandStatus::ESME_RINVNUMDESTS,
            DecodeError::InvalidDestFlag { .. } => CommandStatus::ESME_RINVDESTFLAG,
            DecodeError::TlvTruncated { .. } | DecodeError::TlvOverrun { .. } => {
                CommandStatus::ESME_RINVOPTPARSTREAM
            }
        }
    }
}

/// Why a PDU cannot be put on the wire.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    #[error("{field} contains a NUL octet")]
    CStringContainsNul { field: Field },
    #[error("{field} is {len} octets; its C-Octet string holds at most {max} octets with the NUL")]
    CStringTooLong {
        field: Field,
        len: usize,
        max: usize,
    },
    #[error("short_message is {len} octets, more than 254 (use the message_payload TLV)")]
    ShortMessageTooLong { len: usize },
    #[error("TLV 0x{tag:04X} value is {len} octets, more than 65535")]
    TlvTooLong { tag: u16, len: usize },
    #[error("submit_multi has {count} destinations, more than 254")]
    TooManyDestinations { count: usize },
    #[error("submit_multi_resp lists {count} unsuccessful SMEs, more than 255")]
    TooManyUnsuccessSmes { count: usize },
    #[error("PDU would be {len} octets, more than command_length can say")]
    PduTooLong { len: usize },
    /// The body's layout did not fill the {len} octets counted for it: a defect of the
    /// encoder, never expected.
    #[error("encoder defect: the body did not take the {len} octets counted for it")]
    SizeMismatch { len: usize },
}
