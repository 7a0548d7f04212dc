//! Wire bytes to typed PDUs. (Being written: see issue 2.)

use bytes::Bytes;

use super::types::{CommandStatus, Pdu};

/// Why a PDU body could not be decoded under a sound header.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("PDU body could not be decoded")]
    Unimplemented,
}

impl DecodeError {
    /// The command_status a generic_nack (or the command's _resp) should carry.
    pub fn command_status(&self) -> CommandStatus {
        CommandStatus::ESME_RSYSERR
    }
}

/// Decodes one whole PDU, header included.
pub fn decode_pdu(_frame: Bytes) -> Result<Pdu, DecodeError> {
    Err(DecodeError::Unimplemented)
}
