//! SMS-pumping protection beyond the per-number limit: create velocity per number prefix,
//! daily caps per destination country, and a conversion guard that refuses a prefix whose
//! verified / created ratio has collapsed (the signature of pumped traffic: many OTPs to a
//! range of numbers, none ever verified). Counters are sliding windows (the previous fixed
//! window weighted by its remaining overlap, plus the current one), a few bytes per prefix.
//! Prefix velocity and conversion are counted per tenant (one tenant's traffic neither
//! throttles nor reveals itself to another); the country caps are one deployment-wide budget.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::time::Duration;

use dashmap::DashMap;

use crate::otp::settings::AbuseConfig;

use super::identity::LimitKey;
use super::phone::Phone;
use super::window::SlidingWindow;

/// Seconds in a (UTC) day.
pub const DAY_S: u32 = 86_400;

/// Why the pumping guard refused a create.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Blocked {
    #[error("too many OTPs to this number range: try again later")]
    PrefixVelocity { retry_after: Duration },
    #[error("the daily cap of OTPs to this country is reached")]
    CountryDailyCap { retry_after: Duration },
    #[error("too few OTPs to this number range are verified: it is throttled")]
    LowConversion { retry_after: Duration },
}

impl Blocked {
    /// The `reason` of the error and of `otpgate_blocked_total`.
    pub fn reason(&self) -> &'static str {
        match self {
            Blocked::PrefixVelocity { .. } => "prefix_velocity",
            Blocked::CountryDailyCap { .. } => "country_daily_cap",
            Blocked::LowConversion { .. } => "low_conversion",
        }
    }

    pub fn retry_after(&self) -> Duration {
        match self {
            Blocked::PrefixVelocity { retry_after }
            | Blocked::CountryDailyCap { retry_after }
            | Blocked::LowConversion { retry_after } => *retry_after,
        }
    }
}

/// The country daily caps of an [`AbuseConfig`]: a cap per country (0 = none) and the UTC
/// day it counts in, for the in-memory and the shared guard alike.
#[derive(Debug, Clone)]
pub struct CountryCaps {
    caps: BTreeMap<[u8; 2], u32>,
    default: u32,
}

impl CountryCaps {
    pub fn new(cfg: &AbuseConfig) -> Self {
        let caps = cfg
            .country_daily_caps
            .iter()
            .filter_map(|(k, v)| {
                let b = k.as_bytes();
                Some(([*b.first()?, *b.get(1)?], *v))
            })
            .collect();
        Self {
            caps,
            default: cfg.country_daily_default,
        }
    }

    /// Creates a day to `country`; 0 = unlimited.
    pub fn cap(&self, country: [u8; 2]) -> u32 {
        self.caps.get(&country).copied().unwrap_or(self.default)
    }

    /// The UTC day (days since the UNIX epoch) of `now`.
    pub fn day(now: u32) -> u32 {
        now / DAY_S
    }

    /// The refusal of a create at `now` to a country whose cap is reached: it may try again
    /// on the next UTC day.
    pub fn reached(now: u32) -> Blocked {
        let next_day = Self::day(now).saturating_add(1).saturating_mul(DAY_S);
        Blocked::CountryDailyCap {
            retry_after: Duration::from_secs(u64::from(next_day.saturating_sub(now).max(1))),
        }
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct PrefixEntry {
    creates: SlidingWindow<u32>,
    conv_created: SlidingWindow<u32>,
    conv_verified: SlidingWindow<u32>,
    last: u32,
}

#[derive(Debug, Clone, Copy, Default)]
struct DayCount {
    day: u32,
    count: u32,
}

/// The pumping guard's state (in memory, per node).
#[derive(Debug)]
pub struct AbuseGuard {
    cfg: AbuseConfig,
    caps: CountryCaps,
    prefixes: DashMap<(LimitKey, u64), PrefixEntry>,
    countries: DashMap<[u8; 2], DayCount>,
}

thread_local! {
    /// Creates this thread admitted, for pruning every 4096th: a count of its own, where one
    /// shared by the HTTP workers was written by both on every create.
    static ADMITTED: Cell<u32> = const { Cell::new(0) };
}

impl AbuseGuard {
    pub fn new(cfg: AbuseConfig) -> Self {
        Self {
            caps: CountryCaps::new(&cfg),
            cfg,
            prefixes: DashMap::new(),
            countries: DashMap::new(),
        }
    }

    /// Prefixes tracked now.
    pub fn tracked(&self) -> usize {
        self.prefixes.len()
    }

    /// Checks every limit for a create to `phone` at `now` (UNIX seconds) and, when it
    /// passes, counts it.
    pub fn admit(&self, tenant: LimitKey, phone: &Phone, now: u32) -> Result<(), Blocked> {
        let c = &self.cfg;
        let cap = self.caps.cap(phone.country);
        let day = CountryCaps::day(now);
        if cap > 0 {
            let count = self
                .countries
                .get(&phone.country)
                .filter(|d| d.day == day)
                .map_or(0, |d| d.count);
            if count >= cap {
                return Err(CountryCaps::reached(now));
            }
        }
        let key = (tenant, phone.prefix(c.prefix_digits));
        {
            // A prefix tracked already is taken under its shard's lock alone: the count of
            // every prefix locks each shard in turn, and is read only for a new one.
            let mut e = match self.prefixes.get_mut(&key) {
                Some(e) => e,
                None => {
                    if self.prefixes.len() >= c.max_tracked_prefixes {
                        self.prune(now);
                    }
                    self.prefixes.entry(key).or_default()
                }
            };
            let (pw, cw) = (c.prefix_window_s, c.conversion_window_s);
            e.creates.roll(now, pw);
            e.conv_created.roll(now, cw);
            e.conv_verified.roll(now, cw);
            e.last = now;
            if c.prefix_limit > 0 && e.creates.estimate(now, pw) + 1.0 > f64::from(c.prefix_limit) {
                return Err(Blocked::PrefixVelocity {
                    retry_after: e.creates.until_next(now, pw),
                });
            }
            if c.conversion_min_ratio > 0.0 {
                let created = e.conv_created.estimate(now, cw);
                let verified = e.conv_verified.estimate(now, cw);
                if created >= f64::from(c.conversion_min_sample)
                    && verified / created < c.conversion_min_ratio
                {
                    return Err(Blocked::LowConversion {
                        retry_after: e.conv_created.until_next(now, cw),
                    });
                }
            }
            e.creates.add();
            e.conv_created.add();
        }
        if cap > 0 {
            let mut d = self.countries.entry(phone.country).or_default();
            if d.day != day {
                *d = DayCount { day, count: 0 };
            }
            d.count = d.count.saturating_add(1);
        }
        if ADMITTED.with(|n| {
            let count = n.get().wrapping_add(1);
            n.set(count);
            count % 4096 == 0
        }) {
            self.prune(now);
        }
        Ok(())
    }

    /// Counts a verified OTP for the conversion ratio of its prefix.
    pub fn verified(&self, tenant: LimitKey, phone: &Phone, now: u32) {
        let key = (tenant, phone.prefix(self.cfg.prefix_digits));
        if let Some(mut e) = self.prefixes.get_mut(&key) {
            let cw = self.cfg.conversion_window_s;
            e.conv_created.roll(now, cw);
            e.conv_verified.roll(now, cw);
            e.conv_verified.add();
        }
    }

    /// Forgets prefixes idle for longer than both windows (twice over), and countries whose
    /// day is over.
    pub fn prune(&self, now: u32) {
        let idle = 2 * self.cfg.prefix_window_s.max(self.cfg.conversion_window_s);
        self.prefixes
            .retain(|_, e| now.saturating_sub(e.last) < idle);
        let day = CountryCaps::day(now);
        self.countries.retain(|_, d| d.day == day);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: LimitKey = LimitKey::ZERO;

    fn phone(digits: u64) -> Phone {
        Phone::stored(digits, *b"FR")
    }

    fn cfg() -> AbuseConfig {
        AbuseConfig {
            prefix_digits: 2,
            ..AbuseConfig::default()
        }
    }

    #[test]
    fn prefix_velocity_spares_other_prefixes() {
        let g = AbuseGuard::new(AbuseConfig {
            prefix_limit: 3,
            ..cfg()
        });
        let t = 6_000;
        for i in 0..3 {
            assert_eq!(g.admit(T, &phone(33612345600 + i), t), Ok(()));
        }
        let e = g.admit(T, &phone(33612345699), t).unwrap_err();
        assert_eq!(e.reason(), "prefix_velocity");
        assert!(e.retry_after() >= Duration::from_secs(1));
        assert_eq!(g.admit(T, &phone(33712345600), t), Ok(()));
        // two windows later the prefix is free again
        assert_eq!(g.admit(T, &phone(33612345600), t + 120), Ok(()));
    }

    #[test]
    fn country_cap_resets_each_day() {
        let mut c = cfg();
        c.country_daily_caps.insert("FR".into(), 2);
        let g = AbuseGuard::new(c);
        let t = 10 * DAY_S + 5;
        assert_eq!(g.admit(T, &phone(33612345600), t), Ok(()));
        assert_eq!(g.admit(T, &phone(33712345600), t), Ok(()));
        let e = g.admit(T, &phone(33612345601), t).unwrap_err();
        assert_eq!(e.reason(), "country_daily_cap");
        assert_eq!(e.retry_after(), Duration::from_secs(u64::from(DAY_S - 5)));
        assert_eq!(
            g.admit(T, &Phone::stored(4915112345678, *b"DE"), t),
            Ok(()),
            "another country"
        );
        assert_eq!(g.admit(T, &phone(33612345601), 11 * DAY_S), Ok(()));
    }

    #[test]
    fn collapsed_conversion_throttles_its_prefix() {
        let g = AbuseGuard::new(AbuseConfig {
            conversion_min_ratio: 0.5,
            conversion_min_sample: 10,
            ..cfg()
        });
        let t = 36_000;
        for i in 0..10 {
            assert_eq!(g.admit(T, &phone(33612345600 + i), t), Ok(()));
            assert_eq!(g.admit(T, &phone(33712345600 + i), t), Ok(()));
            g.verified(T, &phone(33712345600 + i), t);
        }
        let e = g.admit(T, &phone(33612345611), t).unwrap_err();
        assert_eq!(e.reason(), "low_conversion");
        assert_eq!(g.admit(T, &phone(33712345611), t), Ok(()), "healthy prefix");
        // verifications on the throttled prefix bring it back
        for i in 0..6 {
            g.verified(T, &phone(33612345600 + i), t);
        }
        assert_eq!(g.admit(T, &phone(33612345611), t), Ok(()));
    }

    #[test]
    fn tenants_count_their_prefixes_apart() {
        let g = AbuseGuard::new(AbuseConfig {
            prefix_limit: 1,
            ..cfg()
        });
        let other = LimitKey::from_raw(1);
        assert_eq!(g.admit(T, &phone(33612345600), 100), Ok(()));
        assert!(g.admit(T, &phone(33612345601), 100).is_err());
        assert_eq!(g.admit(other, &phone(33612345601), 100), Ok(()));
    }

    #[test]
    fn prune_forgets_idle_prefixes() {
        let g = AbuseGuard::new(cfg());
        assert_eq!(g.admit(T, &phone(33612345600), 100), Ok(()));
        assert_eq!(g.tracked(), 1);
        g.prune(100 + 3 * 3_600);
        assert_eq!(g.tracked(), 0);
    }
}
