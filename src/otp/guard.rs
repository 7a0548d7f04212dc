//! The pumping guard as the OTP service sees it: per-node counters ([`AbuseGuard`]) with the
//! in-memory store, counters shared by every node with a shared store.

use async_trait::async_trait;

use super::abuse::{AbuseGuard, Blocked};
use super::identity::LimitKey;
use super::phone::Phone;
use super::store_error::StoreError;

/// Prefix velocity, country daily caps and the conversion guard. Prefix velocity and
/// conversion count each tenant's traffic apart (`tenant`); the country caps are one budget
/// for the whole deployment.
#[async_trait]
pub trait PumpingGuard: Send + Sync + 'static {
    /// Checks every limit for a create to `phone` at `now` (UNIX seconds) and, when it
    /// passes, counts it.
    async fn admit(
        &self,
        tenant: LimitKey,
        phone: &Phone,
        now: u32,
    ) -> Result<Result<(), Blocked>, StoreError>;
    /// [`admit`](Self::admit) at once, when that needs no waiting (counters in this process):
    /// a create spares the boxed future of the call. `None` sends the caller to `admit`.
    fn admit_now(
        &self,
        tenant: LimitKey,
        phone: &Phone,
        now: u32,
    ) -> Option<Result<Result<(), Blocked>, StoreError>> {
        let _ = (tenant, phone, now);
        None
    }
    /// Counts a verified OTP for the conversion ratio of its prefix.
    async fn verified(&self, tenant: LimitKey, phone: &Phone, now: u32) -> Result<(), StoreError>;
}

#[async_trait]
impl PumpingGuard for AbuseGuard {
    async fn admit(
        &self,
        tenant: LimitKey,
        phone: &Phone,
        now: u32,
    ) -> Result<Result<(), Blocked>, StoreError> {
        Ok(AbuseGuard::admit(self, tenant, phone, now))
    }

    fn admit_now(
        &self,
        tenant: LimitKey,
        phone: &Phone,
        now: u32,
    ) -> Option<Result<Result<(), Blocked>, StoreError>> {
        Some(Ok(AbuseGuard::admit(self, tenant, phone, now)))
    }

    async fn verified(&self, tenant: LimitKey, phone: &Phone, now: u32) -> Result<(), StoreError> {
        AbuseGuard::verified(self, tenant, phone, now);
        Ok(())
    }
}
