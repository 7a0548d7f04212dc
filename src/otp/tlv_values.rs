//! The values of named TLVs (India's DLT `pe_id`, `template_id`) that go with one SMS: the
//! tenant's (`[[tenants]] tlv_values`), overridden by those of the template sent
//! (`[tenants.template_tlv_values.<language>]`, `default` for the generic template). Which of
//! them an SMSC writes, and under which tag, is its own `tlv_names`.

use std::collections::BTreeMap;

use super::settings::TenantConfig;

/// The key of the generic (language-less) template in `template_tlv_values`.
pub const GENERIC_TEMPLATE: &str = "default";

/// The named values for an SMS of `tenant` whose template is in `language` (`None`: generic).
pub fn tlv_values(tenant: &TenantConfig, language: Option<&str>) -> BTreeMap<String, String> {
    let mut values = tenant.tlv_values.clone();
    let key = language.unwrap_or(GENERIC_TEMPLATE);
    let per_template = tenant
        .template_tlv_values
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key));
    if let Some((_, own)) = per_template {
        values.extend(own.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    values
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_template_overrides_the_tenant() {
        let t: TenantConfig = toml::from_str(
            r#"
            name = "acme"
            tlv_values = { pe_id = "1101000000000001", template_id = "1107000000000000" }
            [template_tlv_values.hi]
            template_id = "1107000000000099"
            [template_tlv_values.default]
            template_id = "1107000000000010"
            "#,
        )
        .unwrap();
        let hi = tlv_values(&t, Some("hi"));
        assert_eq!(hi["pe_id"], "1101000000000001");
        assert_eq!(hi["template_id"], "1107000000000099");
        assert_eq!(tlv_values(&t, None)["template_id"], "1107000000000010");
        assert_eq!(
            tlv_values(&t, Some("fr"))["template_id"],
            "1107000000000000"
        );
    }
}
