//! An OTP record as a Redis hash: one short field per record field (numbers in decimal, the
//! PIN hash and track id as raw bytes), the rarely-present ones only when set. The Lua scripts
//! read and write the same field names.
//!
//! The tenant, by format: records written since tenants have an identity hold `tg`, the
//! tenant's [`TenantTag`]; older ones hold `tn`, the tenant's position in `[[tenants]]`, and are
//! read as they were then, by that position in the current list (see [`from_flat`]).

use std::collections::HashMap;
use std::num::NonZeroU16;

use crate::otp::identity::TenantTag;
use crate::otp::model::{Cost, DeliveryStatus, Extra, OtpStatus, Record};
use crate::otp::pin::{PinHash, PIN_HASH_LEN};
use crate::otp::text::Encoding;

/// Separates (and ends) the message ids in the `mi` field; ids never contain it.
pub const ID_END: char = '\n';

pub fn status_code(s: OtpStatus) -> u8 {
    match s {
        OtpStatus::Pending => 0,
        OtpStatus::Verified => 1,
        OtpStatus::Expired => 2,
        OtpStatus::Cancelled => 3,
        OtpStatus::Failed => 4,
    }
}

fn status_of(c: u8) -> Option<OtpStatus> {
    Some(match c {
        0 => OtpStatus::Pending,
        1 => OtpStatus::Verified,
        2 => OtpStatus::Expired,
        3 => OtpStatus::Cancelled,
        4 => OtpStatus::Failed,
        _ => return None,
    })
}

pub fn delivery_code(d: DeliveryStatus) -> u8 {
    match d {
        DeliveryStatus::Queued => 0,
        DeliveryStatus::Sent => 1,
        DeliveryStatus::Delivered => 2,
        DeliveryStatus::Undelivered => 3,
        DeliveryStatus::Rejected => 4,
        DeliveryStatus::Failed => 5,
    }
}

pub fn delivery_of(c: u8) -> Option<DeliveryStatus> {
    Some(match c {
        0 => DeliveryStatus::Queued,
        1 => DeliveryStatus::Sent,
        2 => DeliveryStatus::Delivered,
        3 => DeliveryStatus::Undelivered,
        4 => DeliveryStatus::Rejected,
        5 => DeliveryStatus::Failed,
        _ => return None,
    })
}

/// The `en` field: what a record's encoding is stored as.
pub fn encoding_code(e: Encoding) -> u8 {
    match e {
        Encoding::Gsm7 => 0,
        Encoding::Ucs2 => 1,
        Encoding::Latin1 => 2,
    }
}

/// A message id as it can be kept in `mi`: without the separator (and other control bytes).
pub fn clean_id(id: &str) -> String {
    id.chars().filter(|c| !c.is_control()).collect()
}

/// The field/value pairs of a new record.
pub fn to_fields(r: &Record) -> Vec<(&'static str, Vec<u8>)> {
    let n = |v: u64| v.to_string().into_bytes();
    let mut f = vec![
        ("pin", r.pin_hash.0.to_vec()),
        ("ph", n(r.phone)),
        ("cr", n(r.created.into())),
        ("ttl", n(r.ttl.into())),
        ("sa", n(r.status_at.into())),
        ("da", n(r.delivery_at.into())),
        ("tg", n(r.tenant.get().into())),
        ("cc", r.country.to_vec()),
        ("lg", r.language().unwrap_or("").as_bytes().to_vec()),
        ("ma", n(r.max_attempts.into())),
        ("at", n(r.attempts.into())),
        ("pa", n(r.parts.into())),
        ("st", n(status_code(r.status).into())),
        ("dl", n(delivery_code(r.delivery).into())),
        ("en", n(encoding_code(r.encoding()).into())),
        ("ps", n(pin_part(r).into())),
    ];
    if let Some(at) = r.sent_at() {
        f.push(("se", n(at.into())));
    }
    if let Some(e) = r.extra.as_deref() {
        let mut text = |name: &'static str, v: &Option<Box<str>>| {
            if let Some(v) = v {
                f.push((name, v.as_bytes().to_vec()));
            }
        };
        text("cb", &e.callback_url);
        text("er", &e.smpp_error);
        text("tp", &e.template);
        text("sd", &e.sender);
        if let Some(t) = e.track_id {
            f.push(("tr", t.to_vec()));
        }
        if e.resends > 0 {
            f.push(("rs", n(e.resends.into())));
        }
        if let Some(old) = e.replaced_pin {
            f.push(("pp", old.0.to_vec()));
        }
        if let Some(c) = e.cost {
            f.push(("co", n(c.charged)));
            f.push(("cp", n(c.pending)));
        }
        if !e.message_ids.is_empty() {
            let mut mi = String::new();
            for m in e.message_ids.iter() {
                mi.push_str(&clean_id(m));
                mi.push(ID_END);
            }
            f.push(("mi", mi.into_bytes()));
        }
    }
    f
}

/// `ps`: the PIN's type and length as [`Record::pack_pin`] packs them (the encoding is `en`).
fn pin_part(r: &Record) -> u8 {
    let (kind, len) = r.pin();
    Record::pack_pin(kind, len)
}

/// The tenant of a stored record: its tag (`tg`), or for a record of the older format its
/// position (`tn`) in `legacy`, the current `[[tenants]]` tags in order
/// ([`TenantTag::NONE`], nobody's, when the position is past the end).
fn tenant_of(
    tag: Option<&Vec<u8>>,
    index: Option<&Vec<u8>>,
    legacy: &[TenantTag],
) -> Result<TenantTag, Corrupt> {
    fn num<T: std::str::FromStr>(v: &[u8], name: &'static str) -> Result<T, Corrupt> {
        std::str::from_utf8(v)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or(Corrupt(name))
    }
    match (tag, index) {
        (Some(t), _) => num::<u32>(t, "tg").map(TenantTag::from_raw),
        (None, Some(i)) => {
            let i: usize = num(i, "tn")?;
            Ok(legacy.get(i).copied().unwrap_or(TenantTag::NONE))
        }
        (None, None) => Err(Corrupt("tg")),
    }
}

/// The tenant of a record from the flat field/value list of its `tg` and `tn` fields.
pub fn tenant_from_flat(flat: Vec<Vec<u8>>, legacy: &[TenantTag]) -> Result<TenantTag, Corrupt> {
    let field = |name: &[u8]| {
        flat.chunks_exact(2)
            .find(|kv| kv[0] == name)
            .map(|kv| &kv[1])
    };
    tenant_of(field(b"tg"), field(b"tn"), legacy)
}

/// Why a stored hash is not a record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("corrupt OTP record: field {0}")]
pub struct Corrupt(pub &'static str);

/// Reads a record from HGETALL's flat field/value list; `legacy` resolves the tenant of a
/// record of the older format (see [`tenant_of`]).
pub fn from_flat(flat: Vec<Vec<u8>>, legacy: &[TenantTag]) -> Result<Record, Corrupt> {
    let mut map: HashMap<Vec<u8>, Vec<u8>> = HashMap::with_capacity(flat.len() / 2);
    let mut it = flat.into_iter();
    while let (Some(k), Some(v)) = (it.next(), it.next()) {
        map.insert(k, v);
    }
    let raw = |name: &'static str| map.get(name.as_bytes());
    let text = |name: &'static str| -> Option<Box<str>> {
        raw(name).and_then(|v| std::str::from_utf8(v).ok().map(Into::into))
    };
    fn num<T: std::str::FromStr>(v: Option<&Vec<u8>>, name: &'static str) -> Result<T, Corrupt> {
        v.and_then(|v| std::str::from_utf8(v).ok())
            .and_then(|s| s.parse().ok())
            .ok_or(Corrupt(name))
    }
    let pin: [u8; PIN_HASH_LEN] = raw("pin")
        .and_then(|v| v.as_slice().try_into().ok())
        .ok_or(Corrupt("pin"))?;
    let country: [u8; 2] = raw("cc")
        .and_then(|v| v.as_slice().try_into().ok())
        .ok_or(Corrupt("cc"))?;
    let lang = text("lg");
    let message_ids: Vec<Box<str>> = text("mi")
        .map(|s| {
            s.split(ID_END)
                .filter(|m| !m.is_empty())
                .map(Into::into)
                .collect()
        })
        .unwrap_or_default();
    let extra = Extra {
        track_id: raw("tr").and_then(|v| v.as_slice().try_into().ok()),
        callback_url: text("cb"),
        smpp_error: text("er"),
        message_ids,
        template: text("tp"),
        sender: text("sd"),
        resends: raw("rs")
            .map(|v| num(Some(v), "rs"))
            .transpose()?
            .unwrap_or(0),
        replaced_pin: raw("pp")
            .and_then(|v| v.as_slice().try_into().ok())
            .map(PinHash),
        cost: match (raw("co"), raw("cp")) {
            (None, None) => None,
            (co, cp) => Some(Cost {
                charged: co.map(|v| num(Some(v), "co")).transpose()?.unwrap_or(0),
                pending: cp.map(|v| num(Some(v), "cp")).transpose()?.unwrap_or(0),
            }),
        },
    };
    let encoding = match num::<u8>(raw("en"), "en")? {
        0 => Encoding::Gsm7,
        2 => Encoding::Latin1,
        _ => Encoding::Ucs2,
    };
    let (pin_kind, pin_len) = Record::unpack_pin(num(raw("ps"), "ps")?);
    let spec = Record::pack_spec(pin_kind, pin_len, encoding);
    Ok(Record {
        pin_hash: PinHash(pin),
        phone: num(raw("ph"), "ph")?,
        extra: (extra != Extra::default()).then(|| Box::new(extra)),
        created: num(raw("cr"), "cr")?,
        ttl: num(raw("ttl"), "ttl")?,
        status_at: num(raw("sa"), "sa")?,
        delivery_at: num(raw("da"), "da")?,
        tenant: tenant_of(raw("tg"), raw("tn"), legacy)?,
        country,
        language: Record::pack_language(lang.as_deref().filter(|l| !l.is_empty())),
        max_attempts: num(raw("ma"), "ma")?,
        attempts: num(raw("at"), "at")?,
        parts: num(raw("pa"), "pa")?,
        status: status_of(num(raw("st"), "st")?).ok_or(Corrupt("st"))?,
        delivery: delivery_of(num(raw("dl"), "dl")?).ok_or(Corrupt("dl"))?,
        spec,
        sent: raw("se")
            .map(|v| num::<u16>(Some(v), "se"))
            .transpose()?
            .and_then(|at| NonZeroU16::new(at.saturating_add(1))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flat(fields: Vec<(&'static str, Vec<u8>)>) -> Vec<Vec<u8>> {
        fields
            .into_iter()
            .flat_map(|(k, v)| [k.as_bytes().to_vec(), v])
            .collect()
    }

    #[test]
    fn round_trip_with_and_without_extra() {
        let mut r = Record {
            pin_hash: PinHash([9; 16]),
            phone: 339_612_345_678_901,
            extra: None,
            created: 1_700_000_000,
            ttl: 600,
            status_at: 3,
            delivery_at: 4,
            tenant: TenantTag::of("acme"),
            country: *b"FR",
            language: Record::pack_language(Some("fr")),
            max_attempts: 5,
            attempts: 1,
            parts: 2,
            status: OtpStatus::Failed,
            delivery: DeliveryStatus::Undelivered,
            spec: Record::pack_spec(crate::otp::pin::PinType::Alphanumeric, 6, Encoding::Ucs2),
            sent: None,
        };
        let back = from_flat(flat(to_fields(&r)), &[]).unwrap();
        assert_eq!(format!("{back:?}"), format!("{r:?}"));
        r.extra = Some(Box::new(Extra {
            track_id: Some([1; 16]),
            callback_url: Some("https://cb.example/x".into()),
            smpp_error: Some("0x00000045: rejected".into()),
            message_ids: vec!["a1".into(), "b2".into()],
            template: Some("Code {{pin}}".into()),
            sender: Some("Bank".into()),
            resends: 2,
            replaced_pin: Some(PinHash([3; 16])),
            cost: Some(Cost {
                charged: 120_000,
                pending: 35_000,
            }),
        }));
        r.spec = Record::pack_spec(crate::otp::pin::PinType::Numbers, 6, Encoding::Latin1);
        r.set_sent_at(7);
        let back = from_flat(flat(to_fields(&r)), &[]).unwrap();
        assert_eq!(back.extra, r.extra);
        assert_eq!(back.encoding(), Encoding::Latin1);
        assert_eq!(back.sent_at(), Some(7));
    }

    #[test]
    fn missing_or_bad_fields_are_corrupt_not_panics() {
        assert!(from_flat(vec![], &[]).is_err());
        assert!(from_flat(vec![b"pin".to_vec()], &[]).is_err());
        let mut f = flat(vec![("pin", vec![0; 3])]);
        f.push(b"dangling".to_vec());
        assert_eq!(from_flat(f, &[]).unwrap_err(), Corrupt("pin"));
    }

    /// A record of the older format (`tn`, the tenant's position) is read by that position in
    /// the current list; a new one by its tag, whatever the list.
    #[test]
    fn a_record_of_the_older_format_resolves_its_tenant_by_position() {
        let (a, b) = (TenantTag::of("a"), TenantTag::of("b"));
        let r = Record {
            tenant: b,
            ..Record::pending(PinHash([1; 16]), 33_612_345_678, *b"FR", 1, 60, 3)
        };
        let new = flat(to_fields(&r));
        assert_eq!(from_flat(new.clone(), &[a, b]).unwrap().tenant, b);
        assert_eq!(from_flat(new, &[b, a]).unwrap().tenant, b);
        assert_eq!(
            from_flat(new_fields_as_old(&r, 1), &[a, b]).unwrap().tenant,
            b
        );
        assert_eq!(
            from_flat(new_fields_as_old(&r, 5), &[a, b]).unwrap().tenant,
            TenantTag::NONE,
            "a position past the end is nobody's"
        );
        let mut bad = to_fields(&r);
        bad.retain(|(k, _)| *k != "tg");
        assert_eq!(from_flat(flat(bad), &[a]).unwrap_err(), Corrupt("tg"));
    }

    /// `r`'s fields as the older format wrote them: `tn` instead of `tg`.
    fn new_fields_as_old(r: &Record, index: u16) -> Vec<Vec<u8>> {
        let mut f = to_fields(r);
        f.retain(|(k, _)| *k != "tg");
        f.push(("tn", index.to_string().into_bytes()));
        flat(f)
    }
}
