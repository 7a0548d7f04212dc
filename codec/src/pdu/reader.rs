//! A bounds-checked cursor over one PDU frame: every read either yields a value (strings and
//! octet runs as zero-copy slices of the frame) or a [`DecodeError`] naming the field and its
//! offset. Nothing here can panic or read past the frame.

use bytes::Bytes;

use super::decode::DecodeError;
use super::field::Field;
use super::types::{Address, COctetString};

pub(crate) struct Reader {
    buf: Bytes,
    pos: usize,
}

impl Reader {
    pub(crate) fn new(buf: Bytes) -> Self {
        Self { buf, pos: 0 }
    }

    /// Offset of the next octet, from the start of the frame.
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    pub(crate) fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    fn array<const N: usize>(&mut self, field: Field) -> Result<[u8; N], DecodeError> {
        let end = self.pos.saturating_add(N);
        let bytes: [u8; N] = self
            .buf
            .get(self.pos..end)
            .and_then(|s| s.try_into().ok())
            .ok_or(DecodeError::Truncated {
                field,
                offset: self.pos,
            })?;
        self.pos = end;
        Ok(bytes)
    }

    pub(crate) fn u8(&mut self, field: Field) -> Result<u8, DecodeError> {
        self.array::<1>(field).map(|[b]| b)
    }

    pub(crate) fn u16(&mut self, field: Field) -> Result<u16, DecodeError> {
        self.array::<2>(field).map(u16::from_be_bytes)
    }

    pub(crate) fn u32(&mut self, field: Field) -> Result<u32, DecodeError> {
        self.array::<4>(field).map(u32::from_be_bytes)
    }

    /// `n` octets as a slice of the frame, or `None` (nothing consumed) if fewer remain.
    pub(crate) fn octets(&mut self, n: usize) -> Option<Bytes> {
        if n > self.remaining() {
            return None;
        }
        let end = self.pos.saturating_add(n);
        let out = self.buf.slice(self.pos..end);
        self.pos = end;
        Some(out)
    }

    /// Everything left in the frame.
    pub(crate) fn rest(&mut self) -> Bytes {
        let n = self.remaining();
        self.octets(n).unwrap_or_default()
    }

    /// Position of the first NUL within the next `max` octets (or up to the end).
    fn find_nul(&self, max: usize) -> Option<usize> {
        let end = self.pos.saturating_add(max).min(self.buf.len());
        self.buf
            .get(self.pos..end)
            .and_then(|w| w.iter().position(|&b| b == 0))
    }

    /// A C-Octet string whose NUL must lie within `max` octets (NUL included).
    pub(crate) fn cstr(&mut self, field: Field, max: usize) -> Result<COctetString, DecodeError> {
        let Some(nul) = self.find_nul(max) else {
            return Err(if self.is_empty() {
                DecodeError::Truncated {
                    field,
                    offset: self.pos,
                }
            } else {
                DecodeError::UnterminatedCString {
                    field,
                    offset: self.pos,
                    max,
                }
            });
        };
        let start = self.pos;
        let end = start.saturating_add(nul);
        let s = self.buf.slice(start..end);
        self.pos = end.saturating_add(1);
        Ok(COctetString::from_bytes(s))
    }

    /// A C-Octet string as sloppy SMSCs send it in responses: an absent field is empty, and a
    /// string that runs to the very end of the body without its NUL is accepted if it is no
    /// longer than `max - 1` octets.
    pub(crate) fn cstr_lenient(
        &mut self,
        field: Field,
        max: usize,
    ) -> Result<COctetString, DecodeError> {
        if self.find_nul(max).is_none() && self.remaining() < max {
            return Ok(COctetString::from_bytes(self.rest()));
        }
        self.cstr(field, max)
    }

    /// TON, NPI and address digits.
    pub(crate) fn address(
        &mut self,
        fields: (Field, Field, Field),
        max: usize,
    ) -> Result<Address, DecodeError> {
        Ok(Address {
            ton: self.u8(fields.0)?,
            npi: self.u8(fields.1)?,
            addr: self.cstr(fields.2, max)?,
        })
    }
}
