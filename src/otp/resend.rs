//! Resend: a new PIN for a pending OTP, sent again. The old PIN stops verifying at once; the
//! resend is limited per OTP (`[limits] max_resends`) and is an SMS like a create: it passes
//! the pumping guard and the per-number limits (and, at the HTTP front, the tenant's rate).
//! The wrong tries already made still count (maxAttempts bounds guessing over the whole life
//! of the OTP).

use crate::telemetry::names;
use std::time::Duration;

use crate::dispatch::OutboundSms;

use super::model::DeliveryStatus;
use super::model::{OtpStatus, OtpView};
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
        self.admit_sms(tenant, &Phone::stored(current.phone, current.country), now)
            .await?;
        let (kind, len) = current.pin();
        let new_pin = pin::generate(kind, len);
        let record = self
            .store
            .resend(&id, self.hasher.hash(&id.0, &new_pin), max, now)
            .await?
            .map_err(|e| match e {
                ResendError::NotFound => OtpError::NotFound,
                ResendError::NotPending(s) => not_pending(s),
                ResendError::Limit => OtpError::ResendLimit { max },
            })?;
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
        let sms = OutboundSms {
            otp_id: id.to_string(),
            tenant: tenant.name().to_owned(),
            destination: phone.e164(),
            sender,
            text: render(template, &new_pin),
            expires_at: self.clock.system_time()
                + Duration::from_secs(u64::from(record.expires().saturating_sub(now))),
            tlv_values: tlv_values(&tenant.config, record.language()),
            smscs: tenant.smscs().cloned(),
        };
        if let Err(e) = self.dispatcher.try_dispatch(sms) {
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
        metrics::counter!(names::OTPS_RESENT, "tenant" => tenant.name().to_owned()).increment(1);
        tracing::info!(otp_id = %id, tenant = tenant.name(), "otp resent");
        Ok(self.view(tenant, id, &record))
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
