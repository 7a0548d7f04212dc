//! The TLV list of one message through one SMSC (static, per route, named), and the names the
//! SMSCs declare: what `tlv_config`'s settings mean for an `[[smsc]]` entry.

use std::collections::{BTreeMap, BTreeSet};

use otpgate_codec::pdu::Tlv;

use super::config::SmscConfig;
use super::tlv_config::{encode_value, tlv_of, NamedTlv, RouteTlvs, ValueSetting};

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
    use bytes::Bytes;

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
}
