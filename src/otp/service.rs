//! Create, read, verify and cancel: the OTP core's operations, independent of HTTP (the create
//! itself in `create`). A create stores the OTP, then hands its SMS to the engine; when the
//! engine refuses, the OTP is forgotten (no PENDING OTP for an SMS that was never queued).

use crate::telemetry::names;
use std::sync::Arc;
use std::time::Duration;

use super::settings::{LimitsConfig, OtpConfig};
use crate::dispatch::{DispatchError, Dispatcher};

use super::abuse::Blocked;
use super::clock::Clock;
use super::credit::Credit;
use super::guard::PumpingGuard;
use super::language;
use super::model::{OtpId, OtpView, Record};
use super::phone::Phone;
use super::pin::PinHasher;
use super::sender_rules::{SenderRefused, SendersConfig};
use super::store::{CancelError, NumberLimit, NumberScope, Store, StoreError, VerifyError};
use super::tenant::{RateInfo, Tenant};

/// Every way an OTP operation can fail, in the core's own terms; a front end maps each to its
/// wire format (the HTTP front: status, sms.cx type and code).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum OtpError {
    #[error(
        "not enough credit: this SMS is estimated at {needed} {currency} and {available} \
         {currency} of the {credit} remain"
    )]
    CreditExceeded {
        needed: f64,
        available: f64,
        currency: String,
        /// `prepaid balance` or `monthly cap`.
        credit: &'static str,
    },
    #[error("sender ID `{0}` is not allowed for this API key")]
    SenderNotAllowed(String),
    #[error("{0}")]
    SenderRefused(SenderRefused),
    #[error("the rendered message needs {parts} SMS parts, at most {max} are allowed")]
    TooManyParts { parts: usize, max: u8 },
    #[error("the destination country {0} is not allowed")]
    CountryNotAllowed(String),
    #[error("numbers of type {} are not accepted for this API key", .0.as_str())]
    NumberTypeNotAllowed(super::phone::NumberType),
    #[error("no SMSC this API key may use has a route to this destination")]
    NoAllowedRoute,
    #[error("too many OTPs for this phone number")]
    NumberLimited { retry_after: Duration },
    #[error("{0}")]
    Blocked(Blocked),
    #[error("this OTP was resent {max} times already")]
    ResendLimit { max: u8 },
    #[error("too many requests")]
    TenantLimited {
        info: RateInfo,
        retry_after: Duration,
    },
    #[error("OTP not found")]
    NotFound,
    #[error("pin is required")]
    PinMissing,
    #[error("the OTP was already verified")]
    AlreadyVerified,
    #[error("the OTP was cancelled")]
    Cancelled,
    #[error("the OTP has expired")]
    Expired,
    #[error("the OTP failed: too many wrong attempts")]
    AlreadyFailed,
    #[error("wrong PIN: that was the last attempt, the OTP has failed")]
    LastAttemptFailed,
    #[error("wrong PIN ({remaining} attempts left)")]
    WrongPin { remaining: u8 },
    #[error(
        "the PIN has expired: a resend replaced it, use the latest SMS ({remaining} attempts left)"
    )]
    PinReplaced { remaining: u8 },
    #[error("the OTP is already cancelled")]
    AlreadyCancelled,
    #[error("only a pending OTP can be cancelled")]
    NotPending,
    #[error("the OTP store is full")]
    StoreFull,
    #[error("{reason}")]
    Unavailable {
        reason: String,
        /// A stable name for it (`queue_full`, `no_route`, `shutting_down`,
        /// `store_unavailable`, `id_collision`).
        cause: &'static str,
        retry_after: Duration,
    },
}

impl From<StoreError> for OtpError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Full(_) => OtpError::StoreFull,
            StoreError::Duplicate => OtpError::Unavailable {
                reason: "id collision, retry".into(),
                cause: "id_collision",
                retry_after: Duration::from_secs(1),
            },
            StoreError::Unavailable(reason) => {
                metrics::counter!(names::STORE_UNAVAILABLE).increment(1);
                tracing::warn!(%reason, "OTP store unavailable");
                OtpError::Unavailable {
                    reason: "the OTP store is unavailable, retry".into(),
                    cause: "store_unavailable",
                    retry_after: StoreError::RETRY_AFTER,
                }
            }
        }
    }
}

/// Longest PIN input worth hashing; anything longer is simply wrong.
const MAX_PIN_INPUT: usize = 64;

pub struct OtpService {
    pub(super) store: Arc<dyn Store>,
    pub(super) dispatcher: Arc<dyn Dispatcher>,
    pub(super) hasher: PinHasher,
    pub(super) clock: Arc<Clock>,
    pub(super) otp: OtpConfig,
    pub(super) limits: LimitsConfig,
    pub(super) abuse: Arc<dyn PumpingGuard>,
    pub(super) senders: SendersConfig,
    pub(super) credit: Option<Arc<Credit>>,
}

pub(super) fn blocked(reason: &'static str) {
    metrics::counter!(names::BLOCKED, "reason" => reason).increment(1);
}

/// A create or resend whose SMS the engine refused: counted, and answered as unavailable for
/// the engine's reason.
pub fn dispatch_refused(e: &DispatchError) -> OtpError {
    blocked("dispatch");
    dispatch_unavailable(e)
}

/// The error of a refused SMS, not counted (for a caller that counts it by a handle).
pub fn dispatch_unavailable(e: &DispatchError) -> OtpError {
    OtpError::Unavailable {
        reason: e.to_string(),
        cause: e.cause(),
        retry_after: e.retry_after(),
    }
}

impl OtpService {
    pub fn new(
        store: Arc<dyn Store>,
        dispatcher: Arc<dyn Dispatcher>,
        hasher: PinHasher,
        clock: Arc<Clock>,
        otp: OtpConfig,
        limits: LimitsConfig,
        abuse: Arc<dyn PumpingGuard>,
    ) -> Self {
        let mut otp = otp;
        otp.templates = otp
            .templates
            .into_iter()
            .map(|(k, v)| (language::normalize(&k), v))
            .collect();
        Self {
            store,
            dispatcher,
            hasher,
            clock,
            otp,
            limits,
            abuse,
            senders: SendersConfig::default(),
            credit: None,
        }
    }

    /// Holds the tenants with credit to it (none without).
    pub fn with_credit(mut self, credit: Arc<Credit>) -> Self {
        self.credit = (!credit.is_empty()).then_some(credit);
        self
    }

    pub fn abuse(&self) -> &Arc<dyn PumpingGuard> {
        &self.abuse
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub fn clock(&self) -> &Arc<Clock> {
        &self.clock
    }

    pub fn limits(&self) -> &LimitsConfig {
        &self.limits
    }

    pub fn otp_config(&self) -> &OtpConfig {
        &self.otp
    }

    pub fn dispatcher(&self) -> &Arc<dyn Dispatcher> {
        &self.dispatcher
    }

    /// The configuration's template for `language` (`None`: the generic one).
    pub(super) fn config_template(&self, language: Option<&str>) -> &str {
        language
            .and_then(|l| self.otp.templates.get(l))
            .map_or(self.otp.default_template.as_str(), String::as_str)
    }

    pub(super) fn view(&self, tenant: &Tenant, id: OtpId, r: &Record) -> OtpView {
        self.view_at(tenant, id, r, self.clock.unix_secs())
    }

    /// [`OtpService::view`] as at `now` (a create's own instant: no second clock read).
    pub(super) fn view_at(&self, tenant: &Tenant, id: OtpId, r: &Record, now: u32) -> OtpView {
        let mut view = OtpView::new(id, r, now, self.otp.price_per_part);
        if view.from.is_empty() {
            self.default_sender(tenant).clone_into(&mut view.from);
        }
        view
    }

    /// The per-number create limits, which creates and resends count against alike: the
    /// tenant's own (`[limits] per_number`), then, when on, the one across tenants
    /// (`[limits] per_number_global`). Counts one SMS to `phone` at `now`, or refuses it.
    /// The store's `hit_number_limit`, without its boxed future when the store answers at
    /// once.
    async fn hit_number_limit(
        &self,
        scope: NumberScope,
        phone: u64,
        limit: u32,
        window_s: u32,
        now: u32,
    ) -> Result<NumberLimit, StoreError> {
        match self
            .store
            .hit_number_limit_now(scope, phone, limit, window_s, now)
        {
            Some(verdict) => verdict,
            None => {
                self.store
                    .hit_number_limit(scope, phone, limit, window_s, now)
                    .await
            }
        }
    }

    pub(super) async fn number_gate(
        &self,
        tenant: &Tenant,
        phone: u64,
        now: u32,
    ) -> Result<(), OtpError> {
        let l = &self.limits;
        let own = NumberScope::Tenant(tenant.limit_key());
        let verdict = self
            .hit_number_limit(own, phone, l.per_number, l.per_number_window_s, now)
            .await?;
        if let NumberLimit::Limited { retry_after } = verdict {
            blocked("number_limit");
            return Err(OtpError::NumberLimited { retry_after });
        }
        let global = self
            .hit_number_limit(
                NumberScope::Global,
                phone,
                l.per_number_global,
                l.per_number_window_s,
                now,
            )
            .await?;
        if let NumberLimit::Limited { .. } = global {
            blocked("number_limit");
            // a fixed wait: the real one would tell this tenant about the others' traffic
            return Err(OtpError::NumberLimited {
                retry_after: Duration::from_secs(u64::from(l.per_number_window_s)),
            });
        }
        Ok(())
    }

    /// The pumping guard and the per-number limits for one SMS (a create or a resend) of
    /// `tenant` to `phone` (`e164`, as its SMS is addressed) at `now`: counts it, or refuses it.
    /// `routed`: the dispatcher already picked an SMSC of the tenant's for it (its estimate),
    /// so a route is known to exist.
    pub(super) async fn admit_sms(
        &self,
        tenant: &Tenant,
        phone: &Phone,
        e164: &str,
        now: u32,
        routed: bool,
    ) -> Result<(), OtpError> {
        // before any limit counts it: an SMS that can never go is not an attempt
        if !routed && !self.dispatcher.covers(e164, tenant.smscs().map(|c| &**c)) {
            blocked("no_allowed_route");
            return Err(OtpError::NoAllowedRoute);
        }
        let admitted = match self.abuse.admit_now(tenant.limit_key(), phone, now) {
            Some(admitted) => admitted,
            None => self.abuse.admit(tenant.limit_key(), phone, now).await,
        };
        if let Err(b) = admitted? {
            blocked(b.reason());
            tracing::info!(
                tenant = tenant.name(),
                country = phone.country_str(),
                reason = b.reason(),
                "otp sms blocked"
            );
            return Err(OtpError::Blocked(b));
        }
        self.number_gate(tenant, phone.digits, now).await
    }

    pub(super) async fn owned(
        &self,
        tenant: &Tenant,
        id: &str,
    ) -> Result<(OtpId, Record), OtpError> {
        let id = OtpId::parse(id).ok_or(OtpError::NotFound)?;
        let r = self.store.get(&id).await?.ok_or(OtpError::NotFound)?;
        // by identity, never by position: another tenant's OTP, or one whose tenant is not
        // configured, is not found
        if r.tenant != tenant.tag() {
            return Err(OtpError::NotFound);
        }
        Ok((id, r))
    }

    pub async fn get(&self, tenant: &Tenant, id: &str) -> Result<OtpView, OtpError> {
        let (id, r) = self.owned(tenant, id).await?;
        Ok(self.view(tenant, id, &r))
    }

    /// Checks `pin`; `None` when the request had no usable `pin`.
    pub async fn verify(
        &self,
        tenant: &Tenant,
        id: &str,
        pin: Option<&str>,
    ) -> Result<OtpView, OtpError> {
        let (id, _) = self.owned(tenant, id).await?;
        let pin = pin
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .ok_or(OtpError::PinMissing)?;
        let candidate = if pin.len() > MAX_PIN_INPUT {
            self.hasher.hash(&id.0, "") // never matches a generated PIN
        } else {
            self.hasher.hash(&id.0, pin)
        };
        let now = self.clock.unix_secs();
        let result = self.store.verify(&id, &candidate, now).await?;
        if let Ok(r) = &result {
            let phone = Phone::stored(r.phone, r.country);
            if let Err(e) = self.abuse.verified(tenant.limit_key(), &phone, now).await {
                // the OTP is verified; only the conversion statistics miss it
                tracing::warn!(otp_id = %id, error = %e, "conversion counter not updated");
            }
        }
        let label = match &result {
            Ok(_) => "verified",
            Err(VerifyError::WrongPin { .. }) => "wrong_pin",
            Err(VerifyError::ReplacedPin { .. }) => "replaced_pin",
            Err(VerifyError::LastAttemptFailed) => "failed",
            Err(VerifyError::AlreadyFailed) => "already_failed",
            Err(VerifyError::Expired) => "expired",
            Err(VerifyError::AlreadyVerified) => "already_verified",
            Err(VerifyError::Cancelled) => "cancelled",
            Err(VerifyError::NotFound) => "not_found",
        };
        metrics::counter!(names::OTPS_VERIFIED,
            "tenant" => tenant.metric_label().to_owned(), "result" => label)
        .increment(1);
        tracing::info!(otp_id = %id, result = label, "otp verification");
        match result {
            Ok(r) => Ok(self.view(tenant, id, &r)),
            Err(VerifyError::NotFound) => Err(OtpError::NotFound),
            Err(VerifyError::AlreadyVerified) => Err(OtpError::AlreadyVerified),
            Err(VerifyError::Cancelled) => Err(OtpError::Cancelled),
            Err(VerifyError::Expired) => Err(OtpError::Expired),
            Err(VerifyError::AlreadyFailed) => Err(OtpError::AlreadyFailed),
            Err(VerifyError::LastAttemptFailed) => Err(OtpError::LastAttemptFailed),
            Err(VerifyError::WrongPin { remaining }) => Err(OtpError::WrongPin { remaining }),
            Err(VerifyError::ReplacedPin { remaining }) => Err(OtpError::PinReplaced { remaining }),
        }
    }

    pub async fn cancel(&self, tenant: &Tenant, id: &str) -> Result<OtpView, OtpError> {
        let (id, _) = self.owned(tenant, id).await?;
        let r = self
            .store
            .cancel(&id, self.clock.unix_secs())
            .await?
            .map_err(|e| match e {
                CancelError::NotFound => OtpError::NotFound,
                CancelError::AlreadyCancelled => OtpError::AlreadyCancelled,
                CancelError::NotPending => OtpError::NotPending,
            })?;
        metrics::counter!(names::OTPS_CANCELLED, "tenant" => tenant.metric_label().to_owned())
            .increment(1);
        tracing::info!(otp_id = %id, "otp cancelled");
        Ok(self.view(tenant, id, &r))
    }
}
