//! Resend: a new PIN for a pending OTP, sent again. The old PIN stops verifying at once; the
//! resend is limited per OTP (`[limits] max_resends`) and is an SMS like a create: it passes
//! the pumping guard and the per-number limits (and, at the HTTP front, the tenant's rate).
//! The wrong tries already made still count (maxAttempts bounds guessing over the whole life
//! of the OTP).

use crate::telemetry::names;
use std::time::Duration;

use super::model::DeliveryStatus;
use super::model::{Cost, OtpId, OtpStatus, OtpView, Record};
use super::phone::Phone;
use super::pin;
use super::service::{blocked, dispatch_refused, OtpError, OtpService};
use super::store::{DeliveryChange, ResendError};
use super::tenant::Tenant;
use super::text::render;
use super::tlv_values::tlv_values;

impl OtpService {
    /// `POST /otp/{otpId}/resend`.
    pub async fn resend(&self, tenant: &Tenant, id: &str) -> Result<OtpView, OtpError> {
        let (id, current) = self.owned(tenant, id).await?;
        let now = self.clock.unix_secs();
        match current.status_at_time(now) {
            OtpStatus::Pending => {}
            other => return Err(not_pending(other)),
        }
        let max = self.limits.max_resends;
        if current.extra.as_ref().map_or(0, |e| e.resends) >= max {
            blocked("resend_limit");
            return Err(OtpError::ResendLimit { max });
        }
        let phone = Phone::stored(current.phone, current.country);
        let destination = phone.e164();
        self.admit_sms(tenant, &phone, &destination, now, false)
            .await?;
        let (kind, len) = current.pin();
        let new_pin = pin::generate(kind, len);
        // the resend's estimate, held on the tenant's credit like a create's
        let template = match current.extra.as_deref().and_then(|e| e.template.as_deref()) {
            Some(t) => t,
            None => self.config_template(current.language()),
        };
        let mut sms = self.sms_draft(tenant, destination, render(template, &new_pin));
        let plan = self.plan_sms(&sms);
        let route_price = plan.price_per_part;
        let price = route_price.unwrap_or(Cost::micros(self.otp.price_per_part));
        let estimate = price.saturating_mul(plan.parts as u64);
        self.reserve_credit(tenant.tag(), current.created, estimate)
            .await?;
        let resent = self
            .store
            .resend(&id, self.hasher.hash(&id.0, &new_pin), max, now)
            .await;
        let refused = match resent {
            Ok(Ok(r)) => Ok(r),
            Ok(Err(ResendError::NotFound)) => Err(OtpError::NotFound),
            Ok(Err(ResendError::NotPending(s))) => Err(not_pending(s)),
            Ok(Err(ResendError::Limit)) => Err(OtpError::ResendLimit { max }),
            Err(e) => Err(e.into()),
        };
        let record = match refused {
            Ok(r) => r,
            Err(e) => {
                self.release_credit(tenant.tag(), current.created, estimate)
                    .await;
                return Err(e);
            }
        };
        let extra = record.extra.as_deref();
        let template = match extra.and_then(|e| e.template.as_deref()) {
            Some(t) => t,
            None => self.config_template(record.language()),
        };
        let sender = extra
            .and_then(|e| e.sender.as_deref())
            .unwrap_or(self.default_sender(tenant));
        let phone = Phone::stored(record.phone, record.country);
        // the rules may have changed since the create
        let sender = self.outgoing_sender(tenant, phone.country_str(), sender.to_owned())?;
        sms.otp_id = id.to_string();
        sms.sender = sender;
        sms.text = render(template, &new_pin);
        sms.expires_at = self.clock.system_time()
            + Duration::from_secs(u64::from(record.expires().saturating_sub(now)));
        sms.tlv_values = tlv_values(&tenant.config, record.language());
        let record = self
            .estimate_resend(&id, record, route_price.is_some(), estimate, now)
            .await;
        if let Err(e) = self.dispatcher.dispatch(sms).await {
            self.release_credit(tenant.tag(), record.created, estimate)
                .await;
            // the new PIN was never sent: say so on the OTP; the client may resend again
            let change = DeliveryChange::Status {
                status: DeliveryStatus::Failed,
                smsc: None,
                error: Some(format!("resend not queued: {e}")),
            };
            if let Err(e) = self.store.apply_delivery(&id, change, now).await {
                tracing::warn!(otp_id = %id, error = %e, "could not mark an unsent resend");
            }
            return Err(dispatch_refused(&e));
        }
        metrics::counter!(names::OTPS_RESENT, "tenant" => tenant.metric_label().to_owned())
            .increment(1);
        tracing::info!(otp_id = %id, tenant = tenant.name(), "otp resent");
        Ok(self.view(tenant, id, &record))
    }
}

impl OtpService {
    /// Puts the estimate of a resend on the OTP's cost, beside what earlier sends were
    /// charged; before it is dispatched, so that its settlement comes after. The record as
    /// updated (or as it was, when the store could not take the estimate: the settlement
    /// still comes).
    async fn estimate_resend(
        &self,
        id: &OtpId,
        record: Record,
        route_priced: bool,
        estimate: u64,
        now: u32,
    ) -> Record {
        let settled = record.extra.as_deref().and_then(|e| e.cost).is_some();
        if !settled && !route_priced {
            // the plain `parts x price_per_part` figure still holds
            return record;
        }
        let change = DeliveryChange::Cost {
            charge: 0,
            pending: estimate,
        };
        match self.store.apply_delivery(id, change, now).await {
            Ok(Some(updated)) => updated,
            Ok(None) => record,
            Err(e) => {
                tracing::warn!(otp_id = %id, error = %e, "could not record a resend's estimate");
                record
            }
        }
    }
}

fn not_pending(status: OtpStatus) -> OtpError {
    match status {
        OtpStatus::Verified => OtpError::AlreadyVerified,
        OtpStatus::Cancelled => OtpError::Cancelled,
        OtpStatus::Expired => OtpError::Expired,
        OtpStatus::Failed | OtpStatus::Pending => OtpError::AlreadyFailed,
    }
}
