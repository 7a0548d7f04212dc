//! Addresses and times of a submit_sm: TON/NPI derived from what a sender or destination looks
//! like, the validity_period in SMPP time format, and phone numbers masked for logs.

use std::time::{Duration, SystemTime};

use otpgate_codec::pdu::{Address, COctetString};

use super::config::{TonNpiConfig, ValidityFormat};

/// What kind of address a sender ID is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressKind {
    Alphanumeric,
    ShortCode,
    International,
}

/// Longest number treated as a short code.
const SHORT_CODE_MAX_DIGITS: usize = 8;

pub fn kind_of(addr: &str) -> AddressKind {
    let digits = addr.strip_prefix('+').unwrap_or(addr);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        AddressKind::Alphanumeric
    } else if !addr.starts_with('+') && digits.len() <= SHORT_CODE_MAX_DIGITS {
        AddressKind::ShortCode
    } else {
        AddressKind::International
    }
}

/// The source address of a submit_sm for `sender`.
pub fn source_address(sender: &str, ton_npi: &TonNpiConfig) -> Address {
    let (pair, text) = match kind_of(sender) {
        AddressKind::Alphanumeric => (ton_npi.alphanumeric, sender),
        AddressKind::ShortCode => (ton_npi.short_code, sender),
        AddressKind::International => (
            ton_npi.international,
            sender.strip_prefix('+').unwrap_or(sender),
        ),
    };
    Address {
        ton: pair[0],
        npi: pair[1],
        addr: COctetString::from(text),
    }
}

/// The destination address of a submit_sm for an E.164 number.
pub fn destination_address(e164: &str, pair: [u8; 2]) -> Address {
    Address {
        ton: pair[0],
        npi: pair[1],
        addr: COctetString::from(e164.strip_prefix('+').unwrap_or(e164)),
    }
}

/// The validity_period for a message expiring at `expires_at`, or `None` when it already has.
pub fn validity_period(
    format: ValidityFormat,
    expires_at: SystemTime,
    now: SystemTime,
) -> Option<SmppTime> {
    let left = expires_at.duration_since(now).ok()?;
    if left < Duration::from_secs(1) {
        return None;
    }
    Some(match format {
        ValidityFormat::Relative => relative(left),
        ValidityFormat::Absolute => absolute(expires_at),
    })
}

/// `YYMMDDhhmmss000R`: years and months 0, days up to 99, whole seconds rounded down.
fn relative(left: Duration) -> SmppTime {
    let secs = left.as_secs().min(99 * 86_400 + 86_399);
    let (d, rest) = (secs / 86_400, secs % 86_400);
    let (h, rest) = (rest / 3_600, rest % 3_600);
    let (m, s) = (rest / 60, rest % 60);
    smpp_time([0, 0, d, h, m, s], 0, b'R')
}

/// `YYMMDDhhmmsst00+` in UTC.
fn absolute(at: SystemTime) -> SmppTime {
    let t = time::OffsetDateTime::from(at);
    let fields = [
        u64::from(t.year().rem_euclid(100).unsigned_abs()),
        u64::from(u8::from(t.month())),
        u64::from(t.day()),
        u64::from(t.hour()),
        u64::from(t.minute()),
        u64::from(t.second()),
    ];
    smpp_time(fields, t.millisecond() / 100, b'+')
}

/// An SMPP time (`YYMMDDhhmmsstnnp`), 16 ASCII characters, kept on the stack: every
/// submit_sm carries one.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SmppTime([u8; 16]);

impl SmppTime {
    pub fn as_str(&self) -> &str {
        // only ASCII digits and `R`/`+` are ever written
        std::str::from_utf8(&self.0).unwrap_or("")
    }
}

impl std::fmt::Debug for SmppTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for SmppTime {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// An SMPP time: six fields of two digits (each below 100), tenths, `00` and `kind` (written
/// digit by digit, not through `format!`).
fn smpp_time(fields: [u64; 6], tenths: u16, kind: u8) -> SmppTime {
    let digit = |v: u64| b'0' + (v % 10) as u8;
    let mut out = [0u8; 16];
    let (pairs, tail) = out.split_at_mut(12);
    for (pair, v) in pairs.chunks_exact_mut(2).zip(fields) {
        pair.copy_from_slice(&[digit(v / 10), digit(v)]);
    }
    tail.copy_from_slice(&[digit(u64::from(tenths)), b'0', b'0', kind]);
    SmppTime(out)
}

/// A phone number for logs: everything but the last 3 digits masked.
pub fn mask(number: &str) -> String {
    crate::logging::mask_phone(number)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ton_npi_follow_the_sender() {
        let t = TonNpiConfig::default();
        let a = source_address("Verify", &t);
        assert_eq!((a.ton, a.npi, a.addr.to_string()), (5, 0, "Verify".into()));
        let s = source_address("12345", &t);
        assert_eq!((s.ton, s.npi), (3, 0));
        let i = source_address("+447700900123", &t);
        assert_eq!(
            (i.ton, i.npi, i.addr.to_string()),
            (1, 1, "447700900123".into())
        );
        let long = source_address("447700900123", &t);
        assert_eq!((long.ton, long.npi), (1, 1));
        let custom = TonNpiConfig {
            alphanumeric: [5, 9],
            ..t
        };
        assert_eq!(source_address("ACME", &custom).npi, 9);
        let d = destination_address("+33612345678", [1, 1]);
        assert_eq!(d.addr.to_string(), "33612345678");
    }

    #[test]
    fn relative_validity() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let v = |s| validity_period(ValidityFormat::Relative, now + Duration::from_secs(s), now);
        assert_eq!(v(600).unwrap(), "000000001000000R");
        assert_eq!(v(90_061).unwrap(), "000001010101000R");
        // at most 99 days, 23:59:59
        assert_eq!(v(200 * 86_400).unwrap(), "000099235959000R");
        assert_eq!(v(0), None);
        assert_eq!(
            validity_period(ValidityFormat::Relative, now, now + Duration::from_secs(5)),
            None
        );
    }

    #[test]
    fn absolute_validity_is_utc() {
        // 2024-03-05 14:07:09.3 UTC
        let at = SystemTime::UNIX_EPOCH + Duration::from_millis(1_709_647_629_300);
        let now = at - Duration::from_secs(300);
        assert_eq!(
            validity_period(ValidityFormat::Absolute, at, now).unwrap(),
            "240305140709300+"
        );
        // 2009-12-31 23:59:59.999 UTC: every field at its widest
        let at = SystemTime::UNIX_EPOCH + Duration::from_millis(1_262_303_999_999);
        assert_eq!(
            validity_period(
                ValidityFormat::Absolute,
                at,
                now - Duration::from_secs(1 << 30)
            )
            .unwrap(),
            "091231235959900+"
        );
    }

    #[test]
    fn masking_keeps_the_last_three_digits() {
        assert_eq!(mask("+447700900123"), "+*********123");
        assert_eq!(mask("123"), "123");
    }
}
