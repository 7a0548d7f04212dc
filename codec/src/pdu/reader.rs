//! A bounds-checked cursor over one PDU frame: every read either yields a value (short strings
//! copied inline, long ones and octet runs copied into a `Bytes` of their own) or a
//! [`DecodeError`] naming the field and its offset. Nothing here can panic or read past the
//! frame.
//!
//! The frame is a plain slice (of the connection's read buffer, usually) and the cursor the
//! unread tail of it, so each read is one length check and a split. Nothing decoded refers
//! to the frame: the read buffer is free to be reused as soon as the PDU is decoded.

use bytes::Bytes;

use super::c_octet::COctetString;
use super::error::DecodeError;
use super::field::Field;
use super::types::Address;

pub(crate) struct Reader<'a> {
    frame: &'a [u8],
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(frame: &'a [u8]) -> Self {
        Self { frame, rest: frame }
    }

    /// Offset of the next octet, from the start of the frame.
    #[inline]
    pub(crate) fn pos(&self) -> usize {
        self.frame.len().saturating_sub(self.rest.len())
    }

    #[inline]
    pub(crate) fn remaining(&self) -> usize {
        self.rest.len()
    }

    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// The octets not read yet, without consuming them.
    #[inline]
    pub(crate) fn peek_rest(&self) -> &'a [u8] {
        self.rest
    }

    #[inline]
    fn array<const N: usize>(&mut self, field: Field) -> Result<[u8; N], DecodeError> {
        match self.rest.split_first_chunk::<N>() {
            Some((head, tail)) => {
                self.rest = tail;
                Ok(*head)
            }
            None => Err(DecodeError::Truncated {
                field,
                offset: self.pos(),
            }),
        }
    }

    #[inline]
    pub(crate) fn u8(&mut self, field: Field) -> Result<u8, DecodeError> {
        match self.rest.split_first() {
            Some((&b, tail)) => {
                self.rest = tail;
                Ok(b)
            }
            None => Err(DecodeError::Truncated {
                field,
                offset: self.pos(),
            }),
        }
    }

    #[inline]
    pub(crate) fn u16(&mut self, field: Field) -> Result<u16, DecodeError> {
        self.array::<2>(field).map(u16::from_be_bytes)
    }

    #[inline]
    pub(crate) fn u32(&mut self, field: Field) -> Result<u32, DecodeError> {
        self.array::<4>(field).map(u32::from_be_bytes)
    }

    /// A copy of the next `n` octets, or `None` (nothing consumed) if fewer remain.
    #[inline]
    pub(crate) fn octets(&mut self, n: usize) -> Option<Bytes> {
        self.slice(n).map(Bytes::copy_from_slice)
    }

    /// `n` octets borrowed from the frame, or `None` (nothing consumed) if fewer remain.
    #[inline]
    pub(crate) fn slice(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, tail) = self.rest.split_at_checked(n)?;
        self.rest = tail;
        Some(head)
    }

    /// Everything left in the frame.
    pub(crate) fn rest(&mut self) -> Bytes {
        let n = self.remaining();
        self.octets(n).unwrap_or_default()
    }

    /// Position of the first NUL within the next `max` octets (or up to the end), relative
    /// to the cursor.
    #[inline(always)]
    fn find_nul(&self, max: usize) -> Option<usize> {
        let window = self.rest.get(..max).unwrap_or(self.rest);
        // Most C-Octet strings are a few octets long: look at 8 octets at a time inline
        // before handing a long remainder to memchr.
        const ONES: u64 = 0x0101_0101_0101_0101;
        const HIGHS: u64 = 0x8080_8080_8080_8080;
        let mut at = 0usize;
        let mut words = window.chunks_exact(8);
        for word in words.by_ref().take(3) {
            let w = u64::from_le_bytes(word.try_into().unwrap_or([0xFF; 8]));
            // The lowest set lane marks the first zero octet (lanes above it may be spurious).
            let zeros = w.wrapping_sub(ONES) & !w & HIGHS;
            if zeros != 0 {
                let lane = usize::try_from(zeros.trailing_zeros() / 8).unwrap_or(0);
                return Some(at.saturating_add(lane));
            }
            at = at.saturating_add(8);
        }
        let tail = window.get(at..).unwrap_or_default();
        memchr::memchr(0, tail).map(|i| at.saturating_add(i))
    }

    /// A C-Octet string whose NUL must lie within `max` octets (NUL included).
    #[inline(always)]
    pub(crate) fn cstr(&mut self, field: Field, max: usize) -> Result<COctetString, DecodeError> {
        let split = self
            .find_nul(max)
            .and_then(|nul| self.rest.split_at_checked(nul));
        let Some((s, tail)) = split else {
            return Err(self.cstr_error(field, max));
        };
        // A short string with enough of the frame after it is copied as a fixed-size window
        // (cheaper than a copy of its exact length).
        let value = match self.rest.first_chunk::<{ COctetString::INLINE_CAP }>() {
            Some(window) => COctetString::from_window(window, s.len()),
            None => None,
        };
        self.rest = tail.get(1..).unwrap_or_default();
        Ok(value.unwrap_or_else(|| COctetString::copy_from_slice(s)))
    }

    #[cold]
    fn cstr_error(&self, field: Field, max: usize) -> DecodeError {
        if self.is_empty() {
            DecodeError::Truncated {
                field,
                offset: self.pos(),
            }
        } else {
            DecodeError::UnterminatedCString {
                field,
                offset: self.pos(),
                max,
            }
        }
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
            let s = COctetString::copy_from_slice(self.rest);
            self.rest = &[];
            return Ok(s);
        }
        self.cstr(field, max)
    }

    /// TON, NPI and address digits.
    #[inline(always)]
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
