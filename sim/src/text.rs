//! What a handset would show for one submit_sm part: its text (GSM 03.38 unpacked, UCS-2,
//! Latin-1 or IA5) and its place in a concatenated message (UDH or SAR TLVs).

use otpgate_codec::pdu::{SubmitSm, Tlv, TlvList, ESM_UDHI};
use otpgate_codec::text::decode_short_message;

/// Where a part sits in a concatenated message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Concat {
    pub reference: u16,
    pub total: u8,
    /// 1-based.
    pub seq: u8,
}

/// One part's text and concatenation info.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartText {
    pub text: String,
    pub concat: Option<Concat>,
}

/// GSM 03.38 default alphabet.
const GSM7: [char; 128] = [
    '@', '£', '$', '¥', 'è', 'é', 'ù', 'ì', 'ò', 'Ç', '\n', 'Ø', 'ø', '\r', 'Å', 'å', 'Δ', '_',
    'Φ', 'Γ', 'Λ', 'Ω', 'Π', 'Ψ', 'Σ', 'Θ', 'Ξ', '\u{1b}', 'Æ', 'æ', 'ß', 'É', ' ', '!', '"', '#',
    '¤', '%', '&', '\'', '(', ')', '*', '+', ',', '-', '.', '/', '0', '1', '2', '3', '4', '5', '6',
    '7', '8', '9', ':', ';', '<', '=', '>', '?', '¡', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I',
    'J', 'K', 'L', 'M', 'N', 'O', 'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z', 'Ä', 'Ö',
    'Ñ', 'Ü', '§', '¿', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o',
    'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 'ä', 'ö', 'ñ', 'ü', 'à',
];

fn gsm7_extension(septet: u8) -> Option<char> {
    Some(match septet {
        0x0A => '\u{0c}',
        0x14 => '^',
        0x28 => '{',
        0x29 => '}',
        0x2F => '\\',
        0x3C => '[',
        0x3D => '~',
        0x3E => ']',
        0x40 => '|',
        0x65 => '€',
        _ => return None,
    })
}

/// GSM 03.38 septets, one per octet (the usual SMPP form).
fn decode_gsm7_unpacked(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len());
    let mut iter = data.iter().map(|b| b & 0x7F);
    while let Some(s) = iter.next() {
        if s == 0x1B {
            match iter.next() {
                Some(e) => out.push(gsm7_extension(e).unwrap_or(' ')),
                None => out.push(' '),
            }
        } else {
            out.push(GSM7.get(usize::from(s)).copied().unwrap_or('?'));
        }
    }
    out
}

fn decode_ucs2(data: &[u8]) -> String {
    let units = data
        .chunks_exact(2)
        .map(|c| u16::from_be_bytes([c[0], c[1]]));
    char::decode_utf16(units)
        .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect()
}

/// Decodes `data` under `data_coding` (SMPP 3.4 5.2.19 plus the GSM data-coding groups).
pub fn decode_text(data_coding: u8, data: &[u8]) -> String {
    match data_coding {
        0x00 => decode_gsm7_unpacked(data),
        0x01 => data.iter().map(|&b| char::from(b & 0x7F)).collect(),
        0x03 => data.iter().map(|&b| char::from(b)).collect(),
        0x08 => decode_ucs2(data),
        0x02 | 0x04 => hex::encode(data),
        dc if dc & 0xF0 == 0xF0 => {
            if dc & 0x04 == 0 {
                decode_gsm7_unpacked(data)
            } else {
                hex::encode(data)
            }
        }
        dc if dc & 0xC0 == 0x00 => match (dc >> 2) & 0x03 {
            0 => decode_gsm7_unpacked(data),
            2 => decode_ucs2(data),
            _ => hex::encode(data),
        },
        _ => String::from_utf8_lossy(data).into_owned(),
    }
}

/// Splits a UDH off `data`, returning concat info (IE 0x00 or 0x08) and the payload.
fn split_udh(data: &[u8]) -> (Option<Concat>, &[u8]) {
    let Some((&udhl, rest)) = data.split_first() else {
        return (None, data);
    };
    let Some(header) = rest.get(..usize::from(udhl)) else {
        return (None, data);
    };
    let payload = rest.get(usize::from(udhl)..).unwrap_or_default();
    let mut concat = None;
    let mut ies = header;
    while let [iei, len, tail @ ..] = ies {
        let Some(value) = tail.get(..usize::from(*len)) else {
            break;
        };
        match (iei, value) {
            (0x00, [r, t, s]) => {
                concat = Some(Concat {
                    reference: u16::from(*r),
                    total: *t,
                    seq: *s,
                })
            }
            (0x08, [r1, r2, t, s]) => {
                concat = Some(Concat {
                    reference: u16::from_be_bytes([*r1, *r2]),
                    total: *t,
                    seq: *s,
                })
            }
            _ => {}
        }
        ies = tail.get(usize::from(*len)..).unwrap_or_default();
    }
    (concat, payload)
}

fn sar_concat(tlvs: &[Tlv]) -> Option<Concat> {
    let mut reference = None;
    let mut total = None;
    let mut seq = None;
    for t in tlvs {
        match t {
            Tlv::SarMsgRefNum(r) => reference = Some(*r),
            Tlv::SarTotalSegments(n) => total = Some(*n),
            Tlv::SarSegmentSeqnum(n) => seq = Some(*n),
            _ => {}
        }
    }
    Some(Concat {
        reference: reference?,
        total: total?,
        seq: seq?,
    })
}

/// The text and concat info of one submit_sm (short_message, or message_payload when
/// short_message is empty).
pub fn decode_part(sm: &SubmitSm) -> PartText {
    let raw: &[u8] = if sm.short_message.is_empty() {
        sm.tlvs.message_payload().map_or(&[], |p| &p[..])
    } else {
        &sm.short_message
    };
    let (udh_concat, text) = match decode_short_message(sm.data_coding, sm.esm_class, raw) {
        Ok(d) => {
            let concat = d.concat.map(|c| Concat {
                reference: c.reference,
                total: c.total,
                seq: c.seq,
            });
            (concat, d.text)
        }
        Err(_) => {
            let (concat, payload) = if sm.esm_class & ESM_UDHI != 0 {
                split_udh(raw)
            } else {
                (None, raw)
            };
            (concat, decode_text(sm.data_coding, payload))
        }
    };
    let concat = udh_concat
        .or_else(|| sar_concat(&sm.tlvs))
        .filter(|c| c.total > 1 && c.seq >= 1 && c.seq <= c.total);
    PartText { text, concat }
}

#[cfg(test)]
mod tests {
    use super::*;
    use otpgate_codec::pdu::ShortMessage;

    #[test]
    fn decodes_gsm7_with_extension() {
        assert_eq!(decode_text(0, b"Code \x1b\x65 5\x00"), "Code € 5@");
        assert_eq!(decode_text(0, b"\x1b"), " ");
    }

    #[test]
    fn decodes_ucs2() {
        let data: Vec<u8> = "Код 12".encode_utf16().flat_map(u16::to_be_bytes).collect();
        assert_eq!(decode_text(8, &data), "Код 12");
        assert_eq!(decode_text(8, &[0x00]), "");
    }

    #[test]
    fn reads_udh_and_sar() {
        let sm = SubmitSm {
            esm_class: 0x40,
            short_message: ShortMessage::from_static(b"\x05\x00\x03\x2a\x02\x01abc"),
            ..Default::default()
        };
        let p = decode_part(&sm);
        assert_eq!(p.text, "abc");
        assert_eq!(
            p.concat,
            Some(Concat {
                reference: 42,
                total: 2,
                seq: 1
            })
        );
        let sm = SubmitSm {
            short_message: ShortMessage::from_static(b"xyz"),
            tlvs: vec![
                Tlv::SarMsgRefNum(7),
                Tlv::SarTotalSegments(3),
                Tlv::SarSegmentSeqnum(3),
            ],
            ..Default::default()
        };
        assert_eq!(decode_part(&sm).concat.map(|c| c.seq), Some(3));
        // A truncated UDH does not panic and yields no concat info.
        let sm = SubmitSm {
            esm_class: 0x40,
            short_message: ShortMessage::from_static(b"\x09\x00\x03"),
            ..Default::default()
        };
        assert_eq!(decode_part(&sm).concat, None);
    }
}
