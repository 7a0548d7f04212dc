//! Optional TLVs an operator adds to every submit_sm of an SMSC: static ones (`[[smsc]] tlvs`),
//! static ones per destination prefix (`[[smsc.route_tlvs]]`, longest prefix wins, merged over
//! the SMSC's), and named ones (`tlv_names`) whose values come with each message from its
//! tenant and template (India's DLT `pe_id` and `template_id`). Checked once by
//! `tlv_checks::validate`; `tlv_lists::tlvs_for` builds the list of one message.

use std::collections::BTreeMap;

use bytes::Bytes;
use otpgate_codec::pdu::{tag, tag_by_name, Tlv};
use serde::Deserialize;

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

pub(super) fn tlv_of(s: &TlvSetting) -> Result<Tlv, String> {
    Ok(Tlv::Other {
        tag: s.tag.resolve()?,
        value: encode_value(s.kind, &s.value)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
