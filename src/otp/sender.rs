//! Sender ID (`from`) validation: alphanumeric 3-11 GSM characters, or numeric up to 15 digits
//! (a short code or a long number).

use super::text::is_gsm_basic;

/// What kind of originator a sender ID is; the engine derives TON/NPI from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SenderKind {
    /// TON 5 (alphanumeric), NPI 0.
    Alphanumeric,
    /// 3-8 digits: TON 3 (network specific), NPI 0.
    ShortCode,
    /// 9-15 digits: TON 1 (international), NPI 1 (E.164).
    LongNumber,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SenderError {
    #[error("a sender ID is 3 to 15 characters")]
    Length,
    #[error("an alphanumeric sender ID is at most 11 GSM characters")]
    Alphanumeric,
}

/// Classifies `s`; a leading `+` of a long number is accepted.
pub fn parse_sender(s: &str) -> Result<SenderKind, SenderError> {
    let digits = s.strip_prefix('+').unwrap_or(s);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        return match digits.len() {
            3..=8 if digits.len() == s.len() => Ok(SenderKind::ShortCode),
            3..=15 => Ok(SenderKind::LongNumber),
            _ => Err(SenderError::Length),
        };
    }
    let n = s.chars().count();
    if !(3..=11).contains(&n) {
        return Err(if n > 11 && n <= 15 {
            SenderError::Alphanumeric
        } else {
            SenderError::Length
        });
    }
    let printable = s.chars().all(|c| is_gsm_basic(c) && c != '\n' && c != '\r');
    let trimmed = s.trim() == s;
    if printable && trimmed {
        Ok(SenderKind::Alphanumeric)
    } else {
        Err(SenderError::Alphanumeric)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn senders() {
        assert_eq!(parse_sender("Verify"), Ok(SenderKind::Alphanumeric));
        assert_eq!(parse_sender("My Bank"), Ok(SenderKind::Alphanumeric));
        assert_eq!(parse_sender("12345"), Ok(SenderKind::ShortCode));
        assert_eq!(parse_sender("447911123456"), Ok(SenderKind::LongNumber));
        assert_eq!(parse_sender("+447911123456"), Ok(SenderKind::LongNumber));
        assert!(parse_sender("ab").is_err());
        assert!(parse_sender("TwelveChars!").is_err());
        assert!(parse_sender("1234567890123456").is_err());
        assert!(parse_sender("Bänk€").is_err());
        assert!(parse_sender(" Bank").is_err());
        assert!(parse_sender("Банк").is_err());
    }
}
