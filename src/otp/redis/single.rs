//! The hot paths on a single Redis server, each one script, so one round trip, where a Redis
//! Cluster needs several (their keys are in different hash slots there): an insert with its
//! phone index, due entry and pending count; a `Submitted` with its ids' index entries and the
//! receipts held for them; a receipt's lookup, then its hold or its deliveryStatus. A script
//! on one server may reach a key it was not given: the receipt script names the OTP's hash
//! from what the index holds. The scripts answer the record only when it changed (for the
//! observer), not on every update.

use std::sync::LazyLock;

use otpgate_codec::dlr::message_id_variants;
use redis::Script;

use super::held::{decode, encode, PER_ID};
use super::record::{self, delivery_code, to_fields, ID_END};
use super::scripts::{
    charge_args, charged_body, PRELUDE, STATUS_BODY, SUBMITTED_BODY, TENANT_FIELDS,
};
use super::{index_key, RedisStore};
use crate::otp::model::{OtpId, Record};
use crate::otp::store::{HeldReceipt, ReceiptMatch, SendCharge, StoreError};
use crate::otp::usage::day_of;
use crate::telemetry::names;

/// KEYS: the OTP, its phone's latest, the due set, the pending count, the tenant's usage of
/// the day. ARGV: expire-in seconds, otp id, expiry, the usage hash's expiry, then
/// field/value pairs. 1 stored, 0 duplicate.
static INSERT: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 5))
redis.call('EXPIRE', KEYS[1], ARGV[1])
redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[2])
redis.call('INCR', KEYS[4])
redis.call('HINCRBY', KEYS[5], 'c', 1)
redis.call('EXPIREAT', KEYS[5], ARGV[4])
return 1
"#,
    )
});

/// KEYS: the OTP, the held lists' due set, the ids' index entries (ARGV[5] of them), then
/// the held lists of every form of the ids. ARGV: now, smsc, ids each ended by a newline,
/// otp id, count of index entries, retention seconds. `{code, changed, HGETALL when changed,
/// receipts held}`: the held lists are taken even when the OTP is gone (then unmatched).
static SUBMITTED: LazyLock<Script> = LazyLock::new(|| submitted_script(false));

/// `SUBMITTED` after the send's charge, in one step. ARGV: those of `SUBMITTED`, then the
/// charge (micro-units), parts and encoding code (both '' when no SMSC took it). Answers as
/// `SUBMITTED`, then the record's tenant fields (empty when it is gone).
static CHARGED_SUBMITTED: LazyLock<Script> = LazyLock::new(|| submitted_script(true));

fn submitted_script(charged: bool) -> Script {
    let take_held = r#"
local held = {}
local n = tonumber(ARGV[5])
for i = 3 + n, #KEYS do
  local l = redis.call('LRANGE', KEYS[i], 0, -1)
  if #l > 0 then
    redis.call('DEL', KEYS[i])
    redis.call('ZREM', KEYS[2], KEYS[i])
    for _, r in ipairs(l) do held[#held + 1] = r end
  end
end
local nf = {'nf', 0, {}, held, {}}
"#;
    let (charge, tenant) = if charged {
        (charged_body(7), TENANT_FIELDS)
    } else {
        (String::new(), "local tenant = {}\n")
    };
    let index = r#"
local keep = cr + ttl + tonumber(ARGV[6]) - now
if keep < 1 then keep = 1 end
for i = 3, 2 + n do redis.call('SET', KEYS[i], ARGV[4], 'EX', keep) end
if changed == 1 then return {'ok', 1, redis.call('HGETALL', k), held, tenant} end
return {'ok', 0, {}, held, tenant}
"#;
    Script::new(&format!(
        "{take_held}local k = KEYS[1]\n{PRELUDE}{charge}{SUBMITTED_BODY}{tenant}{index}"
    ))
}

/// KEYS: the index entry of the id's first form, its held list, the held lists' due set,
/// then the other entries to try (other forms, the older index). ARGV: now, status code
/// ('' for an intermediate receipt), '' (the SMSC stays), error, the receipt as held, the
/// list's TTL, receipts per id at most, the OTP keys' start, end of the hold.
/// `{'held', 1 if the list is new, {}, dropped}`, or `{code, changed, HGETALL when changed,
/// otp id}` with code `found` (intermediate: nothing to apply), `nf` (the OTP is gone) or `ok`.
/// Another form leads only to an OTP still waiting for its receipt (see the memory store).
static RECEIPT: LazyLock<Script> = LazyLock::new(|| {
    Script::new(&format!(
        "{}{PRELUDE}{STATUS_BODY}{}",
        r#"
local id = false
for i = 4, #KEYS do
  local v = redis.call('GET', KEYS[i])
  if v and redis.call('HGET', ARGV[8] .. v .. '}', 'dl') == '1' then
    id = v
    break
  end
end
if not id then id = redis.call('GET', KEYS[1]) end
if not id then
  local n = redis.call('RPUSH', KEYS[2], ARGV[5])
  local dropped = 0
  if n > tonumber(ARGV[7]) then redis.call('LPOP', KEYS[2]) dropped = 1 end
  redis.call('EXPIRE', KEYS[2], ARGV[6])
  local first = 0
  if n == 1 then
    first = 1
    redis.call('ZADD', KEYS[3], 'NX', ARGV[9], KEYS[2])
  end
  return {'held', first, {}, tostring(dropped)}
end
if ARGV[2] == '' then return {'found', 0, {}, id} end
local k = ARGV[8] .. id .. '}'
local nf = {'nf', 0, {}, id}
"#,
        r#"
if changed == 1 then return {'ok', 1, redis.call('HGETALL', k), id} end
return {'ok', 0, {}, id}
"#
    ))
});

/// What the `Submitted` scripts answer: code, changed, HGETALL when changed, receipts held,
/// the tenant's fields (after a charge).
type SubmittedReply = (String, i64, Vec<Vec<u8>>, Vec<String>, Vec<Vec<u8>>);
/// What the receipt script answers: code, flag, HGETALL when changed, text.
type ReceiptReply = (String, i64, Vec<Vec<u8>>, String);

impl RedisStore {
    /// Stores `record` with its indexes; false when the id is taken.
    pub(super) async fn insert_in_one(
        &self,
        id: &OtpId,
        record: &Record,
        keep: u32,
    ) -> Result<bool, StoreError> {
        let id_text = id.to_string();
        let mut inv = INSERT.key(self.otp_key(id));
        inv.key(self.phone_key(record.phone, "latest"))
            .key(self.due_key())
            .key(self.pending_key())
            .key(self.usage_key(record.tenant, day_of(record.created)))
            .arg(keep)
            .arg(&id_text)
            .arg(record.expires())
            .arg(self.usage_expires_at(day_of(record.created)));
        for (name, value) in to_fields(record) {
            inv.arg(name).arg(value);
        }
        Ok(self.redis.script::<i64>(&inv).await? == 1)
    }

    /// [`OtpStore::submitted`](crate::otp::store::OtpStore::submitted) in one script, after
    /// the send's `charge` when given (as
    /// [`OtpStore::charged_and_submitted`](crate::otp::store::OtpStore::charged_and_submitted)).
    pub(super) async fn submitted_in_one(
        &self,
        id: &OtpId,
        smsc: &str,
        message_ids: &[String],
        charge: Option<SendCharge>,
        now: u32,
    ) -> Result<(bool, Vec<HeldReceipt>), StoreError> {
        let script = match charge {
            Some(_) => &CHARGED_SUBMITTED,
            None => &SUBMITTED,
        };
        let mut joined = String::new();
        let mut inv = script.key(self.otp_key(id));
        inv.key(self.held_due_key());
        for m in message_ids {
            let clean = record::clean_id(m);
            inv.key(self.mid_key(smsc, &index_key(&clean)));
            joined.push_str(&clean);
            joined.push(ID_END);
        }
        // every form a receipt's id may take for these ids (the relation is symmetric)
        for v in message_ids.iter().flat_map(|m| message_id_variants(m)) {
            inv.key(self.held_key(smsc, &v));
        }
        inv.arg(now)
            .arg(smsc)
            .arg(&joined)
            .arg(id.to_string())
            .arg(message_ids.len())
            .arg(self.retain_s());
        if let Some(c) = charge {
            charge_args(&mut inv, c);
        }
        let (code, changed, flat, held, tenant): SubmittedReply = self.redis.script(&inv).await?;
        let held = held.iter().filter_map(|s| decode(s)).collect();
        if code == "nf" {
            return Ok((false, held));
        }
        if let Some(c) = charge {
            self.count_charge(tenant, c, now).await;
        }
        if changed != 0 {
            self.notify(id, &self.decode(flat)?);
        }
        Ok((true, held))
    }

    /// [`OtpStore::receipt`](crate::otp::store::OtpStore::receipt) in one script.
    pub(super) async fn receipt_in_one(
        &self,
        smsc: &str,
        variants: &[String],
        receipt: HeldReceipt,
        now: u32,
    ) -> Result<ReceiptMatch, StoreError> {
        let Some(first) = variants.first() else {
            return Ok(ReceiptMatch::Held);
        };
        let hold_s = self.receipt_hold().hold_s;
        let mut inv = RECEIPT.key(self.mid_key(smsc, first));
        inv.key(self.held_key(smsc, first)).key(self.held_due_key());
        // the other forms, then the keys of OTPs submitted before the index knew SMSCs
        for v in &variants[1..] {
            inv.key(self.mid_key(smsc, v));
        }
        for v in variants {
            inv.key(self.old_mid_key(v));
        }
        inv.arg(now)
            .arg(
                receipt
                    .status
                    .map_or(String::new(), |s| delivery_code(s).to_string()),
            )
            .arg("")
            .arg(receipt.error.as_deref().unwrap_or(""))
            .arg(encode(&receipt))
            .arg(hold_s.saturating_add(60))
            .arg(PER_ID)
            .arg(format!("{}:otp:{{", self.prefix()))
            .arg(now.saturating_add(hold_s));
        let (code, flag, flat, text): ReceiptReply = self.redis.script(&inv).await?;
        if code == "held" {
            if text == "1" {
                metrics::counter!(names::RECEIPTS_SHED).increment(1);
            }
            if flag == 1 {
                self.shed_beyond_max().await?;
            }
            return Ok(ReceiptMatch::Held);
        }
        let Some(id) = OtpId::parse(&text) else {
            // an index entry that is no otp id leads nowhere
            return Ok(ReceiptMatch::Held);
        };
        if flag != 0 {
            self.notify(&id, &self.decode(flat)?);
        }
        Ok(ReceiptMatch::Found(id))
    }
}
