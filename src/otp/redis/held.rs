//! Receipts held in Redis until the `Submitted` of their message id (any node's) takes them.
//! `P:smid:{<smsc>:<canonical id>}` indexes a submitted id; `P:held:{<smsc>:<canonical id>}`
//! lists the receipts held for it (same hash tag, so one script sees both on a cluster);
//! `P:held_due` orders the held lists by end of hold time for the housekeeping of any node,
//! which counts what it drops as unmatched. The count limit is kept approximately (held lists,
//! checked after each hold), as the gauge is.

use otpgate_codec::dlr::message_id_variants;

use super::record::{delivery_code, delivery_of};
use super::{scripts, RedisStore};
use crate::otp::model::OtpId;
use crate::otp::store::{HeldReceipt, ReceiptMatch, StoreError};
use crate::telemetry::names;

/// Receipts held for one message id at most (ENROUTE, ACCEPTD, the final one, repeats).
pub(super) const PER_ID: u32 = 8;
/// Held lists dropped per housekeeping round at most.
const BATCH: usize = 1000;

pub(super) fn encode(r: &HeldReceipt) -> String {
    let status = r
        .status
        .map_or("-".to_owned(), |s| delivery_code(s).to_string());
    format!("{status}|{}", r.error.as_deref().unwrap_or(""))
}

pub(super) fn decode(s: &str) -> Option<HeldReceipt> {
    let (status, error) = s.split_once('|')?;
    let status = match status {
        "-" => None,
        c => Some(delivery_of(c.parse().ok()?)?),
    };
    let error = (!error.is_empty()).then(|| error.to_owned());
    Some(HeldReceipt { status, error })
}

/// A name as it can go inside a hash tag.
fn tag(smsc: &str) -> String {
    smsc.replace(['{', '}'], "_")
}

impl RedisStore {
    /// Where a submitted id of `smsc` is indexed.
    pub(super) fn mid_key(&self, smsc: &str, canonical: &str) -> String {
        format!("{}:smid:{{{}:{canonical}}}", self.prefix(), tag(smsc))
    }

    /// The index key written before receipts knew their SMSC.
    pub(super) fn old_mid_key(&self, canonical: &str) -> String {
        format!("{}:mid:{{{canonical}}}", self.prefix())
    }

    pub(super) fn held_key(&self, smsc: &str, canonical: &str) -> String {
        format!("{}:held:{{{}:{canonical}}}", self.prefix(), tag(smsc))
    }

    pub(super) fn held_due_key(&self) -> String {
        format!("{}:held_due", self.prefix())
    }

    async fn get_id(&self, key: String) -> Result<Option<OtpId>, StoreError> {
        let cmd = redis::cmd("GET").arg(key).clone();
        let v: Option<String> = self.redis().cmd(&cmd).await?;
        Ok(v.as_deref().and_then(OtpId::parse))
    }

    pub(super) async fn find_or_hold_redis(
        &self,
        smsc: &str,
        variants: &[String],
        receipt: HeldReceipt,
        now: u32,
    ) -> Result<ReceiptMatch, StoreError> {
        let Some(first) = variants.first() else {
            return Ok(ReceiptMatch::Held);
        };
        // The other forms of the id, and the keys of OTPs submitted before the index knew
        // SMSCs (in flight during a rolling upgrade): each tried once, before the atomic step.
        let keys = variants[1..]
            .iter()
            .map(|v| self.mid_key(smsc, v))
            .chain(variants.iter().map(|v| self.old_mid_key(v)));
        let found = futures::future::join_all(keys.map(|k| self.get_id(k))).await;
        for f in found {
            // another form matches only an OTP still waiting for its receipt (see the memory
            // store: "a" and "10" may both be ids of the SMSC)
            if let Some(id) = f? {
                let dl = redis::cmd("HGET").arg(self.otp_key(&id)).arg("dl").clone();
                let dl: Option<u8> = self.redis().cmd(&dl).await?;
                if dl == Some(delivery_code(crate::otp::model::DeliveryStatus::Sent)) {
                    return Ok(ReceiptMatch::Found(id));
                }
            }
        }
        let held_key = self.held_key(smsc, first);
        let hold_s = self.receipt_hold().hold_s;
        let mut inv = scripts::FIND_OR_HOLD.key(self.mid_key(smsc, first));
        inv.key(&held_key)
            .arg(encode(&receipt))
            .arg(hold_s.saturating_add(60))
            .arg(PER_ID);
        let (id, first_held, dropped): (String, i64, i64) = self.redis().script(&inv).await?;
        if let Some(id) = OtpId::parse(&id) {
            return Ok(ReceiptMatch::Found(id));
        }
        if dropped > 0 {
            metrics::counter!(names::RECEIPTS_SHED).increment(dropped as u64);
        }
        if first_held == 1 {
            let zadd = redis::cmd("ZADD")
                .arg(self.held_due_key())
                .arg("NX")
                .arg(now.saturating_add(hold_s))
                .arg(&held_key)
                .clone();
            self.redis().cmd::<i64>(&zadd).await?;
            self.shed_beyond_max().await?;
        }
        Ok(ReceiptMatch::Held)
    }

    /// Drops the oldest held lists beyond `receipt_hold_max`.
    pub(super) async fn shed_beyond_max(&self) -> Result<(), StoreError> {
        let due = self.held_due_key();
        let card: usize = self
            .redis()
            .cmd(&redis::cmd("ZCARD").arg(&due).clone())
            .await?;
        let max = self.receipt_hold().max;
        if card <= max {
            return Ok(());
        }
        let pop = redis::cmd("ZPOPMIN").arg(&due).arg(card - max).clone();
        let popped: Vec<(String, f64)> = self.redis().cmd(&pop).await?;
        for (key, _) in popped {
            let n = self.drop_held(key).await?;
            metrics::counter!(names::RECEIPTS_SHED).increment(n);
        }
        Ok(())
    }

    async fn drop_held(&self, key: String) -> Result<u64, StoreError> {
        let n: i64 = self.redis().script(&scripts::DROP_HELD.key(key)).await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    pub(super) async fn take_held_redis(
        &self,
        smsc: &str,
        message_ids: &[String],
    ) -> Result<Vec<HeldReceipt>, StoreError> {
        // every form a receipt's id may take for these ids (the relation is symmetric)
        let keys: Vec<String> = message_ids
            .iter()
            .flat_map(|m| message_id_variants(m))
            .map(|v| self.held_key(smsc, &v))
            .collect();
        let lists = futures::future::join_all(keys.iter().map(|k| {
            let inv = scripts::TAKE_HELD.key(k);
            async move { self.redis().script::<Vec<String>>(&inv).await }
        }))
        .await;
        let mut out = Vec::new();
        for (key, list) in keys.iter().zip(lists) {
            let list = list?;
            if list.is_empty() {
                continue;
            }
            let zrem = redis::cmd("ZREM").arg(self.held_due_key()).arg(key).clone();
            self.redis().cmd::<i64>(&zrem).await?;
            out.extend(list.iter().filter_map(|s| decode(s)));
        }
        Ok(out)
    }

    /// Drops the held lists whose hold time ended (claimed one by one, so that each is
    /// counted by one node); updates the gauge. True when a whole batch was due.
    pub(super) async fn expire_held(&self, now: u32) -> Result<bool, StoreError> {
        let due = self.held_due_key();
        let keys = self.due_batch(&due, now, BATCH).await?;
        let full = keys.len() >= BATCH;
        for key in keys {
            let zrem = redis::cmd("ZREM").arg(&due).arg(&key).clone();
            if self.redis().cmd::<i64>(&zrem).await? != 1 {
                continue; // taken, or another node's
            }
            let n = self.drop_held(key).await?;
            metrics::counter!(names::RECEIPTS_UNMATCHED).increment(n);
        }
        let card: usize = self
            .redis()
            .cmd(&redis::cmd("ZCARD").arg(&due).clone())
            .await?;
        metrics::gauge!(names::RECEIPTS_HELD).set(card as f64);
        Ok(full)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::otp::model::DeliveryStatus;

    #[test]
    fn held_receipts_round_trip() {
        for r in [
            HeldReceipt {
                status: None,
                error: None,
            },
            HeldReceipt {
                status: Some(DeliveryStatus::Undelivered),
                error: Some("receipt err: 001|x".into()),
            },
        ] {
            assert_eq!(decode(&encode(&r)), Some(r));
        }
        assert_eq!(decode("9|"), None);
        assert_eq!(tag("a{b}"), "a_b_");
    }
}
