//! The Lua scripts: each OTP operation is one script on one key (the OTP's hash), so it is
//! atomic on a single Redis and on a cluster alike. Record scripts answer
//! `{code, changed, HGETALL, extra}`: `changed` is 1 when the status or deliveryStatus moved.

use std::sync::LazyLock;

use redis::{Script, ScriptInvocation};

use super::record::encoding_code;
use crate::otp::store::SendCharge;

/// Shared by the record scripts, once `k` names the OTP's hash and `nf` is the answer when
/// it is gone (every record has `cr`): the status as of `now`, and setters.
pub(super) const PRELUDE: &str = r#"
local now = tonumber(ARGV[1])
local f = redis.call('HMGET', k, 'st', 'cr', 'ttl', 'at', 'ma', 'dl', 'rs')
if not f[2] then return nf end
local st, cr, ttl = tonumber(f[1]), tonumber(f[2]), tonumber(f[3])
local at, ma, dl, rs = tonumber(f[4]), tonumber(f[5]), tonumber(f[6]), tonumber(f[7] or '0')
local since = now - cr
if since < 0 then since = 0 end
if since > 65535 then since = 65535 end
local function set_status(s) redis.call('HSET', k, 'st', s, 'sa', since) end
local function set_delivery(d) redis.call('HSET', k, 'dl', d, 'da', since) end
local function out(code, changed, extra) return {code, changed, redis.call('HGETALL', k), extra or ''} end
local effective = st
if st == 0 and now >= cr + ttl then effective = 2 end
"#;

/// The sliding-window estimate of every window limit (the previous fixed window weighted by
/// its remaining overlap, plus the current one): the estimate, then the current and previous
/// counts. Prepended to the scripts using it.
pub(super) const SLIDING_ESTIMATE_LUA: &str = r#"
local function estimate(cur_key, prev_key, now, w, start)
  local cur = tonumber(redis.call('GET', cur_key) or '0')
  local prev = tonumber(redis.call('GET', prev_key) or '0')
  return prev * (w - math.min(now - start, w)) / w + cur, cur, prev
end
"#;

/// A record script: the OTP's hash is its first key.
fn script(body: &str) -> Script {
    Script::new(&format!(
        "local k = KEYS[1]\nlocal nf = {{'nf', 0, {{}}, ''}}\n{PRELUDE}{body}"
    ))
}

/// KEYS: otp. ARGV: expire-in seconds, then field/value pairs. 1 stored, 0 duplicate.
pub static INSERT: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('EXPIRE', KEYS[1], ARGV[1])
return 1
"#,
    )
});

/// ARGV: now, candidate hash. `pp` is the hash of the PIN the last resend replaced.
pub static VERIFY: LazyLock<Script> = LazyLock::new(|| {
    script(
        r#"
if effective == 2 then
  if st == 0 then set_status(2) return out('expired', 1) end
  return out('expired', 0)
end
if st == 1 then return out('verified_already', 0) end
if st == 3 then return out('cancelled', 0) end
if st == 4 then return out('failed_already', 0) end
if at >= ma then set_status(4) return out('failed_already', 1) end
local pins = redis.call('HMGET', k, 'pin', 'pp')
if pins[1] == ARGV[2] then set_status(1) return out('ok', 1) end
at = at + 1
redis.call('HSET', k, 'at', at)
if at >= ma then set_status(4) return out('last_failed', 1) end
if pins[2] == ARGV[2] then return out('replaced', 0) end
return out('wrong', 0)
"#,
    )
});

/// ARGV: now.
pub static CANCEL: LazyLock<Script> = LazyLock::new(|| {
    script(
        r#"
if effective == 3 then return out('already', 0) end
if effective ~= 0 then return out('not_pending', 0) end
set_status(3)
return out('ok', 1)
"#,
    )
});

/// ARGV: now, new pin hash, max resends. `extra`: the SMSC, then the old message ids. The
/// replaced PIN's hash moves to `pp` (the one before it is forgotten).
pub static RESEND: LazyLock<Script> = LazyLock::new(|| {
    script(
        r#"
if effective ~= 0 then return out('not_pending', 0) end
if rs >= tonumber(ARGV[3]) then return out('limit', 0) end
local old = (redis.call('HGET', k, 'sm') or '') .. '\n' .. (redis.call('HGET', k, 'mi') or '')
redis.call('HSET', k, 'pp', redis.call('HGET', k, 'pin'), 'pin', ARGV[2], 'rs', rs + 1)
redis.call('HDEL', k, 'er', 'se', 'mi')
local changed = 0
if dl ~= 0 then set_delivery(0) changed = 1 end
return out('ok', changed, old)
"#,
    )
});

/// A `Submitted` on the record (ARGV: now, smsc, message ids each ended by a newline); sets
/// `changed`.
pub(super) const SUBMITTED_BODY: &str = r#"
local changed = 0
local was = redis.call('HMGET', k, 'se', 'mi')
local set = {'sm', ARGV[2], 'mi', (was[2] or '') .. ARGV[3]}
if not was[1] then set[#set + 1] = 'se' set[#set + 1] = since end
if dl == 0 then
  set[#set + 1] = 'dl' set[#set + 1] = 1 set[#set + 1] = 'da' set[#set + 1] = since
  changed = 1
end
redis.call('HSET', k, unpack(set))
"#;

/// ARGV: now, smsc, message ids (each ended by a newline).
pub static SUBMITTED: LazyLock<Script> =
    LazyLock::new(|| script(&format!("{SUBMITTED_BODY}return out('ok', changed)\n")));

/// KEYS: a submitted id's index entry, its held receipts (one hash tag). ARGV: the receipt,
/// the list's TTL, receipts per id at most. `{otp id or '', 1 if the list is new, dropped}`:
/// the lookup and the hold are one step, so a `Submitted` indexing the id before taking its
/// held receipts cannot miss this one.
pub static FIND_OR_HOLD: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local v = redis.call('GET', KEYS[1])
if v then return {v, 0, 0} end
local n = redis.call('RPUSH', KEYS[2], ARGV[1])
local dropped = 0
if n > tonumber(ARGV[3]) then redis.call('LPOP', KEYS[2]) dropped = 1 end
redis.call('EXPIRE', KEYS[2], ARGV[2])
local first = 0
if n == 1 then first = 1 end
return {'', first, dropped}
"#,
    )
});

/// KEYS: held receipts of one id. Returns and removes them.
pub static TAKE_HELD: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local l = redis.call('LRANGE', KEYS[1], 0, -1)
if #l > 0 then redis.call('DEL', KEYS[1]) end
return l
"#,
    )
});

/// KEYS: held receipts of one id. Removes them and answers how many there were.
pub static DROP_HELD: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local n = redis.call('LLEN', KEYS[1])
redis.call('DEL', KEYS[1])
return n
"#,
    )
});

/// A delivery status on the record (ARGV: now, delivery status code, smsc ('' = unchanged),
/// error ('' = unchanged)); sets `changed`.
pub(super) const STATUS_BODY: &str = r#"
local status = tonumber(ARGV[2])
-- a later DELIVERED receipt of one part does not hide another part's failure
local keep_failure = status == 2 and (dl == 3 or dl == 4)
local changed = 0
if not keep_failure and dl ~= status then set_delivery(status) changed = 1 end
if ARGV[3] ~= '' then redis.call('HSET', k, 'sm', ARGV[3]) end
if ARGV[4] ~= '' then redis.call('HSET', k, 'er', ARGV[4]) end
"#;

/// ARGV: now, delivery status code, smsc ('' = unchanged), error ('' = unchanged).
pub static DELIVERY_STATUS: LazyLock<Script> =
    LazyLock::new(|| script(&format!("{STATUS_BODY}return out('ok', changed)\n")));

/// ARGV: now, parts, encoding code. The SMS as the SMSC that took it split it.
pub static SENT_AS: LazyLock<Script> = LazyLock::new(|| {
    script(
        r#"
redis.call('HSET', k, 'pa', ARGV[2], 'en', ARGV[3])
return out('ok', 0)
"#,
    )
});

/// ARGV: now, charge, pending (micro-units). Adds a send's charge to the cost (`co`) and sets
/// the estimate of the send now pending (`cp`).
pub static COST: LazyLock<Script> = LazyLock::new(|| {
    script(
        r#"
redis.call('HINCRBY', k, 'co', ARGV[2])
redis.call('HSET', k, 'cp', ARGV[3])
return out('ok', 0)
"#,
    )
});

/// ARGV: now, charge (micro-units), parts and encoding code (both '' when no SMSC took it).
/// `SENT_AS` and `COST` with nothing pending, in one step.
pub static CHARGED: LazyLock<Script> =
    LazyLock::new(|| script(&format!("{}return out('ok', 0)\n", charged_body(2))));

/// `CHARGED` answering only the record's tenant fields (`tg`, or `tn` of the older format)
/// instead of the whole record: what counting the usage needs.
pub static CHARGED_QUIET: LazyLock<Script> = LazyLock::new(|| {
    script(&format!(
        "{}{TENANT_FIELDS}return {{'ok', 0, tenant, ''}}\n",
        charged_body(2)
    ))
});

/// A send's charge on the record, its arguments from `ARGV[first]` on: the charge
/// (micro-units), then parts and encoding code (both '' when no SMSC took it).
pub(super) fn charged_body(first: usize) -> String {
    let (charge, parts, encoding) = (first, first + 1, first + 2);
    format!(
        r#"
if ARGV[{parts}] ~= '' then
  redis.call('HSET', k, 'pa', ARGV[{parts}], 'en', ARGV[{encoding}], 'cp', 0)
else
  redis.call('HSET', k, 'cp', 0)
end
redis.call('HINCRBY', k, 'co', ARGV[{charge}])
"#
    )
}

/// Adds the arguments [`charged_body`] reads: the charge, then parts and encoding code
/// (both '' when no SMSC took it).
pub(super) fn charge_args(inv: &mut ScriptInvocation<'_>, charge: SendCharge) {
    inv.arg(charge.charge);
    match charge.sent_as {
        Some((encoding, parts)) => inv.arg(parts).arg(encoding_code(encoding)),
        None => inv.arg("").arg(""),
    };
}

/// Sets `tenant` to the record's tenant fields (`tg`, or `tn` of the older format), flat:
/// what counting the usage needs.
pub(super) const TENANT_FIELDS: &str = r#"
local t = redis.call('HMGET', k, 'tg', 'tn')
local tenant = {}
if t[1] then tenant[#tenant + 1] = 'tg'; tenant[#tenant + 1] = t[1] end
if t[2] then tenant[#tenant + 1] = 'tn'; tenant[#tenant + 1] = t[2] end
"#;

/// ARGV: now. Marks a pending OTP past its expiry EXPIRED.
pub static EXPIRE: LazyLock<Script> = LazyLock::new(|| {
    script(
        r#"
if st == 0 and effective == 2 then set_status(2) return out('ok', 1) end
return out('ok', 0)
"#,
    )
});

/// KEYS: index entry. ARGV: otp id. Deletes the entry if it still points at this OTP.
pub static UNINDEX: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"#,
    )
});

/// Sliding-window limiter (the previous fixed window weighted by its remaining overlap plus
/// the current one). KEYS: current window, previous window. ARGV: now, window, window start,
/// limit. Counts and answers 0, or answers the seconds to wait.
pub static SLIDING_HIT: LazyLock<Script> = LazyLock::new(|| {
    Script::new(&format!(
        "{SLIDING_ESTIMATE_LUA}{}",
        r#"
local now, w, start, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local est, cur, prev = estimate(KEYS[1], KEYS[2], now, w, start)
local elapsed = now - start
if est + 1 > limit then
  local allowed = limit - 1
  local wait
  if cur <= allowed and prev > 0 then
    wait = math.max(w * (1 - (allowed - cur) / prev) - elapsed, 1)
  else
    local needed = 0
    if cur > 0 then needed = w * (1 - allowed / cur) end
    wait = (w - elapsed) + math.max(needed, 0)
  end
  return math.min(math.max(math.ceil(wait), 1), 2 * w)
end
redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], 2 * w)
return 0
"#
    ))
});

/// KEYS: idempotency hash. ARGV: fingerprint, in-flight timeout.
pub static IDEM_RESERVE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local f = redis.call('HMGET', KEYS[1], 'fp', 'st', 'body')
if not f[1] then
  redis.call('HSET', KEYS[1], 'fp', ARGV[1])
  redis.call('EXPIRE', KEYS[1], ARGV[2])
  return {'reserved'}
end
if f[1] ~= ARGV[1] then return {'conflict'} end
if f[2] then return {'replay', f[2], f[3] or ''} end
return {'inflight'}
"#,
    )
});

/// KEYS: idempotency hash. ARGV: status, body, ttl.
pub static IDEM_COMPLETE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'st', ARGV[1], 'body', ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return 1
"#,
    )
});

/// KEYS: idempotency hash. Drops a reservation that has no reply.
pub static IDEM_RELEASE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
if redis.call('HEXISTS', KEYS[1], 'st') == 0 then return redis.call('DEL', KEYS[1]) end
return 0
"#,
    )
});
