//! Creating an OTP: every check and limit first (the request's own, the tenant's countries
//! and senders, the pumping guard, the per-number limits), then the caller's last check (the
//! HTTP front's callback-host lookup: the costly part, spent only on a create every limit
//! admitted), then the OTP is stored and its SMS handed to the engine.

use std::future::Future;
use std::time::{Duration, UNIX_EPOCH};

use super::language::{self, Chosen, TemplateSources};
use super::model::{Cost, Extra, OtpId, OtpView, Record};
use super::pin::{self, PinType, WEAK_PIN_BITS};
use super::request::CreateRequest;
use super::service::{blocked, dispatch_refused, OtpError, OtpService};
use super::tenant::Tenant;
use super::text::{analyze_text, render, Encoding};
use super::tlv_values::tlv_values;
use crate::dispatch::{OutboundSms, SmscPick};

/// The zeros a PIN is sized with (a PIN has at most 10 characters; a longer one is made).
const ZEROS: &str = "00000000000000000000000000000000";

/// A create every limit admitted (and counted), with what was decided on the way.
struct Admitted {
    now: u32,
    sender: String,
    /// Whether `sender` is not the default one (a resend then finds it with the OTP).
    own_sender: bool,
    chosen: Chosen,
    /// Its SMS as sized, with a PIN of zeros: the real one is drawn once the create is admitted.
    sms: OutboundSms,
    /// How that SMS goes out.
    plan: SmsPlan,
}

/// How an SMS goes out on the SMSC that would be tried first for it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct SmsPlan {
    pub encoding: Encoding,
    pub parts: usize,
    /// That SMSC's price per part for the destination, if it has one.
    pub price_per_part: Option<u64>,
    /// That SMSC, for the dispatch to take again.
    pub pick: Option<SmscPick>,
}

impl OtpService {
    /// An SMS of `tenant` to `destination` (E.164) with `text`, as far as sizing it needs: the
    /// rest is filled in when it is sent.
    pub(super) fn sms_draft(
        &self,
        tenant: &Tenant,
        destination: String,
        text: String,
    ) -> OutboundSms {
        OutboundSms {
            otp_id: String::new(),
            tenant: tenant.name().to_owned(),
            destination,
            sender: String::new(),
            text,
            // set when it is sent
            expires_at: UNIX_EPOCH,
            tlv_values: Default::default(),
            smscs: tenant.smscs().cloned(),
        }
    }

    /// The encoding and parts of `sms` as the SMSC that would be tried first sends it (the
    /// default settings' when the dispatcher cannot tell), and that SMSC's price per part for
    /// the destination, if it has one.
    pub(super) fn plan_sms(&self, sms: &OutboundSms) -> SmsPlan {
        match self.dispatcher.estimate(sms) {
            Some(e) => SmsPlan {
                encoding: Encoding::from_name(e.encoding)
                    .unwrap_or_else(|| analyze_text(&sms.text).0),
                parts: e.parts,
                price_per_part: e.price_per_part,
                pick: e.pick,
            },
            None => {
                let (encoding, parts) = analyze_text(&sms.text);
                SmsPlan {
                    encoding,
                    parts,
                    price_per_part: None,
                    pick: None,
                }
            }
        }
    }

    /// Creates an OTP for `tenant` and queues its SMS.
    pub async fn create(&self, tenant: &Tenant, req: CreateRequest) -> Result<OtpView, OtpError> {
        self.create_checked(tenant, req, || async { Ok::<(), OtpError>(()) })
            .await
    }

    /// Creates an OTP for `tenant` and queues its SMS, once `last_check` has passed: it runs
    /// after every limit has admitted the create, before anything is stored.
    pub async fn create_checked<E, F, Fut>(
        &self,
        tenant: &Tenant,
        req: CreateRequest,
        last_check: F,
    ) -> Result<OtpView, E>
    where
        E: From<OtpError>,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<(), E>>,
    {
        let admitted = self.admit_create(tenant, &req).await?;
        last_check().await?;
        Ok(self.store_and_send(tenant, req, admitted).await?)
    }

    /// The request's checks and every limit, counted.
    async fn admit_create(
        &self,
        tenant: &Tenant,
        req: &CreateRequest,
    ) -> Result<Admitted, OtpError> {
        let country = req.phone.country_str();
        if !tenant.country_allowed(country) {
            blocked("country");
            return Err(OtpError::CountryNotAllowed(country.to_owned()));
        }
        let kind = req.phone.kind;
        if !tenant.number_type_allowed(kind) {
            blocked("number_type");
            tracing::info!(tenant = tenant.name(), country = %country, number_type = kind.as_str(), "otp refused: number type");
            return Err(OtpError::NumberTypeNotAllowed(kind));
        }
        let default_sender = self.default_sender(tenant);
        let sender = req
            .sender
            .clone()
            .unwrap_or_else(|| default_sender.to_owned());
        if !tenant.sender_allowed(&sender) {
            return Err(OtpError::SenderNotAllowed(sender));
        }
        // what the destination country's carriers take: this sender goes out and is stored
        let sender = self.outgoing_sender(tenant, country, sender)?;
        let own_sender = sender != default_sender;
        let chosen = language::choose(
            &TemplateSources {
                request_by_language: &req.templates,
                request_generic: req.template.as_deref(),
                config_by_language: &self.otp.templates,
                config_generic: &self.otp.default_template,
            },
            req.language.as_deref(),
            language::main_language_at(country, req.phone.digits),
        );
        // Size the message with a PIN of the requested length before drawing the real one, as
        // the SMSC that would send it splits it.
        let zeros = usize::from(req.pin_length);
        let probe = match ZEROS.get(..zeros) {
            Some(zeros) => render(&chosen.template, zeros),
            None => render(&chosen.template, &"0".repeat(zeros)),
        };
        let sms = self.sms_draft(tenant, req.phone.e164(), probe);
        let plan = self.plan_sms(&sms);
        if plan.parts > usize::from(self.otp.max_segments) {
            return Err(OtpError::TooManyParts {
                parts: plan.parts,
                max: self.otp.max_segments,
            });
        }

        let now = self.clock.unix_secs();
        self.admit_sms(
            tenant,
            &req.phone,
            &sms.destination,
            now,
            plan.pick.is_some(),
        )
        .await?;
        Ok(Admitted {
            now,
            sender,
            own_sender,
            chosen,
            sms,
            plan,
        })
    }

    /// Stores the admitted OTP and hands its SMS to the engine.
    async fn store_and_send(
        &self,
        tenant: &Tenant,
        req: CreateRequest,
        admitted: Admitted,
    ) -> Result<OtpView, OtpError> {
        let Admitted {
            now,
            sender,
            own_sender,
            chosen,
            mut sms,
            plan,
        } = admitted;
        let id = OtpId::random();
        let pin = pin::generate(req.pin_type, req.pin_length);
        sms.text = render(&chosen.template, &pin);
        // Every digit costs what `0` costs in every encoding (`a_numeric_pin_plans_as_its_zeros`):
        // a numeric PIN keeps the plan of the zeros. Letters may not (a national table may
        // shift them).
        let SmsPlan {
            encoding,
            parts,
            price_per_part: route_price,
            pick,
        } = match req.pin_type {
            PinType::Numbers => plan,
            PinType::Letters | PinType::Alphanumeric => self.plan_sms(&sms),
        };
        // a route price makes the estimate differ from `parts x [otp] price_per_part`
        let cost = route_price.map(|price| Cost {
            charged: 0,
            pending: price.saturating_mul(parts as u64),
        });
        // what a resend needs and cannot find in the configuration
        let own_template = (chosen.template != self.config_template(chosen.language.as_deref()))
            .then(|| chosen.template.as_str().into());
        let own_sender = own_sender.then(|| sender.as_str().into());
        let extra = (req.track_id.is_some()
            || req.callback_url.is_some()
            || own_template.is_some()
            || own_sender.is_some()
            || cost.is_some())
        .then(|| {
            Box::new(Extra {
                track_id: req.track_id,
                callback_url: req.callback_url.as_deref().map(Into::into),
                template: own_template,
                sender: own_sender,
                cost,
                ..Extra::default()
            })
        });
        let record = Record {
            extra,
            tenant: tenant.tag(),
            language: Record::pack_language(chosen.language.as_deref()),
            parts: u8::try_from(parts).unwrap_or(u8::MAX),
            spec: Record::pack_spec(req.pin_type, req.pin_length, encoding),
            ..Record::pending(
                self.hasher.hash(&id.0, &pin),
                req.phone.digits,
                req.phone.country,
                now,
                req.ttl,
                req.max_attempts,
            )
        };
        let mut view = self.view_at(tenant, id, &record, now);
        // the estimate is held on the tenant's credit until the send is settled
        let reserved = record.cost_micros(Cost::micros(self.otp.price_per_part));
        self.reserve_credit(tenant.tag(), now, reserved).await?;
        let inserted = match self.store.insert_now(id, record) {
            Ok(inserted) => inserted,
            Err(record) => self.store.insert(id, record).await,
        };
        if let Err(e) = inserted {
            self.release_credit(tenant.tag(), now, reserved).await;
            return Err(e.into());
        }
        sms.otp_id.clone_from(&view.otp_id);
        sms.sender = sender;
        // the OTP's own expiry, in whole seconds as stored: no second read of the clock
        sms.expires_at = UNIX_EPOCH + Duration::from_secs(u64::from(now) + u64::from(req.ttl));
        sms.tlv_values = tlv_values(&tenant.config, chosen.language.as_deref());
        let dispatched = match self.dispatcher.dispatch_now(sms, pick) {
            Ok(dispatched) => dispatched,
            Err(sms) => self.dispatcher.dispatch(*sms).await,
        };
        if let Err(e) = dispatched {
            if let Err(gone) = self.store.remove(&id).await {
                // it stays PENDING until it expires; its SMS was never sent
                tracing::warn!(otp_id = %id, error = %gone, "could not forget an OTP whose SMS was refused");
            }
            self.release_credit(tenant.tag(), now, reserved).await;
            return Err(dispatch_refused(&e));
        }
        tenant.count_created(encoding);
        let bits = req.pin_type.entropy_bits(req.pin_length);
        if bits < WEAK_PIN_BITS {
            view.warnings.push(format!(
                "the PIN has {bits:.1} bits of entropy (under {WEAK_PIN_BITS}): use a longer PIN or a larger pinType"
            ));
        }
        tracing::info!(otp_id = %view.otp_id, tenant = tenant.name(), country = req.phone.country_str(), parts, "otp created");
        Ok(view)
    }
}
