//! ISO-8859-1 (SMPP data_coding 0x03) and IA5/ASCII (data_coding 0x01): one octet per
//! character, nothing above U+00FF (or U+007F for ASCII).

use super::TextError;

/// The octet for `ch`, if Latin-1 has it.
#[inline]
pub(crate) fn octet(ch: char) -> Option<u8> {
    u8::try_from(u32::from(ch)).ok()
}

/// Every octet is a Latin-1 character.
pub(crate) fn decode_into(data: &[u8], out: &mut String) {
    out.extend(data.iter().map(|&b| char::from(b)));
}

/// IA5 (ASCII): an octet above 0x7F is an error.
pub(crate) fn decode_ascii_into(data: &[u8], out: &mut String) -> Result<(), TextError> {
    for (offset, &byte) in data.iter().enumerate() {
        if !byte.is_ascii() {
            return Err(TextError::InvalidByte {
                offset,
                byte,
                encoding: "IA5",
            });
        }
        out.push(char::from(byte));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latin1_bounds() {
        assert_eq!(octet('ÿ'), Some(0xFF));
        assert_eq!(octet('€'), None);
        let mut s = String::new();
        decode_into(&[0x41, 0xE9], &mut s);
        assert_eq!(s, "Aé");
        assert!(decode_ascii_into(&[0x41, 0xE9], &mut s).is_err());
    }
}
