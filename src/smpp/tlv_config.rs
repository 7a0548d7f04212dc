//! Optional TLVs an operator adds to every submit_sm of an SMSC: static ones (`[[smsc]] tlvs`),
//! static ones per destination prefix (`[[smsc.route_tlvs]]`, longest prefix wins, merged over
//! the SMSC's), and named ones (`tlv_names`) whose values come with each message from its
//! tenant and template (India's DLT `pe_id` and `template_id`). Checked once by
//! `tlv_checks::validate`; [`tlvs_for`] builds the list of one message.

use std::collections::{BTreeMap, BTreeSet};

use bytes::Bytes;
use otpgate_codec::pdu::{tag, tag_by_name, Tlv};
use serde::Deserialize;

use super::config::SmscConfig;

/// Longest value of one configured TLV, in octets.
pub const MAX_TLV_VALUE: usize = 255;
/// Most TLVs in one list (`tlvs`, a route's `tlvs`, `tlv_names`).
pub const MAX_TLVS: usize = 32;

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
    pub(super) fn resolve(&self) -> Result<u16, String> {
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
    pub(super) fn parts(&self) -> (&TagSetting, TlvType) {
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
        return Err(format!(
            "the value takes {} octets, at most {MAX_TLV_VALUE}",
            bytes.len()
        ));
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

/// The tag of every name the SMSCs declare (for `otpgate pdu decode --config`); a tag named
/// twice keeps its first name.
pub fn configured_names(smscs: &[SmscConfig]) -> BTreeMap<u16, String> {
    let mut out = BTreeMap::new();
    for s in smscs {
        let all = s
            .tlv_names
            .iter()
            .chain(s.route_tlvs.iter().flat_map(|r| r.tlv_names.iter()));
        for (name, named) in all {
            if let Ok(t) = named.parts().0.resolve() {
                out.entry(t).or_insert_with(|| name.clone());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn smsc(toml_text: &str) -> SmscConfig {
        toml::from_str(toml_text).unwrap()
    }

    const INDIA: &str = r#"
        tlvs = [{ tag = 0x1500, type = "u8", value = 7 }, { tag = "callback_num_pres_ind", type = "hex", value = "01" }]
        tlv_names = { pe_id = 0x1400, template_id = { tag = 0x1401, type = "cstring" } }
        [[route_tlvs]]
        prefix = "+91"
        tlvs = [{ tag = 0x1500, type = "u16", value = 258 }, { tag = 0x1600, value = "IN" }]
        [[route_tlvs]]
        prefix = "+9198"
        tlvs = [{ tag = 0x1600, value = "IN-98" }]
    "#;

    fn other(tag: u16, value: &[u8]) -> Tlv {
        Tlv::Other {
            tag,
            value: Bytes::copy_from_slice(value),
        }
    }

    #[test]
    fn static_route_and_named_tlvs_merge() {
        let cfg = smsc(INDIA);
        super::super::tlv_checks::validate(&cfg, 0).unwrap();
        let values = BTreeMap::from([
            ("pe_id".to_string(), "1101".to_string()),
            ("template_id".to_string(), "1107".to_string()),
            ("unused".to_string(), "x".to_string()),
        ]);
        let uk = tlvs_for(&cfg, "+447700900123", &values).unwrap();
        assert_eq!(
            uk,
            vec![
                other(0x1500, &[7]),
                other(0x0302, &[1]),
                other(0x1400, b"1101"),
                other(0x1401, b"1107\0"),
            ]
        );
        let delhi = tlvs_for(&cfg, "+911123456789", &BTreeMap::new()).unwrap();
        assert_eq!(
            delhi,
            vec![
                other(0x1500, &[1, 2]),
                other(0x0302, &[1]),
                other(0x1600, b"IN")
            ]
        );
        // the longest prefix wins
        let mobile = tlvs_for(&cfg, "+919812345678", &BTreeMap::new()).unwrap();
        assert!(mobile.contains(&other(0x1600, b"IN-98")));
        assert!(mobile.contains(&other(0x1500, &[7])));
    }

    #[test]
    fn values_encode_by_type() {
        let v = |k, val: ValueSetting| encode_value(k, &val);
        let text = |s: &str| ValueSetting::Text(s.into());
        assert_eq!(
            v(TlvType::U32, ValueSetting::Integer(1)).unwrap()[..],
            [0, 0, 0, 1]
        );
        assert_eq!(v(TlvType::U16, text("513")).unwrap()[..], [2, 1]);
        assert!(v(TlvType::U8, ValueSetting::Integer(256)).is_err());
        assert!(v(TlvType::U8, ValueSetting::Integer(-1)).is_err());
        assert!(v(TlvType::Hex, text("0g")).is_err());
        assert_eq!(v(TlvType::Hex, text("")).unwrap().len(), 0);
        assert!(v(TlvType::String, text(&"x".repeat(256))).is_err());
        assert!(v(TlvType::Cstring, text("a\0b")).is_err());
    }
}
