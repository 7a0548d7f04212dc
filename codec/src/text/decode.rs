//! The receiving side: a short_message back to text (UDH stripped, national shift IEs
//! applied) with what a receiver needs to reassemble a concatenated message.

use crate::pdu::{Tlv, ESM_UDHI};

use super::gsm7::Charset;
use super::{latin1, packing, parse_udh, ucs2, Encoding, NationalLanguage, SarInfo, TextError};

/// Where a part sits in a concatenated message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ConcatInfo {
    /// The reference (8-bit references are widened).
    pub reference: u16,
    pub total: u8,
    /// 1-based.
    pub seq: u8,
    /// Whether the reference came from IEI 0x08 (16-bit) rather than 0x00.
    pub wide_reference: bool,
}

impl From<SarInfo> for ConcatInfo {
    fn from(s: SarInfo) -> Self {
        Self {
            reference: s.reference,
            total: s.total,
            seq: s.seqnum,
            wide_reference: true,
        }
    }
}

/// The text of one short message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodedText {
    pub text: String,
    /// How it was written. IA5 (data_coding 0x01) is reported as [`Encoding::Latin1`], of
    /// which it is the 7-bit subset.
    pub encoding: Encoding,
    /// Concatenation info from the UDH, if it had some.
    pub concat: Option<ConcatInfo>,
}

enum Alphabet {
    Gsm7,
    Ascii,
    Latin1,
    Ucs2,
}

/// The alphabet of an SMPP data_coding (SMPP 3.4 5.2.19; above 0x0F, the GSM DCS of
/// TS 23.038 chapter 4).
fn alphabet(data_coding: u8) -> Option<Alphabet> {
    let by_bits = |bits: u8| match bits & 0x03 {
        0 => Some(Alphabet::Gsm7),
        2 => Some(Alphabet::Ucs2),
        _ => None,
    };
    match data_coding {
        0x00 => Some(Alphabet::Gsm7),
        0x01 => Some(Alphabet::Ascii),
        0x03 => Some(Alphabet::Latin1),
        0x08 => Some(Alphabet::Ucs2),
        // General data coding, uncompressed: alphabet in bits 3-2.
        0x10..=0x1F | 0x40..=0x4F => by_bits(data_coding >> 2),
        0xC0..=0xDF => Some(Alphabet::Gsm7),
        0xE0..=0xEF => Some(Alphabet::Ucs2),
        0xF0..=0xFF if data_coding & 0x04 == 0 => Some(Alphabet::Gsm7),
        _ => None,
    }
}

/// Decodes a short_message (or message_payload) whose GSM-7 text, if any, has one septet per
/// octet, the SMPP default.
pub fn decode_short_message(
    data_coding: u8,
    esm_class: u8,
    short_message: &[u8],
) -> Result<DecodedText, TextError> {
    decode(data_coding, esm_class, short_message, false)
}

/// As [`decode_short_message`], for an SMSC that packs GSM-7 septets into octets.
pub fn decode_short_message_packed(
    data_coding: u8,
    esm_class: u8,
    short_message: &[u8],
) -> Result<DecodedText, TextError> {
    decode(data_coding, esm_class, short_message, true)
}

fn national(id: Option<u8>) -> Result<Option<NationalLanguage>, TextError> {
    id.map(|id| NationalLanguage::from_id(id).ok_or(TextError::UnsupportedNationalLanguage { id }))
        .transpose()
}

fn decode(
    data_coding: u8,
    esm_class: u8,
    sm: &[u8],
    packed: bool,
) -> Result<DecodedText, TextError> {
    let udh = if esm_class & ESM_UDHI != 0 {
        Some(parse_udh(sm)?)
    } else {
        None
    };
    let udh_len = udh.map_or(0, |u| u.len);
    let body = sm.get(udh_len..).unwrap_or(&[]);
    let concat = udh
        .and_then(|u| u.concat)
        .map(|(reference, total, seq, wide)| ConcatInfo {
            reference,
            total,
            seq,
            wide_reference: wide,
        });
    let alphabet = alphabet(data_coding).ok_or(TextError::UnsupportedDataCoding(data_coding))?;
    let mut text = String::with_capacity(body.len());
    let encoding = match alphabet {
        Alphabet::Gsm7 => {
            let single = national(udh.and_then(|u| u.single_shift))?;
            let locking = national(udh.and_then(|u| u.locking_shift))?;
            let encoding = match (single, locking) {
                (None, None) => Encoding::Gsm7,
                (Some(language), None) => Encoding::Gsm7National {
                    language,
                    single_shift: true,
                    locking_shift: false,
                },
                (None, Some(language)) => Encoding::Gsm7National {
                    language,
                    single_shift: false,
                    locking_shift: true,
                },
                (Some(s), Some(l)) if s == l => Encoding::Gsm7National {
                    language: s,
                    single_shift: true,
                    locking_shift: true,
                },
                (Some(_), Some(_)) => {
                    return Err(TextError::InvalidUdh {
                        reason: "single and locking shift of different languages",
                    })
                }
            };
            let mut cs = Charset::default_tables();
            if let Some(l) = single {
                cs.single = l.single_shift_table();
            }
            if let Some(l) = locking {
                cs.locking = l
                    .locking_table()
                    .ok_or(TextError::UnsupportedNationalLanguage { id: l.id() })?;
            }
            let unpacked;
            let septets = if packed {
                unpacked = packing::unpack(body, packing::fill_bits(udh_len));
                &unpacked[..]
            } else {
                body
            };
            cs.decode_into(septets, &mut text)
                .map_err(|(offset, byte)| TextError::InvalidByte {
                    offset: offset.saturating_add(udh_len),
                    byte,
                    encoding: "GSM7",
                })?;
            encoding
        }
        Alphabet::Ascii => {
            latin1::decode_ascii_into(body, &mut text)?;
            Encoding::Latin1
        }
        Alphabet::Latin1 => {
            latin1::decode_into(body, &mut text);
            Encoding::Latin1
        }
        Alphabet::Ucs2 => {
            ucs2::decode_into(body, &mut text)?;
            Encoding::Ucs2
        }
    };
    Ok(DecodedText {
        text,
        encoding,
        concat,
    })
}

/// The SAR TLVs of a PDU, when all three are there.
pub fn sar_from_tlvs(tlvs: &[Tlv]) -> Option<SarInfo> {
    let (mut reference, mut total, mut seqnum) = (None, None, None);
    for tlv in tlvs {
        match *tlv {
            Tlv::SarMsgRefNum(r) => reference = Some(r),
            Tlv::SarTotalSegments(t) => total = Some(t),
            Tlv::SarSegmentSeqnum(s) => seqnum = Some(s),
            _ => {}
        }
    }
    Some(SarInfo {
        reference: reference?,
        total: total?,
        seqnum: seqnum?,
    })
}

/// Joins the decoded parts of one message in sequence order. Parts without concatenation
/// info must be alone; otherwise every seq from 1 to total must be there exactly once, with
/// one reference and one total.
pub fn join_parts(parts: &mut [DecodedText]) -> Result<String, TextError> {
    let err = |reason| Err(TextError::Reassembly { reason });
    let Some(first) = parts.first() else {
        return err("no parts");
    };
    let Some(head) = first.concat else {
        if parts.len() == 1 {
            return Ok(first.text.clone());
        }
        return err("several parts without concatenation info");
    };
    if usize::from(head.total) != parts.len() {
        return err("part count differs from the announced total");
    }
    if parts.iter().any(|p| {
        p.concat
            .is_none_or(|c| c.reference != head.reference || c.total != head.total)
    }) {
        return err("parts of different messages");
    }
    parts.sort_by_key(|p| p.concat.map_or(0, |c| c.seq));
    if !parts
        .iter()
        .zip(1u8..)
        .all(|(p, want)| p.concat.is_some_and(|c| c.seq == want))
    {
        return err("missing or repeated sequence number");
    }
    Ok(parts.iter().map(|p| p.text.as_str()).collect())
}
