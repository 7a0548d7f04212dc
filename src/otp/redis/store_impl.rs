//! `Store` for [`RedisStore`]: each operation as its script or command (see the module map in
//! `mod.rs` for the keys).

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures::future::BoxFuture;

use super::record::{self, delivery_code, to_fields, ID_END};
use super::{expiry, index_key, scripts, RedisStore, ScriptReply};
use crate::otp::idempotency::IN_FLIGHT_TIMEOUT_S;
use crate::otp::model::{OtpId, OtpStatus, Record};
use crate::otp::pin::PinHash;
use crate::otp::store::{
    receipt_in_steps, submitted_in_steps, CancelError, DeliveryChange, HeldReceipt, IdemKey,
    IdemReply, IdemReserve, IdempotencyStore, NumberLimit, NumberLimitStore, NumberScope, OtpStore,
    ReceiptMatch, ResendError, SendCharge, StoreError, VerifyError,
};
use crate::otp::usage::{day_of, UsageEvent};
use crate::otp::window::fixed_window;

#[async_trait]
impl OtpStore for RedisStore {
    /// Refused as full when the stored OTPs of every node (the last snapshot, refreshed by
    /// housekeeping every half second, plus this node's inserts since) reach `max_live`: a
    /// burst on several nodes can pass it by what they store within one refresh.
    async fn insert(&self, id: OtpId, record: Record) -> Result<(), StoreError> {
        if self.len() >= self.max_live() {
            return Err(StoreError::Full(self.max_live()));
        }
        let now = self.clock.unix_secs();
        let keep = self.keep_s(&record, now);
        if !self.redis.is_cluster() {
            if !self.insert_in_one(&id, &record, keep).await? {
                return Err(StoreError::Duplicate);
            }
            self.count_inserted();
            return Ok(());
        }
        let mut inv = scripts::INSERT.key(self.otp_key(&id));
        inv.arg(keep);
        for (name, value) in to_fields(&record) {
            inv.arg(name).arg(value);
        }
        let stored: i64 = self.redis.script(&inv).await?;
        if stored == 0 {
            return Err(StoreError::Duplicate);
        }
        let latest = redis::cmd("SET")
            .arg(self.phone_key(record.phone, "latest"))
            .arg(id.to_string())
            .arg("EX")
            .arg(keep)
            .clone();
        let due = redis::cmd("ZADD")
            .arg(self.due_key())
            .arg(record.expires())
            .arg(id.to_string())
            .clone();
        let pending = redis::cmd("INCR").arg(self.pending_key()).clone();
        // sent together: the usage count adds no round trip to a create
        let (a, b, c, ()) = futures::join!(
            self.redis.cmd::<()>(&latest),
            self.redis.cmd::<()>(&due),
            self.redis.cmd::<()>(&pending),
            self.count_usage(record.tenant, day_of(record.created), UsageEvent::Created)
        );
        self.count_inserted();
        a.and(b).and(c)
    }

    async fn remove(&self, id: &OtpId) -> Result<Option<Record>, StoreError> {
        let Some(r) = self.get(id).await? else {
            return Ok(None);
        };
        let del = redis::cmd("DEL").arg(self.otp_key(id)).clone();
        let removed: i64 = self.redis.cmd(&del).await?;
        if removed == 1 {
            let zrem = redis::cmd("ZREM")
                .arg(self.due_key())
                .arg(id.to_string())
                .clone();
            if self.redis.cmd::<i64>(&zrem).await == Ok(1) {
                self.count_removed();
            }
            let undone = self.count_usage(r.tenant, day_of(r.created), UsageEvent::CreateUndone);
            if r.status == OtpStatus::Pending {
                futures::join!(self.left_pending(), undone);
            } else {
                undone.await;
            }
            let latest = self.phone_key(r.phone, "latest");
            let mut inv = scripts::UNINDEX.key(latest);
            inv.arg(id.to_string());
            let _ = self.redis.script::<i64>(&inv).await;
        }
        Ok(Some(r))
    }

    async fn get(&self, id: &OtpId) -> Result<Option<Record>, StoreError> {
        let cmd = redis::cmd("HGETALL").arg(self.otp_key(id)).clone();
        let flat: Vec<Vec<u8>> = self.redis.cmd(&cmd).await?;
        if flat.is_empty() {
            return Ok(None);
        }
        self.decode(flat).map(Some)
    }

    async fn verify(
        &self,
        id: &OtpId,
        candidate: &PinHash,
        now: u32,
    ) -> Result<Result<Record, VerifyError>, StoreError> {
        let mut inv = scripts::VERIFY.key(self.otp_key(id));
        inv.arg(now).arg(candidate.0.as_slice());
        let Some((code, changed, r, _)) = self.run_record(id, &inv).await? else {
            return Ok(Err(VerifyError::NotFound));
        };
        if changed && r.status != OtpStatus::Pending {
            if code == "expired" {
                metrics::counter!(crate::telemetry::names::OTPS_EXPIRED).increment(1);
            }
            if code == "ok" {
                // sent together: the usage count adds no round trip to a verification
                let verified = self.count_usage(r.tenant, day_of(now), UsageEvent::Verified);
                futures::join!(self.left_pending(), verified);
            } else {
                self.left_pending().await;
            }
        }
        Ok(match code.as_str() {
            "ok" => Ok(r),
            "expired" => Err(VerifyError::Expired),
            "verified_already" => Err(VerifyError::AlreadyVerified),
            "cancelled" => Err(VerifyError::Cancelled),
            "failed_already" => Err(VerifyError::AlreadyFailed),
            "last_failed" => Err(VerifyError::LastAttemptFailed),
            "replaced" => Err(VerifyError::ReplacedPin {
                remaining: r.max_attempts.saturating_sub(r.attempts),
            }),
            _ => Err(VerifyError::WrongPin {
                remaining: r.max_attempts.saturating_sub(r.attempts),
            }),
        })
    }

    async fn cancel(
        &self,
        id: &OtpId,
        now: u32,
    ) -> Result<Result<Record, CancelError>, StoreError> {
        let mut inv = scripts::CANCEL.key(self.otp_key(id));
        inv.arg(now);
        let Some((code, changed, r, _)) = self.run_record(id, &inv).await? else {
            return Ok(Err(CancelError::NotFound));
        };
        if changed {
            self.left_pending().await;
        }
        Ok(match code.as_str() {
            "ok" => Ok(r),
            "already" => Err(CancelError::AlreadyCancelled),
            _ => Err(CancelError::NotPending),
        })
    }

    async fn resend(
        &self,
        id: &OtpId,
        pin_hash: PinHash,
        max_resends: u8,
        now: u32,
    ) -> Result<Result<Record, ResendError>, StoreError> {
        let mut inv = scripts::RESEND.key(self.otp_key(id));
        inv.arg(now).arg(pin_hash.0.as_slice()).arg(max_resends);
        let Some((code, _, r, old_ids)) = self.run_record(id, &inv).await? else {
            return Ok(Err(ResendError::NotFound));
        };
        Ok(match code.as_str() {
            "ok" => {
                let (smsc, old_ids) = old_ids.split_once(ID_END).unwrap_or(("", ""));
                self.unindex(id, smsc, old_ids).await;
                Ok(r)
            }
            "limit" => Err(ResendError::Limit),
            _ => Err(ResendError::NotPending(r.status_at_time(now))),
        })
    }

    async fn apply_delivery(
        &self,
        id: &OtpId,
        change: DeliveryChange,
        now: u32,
    ) -> Result<Option<Record>, StoreError> {
        let key = self.otp_key(id);
        match change {
            DeliveryChange::Submitted { smsc, message_ids } => {
                let mut joined = String::new();
                for m in &message_ids {
                    joined.push_str(&record::clean_id(m));
                    joined.push(ID_END);
                }
                let mut inv = scripts::SUBMITTED.key(key);
                inv.arg(now).arg(&smsc).arg(&joined);
                let Some((_, _, r, _)) = self.run_record(id, &inv).await? else {
                    return Ok(None);
                };
                let keep = self.keep_s(&r, now);
                let id_text = id.to_string();
                let sets: Vec<_> = message_ids
                    .iter()
                    .map(|m| {
                        redis::cmd("SET")
                            .arg(self.mid_key(&smsc, &index_key(&record::clean_id(m))))
                            .arg(&id_text)
                            .arg("EX")
                            .arg(keep)
                            .clone()
                    })
                    .collect();
                let results =
                    futures::future::join_all(sets.iter().map(|c| self.redis.cmd::<()>(c))).await;
                results.into_iter().collect::<Result<Vec<()>, _>>()?;
                Ok(Some(r))
            }
            DeliveryChange::SentAs { encoding, parts } => {
                let mut inv = scripts::SENT_AS.key(key);
                inv.arg(now).arg(parts).arg(record::encoding_code(encoding));
                Ok(self.run_record(id, &inv).await?.map(|(_, _, r, _)| r))
            }
            DeliveryChange::Cost { charge, pending } => {
                let mut inv = scripts::COST.key(key);
                inv.arg(now).arg(charge).arg(pending);
                Ok(self.run_record(id, &inv).await?.map(|(_, _, r, _)| r))
            }
            DeliveryChange::Charged {
                charge,
                parts,
                sent_as,
            } => {
                let mut inv = scripts::CHARGED.key(key);
                inv.arg(now).arg(charge);
                match sent_as {
                    Some((encoding, parts)) => {
                        inv.arg(parts).arg(record::encoding_code(encoding));
                    }
                    None => {
                        inv.arg("").arg("");
                    }
                }
                let Some((_, _, r, _)) = self.run_record(id, &inv).await? else {
                    return Ok(None);
                };
                // The usage hash is in another slot than the record (a cluster cannot run
                // one script on both), and its tenant is known from the record: after it.
                if parts > 0 || charge > 0 {
                    let charged = UsageEvent::Charged {
                        parts: parts.into(),
                        cost_micros: charge,
                    };
                    self.count_usage(r.tenant, day_of(now), charged).await;
                }
                Ok(Some(r))
            }
            DeliveryChange::Status {
                status,
                smsc,
                error,
            } => {
                let mut inv = scripts::DELIVERY_STATUS.key(key);
                inv.arg(now)
                    .arg(delivery_code(status))
                    .arg(smsc.unwrap_or_default())
                    .arg(error.unwrap_or_default());
                Ok(self.run_record(id, &inv).await?.map(|(_, _, r, _)| r))
            }
        }
    }

    async fn find_by_message_id(
        &self,
        smsc: &str,
        message_id: &str,
    ) -> Result<Option<OtpId>, StoreError> {
        let cmd = redis::cmd("GET")
            .arg(self.mid_key(smsc, message_id))
            .clone();
        let v: Option<String> = self.redis.cmd(&cmd).await?;
        Ok(v.as_deref().and_then(OtpId::parse))
    }

    async fn find_or_hold(
        &self,
        smsc: &str,
        variants: &[String],
        receipt: HeldReceipt,
        now: u32,
    ) -> Result<ReceiptMatch, StoreError> {
        self.find_or_hold_redis(smsc, variants, receipt, now).await
    }

    async fn take_held(
        &self,
        smsc: &str,
        message_ids: &[String],
    ) -> Result<Vec<HeldReceipt>, StoreError> {
        self.take_held_redis(smsc, message_ids).await
    }

    async fn charged(&self, id: &OtpId, charge: SendCharge, now: u32) -> Result<bool, StoreError> {
        let mut inv = scripts::CHARGED_QUIET.key(self.otp_key(id));
        inv.arg(now);
        scripts::charge_args(&mut inv, charge);
        let (code, _, tenant_fields, _): ScriptReply = self.redis.script(&inv).await?;
        if code == "nf" {
            return Ok(false);
        }
        self.count_charge(tenant_fields, charge, now).await;
        Ok(true)
    }

    /// A single server runs both in one script; a cluster's keys are in different slots.
    fn charges_with_submit(&self) -> bool {
        !self.redis.is_cluster()
    }

    /// One round trip on a single server; on a cluster, the steps one after the other.
    async fn charged_and_submitted(
        &self,
        id: &OtpId,
        charge: SendCharge,
        smsc: &str,
        message_ids: &[String],
        now: u32,
    ) -> Result<(bool, Vec<HeldReceipt>), StoreError> {
        if self.redis.is_cluster() {
            self.charged(id, charge, now).await?;
            return submitted_in_steps(self, id, smsc, message_ids.to_vec(), now).await;
        }
        self.submitted_in_one(id, smsc, message_ids, Some(charge), now)
            .await
    }

    /// One round trip on a single server; on a cluster, the steps one after the other.
    async fn submitted(
        &self,
        id: &OtpId,
        smsc: &str,
        message_ids: Vec<String>,
        now: u32,
    ) -> Result<(bool, Vec<HeldReceipt>), StoreError> {
        if self.redis.is_cluster() {
            return submitted_in_steps(self, id, smsc, message_ids, now).await;
        }
        self.submitted_in_one(id, smsc, &message_ids, None, now)
            .await
    }

    /// One round trip on a single server; on a cluster, the steps one after the other.
    async fn receipt(
        &self,
        smsc: &str,
        variants: &[String],
        receipt: HeldReceipt,
        now: u32,
    ) -> Result<ReceiptMatch, StoreError> {
        if self.redis.is_cluster() {
            return receipt_in_steps(self, smsc, variants, receipt, now).await;
        }
        self.receipt_in_one(smsc, variants, receipt, now).await
    }

    async fn latest_for_phone(&self, phone: u64) -> Result<Option<OtpId>, StoreError> {
        let cmd = redis::cmd("GET")
            .arg(self.phone_key(phone, "latest"))
            .clone();
        let v: Option<String> = self.redis.cmd(&cmd).await?;
        let Some(id) = v.as_deref().and_then(OtpId::parse) else {
            return Ok(None);
        };
        let exists = redis::cmd("EXISTS").arg(self.otp_key(&id)).clone();
        let n: i64 = self.redis.cmd(&exists).await?;
        Ok((n == 1).then_some(id))
    }

    fn housekeeping(self: Arc<Self>, shutdown: BoxFuture<'static, ()>) -> BoxFuture<'static, ()> {
        Box::pin(expiry::Housekeeping::new(self).run(shutdown))
    }

    fn len(&self) -> usize {
        self.live.load(Ordering::Relaxed)
    }

    fn pending(&self) -> usize {
        self.pending.load(Ordering::Relaxed)
    }
}

#[async_trait::async_trait]
impl IdempotencyStore for RedisStore {
    async fn idempotency_reserve(
        &self,
        key: &IdemKey,
        fingerprint: [u8; 32],
        _now: u32,
    ) -> Result<IdemReserve, StoreError> {
        let mut inv = scripts::IDEM_RESERVE.key(self.idem_key(key));
        inv.arg(fingerprint.as_slice()).arg(IN_FLIGHT_TIMEOUT_S);
        let reply: Vec<Vec<u8>> = self.redis.script(&inv).await?;
        let mut it = reply.into_iter();
        Ok(match it.next().as_deref() {
            Some(b"reserved") => IdemReserve::Reserved,
            Some(b"conflict") => IdemReserve::Conflict,
            Some(b"replay") => {
                let status = it
                    .next()
                    .and_then(|s| String::from_utf8(s).ok())
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(201);
                let body = it.next().unwrap_or_default();
                IdemReserve::Replay(IdemReply {
                    status,
                    body: body.into(),
                })
            }
            _ => IdemReserve::InFlight,
        })
    }

    async fn idempotency_complete(
        &self,
        key: &IdemKey,
        reply: IdemReply,
        _now: u32,
        ttl_s: u32,
    ) -> Result<(), StoreError> {
        let mut inv = scripts::IDEM_COMPLETE.key(self.idem_key(key));
        inv.arg(reply.status)
            .arg(reply.body.as_ref())
            .arg(ttl_s.max(1));
        self.redis.script::<i64>(&inv).await.map(drop)
    }

    async fn idempotency_release(&self, key: &IdemKey) -> Result<(), StoreError> {
        let inv = scripts::IDEM_RELEASE.key(self.idem_key(key));
        self.redis.script::<i64>(&inv).await.map(drop)
    }
}

#[async_trait::async_trait]
impl NumberLimitStore for RedisStore {
    async fn hit_number_limit(
        &self,
        scope: NumberScope,
        phone: u64,
        limit: u32,
        window_s: u32,
        now: u32,
    ) -> Result<NumberLimit, StoreError> {
        if limit == 0 {
            return Ok(NumberLimit::Allowed);
        }
        let (w, start) = fixed_window(now, window_s);
        // Keys before per-tenant limits (`nl:{start}`) are no longer read; they expire within
        // two windows.
        let what = match scope {
            NumberScope::Tenant(t) => format!("nl:{t}"),
            NumberScope::Global => "nlg".to_owned(),
        };
        let mut inv = scripts::SLIDING_HIT.key(self.phone_key(phone, &format!("{what}:{start}")));
        inv.key(self.phone_key(phone, &format!("{what}:{}", start.saturating_sub(w))));
        inv.arg(now).arg(w).arg(start).arg(limit);
        let wait: u64 = self.redis.script(&inv).await?;
        Ok(if wait == 0 {
            NumberLimit::Allowed
        } else {
            NumberLimit::Limited {
                retry_after: Duration::from_secs(wait),
            }
        })
    }
}

impl RedisStore {
    /// Counts a recorded `charge` in the usage of the record's tenant (`tenant_fields`, from
    /// the record). The usage hash is in another slot than the record (a cluster cannot run
    /// one script on both), and its tenant is known from the record: after it.
    pub(super) async fn count_charge(
        &self,
        tenant_fields: Vec<Vec<u8>>,
        charge: SendCharge,
        now: u32,
    ) {
        if charge.parts == 0 && charge.charge == 0 {
            return;
        }
        match record::tenant_from_flat(tenant_fields, &self.legacy_tenants) {
            Ok(tenant) => {
                let charged = UsageEvent::Charged {
                    parts: charge.parts.into(),
                    cost_micros: charge.charge,
                };
                self.count_usage(tenant, day_of(now), charged).await;
            }
            Err(e) => tracing::warn!(error = %e, "usage not counted"),
        }
    }
}
