//! Template language: the client's explicit choice, or the main languages of the destination
//! country (a maintained table), falling back to the generic `template`.

use std::collections::BTreeMap;

/// Country (ISO 3166 alpha-2) -> main languages, most used first. Covers the EU and EEA, the
/// Americas, the Gulf and the largest SMS markets.
static COUNTRY_LANGUAGES: &[(&str, &[&str])] = &[
    // European Union and EEA
    ("AT", &["de"]),
    ("BE", &["nl", "fr", "de"]),
    ("BG", &["bg"]),
    ("HR", &["hr"]),
    ("CY", &["el", "tr"]),
    ("CZ", &["cs"]),
    ("DK", &["da"]),
    ("EE", &["et"]),
    ("FI", &["fi", "sv"]),
    ("FR", &["fr"]),
    ("DE", &["de"]),
    ("GR", &["el"]),
    ("HU", &["hu"]),
    ("IE", &["en", "ga"]),
    ("IT", &["it"]),
    ("LV", &["lv"]),
    ("LT", &["lt"]),
    ("LU", &["fr", "de", "lb"]),
    ("MT", &["mt", "en"]),
    ("NL", &["nl"]),
    ("PL", &["pl"]),
    ("PT", &["pt-PT", "pt"]),
    ("RO", &["ro"]),
    ("SK", &["sk"]),
    ("SI", &["sl"]),
    ("ES", &["es"]),
    ("SE", &["sv"]),
    ("IS", &["is"]),
    ("NO", &["nb", "no"]),
    ("LI", &["de"]),
    ("CH", &["de", "fr", "it"]),
    // rest of Europe
    ("GB", &["en"]),
    ("UA", &["uk"]),
    ("RS", &["sr"]),
    ("BA", &["bs", "hr", "sr"]),
    ("ME", &["sr"]),
    ("MK", &["mk"]),
    ("AL", &["sq"]),
    ("MD", &["ro"]),
    ("BY", &["be", "ru"]),
    ("RU", &["ru"]),
    ("TR", &["tr"]),
    ("GE", &["ka"]),
    ("AM", &["hy"]),
    ("AZ", &["az"]),
    ("MC", &["fr"]),
    ("AD", &["ca"]),
    ("SM", &["it"]),
    ("XK", &["sq", "sr"]),
    // Americas
    ("US", &["en", "es"]),
    ("CA", &["en", "fr"]),
    ("MX", &["es"]),
    ("BR", &["pt-BR", "pt"]),
    ("AR", &["es"]),
    ("CL", &["es"]),
    ("CO", &["es"]),
    ("PE", &["es"]),
    ("VE", &["es"]),
    ("EC", &["es"]),
    ("BO", &["es"]),
    ("PY", &["es"]),
    ("UY", &["es"]),
    ("CR", &["es"]),
    ("PA", &["es"]),
    ("GT", &["es"]),
    ("HN", &["es"]),
    ("SV", &["es"]),
    ("NI", &["es"]),
    ("DO", &["es"]),
    ("CU", &["es"]),
    ("PR", &["es", "en"]),
    ("HT", &["fr", "ht"]),
    ("JM", &["en"]),
    ("TT", &["en"]),
    ("BS", &["en"]),
    ("BB", &["en"]),
    ("BZ", &["en"]),
    ("GY", &["en"]),
    ("SR", &["nl"]),
    // Gulf and Middle East
    ("AE", &["ar", "en"]),
    ("SA", &["ar"]),
    ("QA", &["ar"]),
    ("KW", &["ar"]),
    ("BH", &["ar"]),
    ("OM", &["ar"]),
    ("IQ", &["ar"]),
    ("JO", &["ar"]),
    ("LB", &["ar", "fr"]),
    ("IL", &["he"]),
    ("IR", &["fa"]),
    ("YE", &["ar"]),
    ("SY", &["ar"]),
    ("PS", &["ar"]),
    // Africa
    ("EG", &["ar"]),
    ("MA", &["ar", "fr"]),
    ("DZ", &["ar", "fr"]),
    ("TN", &["ar", "fr"]),
    ("LY", &["ar"]),
    ("NG", &["en"]),
    ("ZA", &["en", "af", "zu"]),
    ("KE", &["en", "sw"]),
    ("TZ", &["sw", "en"]),
    ("UG", &["en"]),
    ("GH", &["en"]),
    ("ET", &["am"]),
    ("SN", &["fr"]),
    ("CI", &["fr"]),
    ("CM", &["fr", "en"]),
    ("CD", &["fr"]),
    // Asia and Oceania (with the largest SMS markets)
    ("CN", &["zh-Hans", "zh"]),
    ("IN", &["en", "hi"]),
    ("ID", &["id"]),
    ("PK", &["ur", "en"]),
    ("BD", &["bn"]),
    ("JP", &["ja"]),
    ("PH", &["en", "fil"]),
    ("VN", &["vi"]),
    ("TH", &["th"]),
    ("MY", &["ms", "en"]),
    ("SG", &["en", "zh", "ms"]),
    ("KR", &["ko"]),
    ("TW", &["zh-Hant", "zh"]),
    ("HK", &["zh-Hant", "zh", "en"]),
    ("MO", &["zh-Hant", "zh", "pt"]),
    ("LK", &["si", "ta"]),
    ("NP", &["ne"]),
    ("MM", &["my"]),
    ("KH", &["km"]),
    ("LA", &["lo"]),
    ("MN", &["mn"]),
    ("KZ", &["kk", "ru"]),
    ("UZ", &["uz", "ru"]),
    ("KG", &["ky", "ru"]),
    ("TJ", &["tg", "ru"]),
    ("AF", &["fa", "ps"]),
    ("AU", &["en"]),
    ("NZ", &["en"]),
];

/// Main languages of `country` (ISO 3166 alpha-2, upper case), most used first.
pub fn languages_of(country: &str) -> &'static [&'static str] {
    COUNTRY_LANGUAGES
        .iter()
        .find(|(c, _)| *c == country)
        .map(|(_, l)| *l)
        .unwrap_or(&[])
}

/// A language tag we accept: `xx`/`xxx`, optionally `-YY` (region) or `-Yyyy` (script).
pub fn valid_code(code: &str) -> bool {
    let mut it = code.split('-');
    let lang = it.next().unwrap_or("");
    let sub = it.next();
    if it.next().is_some() || !(2..=3).contains(&lang.len()) {
        return false;
    }
    if !lang.bytes().all(|b| b.is_ascii_alphabetic()) {
        return false;
    }
    match sub {
        None => true,
        Some(s) => (s.len() == 2 || s.len() == 4) && s.bytes().all(|b| b.is_ascii_alphabetic()),
    }
}

/// Canonical form of a valid tag: `pt-br` -> `pt-BR`, `ZH-hant` -> `zh-Hant`.
pub fn normalize(code: &str) -> String {
    let mut parts = code.splitn(2, '-');
    let lang = parts.next().unwrap_or("").to_ascii_lowercase();
    match parts.next() {
        Some(s) if s.len() == 2 => format!("{lang}-{}", s.to_ascii_uppercase()),
        Some(s) => {
            let lower = s.to_ascii_lowercase();
            let mut chars = lower.chars();
            let first = chars.next().map(|c| c.to_ascii_uppercase());
            format!(
                "{lang}-{}{}",
                first.map(String::from).unwrap_or_default(),
                chars.as_str()
            )
        }
        None => lang,
    }
}

/// The template chosen for a message, and its language (`None` for a generic template).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chosen {
    pub language: Option<String>,
    pub template: String,
}

/// Where templates come from, most specific first.
pub struct TemplateSources<'a> {
    /// `template_XX` fields of the request, keys normalised.
    pub request_by_language: &'a BTreeMap<String, String>,
    /// `template` of the request.
    pub request_generic: Option<&'a str>,
    /// `[otp] templates` of the configuration, keys normalised.
    pub config_by_language: &'a BTreeMap<String, String>,
    /// `[otp] default_template`.
    pub config_generic: &'a str,
}

fn lookup<'m>(map: &'m BTreeMap<String, String>, lang: &str) -> Option<(&'m str, &'m str)> {
    if let Some((k, v)) = map.get_key_value(lang) {
        return Some((k, v));
    }
    // `pt` also serves `pt-BR`
    let base = lang.split('-').next().unwrap_or(lang);
    map.get_key_value(base)
        .map(|(k, v)| (k.as_str(), v.as_str()))
}

/// Picks the template: an explicit `language`, else the country's languages in order; the
/// request's templates before the configuration's; the generic templates last.
pub fn choose(src: &TemplateSources<'_>, explicit: Option<&str>, country: &str) -> Chosen {
    let explicit = explicit.map(normalize);
    let one: [&str; 1];
    let candidates: &[&str] = match &explicit {
        Some(l) => {
            one = [l.as_str()];
            &one
        }
        None => languages_of(country),
    };
    for lang in candidates {
        if let Some((k, t)) = lookup(src.request_by_language, lang) {
            return chosen(Some(k), t);
        }
    }
    if let Some(t) = src.request_generic {
        return chosen(None, t);
    }
    for lang in candidates {
        if let Some((k, t)) = lookup(src.config_by_language, lang) {
            return chosen(Some(k), t);
        }
    }
    chosen(None, src.config_generic)
}

fn chosen(language: Option<&str>, template: &str) -> Chosen {
    Chosen {
        language: language.map(str::to_owned),
        template: template.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(items: &[(&str, &str)]) -> BTreeMap<String, String> {
        items
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect()
    }

    #[test]
    fn table_covers_required_markets() {
        for cc in [
            "FR", "DE", "ES", "IT", "BG", "US", "BR", "MX", "AE", "SA", "QA", "IN", "CN",
        ] {
            assert!(!languages_of(cc).is_empty(), "{cc}");
        }
        assert_eq!(languages_of("FR"), &["fr"]);
        assert!(languages_of("ZZ").is_empty());
    }

    #[test]
    fn codes() {
        assert!(valid_code("fr") && valid_code("pt-BR") && valid_code("zh-Hant"));
        assert!(!valid_code("f") && !valid_code("fr-") && !valid_code("fr-B-R"));
        assert_eq!(normalize("pt-br"), "pt-BR");
        assert_eq!(normalize("ZH-hant"), "zh-Hant");
    }

    #[test]
    fn choice_order() {
        let req = map(&[("fr", "FR {{pin}}"), ("pt", "PT {{pin}}")]);
        let cfg = map(&[("de", "DE {{pin}}")]);
        let src = TemplateSources {
            request_by_language: &req,
            request_generic: Some("G {{pin}}"),
            config_by_language: &cfg,
            config_generic: "D {{pin}}",
        };
        assert_eq!(choose(&src, None, "FR").template, "FR {{pin}}");
        assert_eq!(choose(&src, None, "BR").language.as_deref(), Some("pt"));
        assert_eq!(choose(&src, Some("fr"), "DE").template, "FR {{pin}}");
        assert_eq!(choose(&src, None, "DE").template, "G {{pin}}");
        let src2 = TemplateSources {
            request_generic: None,
            ..src
        };
        assert_eq!(choose(&src2, None, "DE").template, "DE {{pin}}");
        assert_eq!(choose(&src2, None, "US").template, "D {{pin}}");
        assert_eq!(choose(&src2, None, "US").language, None);
    }
}
