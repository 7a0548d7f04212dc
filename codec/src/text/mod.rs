//! Text for SMS: GSM 03.38 / 3GPP TS 23.038 alphabets, UCS-2 and Latin-1, the choice of the
//! cheapest encoding and the segmentation of a text into the short messages that carry it.
//!
//! Layout:
//! - `gsm7`: default alphabet and extension table; `national`: the national language shift
//!   tables ([`NationalLanguage`]): Turkish, Spanish, Portuguese, and in `indian` Bengali,
//!   Gujarati, Hindi, Kannada, Malayalam, Oriya, Punjabi, Tamil, Telugu and Urdu.
//! - `ucs2`, `latin1`: the octet encodings; `packing`: septets packed into octets.
//! - `udh`: User Data Header information elements (concatenation 0x00/0x08, shifts 0x24/0x25).
//! - `split`: [`analyze`] and [`split`]; `decode`: [`decode_short_message`] and reassembly;
//!   `json`: [`split_to_json`].
//!
//! Nothing is ever replaced silently: a character the chosen encoding lacks is a
//! [`TextError::Unrepresentable`], a message longer than allowed is [`TextError::TooManyParts`].
//!
//! Part sizes (septets / octets / UTF-16 units) used by [`split`]:
//!
//! | concat | single part | each part of a concatenated message |
//! |---|---|---|
//! | `Udh8` (IEI 0x00, 6-octet UDH) | 160 / 140 / 70 | 153 / 134 / 67 |
//! | `Udh16` (IEI 0x08, 7-octet UDH) | 160 / 140 / 70 | 152 / 133 / 66 |
//! | `Sar` (TLVs, no UDH) | 160 / 140 / 70 | 153 / 134 / 67 |
//! | `Payload` (message_payload) | the whole text | (no split) |
//!
//! SAR parts are sized like `Udh8` because the SMSC turns the SAR TLVs into a concatenation
//! UDH on the air interface (SMPP 3.4 5.3.2.22-24 describe them as the same information) and
//! that header takes room in the same 140 octets. A national
//! shift table adds a 3-octet information element per table, in a single part too, and the
//! capacity shrinks accordingly: with GSM-7, a UDH of `n` octets costs `ceil(8n / 7)` septets.

mod decode;
mod gsm7;
mod indian;
mod json;
mod latin1;
mod national;
mod packing;
mod split;
mod ucs2;
mod udh;

pub use decode::{
    decode_short_message, decode_short_message_packed, join_parts, sar_from_tlvs, ConcatInfo,
    DecodedText,
};
pub use json::split_to_json;
pub use national::NationalLanguage;
pub use split::{analyze, split};
pub use udh::{parse_udh, Udh};

/// The septet of `ch` in the GSM 7-bit default alphabet's basic table (no escape), or `None`.
/// Sender IDs must be written with these characters only.
pub fn gsm7_basic_septet(ch: char) -> Option<u8> {
    gsm7::Charset::default_tables().locking.septet(ch)
}

use bytes::{Bytes, BytesMut};

/// What the caller asks for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum EncodingChoice {
    /// The cheapest encoding that represents the text exactly: the GSM 7-bit default alphabet,
    /// then GSM-7 with one of the allowed national shift tables, then UCS-2.
    #[default]
    Auto,
    /// GSM-7 only (default alphabet, or an allowed national table when the default lacks a
    /// character); a character none of them has is an error.
    Gsm7,
    /// UCS-2 (UTF-16BE, surrogate pairs kept whole).
    Ucs2,
    /// ISO-8859-1 (data_coding 0x03); a character above U+00FF is an error.
    Latin1,
}

impl EncodingChoice {
    /// Parses `auto`, `gsm7`, `ucs2`, `latin1` (any case).
    pub fn from_name(name: &str) -> Option<Self> {
        [Self::Auto, Self::Gsm7, Self::Ucs2, Self::Latin1]
            .into_iter()
            .find(|c| name.eq_ignore_ascii_case(c.name()))
    }
    pub fn name(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::Gsm7 => "gsm7",
            Self::Ucs2 => "ucs2",
            Self::Latin1 => "latin1",
        }
    }
}

/// The encoding a message was written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Encoding {
    /// GSM 7-bit default alphabet and extension table.
    Gsm7,
    /// GSM 7-bit with a national language's single-shift table (instead of the default
    /// extension table) and/or its locking-shift table (instead of the default alphabet).
    Gsm7National {
        language: NationalLanguage,
        single_shift: bool,
        locking_shift: bool,
    },
    /// UTF-16BE.
    Ucs2,
    /// ISO-8859-1.
    Latin1,
}

impl Encoding {
    /// `GSM7` (national tables included), `UCS2` or `LATIN1`: the API's `encoding` field.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Gsm7 | Self::Gsm7National { .. } => "GSM7",
            Self::Ucs2 => "UCS2",
            Self::Latin1 => "LATIN1",
        }
    }

    /// The SMPP data_coding: 0x00 (SMSC default alphabet, GSM-7), 0x08 (UCS-2), 0x03 (Latin-1).
    pub fn data_coding(&self) -> u8 {
        match self {
            Self::Gsm7 | Self::Gsm7National { .. } => 0x00,
            Self::Ucs2 => 0x08,
            Self::Latin1 => 0x03,
        }
    }

    /// Whether lengths count septets (GSM-7) rather than octets or UTF-16 units.
    pub fn is_gsm7(&self) -> bool {
        matches!(self, Self::Gsm7 | Self::Gsm7National { .. })
    }

    /// The GSM tables in force, for the GSM-7 encodings.
    pub(crate) fn charset(&self) -> Option<gsm7::Charset> {
        match *self {
            Self::Gsm7 => Some(gsm7::Charset::default_tables()),
            Self::Gsm7National {
                language,
                single_shift,
                locking_shift,
            } => {
                let mut cs = gsm7::Charset::default_tables();
                if single_shift {
                    cs.single = language.single_shift_table();
                }
                if locking_shift {
                    cs.locking = language.locking_table()?;
                }
                Some(cs)
            }
            Self::Ucs2 | Self::Latin1 => None,
        }
    }
}

/// How the parts of a long message are tied together.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Concat {
    /// UDH IEI 0x00, 8-bit reference.
    #[default]
    Udh8,
    /// UDH IEI 0x08, 16-bit reference.
    Udh16,
    /// sar_msg_ref_num / sar_total_segments / sar_segment_seqnum TLVs.
    Sar,
    /// The whole text in one message_payload TLV; the SMSC splits it.
    Payload,
}

impl Concat {
    /// Parses `udh8`, `udh16`, `sar`, `payload` (any case).
    pub fn from_name(name: &str) -> Option<Self> {
        [Self::Udh8, Self::Udh16, Self::Sar, Self::Payload]
            .into_iter()
            .find(|c| name.eq_ignore_ascii_case(c.name()))
    }
    pub fn name(self) -> &'static str {
        match self {
            Self::Udh8 => "udh8",
            Self::Udh16 => "udh16",
            Self::Sar => "sar",
            Self::Payload => "payload",
        }
    }
}

/// Everything [`split`] and [`analyze`] need besides the text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SplitOptions {
    pub encoding: EncodingChoice,
    pub concat: Concat,
    /// National languages whose shift tables may be used; empty: none.
    pub national_languages: Vec<NationalLanguage>,
    /// Most parts a message may take (at most 255 whatever is set here).
    pub max_parts: usize,
    /// Pack GSM-7 septets into octets (TS 23.038 6.1.2.1) instead of one septet per octet.
    pub packed_gsm7: bool,
    /// Concatenation reference (low 8 bits with `Udh8`), chosen by the caller per destination.
    pub reference: u16,
}

impl Default for SplitOptions {
    fn default() -> Self {
        Self {
            encoding: EncodingChoice::Auto,
            concat: Concat::Udh8,
            national_languages: Vec::new(),
            max_parts: 6,
            packed_gsm7: false,
            reference: 0,
        }
    }
}

/// A text cut into the short messages that carry it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SplitMessage {
    pub encoding: Encoding,
    pub data_coding: u8,
    pub parts: Vec<Part>,
    /// SMS segments the message occupies on the air: `parts.len()`, except with
    /// [`Concat::Payload`] where the one part is split by the SMSC (counted as with `Udh8`).
    /// This is what [`analyze`] returns and what a route bills.
    pub segments: usize,
}

/// One short message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Part {
    /// The whole User Data Header, UDHL octet included, when the part has one.
    pub udh: Option<Bytes>,
    /// The encoded text of this part.
    pub payload: Bytes,
    /// SAR TLV values, with [`Concat::Sar`] on a message of more than one part.
    pub sar: Option<SarInfo>,
    /// Length of the payload in septets (GSM-7), octets (Latin-1) or UTF-16 units (UCS-2).
    pub units: usize,
}

impl Part {
    /// UDH then payload: the short_message (or, with [`Concat::Payload`], the message_payload).
    pub fn short_message(&self) -> Bytes {
        match &self.udh {
            None => self.payload.clone(),
            Some(udh) => {
                let mut sm = BytesMut::with_capacity(udh.len().saturating_add(self.payload.len()));
                sm.extend_from_slice(udh);
                sm.extend_from_slice(&self.payload);
                sm.freeze()
            }
        }
    }

    /// Whether esm_class must carry the UDHI flag (0x40).
    pub fn esm_class_udhi(&self) -> bool {
        self.udh.is_some()
    }
}

/// The SAR TLVs of one part.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SarInfo {
    pub reference: u16,
    pub total: u8,
    /// 1-based.
    pub seqnum: u8,
}

/// Why a text could not be encoded or a short message decoded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("character {ch:?} at position {position} cannot be represented in {encoding}")]
    Unrepresentable {
        ch: char,
        /// 0-based index in characters (Unicode scalar values).
        position: usize,
        encoding: &'static str,
    },
    #[error("message needs {parts} parts, more than the maximum of {max}")]
    TooManyParts { parts: usize, max: usize },
    #[error("message of {octets} octets is longer than message_payload allows ({max})")]
    PayloadTooLong { octets: usize, max: usize },
    #[error("invalid octet 0x{byte:02X} at offset {offset} for {encoding}")]
    InvalidByte {
        offset: usize,
        byte: u8,
        encoding: &'static str,
    },
    #[error("truncated UCS-2: {len} octets")]
    OddUcs2Length { len: usize },
    #[error("unpaired UTF-16 surrogate 0x{unit:04X} at offset {offset}")]
    UnpairedSurrogate { offset: usize, unit: u16 },
    #[error("invalid user data header: {reason}")]
    InvalidUdh { reason: &'static str },
    #[error("national language {id} is not supported")]
    UnsupportedNationalLanguage { id: u8 },
    #[error("data_coding 0x{0:02X} does not carry text otpgate can decode")]
    UnsupportedDataCoding(u8),
    #[error("concatenated message incomplete or inconsistent: {reason}")]
    Reassembly { reason: &'static str },
}
