//! Checks of the regulatory settings that span sections: `[senders]` rules per country, and the
//! tenants' numeric senders and named TLV values against the SMSCs' `tlv_names`.

use super::error::ConfigError;
use super::Config;
use crate::otp::language;
use crate::otp::sender_rules::is_numeric;
use crate::otp::tlv_values::GENERIC_TEMPLATE;
use crate::smpp::tlv_checks::check_named_value;
use crate::smpp::tlv_config::MAX_TLV_VALUE;
use crate::smpp::tlv_lists::declared_names;

/// An ISO 3166 alpha-2 code in upper case that the phone metadata knows.
pub(super) fn valid_country(code: &str) -> bool {
    code.len() == 2
        && code.bytes().all(|b| b.is_ascii_uppercase())
        && code.parse::<phonenumber::country::Id>().is_ok()
}

fn fail(field: impl Into<String>, message: impl Into<String>) -> ConfigError {
    ConfigError::invalid(field, message)
}

pub(super) fn validate(c: &Config) -> Result<(), ConfigError> {
    for cc in c.senders.countries.keys() {
        if !valid_country(cc) {
            return Err(fail(
                format!("senders.countries.{cc}"),
                "not an ISO 3166 alpha-2 code (upper case)",
            ));
        }
    }
    c.senders.check().map_err(|(f, m)| fail(f, m))?;
    let declared = declared_names(&c.smsc);
    for (i, t) in c.tenants.iter().enumerate() {
        let f = |k: &str| format!("tenants[{i}].{k}");
        for (cc, n) in &t.numeric_senders {
            let field = f(&format!("numeric_senders.{cc}"));
            if !valid_country(cc) {
                return Err(fail(field, "not an ISO 3166 alpha-2 code (upper case)"));
            }
            if !is_numeric(n) {
                return Err(fail(
                    field,
                    "must be a long number (9-15 digits) or a short code (3-8 digits)",
                ));
            }
        }
        let named = |values: &std::collections::BTreeMap<String, String>, at: &str| {
            for (name, value) in values {
                let field = f(&format!("{at}.{name}"));
                if !declared.contains(name) {
                    return Err(fail(field, "no [[smsc]] declares this name in tlv_names"));
                }
                if value.len() > MAX_TLV_VALUE {
                    return Err(fail(field, format!("at most {MAX_TLV_VALUE} octets")));
                }
                check_named_value(&c.smsc, name, value).map_err(|e| fail(field, e))?;
            }
            Ok(())
        };
        named(&t.tlv_values, "tlv_values")?;
        for (lang, values) in &t.template_tlv_values {
            if lang != GENERIC_TEMPLATE && !language::valid_code(lang) {
                return Err(fail(
                    f(&format!("template_tlv_values.{lang}")),
                    "not a language code, nor `default` (the generic template)",
                ));
            }
            named(values, &format!("template_tlv_values.{lang}"))?;
        }
    }
    Ok(())
}

/// One line for `check-config`: the TLVs per SMSC and the countries with a sender rule.
pub(super) fn summary(c: &Config) -> String {
    let tlvs: Vec<String> = c
        .smsc
        .iter()
        .filter(|s| !(s.tlvs.is_empty() && s.route_tlvs.is_empty() && s.tlv_names.is_empty()))
        .map(|s| {
            let names: Vec<&str> = s.tlv_names.keys().map(String::as_str).collect();
            format!(
                "{} ({} static, {} route prefixes, names {names:?})",
                s.name,
                s.tlvs.len(),
                s.route_tlvs.len()
            )
        })
        .collect();
    let countries: Vec<&str> = c.senders.countries.keys().map(String::as_str).collect();
    format!(
        "regulatory: TLVs on {}; sender rules for {countries:?}",
        if tlvs.is_empty() {
            "no SMSC".to_string()
        } else {
            tlvs.join(", ")
        }
    )
}
