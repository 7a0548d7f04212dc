//! Typed PDUs to wire bytes. (Being written: see issue 2.)

use bytes::BytesMut;

use super::types::Pdu;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    #[error("not implemented")]
    Unimplemented,
}

/// Appends the wire form of `pdu` to `dst`.
pub fn encode_pdu(_pdu: &Pdu, _dst: &mut BytesMut) -> Result<(), EncodeError> {
    Err(EncodeError::Unimplemented)
}
