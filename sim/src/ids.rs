//! Message ids from one atomic counter, written as hex or decimal without a heap `String`, and
//! the `YYMMDDhhmm` dates of receipt text.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;

/// The first message id. Real SMSCs hand out long ids; starting at 0x10000000 keeps the hex
/// form of every id (8 digits, read as decimal at most 99,999,999) and the decimal form (9 or
/// more digits) from ever naming another issued id, as small ids would ("10" in hex is 16, in
/// decimal 10).
pub const FIRST_ID: u64 = 0x1000_0000;

/// Hands out message ids from [`FIRST_ID`] on.
#[derive(Debug)]
pub struct IdGenerator(AtomicU64);

impl IdGenerator {
    pub fn new() -> Self {
        Self(AtomicU64::new(FIRST_ID))
    }
    pub fn next(&self) -> u64 {
        self.0.fetch_add(1, Relaxed)
    }
}

impl Default for IdGenerator {
    fn default() -> Self {
        Self::new()
    }
}

/// Writes `n` in `radix` (10 or 16, lowercase) into a stack buffer.
fn write_radix(mut n: u64, radix: u64, buf: &mut [u8; 20]) -> &[u8] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = DIGITS[(n % radix) as usize];
        n /= radix;
        if n == 0 {
            break;
        }
    }
    &buf[i..]
}

pub fn hex_id(n: u64) -> Bytes {
    let mut buf = [0u8; 20];
    Bytes::copy_from_slice(write_radix(n, 16, &mut buf))
}

pub fn decimal_id(n: u64) -> Bytes {
    let mut buf = [0u8; 20];
    Bytes::copy_from_slice(write_radix(n, 10, &mut buf))
}

/// Now as `YYMMDDhhmm` (UTC), the date format of receipt text.
pub fn receipt_date_now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    receipt_date(secs)
}

/// `YYMMDDhhmm` of a UNIX time (UTC), by the civil-from-days algorithm.
pub fn receipt_date(unix_secs: u64) -> String {
    let days = (unix_secs / 86_400) as i64;
    let rem = unix_secs % 86_400;
    let (hh, mm) = (rem / 3600, (rem % 3600) / 60);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{:02}{:02}{:02}{:02}{:02}", y % 100, m, d, hh, mm)
}

/// Milliseconds since the UNIX epoch.
pub fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_ids() {
        assert_eq!(&hex_id(0)[..], b"0");
        assert_eq!(&hex_id(255)[..], b"ff");
        assert_eq!(&hex_id(u64::MAX)[..], b"ffffffffffffffff");
        assert_eq!(&decimal_id(1234567890)[..], b"1234567890");
        assert_eq!(&decimal_id(u64::MAX)[..], b"18446744073709551615");
    }

    #[test]
    fn formats_dates() {
        assert_eq!(receipt_date(0), "7001010000");
        // 2024-02-29 13:45:00 UTC
        assert_eq!(receipt_date(1_709_214_300), "2402291345");
    }
}
