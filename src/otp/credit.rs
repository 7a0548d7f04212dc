//! Credit per tenant (`[[tenants]] credit`): a prepaid balance, or a cap per UTC month. A
//! create or resend reserves its estimated cost and is refused when that would pass the
//! credit; the reservation is settled when the send is (replaced by what the routes charged,
//! released when no SMSC accepted anything). The amounts spent live in a [`CreditLedger`]: in
//! process for the memory store, in Redis (one script per tenant key, shared by every node)
//! for the Redis store.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde::Deserialize;

use super::identity::TenantTag;
use super::model::Cost;
use super::store_error::StoreError;

/// `[[tenants]] credit`: exactly one of the two, in `[otp] currency`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct CreditConfig {
    /// Prepaid credit: everything the tenant may ever be charged (raise it to top up).
    pub balance: Option<f64>,
    /// Most the tenant may be charged per calendar month (UTC).
    pub monthly_cap: Option<f64>,
}

/// Highest credit accepted (keeps every sum of micro-units far from overflowing).
pub const MAX_CREDIT: f64 = 1e9;

impl CreditConfig {
    /// Why the setting is wrong, if it is.
    pub fn check(&self) -> Result<(), &'static str> {
        match (self.balance, self.monthly_cap) {
            (Some(v), None) | (None, Some(v))
                if v.is_finite() && (0.0..=MAX_CREDIT).contains(&v) =>
            {
                Ok(())
            }
            (Some(_), Some(_)) => Err("set either balance or monthly_cap, not both"),
            (None, None) => Err("set balance or monthly_cap"),
            _ => Err("must be a number from 0 to 1e9"),
        }
    }

    pub fn limit(&self) -> Option<CreditLimit> {
        match (self.balance, self.monthly_cap) {
            (Some(b), None) => Some(CreditLimit::Balance(Cost::micros(b))),
            (None, Some(c)) => Some(CreditLimit::MonthlyCap(Cost::micros(c))),
            _ => None,
        }
    }
}

/// A tenant's credit, in micro-units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreditLimit {
    Balance(u64),
    MonthlyCap(u64),
}

impl CreditLimit {
    fn amount(self) -> u64 {
        match self {
            CreditLimit::Balance(a) | CreditLimit::MonthlyCap(a) => a,
        }
    }

    /// The period an amount spent at `unix` (seconds) counts in: 0 for a balance (one period
    /// forever), `YYYYMM` of the UTC month for a cap.
    pub fn period(self, unix: u32) -> u32 {
        match self {
            CreditLimit::Balance(_) => 0,
            CreditLimit::MonthlyCap(_) => {
                let t = time::OffsetDateTime::from_unix_timestamp(i64::from(unix))
                    .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
                u32::try_from(t.year()).unwrap_or(0) * 100 + u32::from(u8::from(t.month()))
            }
        }
    }
}

/// Refused: `needed` micro-units would pass the credit, of which `available` remain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OverCredit {
    pub needed: u64,
    pub available: u64,
}

/// Where the amounts spent per tenant and period are kept.
#[async_trait::async_trait]
pub trait CreditLedger: Send + Sync + 'static {
    /// Adds `amount` to what `tenant` spent in `period` unless that would pass `limit`; then
    /// answers what remains available.
    async fn reserve(
        &self,
        tenant: TenantTag,
        period: u32,
        limit: u64,
        amount: u64,
    ) -> Result<Result<(), OverCredit>, StoreError>;
    /// Adds `delta` (negative: a release) to what `tenant` spent in `period`, never below 0.
    async fn adjust(&self, tenant: TenantTag, period: u32, delta: i64) -> Result<(), StoreError>;
    /// What `tenant` spent in `period`.
    async fn spent(&self, tenant: TenantTag, period: u32) -> Result<u64, StoreError>;
}

/// The in-process ledger: one counter per tenant with credit and period; the periods before
/// the previous one are forgotten as new ones start, so it stays bounded.
#[derive(Default)]
pub struct MemoryLedger {
    spent: Mutex<HashMap<(TenantTag, u32), u64>>,
}

impl MemoryLedger {
    fn with<R>(&self, f: impl FnOnce(&mut HashMap<(TenantTag, u32), u64>) -> R) -> R {
        let mut m = self.spent.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut m)
    }
}

/// The month before `period` (`YYYYMM`; 0 stays 0).
fn previous(period: u32) -> u32 {
    match period {
        0 => 0,
        p if p % 100 == 1 => p - 100 + 11,
        p => p - 1,
    }
}

#[async_trait::async_trait]
impl CreditLedger for MemoryLedger {
    async fn reserve(
        &self,
        tenant: TenantTag,
        period: u32,
        limit: u64,
        amount: u64,
    ) -> Result<Result<(), OverCredit>, StoreError> {
        Ok(self.with(|m| {
            if !m.contains_key(&(tenant, period)) {
                let keep = previous(period);
                m.retain(|(t, p), _| *t != tenant || *p >= keep);
            }
            let spent = m.entry((tenant, period)).or_insert(0);
            let after = spent.saturating_add(amount);
            if after > limit {
                return Err(OverCredit {
                    needed: amount,
                    available: limit.saturating_sub(*spent),
                });
            }
            *spent = after;
            Ok(())
        }))
    }

    async fn adjust(&self, tenant: TenantTag, period: u32, delta: i64) -> Result<(), StoreError> {
        self.with(|m| {
            if let Some(spent) = m.get_mut(&(tenant, period)) {
                *spent = spent.saturating_add_signed(delta);
            } else if delta > 0 {
                m.insert((tenant, period), delta.unsigned_abs());
            }
        });
        Ok(())
    }

    async fn spent(&self, tenant: TenantTag, period: u32) -> Result<u64, StoreError> {
        Ok(self.with(|m| m.get(&(tenant, period)).copied().unwrap_or(0)))
    }
}

/// The credit of every tenant that has one, and the ledger that keeps what they spent.
pub struct Credit {
    /// Replaced whole by a configuration reload; what was spent stays in the ledger.
    limits: arc_swap::ArcSwap<HashMap<TenantTag, CreditLimit>>,
    ledger: Arc<dyn CreditLedger>,
}

impl Credit {
    pub fn new(
        limits: impl IntoIterator<Item = (TenantTag, CreditLimit)>,
        ledger: Arc<dyn CreditLedger>,
    ) -> Self {
        Self {
            limits: arc_swap::ArcSwap::from_pointee(limits.into_iter().collect()),
            ledger,
        }
    }

    /// The tenants' credit from now on (a reload): what each spent is kept.
    pub fn set_limits(&self, limits: impl IntoIterator<Item = (TenantTag, CreditLimit)>) {
        self.limits
            .store(std::sync::Arc::new(limits.into_iter().collect()));
    }

    pub fn is_empty(&self) -> bool {
        self.limits.load().is_empty()
    }

    pub fn limit_of(&self, tenant: TenantTag) -> Option<CreditLimit> {
        self.limits.load().get(&tenant).copied()
    }

    /// Reserves `amount` for a send of an OTP created at `created` (its period); `Ok` at once
    /// for a tenant without credit.
    pub async fn reserve(
        &self,
        tenant: TenantTag,
        created: u32,
        amount: u64,
    ) -> Result<Result<(), OverCredit>, StoreError> {
        let Some(limit) = self.limit_of(tenant) else {
            return Ok(Ok(()));
        };
        self.ledger
            .reserve(tenant, limit.period(created), limit.amount(), amount)
            .await
    }

    /// Replaces a reservation of `reserved` by the `charged` amount (0: released).
    pub async fn settle(
        &self,
        tenant: TenantTag,
        created: u32,
        reserved: u64,
        charged: u64,
    ) -> Result<(), StoreError> {
        let Some(limit) = self.limit_of(tenant) else {
            return Ok(());
        };
        let delta = i128::from(charged) - i128::from(reserved);
        let delta = i64::try_from(delta).unwrap_or(if delta < 0 { i64::MIN } else { i64::MAX });
        if delta == 0 {
            return Ok(());
        }
        self.ledger
            .adjust(tenant, limit.period(created), delta)
            .await
    }

    /// What `tenant` spent (reservations included) in the period of `now`.
    pub async fn spent(&self, tenant: TenantTag, now: u32) -> Result<Option<u64>, StoreError> {
        let Some(limit) = self.limit_of(tenant) else {
            return Ok(None);
        };
        Ok(Some(self.ledger.spent(tenant, limit.period(now)).await?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::executor::block_on;

    #[test]
    fn settings_take_one_kind_of_credit() {
        let ok = |b: Option<f64>, c: Option<f64>| {
            CreditConfig {
                balance: b,
                monthly_cap: c,
            }
            .check()
        };
        assert!(ok(Some(100.0), None).is_ok());
        assert!(ok(None, Some(0.0)).is_ok());
        assert!(ok(Some(1.0), Some(1.0)).is_err());
        assert!(ok(None, None).is_err());
        assert!(ok(Some(-1.0), None).is_err());
        assert!(ok(None, Some(f64::INFINITY)).is_err());
    }

    #[test]
    fn months_are_utc_periods() {
        let cap = CreditLimit::MonthlyCap(1);
        // 2026-01-31T23:59:59Z and a second later
        assert_eq!(cap.period(1_769_903_999), 202_601);
        assert_eq!(cap.period(1_769_904_000), 202_602);
        assert_eq!(CreditLimit::Balance(1).period(1_769_904_000), 0);
        assert_eq!(previous(202_601), 202_512);
        assert_eq!(previous(202_602), 202_601);
    }

    #[test]
    fn reservations_stop_at_the_credit_and_settle() {
        let credit = Credit::new(
            [(TenantTag::of("a"), CreditLimit::Balance(100_000))],
            Arc::new(MemoryLedger::default()),
        );
        let a = TenantTag::of("a");
        assert_eq!(block_on(credit.reserve(a, 0, 60_000)).unwrap(), Ok(()));
        assert_eq!(
            block_on(credit.reserve(a, 0, 60_000)).unwrap(),
            Err(OverCredit {
                needed: 60_000,
                available: 40_000
            })
        );
        // nothing accepted: released
        block_on(credit.settle(a, 0, 60_000, 0)).unwrap();
        assert_eq!(block_on(credit.reserve(a, 0, 60_000)).unwrap(), Ok(()));
        block_on(credit.settle(a, 0, 60_000, 35_000)).unwrap();
        assert_eq!(block_on(credit.spent(a, 0)).unwrap(), Some(35_000));
        // a tenant without credit is never refused
        let b = TenantTag::of("b");
        assert_eq!(block_on(credit.reserve(b, 0, u64::MAX)).unwrap(), Ok(()));
        assert_eq!(block_on(credit.spent(b, 0)).unwrap(), None);
    }
}
