//! The [`Sink`] a body's layout is written through: the encoder's sizing and writing passes
//! implement it, and every layout (bodies in the encoder, TLVs in `tlv_wire`) is generic over
//! it. Apart from the encoder so that `tlv_wire` can name it without importing the encoder.

use super::c_octet::COctetString;
use super::error::EncodeError;
use super::field::Field;

/// Where a body's fields go: counted and checked (the encoder's `Sizer`) or written (its
/// `Writer`).
pub(crate) trait Sink {
    fn u8(&mut self, v: u8);
    fn u16(&mut self, v: u16);
    fn u32(&mut self, v: u32);
    fn octets(&mut self, v: &[u8]);
    /// A C-Octet string of at most `max` octets, NUL included.
    fn cstr(&mut self, field: Field, max: usize, v: &COctetString) -> Result<(), EncodeError>;
    /// A TLV's tag and length; the value follows through the other methods.
    fn tlv_header(&mut self, tag: u16, len: usize) -> Result<(), EncodeError>;
}
