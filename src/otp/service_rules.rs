//! The service's use of the sender rules (`[senders]`) and of the tenants' credit: what a
//! create or resend asks of them, in the service's own errors.

use super::credit::CreditLimit;
use super::identity::TenantTag;
use super::sender_rules::SendersConfig;
use super::service::{blocked, OtpError, OtpService};
use super::tenant::Tenant;

impl OtpService {
    /// The sender rules per destination country (`[senders]`); none by default.
    pub fn with_senders(mut self, senders: SendersConfig) -> Self {
        senders.register_metrics();
        self.senders = senders;
        self
    }

    /// The sender that goes out for `sender` of `tenant` to `country` (`[senders]`).
    pub(super) fn outgoing_sender(
        &self,
        tenant: &Tenant,
        country: &str,
        sender: String,
    ) -> Result<String, OtpError> {
        self.senders
            .apply(&tenant.config.numeric_senders, country, sender)
            .map_err(|refused| {
                tracing::info!(
                    tenant = tenant.name(),
                    country,
                    "sender refused by the country's rule"
                );
                OtpError::SenderRefused(refused)
            })
    }

    /// The sender used when a request has none: the tenant's, else `[otp] default_sender`.
    pub(super) fn default_sender<'a>(&'a self, tenant: &'a Tenant) -> &'a str {
        if tenant.config.default_sender.is_empty() {
            &self.otp.default_sender
        } else {
            &tenant.config.default_sender
        }
    }
}

impl OtpService {
    /// Reserves `amount` micro-units of `tenant`'s credit for a send of an OTP created at
    /// `created`: refused when it would pass the credit. The store being unreachable refuses
    /// too (503), rather than sending without knowing.
    pub(super) async fn reserve_credit(
        &self,
        tenant: TenantTag,
        created: u32,
        amount: u64,
    ) -> Result<(), OtpError> {
        let Some(credit) = &self.credit else {
            return Ok(());
        };
        match credit.reserve(tenant, created, amount).await? {
            Ok(()) => Ok(()),
            Err(over) => {
                blocked("credit");
                Err(OtpError::CreditExceeded {
                    needed: over.needed as f64 / 1e6,
                    available: over.available as f64 / 1e6,
                    currency: self.otp.currency.clone(),
                    credit: match credit.limit_of(tenant) {
                        Some(CreditLimit::MonthlyCap(_)) => "monthly cap",
                        _ => "prepaid balance",
                    },
                })
            }
        }
    }

    /// Gives back a reservation whose SMS was never handed to the engine.
    pub(super) async fn release_credit(&self, tenant: TenantTag, created: u32, amount: u64) {
        let Some(credit) = &self.credit else {
            return;
        };
        if let Err(e) = credit.settle(tenant, created, amount, 0).await {
            tracing::warn!(error = %e, "could not release a credit reservation");
        }
    }
}
