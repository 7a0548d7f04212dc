//! The checks of the operator's TLV settings (`[[smsc]] tlvs`, `route_tlvs`, `tlv_names`) and
//! of the tenants' named values, done once at load (and by the engine's start), every error
//! naming the field.

use std::collections::{BTreeMap, BTreeSet};

use super::config::{SettingError, SmscConfig};
use super::tlv_config::{encode_value, NamedTlv, TlvSetting, ValueSetting, MAX_TLVS};

/// Longest name of a named TLV.
const MAX_NAME: usize = 32;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::smpp::tlv_lists::declared_names;

    fn smsc(toml_text: &str) -> SmscConfig {
        toml::from_str(toml_text).unwrap()
    }

    fn field(toml_text: &str) -> Option<String> {
        validate(&smsc(toml_text), 0).err().map(|e| e.field)
    }

    const INDIA: &str = r#"
        tlvs = [{ tag = 0x1500, type = "u8", value = 7 }]
        tlv_names = { pe_id = 0x1400, template_id = { tag = 0x1401, type = "cstring" } }
        [[route_tlvs]]
        prefix = "+91"
        tlvs = [{ tag = 0x1501, value = "IN" }]
    "#;

    #[test]
    fn validation_names_the_field() {
        let f = |s| field(s);
        assert_eq!(f(INDIA), None);
        assert_eq!(
            f(r#"tlvs = [{ tag = 0x0424, type = "hex", value = "00" }]"#).as_deref(),
            Some("smsc[0].tlvs[0].tag")
        );
        assert_eq!(
            f(r#"tlvs = [{ tag = "sar_msg_ref_num", type = "u16", value = 1 }]"#).as_deref(),
            Some("smsc[0].tlvs[0].tag")
        );
        assert_eq!(
            f(r#"tlvs = [{ tag = 70000, value = "x" }]"#).as_deref(),
            Some("smsc[0].tlvs[0].tag")
        );
        assert_eq!(
            f(r#"tlvs = [{ tag = "no_such_tlv", value = "x" }]"#).as_deref(),
            Some("smsc[0].tlvs[0].tag")
        );
        assert_eq!(
            f(r#"tlvs = [{ tag = 0x1500, type = "u8", value = 300 }]"#).as_deref(),
            Some("smsc[0].tlvs[0].value")
        );
        assert_eq!(
            f(r#"tlvs = [{ tag = 0x1500, value = "a" }, { tag = 0x1500, value = "b" }]"#)
                .as_deref(),
            Some("smsc[0].tlvs[1].tag")
        );
        assert_eq!(
            f("tlvs = [{ tag = 0x1400, value = \"a\" }]\ntlv_names = { pe_id = 0x1400 }")
                .as_deref(),
            Some("smsc[0].tlv_names.pe_id")
        );
        assert_eq!(
            f("tlv_names = { pe_id = 0x1400, entity = 0x1400 }").as_deref(),
            Some("smsc[0].tlv_names.pe_id")
        );
        assert_eq!(
            f("tlv_names = { PE = 0x1400 }").as_deref(),
            Some("smsc[0].tlv_names.PE")
        );
        assert_eq!(
            f("[[route_tlvs]]\nprefix = \"91\"").as_deref(),
            Some("smsc[0].route_tlvs[0].prefix")
        );
        assert_eq!(
            f("[[route_tlvs]]\nprefix = \"+91\"\n[[route_tlvs]]\nprefix = \"+91\"").as_deref(),
            Some("smsc[0].route_tlvs[1].prefix")
        );
        assert!(
            toml::from_str::<SmscConfig>(r#"tlvs = [{ tag = 1, value = "a", x = 1 }]"#).is_err()
        );
    }

    #[test]
    fn a_value_is_checked_against_each_smsc_declaring_its_name() {
        let smscs = [smsc(
            "tlv_names = { entity = { tag = 0x1400, type = \"u8\" } }",
        )];
        assert!(declared_names(&smscs).contains("entity"));
        assert!(check_named_value(&smscs, "entity", "12").is_ok());
        assert!(check_named_value(&smscs, "entity", "1101").is_err());
    }
}
