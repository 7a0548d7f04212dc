//! Optional TLVs an operator adds to every submit_sm of an SMSC: static ones (`[[smsc]] tlvs`),
//! static ones per destination prefix (`[[smsc.route_tlvs]]`, longest prefix wins, merged over
//! the SMSC's), and named ones (`tlv_names`) whose values come with each message from its
//! tenant and template (India's DLT `pe_id` and `template_id`). Checked once by [`validate`];
//! [`tlvs_for`] builds the list of one message.

use std::collections::{BTreeMap, BTreeSet};

use bytes::Bytes;
use otpgate_codec::pdu::{tag, tag_by_name, Tlv};
use serde::Deserialize;

use super::config::{SettingError, SmscConfig};

/// Longest value of one configured TLV, in octets.
pub const MAX_TLV_VALUE: usize = 255;
/// Most TLVs in one list (`tlvs`, a route's `tlvs`, `tlv_names`).
pub const MAX_TLVS: usize = 32;
/// Longest name of a named TLV.
const MAX_NAME: usize = 32;

/// Tags the engine writes itself (concatenation, long text) or that only an SMSC sends
/// (receipts, responses): an operator's TLV may not use them.
const RESERVED_TAGS: [u16; 12] = [
    tag::MESSAGE_PAYLOAD,
    tag::SAR_MSG_REF_NUM,
    tag::SAR_TOTAL_SEGMENTS,
    tag::SAR_SEGMENT_SEQNUM,
    tag::RECEIPTED_MESSAGE_ID,
    tag::MESSAGE_STATE,
    tag::NETWORK_ERROR_CODE,
    tag::DELIVERY_FAILURE_REASON,
    tag::DPF_RESULT,
    tag::MS_AVAILABILITY_STATUS,
    tag::SC_INTERFACE_VERSION,
    tag::ADDITIONAL_STATUS_INFO_TEXT,
];

/// A tag as written: a number (`0x1400`) or a name the codec knows (`"pe_id"`,
/// `"callback_num"`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum TagSetting {
    Number(i64),
    Name(String),
}

impl TagSetting {
    fn resolve(&self) -> Result<u16, String> {
        let t = match self {
            TagSetting::Number(n) => u16::try_from(*n)
                .ok()
                .filter(|t| *t > 0)
                .ok_or_else(|| format!("tag {n} is not 0x0001..=0xFFFF"))?,
            TagSetting::Name(name) => tag_by_name(name)
                .ok_or_else(|| format!("unknown TLV name {name:?}: give the tag as a number"))?,
        };
        if RESERVED_TAGS.contains(&t) {
            return Err(format!(
                "tag 0x{t:04X} is written by the engine or only sent by an SMSC"
            ));
        }
        Ok(t)
    }
}

/// How a value is written on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum TlvType {
    /// The text's UTF-8 octets, no terminator (what Indian SMSCs take for the DLT ids).
    #[default]
    String,
    /// The text followed by a NUL octet (a C-Octet String).
    Cstring,
    /// Octets given as hex digits.
    Hex,
    /// An integer in 1, 2 or 4 octets, big-endian.
    U8,
    U16,
    U32,
}

/// A value as written: an integer or a text.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum ValueSetting {
    Integer(i64),
    Text(String),
}

/// `{ tag = 0x1402, type = "u8", value = 1 }`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlvSetting {
    pub tag: TagSetting,
    #[serde(rename = "type", default)]
    pub kind: TlvType,
    pub value: ValueSetting,
}

/// A named TLV: `pe_id = 0x1400` (a string), or `template_id = { tag = 0x1401, type =
/// "cstring" }`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum NamedTlv {
    Tag(TagSetting),
    Full {
        tag: TagSetting,
        #[serde(rename = "type", default)]
        kind: TlvType,
    },
}

impl NamedTlv {
    fn parts(&self) -> (&TagSetting, TlvType) {
        match self {
            NamedTlv::Tag(t) => (t, TlvType::String),
            NamedTlv::Full { tag, kind } => (tag, *kind),
        }
    }
}

/// `[[smsc.route_tlvs]]`: TLVs for the destinations under `prefix`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RouteTlvs {
    /// `+` and digits, like `routes`.
    pub prefix: String,
    pub tlvs: Vec<TlvSetting>,
    pub tlv_names: BTreeMap<String, NamedTlv>,
}

/// The octets of `value` written as `kind`.
pub fn encode_value(kind: TlvType, value: &ValueSetting) -> Result<Bytes, String> {
    let int = |max: u64| match value {
        ValueSetting::Integer(n) => u64::try_from(*n).ok().filter(|n| *n <= max),
        ValueSetting::Text(s) => s.trim().parse::<u64>().ok().filter(|n| *n <= max),
    };
    let bytes: Vec<u8> = match (kind, value) {
        (TlvType::String, ValueSetting::Text(s)) => s.as_bytes().to_vec(),
        (TlvType::Cstring, ValueSetting::Text(s)) => {
            if s.contains('\0') {
                return Err("a cstring value cannot hold a NUL".into());
            }
            let mut b = s.as_bytes().to_vec();
            b.push(0);
            b
        }
        (TlvType::String | TlvType::Cstring, ValueSetting::Integer(n)) => {
            let mut b = n.to_string().into_bytes();
            if kind == TlvType::Cstring {
                b.push(0);
            }
            b
        }
        (TlvType::Hex, ValueSetting::Text(s)) => {
            hex::decode(s.trim()).map_err(|_| "not an even number of hex digits".to_string())?
        }
        (TlvType::Hex, ValueSetting::Integer(_)) => {
            return Err("a hex value is a string of hex digits".into())
        }
        (TlvType::U8, _) => vec![int(0xFF).ok_or("not an integer 0..=255")? as u8],
        (TlvType::U16, _) => (int(0xFFFF).ok_or("not an integer 0..=65535")? as u16)
            .to_be_bytes()
            .to_vec(),
        (TlvType::U32, _) => (int(0xFFFF_FFFF).ok_or("not an integer 0..=4294967295")? as u32)
            .to_be_bytes()
            .to_vec(),
    };
    if bytes.len() > MAX_TLV_VALUE {
        return Err(format!("the value takes {} octets, at most {MAX_TLV_VALUE}", bytes.len()));
    }
    Ok(Bytes::from(bytes))
}

fn tlv_of(s: &TlvSetting) -> Result<Tlv, String> {
    Ok(Tlv::Other {
        tag: s.tag.resolve()?,
        value: encode_value(s.kind, &s.value)?,
    })
}

/// Puts `tlv` into `list`, in place of one with the same tag.
fn merge(list: &mut Vec<Tlv>, tlv: Tlv) {
    match list.iter_mut().find(|t| t.tag() == tlv.tag()) {
        Some(slot) => *slot = tlv,
        None => list.push(tlv),
    }
}

/// The route entry for `destination` (E.164 with `+`): the longest matching prefix.
fn route_for<'a>(cfg: &'a SmscConfig, destination: &str) -> Option<&'a RouteTlvs> {
    cfg.route_tlvs
        .iter()
        .filter(|r| destination.starts_with(r.prefix.as_str()))
        .max_by_key(|r| r.prefix.len())
}

/// Every configured TLV of one message to `destination` through `cfg`: the SMSC's, then its
/// route's (same tag: the route's wins), then each named one that `values` (the tenant's and
/// template's) gives a value. A name without a value is left out.
pub fn tlvs_for(
    cfg: &SmscConfig,
    destination: &str,
    values: &BTreeMap<String, String>,
) -> Result<Vec<Tlv>, String> {
    let mut list = Vec::new();
    for s in &cfg.tlvs {
        merge(&mut list, tlv_of(s)?);
    }
    let route = route_for(cfg, destination);
    let mut names: BTreeMap<&str, &NamedTlv> =
        cfg.tlv_names.iter().map(|(k, v)| (k.as_str(), v)).collect();
    if let Some(r) = route {
        for s in &r.tlvs {
            merge(&mut list, tlv_of(s)?);
        }
        names.extend(r.tlv_names.iter().map(|(k, v)| (k.as_str(), v)));
    }
    for (name, named) in names {
        let Some(value) = values.get(name) else {
            continue;
        };
        let (t, kind) = named.parts();
        let value = encode_value(kind, &ValueSetting::Text(value.clone()))
            .map_err(|e| format!("TLV {name}: {e}"))?;
        merge(
            &mut list,
            Tlv::Other {
                tag: t.resolve()?,
                value,
            },
        );
    }
    Ok(list)
}

/// Every TLV name the SMSCs declare (for checking the tenants' values).
pub fn declared_names(smscs: &[SmscConfig]) -> BTreeSet<String> {
    smscs
        .iter()
        .flat_map(|s| {
            s.tlv_names
                .keys()
                .chain(s.route_tlvs.iter().flat_map(|r| r.tlv_names.keys()))
        })
        .cloned()
        .collect()
}

/// Checks a named value (a tenant's or a template's) against every SMSC that declares `name`.
pub fn check_named_value(smscs: &[SmscConfig], name: &str, value: &str) -> Result<(), String> {
    let text = ValueSetting::Text(value.to_owned());
    for s in smscs {
        let declared = s
            .tlv_names
            .get(name)
            .into_iter()
            .chain(s.route_tlvs.iter().filter_map(|r| r.tlv_names.get(name)));
        for named in declared {
            encode_value(named.parts().1, &text)
                .map_err(|e| format!("as smsc {:?} writes it: {e}", s.name))?;
        }
    }
    Ok(())
}

fn err(field: String, message: impl Into<String>) -> SettingError {
    SettingError {
        field,
        message: message.into(),
    }
}

/// One list of static TLVs: each valid, at most [`MAX_TLVS`], no tag twice. Returns the tags.
fn check_list(list: &[TlvSetting], field: &str) -> Result<BTreeSet<u16>, SettingError> {
    if list.len() > MAX_TLVS {
        return Err(err(field.into(), format!("at most {MAX_TLVS} TLVs")));
    }
    let mut tags = BTreeSet::new();
    for (j, s) in list.iter().enumerate() {
        let t = s
            .tag
            .resolve()
            .map_err(|e| err(format!("{field}[{j}].tag"), e))?;
        encode_value(s.kind, &s.value).map_err(|e| err(format!("{field}[{j}].value"), e))?;
        if !tags.insert(t) {
            return Err(err(
                format!("{field}[{j}].tag"),
                format!("tag 0x{t:04X} given twice"),
            ));
        }
    }
    Ok(tags)
}

/// One map of named TLVs: names `[a-z0-9_]`, tags valid, none twice, none among `static_tags`.
fn check_names(
    names: &BTreeMap<String, NamedTlv>,
    static_tags: &BTreeSet<u16>,
    field: &str,
) -> Result<(), SettingError> {
    if names.len() > MAX_TLVS {
        return Err(err(field.into(), format!("at most {MAX_TLVS} names")));
    }
    let mut tags = BTreeSet::new();
    for (name, named) in names {
        let f = format!("{field}.{name}");
        let ok_name = (1..=MAX_NAME).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !ok_name {
            return Err(err(f, "a name is 1-32 of a-z, 0-9 and _"));
        }
        let t = named.parts().0.resolve().map_err(|e| err(f.clone(), e))?;
        if static_tags.contains(&t) || !tags.insert(t) {
            return Err(err(
                f,
                format!("tag 0x{t:04X} is also given by another TLV of this SMSC"),
            ));
        }
    }
    Ok(())
}

/// The TLV settings of `smsc[i]`.
pub fn validate(s: &SmscConfig, i: usize) -> Result<(), SettingError> {
    let base = check_list(&s.tlvs, &format!("smsc[{i}].tlvs"))?;
    check_names(&s.tlv_names, &base, &format!("smsc[{i}].tlv_names"))?;
    let mut prefixes = BTreeSet::new();
    for (j, r) in s.route_tlvs.iter().enumerate() {
        let f = |k: &str| format!("smsc[{i}].route_tlvs[{j}].{k}");
        let ok = r
            .prefix
            .strip_prefix('+')
            .is_some_and(|d| d.bytes().all(|b| b.is_ascii_digit()));
        if !ok {
            return Err(err(f("prefix"), "must be + followed by digits"));
        }
        if !prefixes.insert(r.prefix.as_str()) {
            return Err(err(f("prefix"), "prefix given twice"));
        }
        let mut tags = check_list(&r.tlvs, &f("tlvs"))?;
        tags.extend(base.iter().copied());
        // a route's name may take over the SMSC's name of the same tag, not a static tag
        check_names(&r.tlv_names, &tags, &f("tlv_names"))?;
    }
    Ok(())
}
