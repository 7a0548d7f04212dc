//! User Data Header (3GPP TS 23.040 9.2.3.24): building the headers otpgate sends and parsing
//! the ones it receives, bounds-checked octet by octet.

use super::{NationalLanguage, TextError};

/// IEI of concatenated short messages, 8-bit reference.
pub(crate) const IEI_CONCAT8: u8 = 0x00;
/// IEI of concatenated short messages, 16-bit reference.
pub(crate) const IEI_CONCAT16: u8 = 0x08;
/// IEI of the national language single shift.
pub(crate) const IEI_SINGLE_SHIFT: u8 = 0x24;
/// IEI of the national language locking shift.
pub(crate) const IEI_LOCKING_SHIFT: u8 = 0x25;

/// Octets of the concatenation IE (IEI, IEDL, data) for each reference width.
pub(crate) const CONCAT8_IE_LEN: usize = 5;
pub(crate) const CONCAT16_IE_LEN: usize = 6;
/// Octets of one national shift IE.
pub(crate) const SHIFT_IE_LEN: usize = 3;

/// What a received UDH says, as far as otpgate cares.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Udh {
    /// Concatenation: (reference, total, seq, 16-bit reference?).
    pub concat: Option<(u16, u8, u8, bool)>,
    /// National language identifier of the single-shift table (IEI 0x24).
    pub single_shift: Option<u8>,
    /// National language identifier of the locking-shift table (IEI 0x25).
    pub locking_shift: Option<u8>,
    /// Octets the header takes, UDHL octet included.
    pub len: usize,
}

/// The IEs a part of an outgoing message carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct UdhSpec {
    /// (reference, total, seq, 16-bit?)
    pub(crate) concat: Option<(u16, u8, u8, bool)>,
    pub(crate) single_shift: Option<NationalLanguage>,
    pub(crate) locking_shift: Option<NationalLanguage>,
}

impl UdhSpec {
    /// Appends the header (UDHL first) to `out`; nothing when there is no IE.
    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        let start = out.len();
        out.push(0); // UDHL, set below
        if let Some((reference, total, seq, wide)) = self.concat {
            let [hi, lo] = reference.to_be_bytes();
            if wide {
                out.extend_from_slice(&[IEI_CONCAT16, 4, hi, lo, total, seq]);
            } else {
                out.extend_from_slice(&[IEI_CONCAT8, 3, lo, total, seq]);
            }
        }
        if let Some(lang) = self.single_shift {
            out.extend_from_slice(&[IEI_SINGLE_SHIFT, 1, lang.id()]);
        }
        if let Some(lang) = self.locking_shift {
            out.extend_from_slice(&[IEI_LOCKING_SHIFT, 1, lang.id()]);
        }
        let udhl = out.len().saturating_sub(start).saturating_sub(1);
        if udhl == 0 {
            out.truncate(start);
        } else if let Some(first) = out.get_mut(start) {
            // At most 1 + 6 + 3 + 3 octets: always fits.
            *first = u8::try_from(udhl).unwrap_or(u8::MAX);
        }
    }
}

/// Octets of a UDH holding IEs of `ie_octets` in total (0 when there are none).
pub(crate) fn udh_len(ie_octets: usize) -> usize {
    if ie_octets == 0 {
        0
    } else {
        ie_octets.saturating_add(1)
    }
}

/// Parses the UDH at the start of `data` (a short_message with UDHI set). Unknown IEs are
/// skipped; a header longer than the data, or an IE running past the header, is an error.
/// When an IE repeats, the last one wins (TS 23.040 9.2.3.24).
pub fn parse_udh(data: &[u8]) -> Result<Udh, TextError> {
    let (&udhl, rest) = data.split_first().ok_or(TextError::InvalidUdh {
        reason: "empty user data",
    })?;
    let mut ies = rest.get(..usize::from(udhl)).ok_or(TextError::InvalidUdh {
        reason: "UDHL longer than the user data",
    })?;
    let mut udh = Udh {
        len: usize::from(udhl).saturating_add(1),
        ..Udh::default()
    };
    while let Some((&iei, after)) = ies.split_first() {
        let (&iedl, after) = after.split_first().ok_or(TextError::InvalidUdh {
            reason: "IE without length",
        })?;
        let value = after
            .get(..usize::from(iedl))
            .ok_or(TextError::InvalidUdh {
                reason: "IE runs past the header",
            })?;
        ies = after.get(usize::from(iedl)..).unwrap_or(&[]);
        match (iei, value) {
            (IEI_CONCAT8, &[reference, total, seq]) => {
                udh.concat = Some((u16::from(reference), total, seq, false))
            }
            (IEI_CONCAT16, &[hi, lo, total, seq]) => {
                udh.concat = Some((u16::from_be_bytes([hi, lo]), total, seq, true))
            }
            (IEI_CONCAT8 | IEI_CONCAT16, _) => {
                return Err(TextError::InvalidUdh {
                    reason: "concatenation IE of the wrong length",
                })
            }
            (IEI_SINGLE_SHIFT, &[id]) => udh.single_shift = Some(id),
            (IEI_LOCKING_SHIFT, &[id]) => udh.locking_shift = Some(id),
            (IEI_SINGLE_SHIFT | IEI_LOCKING_SHIFT, _) => {
                return Err(TextError::InvalidUdh {
                    reason: "national shift IE of the wrong length",
                })
            }
            _ => {}
        }
    }
    Ok(udh)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_and_parses_every_combination() {
        for concat in [
            None,
            Some((0x1234, 3, 2, false)),
            Some((0xBEEF, 9, 9, true)),
        ] {
            for single in [None, Some(NationalLanguage::Turkish)] {
                for locking in [None, Some(NationalLanguage::Portuguese)] {
                    let spec = UdhSpec {
                        concat,
                        single_shift: single,
                        locking_shift: locking,
                    };
                    let mut out = Vec::new();
                    spec.write(&mut out);
                    let ie = concat.map_or(0, |c| if c.3 { 6 } else { 5 })
                        + single.map_or(0, |_| 3)
                        + locking.map_or(0, |_| 3);
                    assert_eq!(out.len(), udh_len(ie));
                    if out.is_empty() {
                        continue;
                    }
                    let udh = parse_udh(&out).unwrap();
                    assert_eq!(udh.len, out.len());
                    let expect = concat.map(|(r, t, s, w)| (if w { r } else { r & 0xFF }, t, s, w));
                    assert_eq!(udh.concat, expect);
                    assert_eq!(udh.single_shift, single.map(|l| l.id()));
                    assert_eq!(udh.locking_shift, locking.map(|l| l.id()));
                }
            }
        }
    }

    #[test]
    fn known_bytes() {
        let spec = UdhSpec {
            concat: Some((0x42, 2, 1, false)),
            single_shift: None,
            locking_shift: None,
        };
        let mut out = Vec::new();
        spec.write(&mut out);
        assert_eq!(out, [0x05, 0x00, 0x03, 0x42, 0x02, 0x01]);
    }

    #[test]
    fn rejects_truncated_headers() {
        assert!(parse_udh(&[]).is_err());
        assert!(parse_udh(&[0x05, 0x00, 0x03, 0x01]).is_err());
        assert!(parse_udh(&[0x02, 0x00, 0x03]).is_err());
        assert!(parse_udh(&[0x03, 0x00, 0x01, 0x01]).is_err());
        // Unknown IE skipped.
        assert_eq!(parse_udh(&[0x03, 0x70, 0x01, 0xAA]).unwrap().len, 4);
    }
}
