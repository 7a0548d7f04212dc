//! The OTP record (compact, as stored) and the OTP object (as the API shows it).

use std::num::NonZeroU16;

use serde::{Serialize, Serializer};

use super::identity::TenantTag;
use super::pin::{PinHash, PinType};
use super::text::Encoding;

/// An OTP's id: a v4 UUID, shown in lowercase hyphenated form.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OtpId(pub [u8; 16]);

impl OtpId {
    /// From the thread's CSPRNG (`rand::rng()`, seeded and reseeded from the OS): the
    /// `getrandom` system call `Uuid::new_v4` makes per id cost about a microsecond a create.
    pub fn random() -> Self {
        OtpId(
            *uuid::Builder::from_random_bytes(rand::random())
                .as_uuid()
                .as_bytes(),
        )
    }

    /// Parses the hyphenated form (any case); `None` for anything else.
    pub fn parse(s: &str) -> Option<Self> {
        if s.len() != 36 {
            return None;
        }
        uuid::Uuid::try_parse(s).ok().map(|u| OtpId(*u.as_bytes()))
    }
}

impl std::fmt::Display for OtpId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        uuid::Uuid::from_bytes(self.0).hyphenated().fmt(f)
    }
}

impl std::fmt::Debug for OtpId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "OtpId({self})")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum OtpStatus {
    Pending,
    Verified,
    Expired,
    Cancelled,
    Failed,
}

impl OtpStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OtpStatus::Pending => "PENDING",
            OtpStatus::Verified => "VERIFIED",
            OtpStatus::Expired => "EXPIRED",
            OtpStatus::Cancelled => "CANCELLED",
            OtpStatus::Failed => "FAILED",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum DeliveryStatus {
    Queued,
    Sent,
    Delivered,
    Undelivered,
    Rejected,
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Queued => "QUEUED",
            DeliveryStatus::Sent => "SENT",
            DeliveryStatus::Delivered => "DELIVERED",
            DeliveryStatus::Undelivered => "UNDELIVERED",
            DeliveryStatus::Rejected => "REJECTED",
            DeliveryStatus::Failed => "FAILED",
        }
    }
}

/// The rarely-present fields, boxed so that a plain OTP carries one null pointer for them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Extra {
    pub track_id: Option<[u8; 16]>,
    pub callback_url: Option<Box<str>>,
    pub smpp_error: Option<Box<str>>,
    /// SMSC message ids of the parts, where the shared store keeps them (the in-memory store
    /// keeps them in its message id index).
    pub message_ids: Vec<Box<str>>,
    /// The request's own template (kept for a resend; `None` = the configuration's).
    pub template: Option<Box<str>>,
    /// The sender ID that went out (the request's, or the numeric sender that replaced it)
    /// when it is not the default: shown as `from`, and sent again by a resend.
    pub sender: Option<Box<str>>,
    /// Resends so far.
    pub resends: u8,
    /// The hash of the PIN the last resend replaced: that PIN answers 2028 ("the PIN has
    /// expired") instead of 2029, and still counts as a wrong try. Only the last is kept.
    pub replaced_pin: Option<PinHash>,
    /// What the OTP costs, once it differs from `parts x [otp] price_per_part` (a route price,
    /// or a send charged something): `None` keeps that figure until the send is settled, then
    /// 0 (see [`Record::estimate_micros`]).
    pub cost: Option<Cost>,
}

/// An OTP's cost in micro-units of the deployment's currency: what the routes charged for the
/// parts they accepted (every send, resends included), plus the estimate of a send not
/// settled yet.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cost {
    pub charged: u64,
    pub pending: u64,
}

impl Cost {
    /// A price in the currency unit (checked finite and non-negative at load) in micro-units.
    pub fn micros(price: f64) -> u64 {
        (price * 1e6).round() as u64
    }

    pub fn total(self) -> u64 {
        self.charged.saturating_add(self.pending)
    }
}

/// One OTP as stored: 64 bytes plus the optional [`Extra`].
#[derive(Debug, Clone)]
pub struct Record {
    pub pin_hash: PinHash,
    /// E.164 digits as a number (no leading zeros exist in E.164).
    pub phone: u64,
    pub extra: Option<Box<Extra>>,
    /// UNIX seconds.
    pub created: u32,
    pub ttl: u16,
    /// Seconds after `created` of the last status change / delivery status change.
    pub status_at: u16,
    pub delivery_at: u16,
    /// Whose OTP it is (compared with the calling tenant's on every access).
    pub tenant: TenantTag,
    pub country: [u8; 2],
    /// Language tag of the template, zero-padded ASCII (empty = generic template).
    pub language: [u8; 8],
    pub max_attempts: u8,
    pub attempts: u8,
    pub parts: u8,
    pub status: OtpStatus,
    pub delivery: DeliveryStatus,
    /// The PIN's type and length (for a resend) and the text's encoding, in one byte (see
    /// [`Record::pack_spec`]) so that the tenant's tag fits the 64 bytes.
    pub spec: u8,
    /// When an SMSC first accepted the SMS (see [`Record::sent_at`]).
    pub sent: Option<NonZeroU16>,
}

impl Record {
    /// A pending OTP as created: for `phone` in `country`, `created` in UNIX seconds, one
    /// GSM-7 part, the generic template, a 6-digit numeric PIN, no tenant
    /// ([`TenantTag::NONE`]), nothing sent yet.
    /// Callers set what differs with struct update syntax.
    pub fn pending(
        pin_hash: PinHash,
        phone: u64,
        country: [u8; 2],
        created: u32,
        ttl: u16,
        max_attempts: u8,
    ) -> Self {
        Record {
            pin_hash,
            phone,
            extra: None,
            created,
            ttl,
            status_at: 0,
            delivery_at: 0,
            tenant: TenantTag::NONE,
            country,
            language: [0; 8],
            max_attempts,
            attempts: 0,
            parts: 1,
            status: OtpStatus::Pending,
            delivery: DeliveryStatus::Queued,
            spec: Record::pack_spec(PinType::Numbers, 6, Encoding::Gsm7),
            sent: None,
        }
    }

    pub fn expires(&self) -> u32 {
        self.created.saturating_add(u32::from(self.ttl))
    }

    /// The status as of `now` (a pending OTP past its expiry is expired even before the expiry
    /// task has visited it).
    pub fn status_at_time(&self, now: u32) -> OtpStatus {
        if self.status == OtpStatus::Pending && now >= self.expires() {
            OtpStatus::Expired
        } else {
            self.status
        }
    }

    pub fn extra_mut(&mut self) -> &mut Extra {
        self.extra.get_or_insert_with(Box::default)
    }

    pub fn language(&self) -> Option<&str> {
        let end = self.language.iter().position(|b| *b == 0).unwrap_or(8);
        let s = std::str::from_utf8(self.language.get(..end)?).ok()?;
        (!s.is_empty()).then_some(s)
    }

    pub fn pack_language(lang: Option<&str>) -> [u8; 8] {
        let mut out = [0u8; 8];
        if let Some(l) = lang {
            for (o, b) in out.iter_mut().zip(l.bytes()) {
                *o = b;
            }
        }
        out
    }

    /// `spec` of a PIN type and length (4-10) and a text encoding: the length in bits 0-3, the
    /// type in bits 4-5, bit 6 set for Latin-1, bit 7 for UCS-2.
    pub fn pack_spec(kind: PinType, len: u8, encoding: Encoding) -> u8 {
        let ucs2 = match encoding {
            Encoding::Gsm7 => 0,
            Encoding::Ucs2 => Self::UCS2_BIT,
            Encoding::Latin1 => Self::LATIN1_BIT,
        };
        Self::pack_pin(kind, len) | ucs2
    }

    const UCS2_BIT: u8 = 0x80;
    const LATIN1_BIT: u8 = 0x40;

    /// The PIN part of `spec` alone (bits 0-5), as the Redis record keeps it in `ps`.
    pub fn pack_pin(kind: PinType, len: u8) -> u8 {
        let k = match kind {
            PinType::Numbers => 0,
            PinType::Letters => 1,
            PinType::Alphanumeric => 2,
        };
        (k << 4) | (len & 0x0f)
    }

    pub fn pin(&self) -> (PinType, u8) {
        Self::unpack_pin(self.spec)
    }

    /// The PIN type and length of a `spec` (or of a [`Record::pack_pin`] byte).
    pub fn unpack_pin(spec: u8) -> (PinType, u8) {
        let kind = match (spec >> 4) & 0x03 {
            1 => PinType::Letters,
            2 => PinType::Alphanumeric,
            _ => PinType::Numbers,
        };
        let len = spec & 0x0f;
        (kind, if (4..=10).contains(&len) { len } else { 6 })
    }

    /// Sets the encoding, keeping the PIN's type and length.
    pub fn set_encoding(&mut self, encoding: Encoding) {
        let pin = self.spec & !(Self::UCS2_BIT | Self::LATIN1_BIT);
        self.spec = pin
            | match encoding {
                Encoding::Gsm7 => 0,
                Encoding::Ucs2 => Self::UCS2_BIT,
                Encoding::Latin1 => Self::LATIN1_BIT,
            };
    }

    pub fn encoding(&self) -> Encoding {
        if self.spec & Self::UCS2_BIT != 0 {
            Encoding::Ucs2
        } else if self.spec & Self::LATIN1_BIT != 0 {
            Encoding::Latin1
        } else {
            Encoding::Gsm7
        }
    }

    /// Seconds after `created` when an SMSC first accepted the SMS.
    pub fn sent_at(&self) -> Option<u16> {
        self.sent.map(|s| s.get() - 1)
    }

    /// Records the first acceptance, `at` seconds after `created` (stored plus one, so that
    /// "not sent" costs no extra byte).
    pub fn set_sent_at(&mut self, at: u16) {
        if self.sent.is_none() {
            self.sent = NonZeroU16::new(at.saturating_add(1));
        }
    }

    /// The cost in micro-units: the stored [`Cost`], or [`Record::estimate_micros`].
    pub fn cost_micros(&self, fallback_per_part: u64) -> u64 {
        match self.extra.as_deref().and_then(|e| e.cost) {
            Some(c) => c.total(),
            None => self.estimate_micros(fallback_per_part),
        }
    }

    /// The estimate of the send not settled yet, in micro-units: the stored [`Cost`]'s, or
    /// [`Record::estimate_micros`] when none is stored.
    pub fn pending_micros(&self, fallback_per_part: u64) -> u64 {
        match self.extra.as_deref().and_then(|e| e.cost) {
            Some(c) => c.pending,
            None => self.estimate_micros(fallback_per_part),
        }
    }

    /// The cost of an OTP without a stored [`Cost`] (every send settled so far was charged
    /// nothing): its send's estimate, `parts x fallback_per_part`, while that send is not
    /// settled (deliveryStatus QUEUED: a send's charge is recorded with its fate), else 0.
    pub fn estimate_micros(&self, fallback_per_part: u64) -> u64 {
        match self.delivery {
            DeliveryStatus::Queued => u64::from(self.parts).saturating_mul(fallback_per_part),
            _ => 0,
        }
    }

    pub fn since_created(&self, now: u32) -> u16 {
        u16::try_from(now.saturating_sub(self.created)).unwrap_or(u16::MAX)
    }
}

/// The OTP object of the API (sms.cx field names plus otpgate's own).
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct OtpView {
    pub otp_id: String,
    pub track_id: Option<String>,
    pub phone_number: String,
    pub country_iso: String,
    pub status: OtpStatus,
    pub cost: f64,
    pub parts: u8,
    pub max_attempts: u8,
    pub attempts: u8,
    pub ttl: u16,
    pub otp_callback_url: Option<String>,
    pub date_created: Timestamp,
    pub date_expires: Timestamp,
    pub language: Option<String>,
    pub encoding: &'static str,
    pub delivery_status: DeliveryStatus,
    pub date_status_changed: Timestamp,
    pub date_delivery_status_changed: Timestamp,
    pub smpp_error: Option<String>,
    /// When the status became VERIFIED / CANCELLED (null otherwise).
    pub date_verified: Option<Timestamp>,
    pub date_cancelled: Option<Timestamp>,
    /// When an SMSC first accepted the SMS, and when its receipt said DELIVERED.
    pub date_sent: Option<Timestamp>,
    pub date_delivered: Option<Timestamp>,
    /// Resends so far (`POST /otp/{otpId}/resend`).
    pub resends: u8,
    /// The sender ID that went out: the request's `from` (or the default sender), or the
    /// numeric sender that replaced it where the destination country refuses it.
    pub from: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// An instant of the API in whole seconds since the Unix epoch, written in RFC 3339 in UTC
/// (`2026-12-04T13:05:00Z`). A view holds up to eight: written into a buffer on the stack as
/// the view is serialized, not each formatted into a `String` by `time`'s general formatter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timestamp(pub u32);

impl Timestamp {
    /// `YYYY-MM-DDTHH:MM:SSZ` (a `u32` of seconds ends in 2106: four digits of year).
    pub(super) fn write(self, out: &mut [u8; 20]) -> &str {
        let secs = u64::from(self.0);
        let (year, month, day) = civil_from_days(secs / 86_400);
        let time_of_day = secs % 86_400;
        let (hour, minute, second) = (
            time_of_day / 3_600,
            time_of_day % 3_600 / 60,
            time_of_day % 60,
        );
        // each digit by a division by a constant (a multiplication), no loop
        let d = |v: u64| b'0' + (v % 10) as u8;
        *out = [
            d(year / 1_000),
            d(year / 100),
            d(year / 10),
            d(year),
            b'-',
            d(month / 10),
            d(month),
            b'-',
            d(day / 10),
            d(day),
            b'T',
            d(hour / 10),
            d(hour),
            b':',
            d(minute / 10),
            d(minute),
            b':',
            d(second / 10),
            d(second),
            b'Z',
        ];
        std::str::from_utf8(out).unwrap_or("1970-01-01T00:00:00Z")
    }
}

/// The proleptic Gregorian date `days` after 1970-01-01 (year, month, day): H. Hinnant's
/// `civil_from_days` for days that are not negative. An OTP object writes up to eight dates.
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

impl std::fmt::Display for Timestamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.write(&mut [0; 20]))
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.write(&mut [0; 20]))
    }
}

impl OtpView {
    pub fn new(id: OtpId, r: &Record, now: u32, price_per_part: f64) -> Self {
        let extra = r.extra.as_deref();
        let cc = std::str::from_utf8(&r.country).unwrap_or("ZZ");
        let status = r.status_at_time(now);
        let at = |secs: u16| Timestamp(r.created.saturating_add(u32::from(secs)));
        // a pending OTP past its expiry has been expired since its expiry time
        let status_changed = if status != r.status {
            Timestamp(r.expires())
        } else {
            at(r.status_at)
        };
        let when = |s: OtpStatus| (status == s).then(|| at(r.status_at));
        OtpView {
            otp_id: id.to_string(),
            track_id: extra
                .and_then(|e| e.track_id)
                .map(|t| uuid::Uuid::from_bytes(t).hyphenated().to_string()),
            phone_number: super::phone::e164_text(r.phone),
            country_iso: cc.to_owned(),
            status,
            cost: match (extra.and_then(|e| e.cost), r.delivery) {
                (Some(c), _) => c.total() as f64 / 1e6,
                // as `Record::estimate_micros`, at the configured price
                (None, DeliveryStatus::Queued) => f64::from(r.parts) * price_per_part,
                (None, _) => 0.0,
            },
            parts: r.parts,
            max_attempts: r.max_attempts,
            attempts: r.attempts,
            ttl: r.ttl,
            otp_callback_url: extra.and_then(|e| e.callback_url.as_deref().map(str::to_owned)),
            date_created: Timestamp(r.created),
            date_expires: Timestamp(r.expires()),
            language: r.language().map(str::to_owned),
            encoding: r.encoding().as_str(),
            delivery_status: r.delivery,
            date_status_changed: status_changed,
            date_delivery_status_changed: at(r.delivery_at),
            smpp_error: extra.and_then(|e| e.smpp_error.as_deref().map(str::to_owned)),
            date_verified: when(OtpStatus::Verified),
            date_cancelled: when(OtpStatus::Cancelled),
            date_sent: r.sent_at().map(at),
            date_delivered: (r.delivery == DeliveryStatus::Delivered).then(|| at(r.delivery_at)),
            resends: extra.map_or(0, |e| e.resends),
            // the default sender is not stored: the service fills it in
            from: extra
                .and_then(|e| e.sender.as_deref())
                .unwrap_or_default()
                .to_owned(),
            warnings: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every instant a `u32` holds is written as `time` formats it: the epoch, its last
    /// second, leap days and century years, and a walk across the whole range.
    #[test]
    fn timestamps_are_rfc3339_utc() {
        let by_time = |secs: u32| {
            let t = time::OffsetDateTime::UNIX_EPOCH + time::Duration::seconds(i64::from(secs));
            format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute(),
                t.second()
            )
        };
        let edges = [
            0,
            1,
            86_399,
            86_400,
            951_782_400,   // 2000-02-29
            951_868_799,   // 2000-02-29T23:59:59
            1_709_164_800, // 2024-02-29
            4_107_542_399, // 2100-02-28T23:59:59 (2100 is not a leap year)
            4_107_542_400, // 2100-03-01
            u32::MAX,
        ];
        let walk = (0..=u32::MAX / 7_919).map(|i| (i * 7_919).saturating_add(i % 86_400));
        for secs in edges.into_iter().chain(walk) {
            assert_eq!(Timestamp(secs).to_string(), by_time(secs), "{secs}");
        }
    }

    #[test]
    fn record_is_compact() {
        assert!(
            std::mem::size_of::<Record>() <= 64,
            "{}",
            std::mem::size_of::<Record>()
        );
    }

    #[test]
    fn the_spec_byte_keeps_pin_and_encoding_apart() {
        for enc in [Encoding::Gsm7, Encoding::Ucs2, Encoding::Latin1] {
            for (kind, len) in [(PinType::Numbers, 4), (PinType::Alphanumeric, 10)] {
                let r = Record {
                    spec: Record::pack_spec(kind, len, enc),
                    ..Record::pending(PinHash([0; 16]), 33_612_345_678, *b"FR", 0, 60, 3)
                };
                assert_eq!((r.pin(), r.encoding()), ((kind, len), enc));
            }
        }
    }

    #[test]
    fn ids_round_trip_lowercase() {
        let id = OtpId::random();
        let s = id.to_string();
        assert_eq!(s, s.to_lowercase());
        assert_eq!(OtpId::parse(&s), Some(id));
        assert_eq!(OtpId::parse(&s.to_uppercase()), Some(id));
        assert_eq!(OtpId::parse("not-an-id"), None);
        assert_eq!(OtpId::parse(&s.replace('-', "")), None);
    }

    #[test]
    fn ids_are_random_version_4_uuids() {
        let ids: std::collections::HashSet<OtpId> = (0..1000).map(|_| OtpId::random()).collect();
        assert_eq!(ids.len(), 1000);
        for id in ids {
            let u = uuid::Uuid::from_bytes(id.0);
            assert_eq!(u.get_version(), Some(uuid::Version::Random));
            assert_eq!(u.get_variant(), uuid::Variant::RFC4122);
        }
    }

    #[test]
    fn dates_as_rfc3339_in_utc() {
        use time::format_description::well_known::Rfc3339;
        assert_eq!(Timestamp(0).to_string(), "1970-01-01T00:00:00Z");
        assert_eq!(Timestamp(u32::MAX).to_string(), "2106-02-07T06:28:15Z");
        assert_eq!(
            serde_json::to_string(&Timestamp(1_796_389_500)).unwrap(),
            "\"2026-12-04T13:05:00Z\""
        );
        // the general formatter's answer, about every day across the range
        for secs in (0..=u32::MAX).step_by(99_991) {
            let general = time::OffsetDateTime::from_unix_timestamp(i64::from(secs))
                .unwrap()
                .format(&Rfc3339)
                .unwrap();
            assert_eq!(Timestamp(secs).to_string(), general);
        }
    }
}
