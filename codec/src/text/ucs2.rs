//! UCS-2 as SMSCs use it today: UTF-16 big-endian, characters outside the BMP as surrogate
//! pairs (which the splitter never cuts in two).

use super::TextError;

/// Appends `text` as big-endian UTF-16 units.
#[inline]
pub(crate) fn push_str(text: &str, out: &mut Vec<u8>) {
    for unit in text.encode_utf16() {
        out.extend_from_slice(&unit.to_be_bytes());
    }
}

/// Decodes UTF-16BE, appending to `out`. An odd length or an unpaired surrogate is an error.
pub(crate) fn decode_into(data: &[u8], out: &mut String) -> Result<(), TextError> {
    let chunks = data.chunks_exact(2);
    if !chunks.remainder().is_empty() {
        return Err(TextError::OddUcs2Length { len: data.len() });
    }
    let units = chunks.map(|c| match c {
        &[hi, lo] => u16::from_be_bytes([hi, lo]),
        _ => 0,
    });
    let mut offset = 0usize;
    for r in char::decode_utf16(units) {
        match r {
            Ok(ch) => {
                out.push(ch);
                offset = offset.saturating_add(ch.len_utf16().saturating_mul(2));
            }
            Err(e) => {
                return Err(TextError::UnpairedSurrogate {
                    offset,
                    unit: e.unpaired_surrogate(),
                })
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_with_surrogates() {
        let text = "Код 1234 😀";
        let mut enc = Vec::new();
        push_str(text, &mut enc);
        assert_eq!(enc.len(), text.encode_utf16().count() * 2);
        assert_eq!(&enc[enc.len() - 4..], &[0xD8, 0x3D, 0xDE, 0x00]);
        let mut back = String::new();
        decode_into(&enc, &mut back).unwrap();
        assert_eq!(back, text);
    }

    #[test]
    fn rejects_bad_input() {
        let mut s = String::new();
        assert_eq!(
            decode_into(&[0x00], &mut s),
            Err(TextError::OddUcs2Length { len: 1 })
        );
        assert_eq!(
            decode_into(&[0x00, 0x41, 0xD8, 0x3D], &mut s),
            Err(TextError::UnpairedSurrogate {
                offset: 2,
                unit: 0xD83D
            })
        );
    }
}
