//! The Redis side of the send queue: one stream per SMSC (`P:sendq:{<smsc>}`) with one
//! consumer group, and beside it (same hash slot) the hash of the nodes that have a bind of
//! that SMSC up (`P:binds:{<smsc>}`, node -> Redis time in ms until which it holds). Every
//! call is one round trip, bounded by `[store] timeout_ms`.

use std::sync::LazyLock;

use redis::{Script, Value};

use crate::otp::redis::Redis;
use crate::otp::store::StoreError;

/// The consumer group every node reads with.
pub const GROUP: &str = "otpgate";

/// Appends an entry unless the stream holds `capacity` already; creates the group (from
/// the start of the stream) with the stream, so that no entry is ever before the group.
static APPEND: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('XGROUP', 'CREATE', KEYS[1], ARGV[2], '0', 'MKSTREAM')
end
if redis.call('XLEN', KEYS[1]) >= tonumber(ARGV[1]) then
  return false
end
return redis.call('XADD', KEYS[1], '*', 'id', ARGV[3], 'p', ARGV[4])
",
    )
});

/// Settles entries: acknowledged and deleted (the stream's length is the queue's depth).
static SETTLE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
redis.call('XACK', KEYS[1], ARGV[1], unpack(ARGV, 2))
return redis.call('XDEL', KEYS[1], unpack(ARGV, 2))
",
    )
});

/// Publishes whether this node has a bind up (ARGV[2] > 0) until Redis time + ARGV[3] ms,
/// forgets nodes whose time is past, and answers the nodes up and the stream's length.
static PRESENCE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if tonumber(ARGV[2]) > 0 then
  redis.call('HSET', KEYS[1], ARGV[1], now + tonumber(ARGV[3]))
else
  redis.call('HDEL', KEYS[1], ARGV[1])
end
local up = 0
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  if tonumber(all[i + 1]) > now then
    up = up + 1
  else
    redis.call('HDEL', KEYS[1], all[i])
  end
end
if up > 0 then
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]) * 10)
end
return {up, redis.call('XLEN', KEYS[2])}
",
    )
});

/// Takes a lock for ARGV[2] ms if free or already ours (ARGV[1] = owner).
static LOCK: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local holder = redis.call('GET', KEYS[1])
if holder == false or holder == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
",
    )
});

/// One stream entry: its id, and the otpId and sealed SMS (absent when the entry was
/// deleted while still pending).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub id: String,
    pub body: Option<(String, Vec<u8>)>,
}

/// The streams of one deployment (`[store] key_prefix`).
#[derive(Clone)]
pub struct Streams {
    redis: Redis,
    prefix: String,
}

impl Streams {
    pub fn new(redis: Redis, prefix: &str) -> Self {
        Self {
            redis,
            prefix: prefix.to_owned(),
        }
    }

    pub fn stream_key(&self, smsc: &str) -> String {
        format!("{}:sendq:{{{smsc}}}", self.prefix)
    }

    fn binds_key(&self, smsc: &str) -> String {
        format!("{}:binds:{{{smsc}}}", self.prefix)
    }

    /// Appends `payload` for OTP `otp_id` to `smsc`'s stream: its entry id, or `None` when
    /// the stream holds `capacity` entries already.
    pub async fn append(
        &self,
        smsc: &str,
        capacity: u64,
        otp_id: &str,
        payload: &[u8],
    ) -> Result<Option<String>, StoreError> {
        let mut inv = APPEND.key(self.stream_key(smsc));
        inv.arg(capacity).arg(GROUP).arg(otp_id).arg(payload);
        self.redis.script(&inv).await
    }

    /// Creates the group of `smsc`'s stream if it is not there (after a flush of Redis).
    pub async fn ensure_group(&self, smsc: &str) -> Result<(), StoreError> {
        let cmd = redis::cmd("XGROUP")
            .arg("CREATE")
            .arg(self.stream_key(smsc))
            .arg(GROUP)
            .arg("0")
            .arg("MKSTREAM")
            .clone();
        match self.redis.cmd::<Value>(&cmd).await {
            Ok(_) => Ok(()),
            Err(e) if e.to_string().contains("BUSYGROUP") => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Up to `count` entries of `smsc`'s stream never given to any consumer, now given to
    /// `consumer`.
    pub async fn read_new(
        &self,
        smsc: &str,
        consumer: &str,
        count: usize,
    ) -> Result<Vec<Entry>, StoreError> {
        self.read_group(smsc, consumer, count, ">").await
    }

    /// Up to `count` entries given to `consumer` and not settled, from the start.
    pub async fn read_own(
        &self,
        smsc: &str,
        consumer: &str,
        count: usize,
    ) -> Result<Vec<Entry>, StoreError> {
        self.read_group(smsc, consumer, count, "0").await
    }

    async fn read_group(
        &self,
        smsc: &str,
        consumer: &str,
        count: usize,
        from: &str,
    ) -> Result<Vec<Entry>, StoreError> {
        let cmd = redis::cmd("XREADGROUP")
            .arg("GROUP")
            .arg(GROUP)
            .arg(consumer)
            .arg("COUNT")
            .arg(count.max(1))
            .arg("STREAMS")
            .arg(self.stream_key(smsc))
            .arg(from)
            .clone();
        let reply = match self.redis.cmd::<Value>(&cmd).await {
            Err(e) if e.to_string().contains("NOGROUP") => {
                self.ensure_group(smsc).await?;
                self.redis.cmd::<Value>(&cmd).await?
            }
            other => other?,
        };
        // [[key, [entry...]]] or nil
        let entries = match reply {
            Value::Array(streams) => streams
                .into_iter()
                .filter_map(|s| match s {
                    Value::Array(mut kv) if kv.len() == 2 => kv.pop(),
                    _ => None,
                })
                .flat_map(entries_of)
                .collect(),
            Value::Map(streams) => streams
                .into_iter()
                .flat_map(|(_, v)| entries_of(v))
                .collect(),
            _ => Vec::new(),
        };
        Ok(entries)
    }

    /// Up to `count` entries of `smsc`'s stream that their consumer has not renewed for
    /// `min_idle_ms`, now given to `consumer` (`XAUTOCLAIM` from the start); the ids of such
    /// entries already deleted come back without a body.
    pub async fn claim_idle(
        &self,
        smsc: &str,
        consumer: &str,
        min_idle_ms: u64,
        count: usize,
    ) -> Result<Vec<Entry>, StoreError> {
        let cmd = redis::cmd("XAUTOCLAIM")
            .arg(self.stream_key(smsc))
            .arg(GROUP)
            .arg(consumer)
            .arg(min_idle_ms)
            .arg("0-0")
            .arg("COUNT")
            .arg(count.max(1))
            .clone();
        let reply = match self.redis.cmd::<Value>(&cmd).await {
            Err(e) if e.to_string().contains("NOGROUP") => {
                self.ensure_group(smsc).await?;
                return Ok(Vec::new());
            }
            other => other?,
        };
        let Value::Array(parts) = reply else {
            return Ok(Vec::new());
        };
        let mut parts = parts.into_iter();
        let _next = parts.next();
        let mut out = parts.next().map(entries_of).unwrap_or_default();
        // Redis 7 also lists the claimed ids whose entries were deleted
        if let Some(Value::Array(gone)) = parts.next() {
            out.extend(
                gone.into_iter()
                    .filter_map(|v| text(v).map(|id| Entry { id, body: None })),
            );
        }
        Ok(out)
    }

    /// Resets the idle time of `ids` (entries `consumer` holds), so that only the entries
    /// of a node that stopped renewing grow old.
    pub async fn renew(
        &self,
        smsc: &str,
        consumer: &str,
        ids: &[String],
    ) -> Result<(), StoreError> {
        if ids.is_empty() {
            return Ok(());
        }
        let mut cmd = redis::cmd("XCLAIM");
        cmd.arg(self.stream_key(smsc))
            .arg(GROUP)
            .arg(consumer)
            .arg(0)
            .arg(ids)
            .arg("JUSTID");
        self.redis.cmd::<Value>(&cmd).await.map(|_| ())
    }

    /// Acknowledges and deletes `ids` of `smsc`'s stream.
    pub async fn settle(&self, smsc: &str, ids: &[String]) -> Result<(), StoreError> {
        if ids.is_empty() {
            return Ok(());
        }
        let mut inv = SETTLE.key(self.stream_key(smsc));
        inv.arg(GROUP).arg(ids);
        self.redis.script::<i64>(&inv).await.map(|_| ())
    }

    /// Says whether this node has a bind of `smsc` up (for `ttl_ms`); answers how many
    /// nodes have one up and the length of `smsc`'s stream.
    pub async fn presence(
        &self,
        smsc: &str,
        node: &str,
        binds_up: usize,
        ttl_ms: u64,
    ) -> Result<(u64, u64), StoreError> {
        let mut inv = PRESENCE.key(self.binds_key(smsc));
        inv.key(self.stream_key(smsc))
            .arg(node)
            .arg(binds_up)
            .arg(ttl_ms);
        self.redis.script(&inv).await
    }

    /// Takes (or keeps) the lock `name` for `ttl_ms` as `owner`: whether it is ours.
    pub async fn lock(&self, name: &str, owner: &str, ttl_ms: u64) -> Result<bool, StoreError> {
        let mut inv = LOCK.key(format!("{}:lock:{name}", self.prefix));
        inv.arg(owner).arg(ttl_ms);
        Ok(self.redis.script::<i64>(&inv).await? == 1)
    }
}

fn text(v: Value) -> Option<String> {
    match v {
        Value::BulkString(b) => String::from_utf8(b).ok(),
        Value::SimpleString(s) => Some(s),
        _ => None,
    }
}

/// The entries of an XREADGROUP / XAUTOCLAIM answer: `[[id, [field, value, ...]], ...]`.
fn entries_of(list: Value) -> Vec<Entry> {
    let Value::Array(list) = list else {
        return Vec::new();
    };
    list.into_iter()
        .filter_map(|e| {
            let Value::Array(e) = e else { return None };
            let mut e = e.into_iter();
            let id = text(e.next()?)?;
            let body = match e.next() {
                Some(Value::Array(fields)) => body_of(fields),
                Some(Value::Map(fields)) => {
                    body_of(fields.into_iter().flat_map(|(k, v)| [k, v]).collect())
                }
                _ => None,
            };
            Some(Entry { id, body })
        })
        .collect()
}

fn body_of(fields: Vec<Value>) -> Option<(String, Vec<u8>)> {
    let mut otp = None;
    let mut payload = None;
    let mut it = fields.into_iter();
    while let (Some(k), Some(v)) = (it.next(), it.next()) {
        match (text(k).as_deref(), v) {
            (Some("id"), v) => otp = text(v),
            (Some("p"), Value::BulkString(b)) => payload = Some(b),
            _ => {}
        }
    }
    Some((otp?, payload?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(s: &str) -> Value {
        Value::BulkString(s.as_bytes().to_vec())
    }

    #[test]
    fn entries_are_read_from_a_reply_deleted_ones_without_body() {
        let reply = Value::Array(vec![
            Value::Array(vec![
                bulk("1-0"),
                Value::Array(vec![bulk("id"), bulk("otp-1"), bulk("p"), bulk("sealed")]),
            ]),
            Value::Array(vec![bulk("2-0"), Value::Nil]),
            Value::Int(3),
        ]);
        assert_eq!(
            entries_of(reply),
            vec![
                Entry {
                    id: "1-0".into(),
                    body: Some(("otp-1".into(), b"sealed".to_vec()))
                },
                Entry {
                    id: "2-0".into(),
                    body: None
                },
            ]
        );
    }
}
