//! The offline tool commands of the binary: `otpgate pdu decode` and `otpgate sms split`. They
//! only call the codec, so an operator can look at what goes over the wire without a server.

use otpgate_codec::pdu::{decode_hex_pdu, pdu_to_json, Body, Pdu};
use otpgate_codec::text::{
    decode_short_message, split, split_to_json, Concat, EncodingChoice, NationalLanguage,
    SplitOptions,
};
use serde_json::Value;

use crate::smpp::config::SmscConfig;
use crate::smpp::pricing::{price_for, split_for, to_micros, MICROS};
use std::collections::BTreeMap;

/// `pdu decode --config`: as [`pdu_decode`], each TLV whose tag a configuration names
/// (`[[smsc]] tlv_names`) also carrying that `name`.
pub fn pdu_decode_named(hex: &str, names: &BTreeMap<u16, String>) -> Result<Value, String> {
    let mut json = pdu_decode(hex)?;
    if let Some(tlvs) = json.get_mut("tlvs").and_then(Value::as_array_mut) {
        for t in tlvs {
            let tag = t
                .get("tag_hex")
                .and_then(Value::as_str)
                .and_then(|h| h.strip_prefix("0x"))
                .and_then(|h| u16::from_str_radix(h, 16).ok());
            if let (Some(name), Some(obj)) = (tag.and_then(|t| names.get(&t)), t.as_object_mut()) {
                obj.insert("name".into(), Value::String(name.clone()));
            }
        }
    }
    Ok(json)
}

/// `pdu decode`: the PDU as JSON, with `short_message` also as text where it decodes.
pub fn pdu_decode(hex: &str) -> Result<Value, String> {
    let pdu = decode_hex_pdu(hex).map_err(|e| format!("malformed PDU: {e}"))?;
    let mut json = pdu_to_json(&pdu);
    if let (Some((data_coding, esm_class, short_message)), Some(obj)) =
        (message_fields(&pdu), json.as_object_mut())
    {
        if let Ok(decoded) = decode_short_message(data_coding, esm_class, short_message) {
            obj.insert("text".into(), Value::String(decoded.text));
        }
    }
    Ok(json)
}

fn message_fields(pdu: &Pdu) -> Option<(u8, u8, &[u8])> {
    match &pdu.body {
        Body::SubmitSm(sm) | Body::DeliverSm(sm) if !sm.short_message.is_empty() => {
            Some((sm.data_coding, sm.esm_class, &sm.short_message))
        }
        _ => None,
    }
}

/// `sms split`: the encoding, data_coding and parts of `text`.
pub fn sms_split(
    text: &str,
    encoding: EncodingChoice,
    concat: Concat,
    national: &[String],
    max_parts: usize,
) -> Result<Value, String> {
    let national_languages = national
        .iter()
        .map(|name| {
            NationalLanguage::from_name(name)
                .ok_or_else(|| format!("unknown national language {name:?}"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let options = SplitOptions {
        encoding,
        concat,
        national_languages,
        max_parts,
        ..SplitOptions::default()
    };
    let message = split(text, &options).map_err(|e| e.to_string())?;
    Ok(split_to_json(&message))
}

/// `sms split --smsc`: the parts as `cfg`'s SMSC sends `text`, with the SMSC's name and, for a
/// destination `to`, its price per part (the SMSC's longest matching prefix, else
/// `fallback_price`) and the cost of the parts, in `currency`.
pub fn sms_split_for_smsc(
    text: &str,
    cfg: &SmscConfig,
    to: Option<&str>,
    fallback_price: f64,
    currency: &str,
) -> Result<Value, String> {
    let message = split_for(text, cfg).map_err(|e| e.to_string())?;
    let mut json = split_to_json(&message);
    if let Some(obj) = json.as_object_mut() {
        obj.insert("smsc".into(), Value::String(cfg.name.clone()));
        if let Some(to) = to {
            let route_price = price_for(&cfg.prices, to);
            let per_part = route_price.unwrap_or_else(|| to_micros(fallback_price).unwrap_or(0));
            let parts = message.parts.len() as u64;
            obj.insert("to".into(), Value::String(to.to_owned()));
            obj.insert("price_per_part".into(), (per_part as f64 / MICROS).into());
            obj.insert(
                "price_source".into(),
                Value::String(
                    if route_price.is_some() {
                        "smsc"
                    } else {
                        "fallback"
                    }
                    .into(),
                ),
            );
            let cost = per_part.saturating_mul(parts) as f64 / MICROS;
            obj.insert("cost".into(), cost.into());
            obj.insert("currency".into(), Value::String(currency.to_owned()));
        }
    }
    Ok(json)
}

#[cfg(test)]
mod tests {
    use super::*;

    const AUTO: EncodingChoice = EncodingChoice::Auto;
    const UDH8: Concat = Concat::Udh8;

    #[test]
    fn decodes_a_submit_sm_with_its_text() {
        // submit_sm seq 1 from "Verify" to "447700900123", "Hi 1234" in GSM-7.
        let hex = "0000003a000000040000000000000001000500566572696679000101343437373030393030313233000000000000000000000748692031323334";
        let json = pdu_decode(hex).map_err(|e| e.to_string());
        let json = json.as_ref().map(|v| v["text"].clone());
        assert_eq!(json, Ok(Value::String("Hi 1234".into())));
    }

    #[test]
    fn configured_tlv_names_are_shown() {
        // the submit_sm above with 0x1400 "1101" and 0x1500 0x07 appended
        let hex = "00000047000000040000000000000001000500566572696679000101343437373030393030313233000000000000000000000748692031323334\
                   140000043131303115000001 07"
            .replace([' ', '\n'], "");
        let names = BTreeMap::from([(0x1500, "route_flag".to_string())]);
        let json = pdu_decode_named(&hex, &names).unwrap();
        let tlvs = json["tlvs"].as_array().unwrap();
        assert_eq!(tlvs[0]["tag"], "pe_id");
        assert_eq!(tlvs[0]["text"], "1101");
        assert!(tlvs[0].get("name").is_none());
        assert_eq!(tlvs[1]["tag_hex"], "0x1500");
        assert_eq!(tlvs[1]["name"], "route_flag");
    }

    #[test]
    fn malformed_hex_is_an_error() {
        assert!(pdu_decode("00zz").is_err());
        assert!(pdu_decode("00000010").is_err());
    }

    #[test]
    fn splits_a_long_text() {
        let json = sms_split(&"a".repeat(161), AUTO, UDH8, &[], 10);
        let parts = json.map(|v| v["parts"].as_array().map(Vec::len));
        assert_eq!(parts, Ok(Some(2)));
        assert!(sms_split(&"a".repeat(2000), EncodingChoice::Gsm7, UDH8, &[], 3).is_err());
    }

    #[test]
    fn national_tables_by_name_or_code() {
        let text = "आपका OTP 482913 है";
        let ucs2 = sms_split(text, AUTO, UDH8, &[], 10).map(|v| v["encoding"].clone());
        assert_eq!(ucs2, Ok(Value::String("UCS2".into())));
        for name in ["hindi", "hi"] {
            let json = sms_split(text, AUTO, UDH8, &["tamil".into(), name.into()], 10);
            let json = json.unwrap_or_default();
            assert_eq!(json["encoding"], "GSM7");
            assert_eq!(json["national_language"]["language"], "hindi");
            assert_eq!(json["parts"][0]["udh"], "06240106250106");
        }
        assert!(sms_split(text, AUTO, UDH8, &["marathi".into()], 10).is_err());
    }
}
