//! [`COctetString`], the C-Octet string of SMPP fields and of some TLV values, stored inline
//! when short. A leaf module: PDUs (`types`) and TLVs (`tlv`) both hold it.

use bytes::Bytes;
use std::fmt;

/// A C-Octet string (NUL-terminated on the wire, NUL not included here). Usually ASCII, but
/// an SMSC may send anything: the bytes are kept as they came.
///
/// Nearly every C-Octet field of SMPP v3.4 holds at most 20 octets (addresses, dates,
/// service_type, system_id, most message ids), so up to [`COctetString::INLINE_CAP`] octets
/// are stored in the value itself: decoding one copies a few octets instead of taking a
/// reference on the frame, and cloning or dropping it touches no shared counter. Longer
/// strings are a [`Bytes`] of their own. The representation never shows: equality, ordering and
/// hashing are those of the bytes.
#[derive(Clone)]
pub struct COctetString(Repr);

#[derive(Clone)]
enum Repr {
    Inline {
        /// The length, with [`NUL_FLAG`] set if the string holds a NUL octet: found once
        /// when the value is made, as the encoder asks for every string it writes (a flag
        /// of its own would make the value larger).
        len: u8,
        buf: [u8; COctetString::INLINE_CAP],
    },
    Shared(Bytes),
}

impl COctetString {
    /// Strings of up to this many octets are stored inline (the value stays as small as a
    /// `Bytes`).
    pub const INLINE_CAP: usize = 23;

    pub const fn from_static(s: &'static str) -> Self {
        Self(Repr::Shared(Bytes::from_static(s.as_bytes())))
    }
    /// Wraps bytes as they are; the caller promises they hold no NUL (the encoder checks).
    pub fn from_bytes(bytes: Bytes) -> Self {
        Self::inline(&bytes).unwrap_or(Self(Repr::Shared(bytes)))
    }
    /// `s` copied inline, or `None` if it is longer than [`Self::INLINE_CAP`].
    #[inline]
    fn inline(s: &[u8]) -> Option<Self> {
        let len = u8::try_from(s.len())
            .ok()
            .filter(|&n| usize::from(n) <= Self::INLINE_CAP)?;
        let mut buf = [0u8; Self::INLINE_CAP];
        buf.get_mut(..s.len())?.copy_from_slice(s);
        let nul = if inline_has_nul(&buf, s.len()) {
            NUL_FLAG
        } else {
            0
        };
        Some(Self(Repr::Inline {
            len: len | nul,
            buf,
        }))
    }
    /// A copy of `s`: inline when short, otherwise in its own allocation (never a slice of a
    /// larger buffer that it would keep alive).
    #[inline]
    pub fn copy_from_slice(s: &[u8]) -> Self {
        Self::inline(s).unwrap_or_else(|| Self(Repr::Shared(Bytes::copy_from_slice(s))))
    }
    /// The first `len` octets of `window`, which starts where the string starts in the
    /// frame and holds its terminating NUL at `len` (the first NUL): a fixed-size copy (no
    /// length-dependent memcpy) with the octets past `len` cleared. `None` if `len` exceeds
    /// [`Self::INLINE_CAP`].
    #[inline(always)]
    pub(crate) fn from_window(window: &[u8; Self::INLINE_CAP], len: usize) -> Option<Self> {
        let n = u8::try_from(len)
            .ok()
            .filter(|&n| usize::from(n) <= Self::INLINE_CAP)?;
        let mut buf = *window;
        for (i, b) in buf.iter_mut().enumerate() {
            *b = if i < len { *b } else { 0 };
        }
        Some(Self(Repr::Inline { len: n, buf }))
    }
    /// The inline buffer and the string's length, for a fixed-size copy; `None` for a
    /// shared string. Octets past the length are zero.
    #[inline]
    pub(crate) fn inline_window(&self) -> Option<(&[u8; Self::INLINE_CAP], usize)> {
        match &self.0 {
            Repr::Inline { len, buf } => Some((buf, inline_len(*len))),
            Repr::Shared(_) => None,
        }
    }
    /// Whether the string holds a NUL octet (which the wire form cannot carry).
    #[inline]
    pub(crate) fn contains_nul(&self) -> bool {
        match &self.0 {
            Repr::Inline { len, .. } => len & NUL_FLAG != 0,
            Repr::Shared(b) => memchr::memchr(0, b).is_some(),
        }
    }
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        match &self.0 {
            Repr::Inline { len, buf } => buf.get(..inline_len(*len)).unwrap_or_default(),
            Repr::Shared(b) => b,
        }
    }
    pub fn into_bytes(self) -> Bytes {
        match self.0 {
            Repr::Inline { .. } => Bytes::copy_from_slice(self.as_bytes()),
            Repr::Shared(b) => b,
        }
    }
    #[inline]
    pub fn len(&self) -> usize {
        match &self.0 {
            Repr::Inline { len, .. } => inline_len(*len),
            Repr::Shared(b) => b.len(),
        }
    }
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The text, with any non-UTF-8 byte replaced (for logs and JSON, never for matching).
    pub fn to_str_lossy(&self) -> std::borrow::Cow<'_, str> {
        lossy(self.as_bytes())
    }
}

/// `String::from_utf8_lossy`, with valid text (nearly every field an SMSC sends) borrowed
/// after `str::from_utf8`'s check alone, without the lossy reading's chunk iterator.
pub(crate) fn lossy(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => std::borrow::Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

/// Set in an inline string's length octet when the string holds a NUL octet.
const NUL_FLAG: u8 = 0x80;

/// The length an inline string's length octet gives.
#[inline(always)]
fn inline_len(len: u8) -> usize {
    usize::from(len & !NUL_FLAG)
}

/// Whether `buf[..len]` holds a zero octet: three 8-octet words tested at once (a zero octet
/// sets the top bit of its lane in `(w - 0x01..) & !w & 0x80..`; only lanes above a real zero
/// can be set spuriously, and lanes at or past `len` are masked off).
#[inline]
fn inline_has_nul(buf: &[u8; COctetString::INLINE_CAP], len: usize) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let mut padded = [0xFFu8; 24];
    if let Some(head) = padded.first_chunk_mut::<{ COctetString::INLINE_CAP }>() {
        *head = *buf;
    }
    let mut nul = 0u64;
    let mut start = 0usize;
    for word in padded.chunks_exact(8) {
        let w = u64::from_le_bytes(word.try_into().unwrap_or([0xFF; 8]));
        let zeros = w.wrapping_sub(ONES) & !w & HIGHS;
        // The lanes of this word that belong to the string (all of them from 8 on).
        let inside = u32::try_from(len.saturating_sub(start)).unwrap_or(u32::MAX);
        let mask = 1u64
            .checked_shl(inside.saturating_mul(8))
            .map_or(u64::MAX, |bit| bit.wrapping_sub(1));
        nul |= zeros & mask;
        start = start.saturating_add(8);
    }
    nul != 0
}

impl Default for COctetString {
    fn default() -> Self {
        Self(Repr::Inline {
            len: 0,
            buf: [0; Self::INLINE_CAP],
        })
    }
}
impl PartialEq for COctetString {
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}
impl Eq for COctetString {}
impl PartialOrd for COctetString {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for COctetString {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_bytes().cmp(other.as_bytes())
    }
}
impl std::hash::Hash for COctetString {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_bytes().hash(state);
    }
}
impl From<&str> for COctetString {
    fn from(s: &str) -> Self {
        Self::copy_from_slice(s.as_bytes())
    }
}
impl From<String> for COctetString {
    fn from(s: String) -> Self {
        Self::inline(s.as_bytes()).unwrap_or_else(|| Self(Repr::Shared(Bytes::from(s))))
    }
}
impl fmt::Debug for COctetString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.to_str_lossy(), f)
    }
}
impl fmt::Display for COctetString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_str_lossy())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_nul_check_matches_a_plain_scan() {
        let mut buf = [b'x'; COctetString::INLINE_CAP];
        for len in 0..=COctetString::INLINE_CAP {
            for nul_at in 0..COctetString::INLINE_CAP {
                buf.fill(b'x');
                buf[nul_at] = 0;
                // Octets past the string are zero in a real value; try both.
                for tail in [0u8, b'y'] {
                    let mut b = buf;
                    b[len..]
                        .iter_mut()
                        .filter(|o| **o != 0)
                        .for_each(|o| *o = tail);
                    assert_eq!(
                        inline_has_nul(&b, len),
                        b[..len].contains(&0),
                        "len {len} nul {nul_at}"
                    );
                }
            }
            assert!(!inline_has_nul(&[b'\x80'; COctetString::INLINE_CAP], len));
            assert!(!inline_has_nul(&[0xFF; COctetString::INLINE_CAP], len));
        }
    }

    #[test]
    fn window_copy_keeps_the_string_and_clears_the_rest() {
        let window: [u8; COctetString::INLINE_CAP] = *b"447700900123\0\x01\x01restofit";
        let s = COctetString::from_window(&window, 12).expect("fits");
        assert_eq!(s.as_bytes(), b"447700900123");
        assert_eq!(s, COctetString::from("447700900123"));
        let (buf, len) = s.inline_window().expect("inline");
        assert_eq!(len, 12);
        assert!(buf[12..].iter().all(|&b| b == 0));
        assert!(COctetString::from_window(&window, COctetString::INLINE_CAP + 1).is_none());
    }

    proptest::proptest! {
        /// `lossy` reads as `String::from_utf8_lossy` does, and borrows valid text.
        #[test]
        fn lossy_reads_as_the_std_reading(bytes in proptest::collection::vec(
            proptest::prop_oneof![0x20u8..0x7f, proptest::num::u8::ANY], 0..64)) {
            let ours = lossy(&bytes);
            proptest::prop_assert_eq!(&ours, &String::from_utf8_lossy(&bytes));
            proptest::prop_assert_eq!(
                matches!(ours, std::borrow::Cow::Borrowed(_)),
                std::str::from_utf8(&bytes).is_ok()
            );
        }
    }
}
