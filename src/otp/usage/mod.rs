//! Usage per tenant and UTC day, for invoicing: OTPs created, SMS parts charged and what they
//! cost, successful verifications. Each store counts them where the OTP changes (the memory
//! store in a [`book::UsageBook`], the Redis store in one hash per tenant and day), so that
//! nothing depends on which front or node made the change. Costs are integer micro-units of
//! `[otp] currency`: sums never drift.

pub mod book;
mod file;

use serde::{Deserialize, Serialize};

use super::identity::TenantTag;
use super::store_error::StoreError;

pub use book::UsageBook;
pub use file::UsageFileError;

/// Seconds in a UTC day (UNIX time has no leap seconds).
pub const DAY_S: u32 = 86_400;
/// `[store] usage_retention_days` unless set.
pub const DEFAULT_RETENTION_DAYS: u32 = 400;
/// Most days one usage request may span.
pub const MAX_SPAN_DAYS: u32 = 400;

/// The UTC day (days since 1970-01-01) of a UNIX second.
pub fn day_of(unix: u32) -> u32 {
    unix / DAY_S
}

/// The oldest day still kept at `today` with `retention_days` of retention (today included).
pub fn oldest_kept(today: u32, retention_days: u32) -> u32 {
    (today + 1).saturating_sub(retention_days.max(1))
}

/// `YYYY-MM-DD` of a day number.
pub fn date_of(day: u32) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(i64::from(day) * i64::from(DAY_S))
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day())
}

/// The day number of a `YYYY-MM-DD` date (strictly that form), from 1970-01-01 on.
pub fn parse_date(text: &str) -> Option<u32> {
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let digits = |r: std::ops::Range<usize>| -> Option<u32> {
        let s = text.get(r)?;
        s.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| s.parse().ok())?
    };
    let year = i32::try_from(digits(0..4)?).ok()?;
    let month = time::Month::try_from(u8::try_from(digits(5..7)?).ok()?).ok()?;
    let day = u8::try_from(digits(8..10)?).ok()?;
    let date = time::Date::from_calendar_date(year, month, day).ok()?;
    let days = date.to_julian_day()
        - time::Date::from_calendar_date(1970, time::Month::January, 1)
            .ok()?
            .to_julian_day();
    u32::try_from(days).ok()
}

/// One tenant's counters for one day.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayUsage {
    /// OTPs created (answered 201; a create whose SMS the engine refused is taken back).
    pub created: u64,
    /// SMS parts the SMSCs accepted, each send and resend counted when it is charged.
    pub parts: u64,
    /// What those parts cost, in micro-units of `[otp] currency`.
    pub cost_micros: u64,
    /// Successful verifications.
    pub verified: u64,
}

impl DayUsage {
    pub fn add(&mut self, other: &DayUsage) {
        self.created = self.created.saturating_add(other.created);
        self.parts = self.parts.saturating_add(other.parts);
        self.cost_micros = self.cost_micros.saturating_add(other.cost_micros);
        self.verified = self.verified.saturating_add(other.verified);
    }

    pub fn is_zero(&self) -> bool {
        *self == DayUsage::default()
    }
}

/// A change to one tenant's counters of one day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsageEvent {
    Created,
    /// A create taken back: its SMS was never queued (the OTP was removed).
    CreateUndone,
    Charged {
        parts: u64,
        cost_micros: u64,
    },
    Verified,
}

/// Where usage is counted and read.
#[async_trait::async_trait]
pub trait UsageStore: Send + Sync + 'static {
    /// `tenant`'s counters of each day from `first` to `last` (day numbers, both included)
    /// that has any, oldest first.
    async fn usage(
        &self,
        tenant: TenantTag,
        first: u32,
        last: u32,
    ) -> Result<Vec<(u32, DayUsage)>, StoreError>;
    /// How many days (today included) the counters are kept.
    fn usage_retention_days(&self) -> u32;
    /// Writes the counters where they outlast the process when that is not the store itself
    /// (the memory store's state file); blocking, call off the runtime's workers.
    fn persist_usage(&self) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_utc_days() {
        // 2026-12-03T00:00:00Z
        let day = day_of(1_796_256_000);
        assert_eq!(date_of(day), "2026-12-03");
        assert_eq!(parse_date("2026-12-03"), Some(day));
        assert_eq!(day_of(1_796_256_000 - 1), day - 1);
        assert_eq!(parse_date("1970-01-01"), Some(0));
        assert_eq!(
            parse_date("2024-02-29").map(date_of).as_deref(),
            Some("2024-02-29")
        );
        for bad in [
            "2026-02-30",
            "2026-13-01",
            "2026-1-01",
            "20261203",
            "2026-12-03 ",
            "+026-12-03",
            "1969-12-31",
            "",
            "2026-12-0x",
        ] {
            assert_eq!(parse_date(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn the_kept_days_end_today() {
        assert_eq!(oldest_kept(1000, 400), 601);
        assert_eq!(oldest_kept(1000, 1), 1000);
        assert_eq!(oldest_kept(10, 400), 0);
    }
}
