//! The tokio_util codec that cuts an SMPP byte stream into PDUs and puts PDUs on it.
//!
//! Decoding follows the length-delimited pattern: peek command_length, reject a value below
//! 16 or above the configured maximum before reserving anything (a [`FramingError`] that
//! closes the link: the stream cannot be resynchronised), wait for exactly command_length
//! octets, then decode them. A sound header over a bad body is not an error but a
//! [`Frame::Invalid`], which the session answers with [`InvalidPdu::generic_nack`] and goes on.

use bytes::{Buf, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

use crate::pdu::{
    decode_pdu_slice, encode_pdu, peek_header, Body, CommandStatus, DecodeError, EncodeError, Pdu,
    HEADER_LEN,
};

/// Default maximum PDU length: room for a full 64 KiB message_payload TLV plus every
/// mandatory field and a generous set of other TLVs, while bounding what one peer can make a
/// connection buffer.
pub const DEFAULT_MAX_PDU_LEN: usize = 72 * 1024;

/// A PDU cut from the stream: decoded, or a sound header over a body that did not decode.
// Frames are the common case and move once, from the decoder to the session: boxing the PDU
// would cost an allocation per frame to save a copy of a few hundred bytes.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    Pdu(Pdu),
    Invalid(InvalidPdu),
}

/// A frame whose header was sound but whose body could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidPdu {
    pub command_id: u32,
    pub sequence_number: u32,
    pub error: DecodeError,
}

impl InvalidPdu {
    /// The command_status the answer should carry.
    pub fn command_status(&self) -> CommandStatus {
        self.error.command_status()
    }

    /// The answer: generic_nack with that status and the same sequence_number.
    pub fn generic_nack(&self) -> Pdu {
        Pdu {
            command_status: self.command_status(),
            sequence_number: self.sequence_number,
            body: Body::GenericNack,
        }
    }
}

/// Errors that end the link: a header that cannot be trusted, an I/O failure, or a PDU of
/// ours that cannot be encoded.
#[derive(Debug, thiserror::Error)]
pub enum FramingError {
    #[error("command_length {command_length} is shorter than the 16-octet header")]
    CommandLengthTooShort { command_length: u32 },
    #[error("command_length {command_length} exceeds the maximum PDU length {max}")]
    CommandLengthTooLong { command_length: u32, max: usize },
    #[error("PDU cannot be encoded: {0}")]
    Encode(#[from] EncodeError),
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
}

/// The SMPP codec, with a maximum PDU length applied to what it reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SmppCodec {
    max_pdu_len: usize,
}

impl SmppCodec {
    /// A codec accepting PDUs of at most `max_pdu_len` octets (header included; raised to 16
    /// if lower).
    pub fn new(max_pdu_len: usize) -> Self {
        Self {
            max_pdu_len: max_pdu_len.max(HEADER_LEN),
        }
    }

    pub fn max_pdu_len(&self) -> usize {
        self.max_pdu_len
    }
}

impl Default for SmppCodec {
    /// [`DEFAULT_MAX_PDU_LEN`].
    fn default() -> Self {
        Self::new(DEFAULT_MAX_PDU_LEN)
    }
}

impl Decoder for SmppCodec {
    type Item = Frame;
    type Error = FramingError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, FramingError> {
        let Some(length_octets) = src.get(..4).and_then(|b| <[u8; 4]>::try_from(b).ok()) else {
            src.reserve(HEADER_LEN);
            return Ok(None);
        };
        let command_length = u32::from_be_bytes(length_octets);
        let len = usize::try_from(command_length).unwrap_or(usize::MAX);
        if len < HEADER_LEN {
            return Err(FramingError::CommandLengthTooShort { command_length });
        }
        if len > self.max_pdu_len {
            return Err(FramingError::CommandLengthTooLong {
                command_length,
                max: self.max_pdu_len,
            });
        }
        if src.len() < len {
            // Bounded by the checked length: never more than max_pdu_len in all.
            src.reserve(len.saturating_sub(src.len()));
            return Ok(None);
        }
        // Decoded straight from the read buffer: the PDU owns copies of what it keeps, so the
        // buffer is neither split nor shared, and its octets are consumed afterwards.
        let frame = src.get(..len).unwrap_or_default();
        let decoded = match decode_pdu_slice(frame) {
            Ok(pdu) => Frame::Pdu(pdu),
            Err(error) => {
                let (_, command_id, _, sequence_number) = peek_header(frame).unwrap_or_default();
                Frame::Invalid(InvalidPdu {
                    command_id,
                    sequence_number,
                    error,
                })
            }
        };
        src.advance(len);
        Ok(Some(decoded))
    }

    fn decode_eof(&mut self, buf: &mut BytesMut) -> Result<Option<Frame>, FramingError> {
        match self.decode(buf)? {
            Some(frame) => Ok(Some(frame)),
            None if buf.is_empty() => Ok(None),
            None => {
                let left = buf.remaining();
                buf.clear();
                Err(FramingError::Io(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    format!("connection closed inside a PDU ({left} octets pending)"),
                )))
            }
        }
    }
}

impl Encoder<&Pdu> for SmppCodec {
    type Error = FramingError;

    fn encode(&mut self, pdu: &Pdu, dst: &mut BytesMut) -> Result<(), FramingError> {
        Ok(encode_pdu(pdu, dst)?)
    }
}

impl Encoder<Pdu> for SmppCodec {
    type Error = FramingError;

    fn encode(&mut self, pdu: Pdu, dst: &mut BytesMut) -> Result<(), FramingError> {
        Ok(encode_pdu(&pdu, dst)?)
    }
}
