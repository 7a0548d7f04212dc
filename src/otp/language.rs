//! Template language: the client's explicit choice, else the main language of the destination
//! (its region's where the numbering plan tells it, as Quebec's area codes do), falling back to
//! the generic `template`.

use std::collections::BTreeMap;

/// Country (ISO 3166 alpha-2) -> its main language: the one most of its people read, the
/// language a message to one of its numbers is written in when nothing else is known.
/// Secondary languages are left out on purpose: a country's second language never displaces
/// the generic template (an American gets `template`, not `template_es`). Covers the EU and
/// EEA, the Americas, the Gulf and the largest SMS markets.
static MAIN_LANGUAGE: &[(&str, &str)] = &[
    // European Union and EEA
    ("AT", "de"),
    ("BE", "nl"),
    ("BG", "bg"),
    ("HR", "hr"),
    ("CY", "el"),
    ("CZ", "cs"),
    ("DK", "da"),
    ("EE", "et"),
    ("FI", "fi"),
    ("FR", "fr"),
    ("DE", "de"),
    ("GR", "el"),
    ("HU", "hu"),
    ("IE", "en"),
    ("IT", "it"),
    ("LV", "lv"),
    ("LT", "lt"),
    ("LU", "fr"),
    ("MT", "mt"),
    ("NL", "nl"),
    ("PL", "pl"),
    ("PT", "pt-PT"),
    ("RO", "ro"),
    ("SK", "sk"),
    ("SI", "sl"),
    ("ES", "es"),
    ("SE", "sv"),
    ("IS", "is"),
    ("NO", "nb"),
    ("LI", "de"),
    ("CH", "de"),
    // rest of Europe
    ("GB", "en"),
    ("UA", "uk"),
    ("RS", "sr"),
    ("BA", "bs"),
    ("ME", "sr"),
    ("MK", "mk"),
    ("AL", "sq"),
    ("MD", "ro"),
    ("BY", "be"),
    ("RU", "ru"),
    ("TR", "tr"),
    ("GE", "ka"),
    ("AM", "hy"),
    ("AZ", "az"),
    ("MC", "fr"),
    ("AD", "ca"),
    ("SM", "it"),
    ("XK", "sq"),
    // Americas
    ("US", "en"),
    ("CA", "en"),
    ("MX", "es"),
    ("BR", "pt-BR"),
    ("AR", "es"),
    ("CL", "es"),
    ("CO", "es"),
    ("PE", "es"),
    ("VE", "es"),
    ("EC", "es"),
    ("BO", "es"),
    ("PY", "es"),
    ("UY", "es"),
    ("CR", "es"),
    ("PA", "es"),
    ("GT", "es"),
    ("HN", "es"),
    ("SV", "es"),
    ("NI", "es"),
    ("DO", "es"),
    ("CU", "es"),
    ("PR", "es"),
    ("HT", "fr"),
    ("JM", "en"),
    ("TT", "en"),
    ("BS", "en"),
    ("BB", "en"),
    ("BZ", "en"),
    ("GY", "en"),
    ("SR", "nl"),
    // Gulf and Middle East
    ("AE", "ar"),
    ("SA", "ar"),
    ("QA", "ar"),
    ("KW", "ar"),
    ("BH", "ar"),
    ("OM", "ar"),
    ("IQ", "ar"),
    ("JO", "ar"),
    ("LB", "ar"),
    ("IL", "he"),
    ("IR", "fa"),
    ("YE", "ar"),
    ("SY", "ar"),
    ("PS", "ar"),
    // Africa
    ("EG", "ar"),
    ("MA", "ar"),
    ("DZ", "ar"),
    ("TN", "ar"),
    ("LY", "ar"),
    ("NG", "en"),
    ("ZA", "en"),
    ("KE", "en"),
    ("TZ", "sw"),
    ("UG", "en"),
    ("GH", "en"),
    ("ET", "am"),
    ("SN", "fr"),
    ("CI", "fr"),
    ("CM", "fr"),
    ("CD", "fr"),
    // Asia and Oceania (with the largest SMS markets)
    ("CN", "zh-Hans"),
    ("IN", "en"),
    ("ID", "id"),
    ("PK", "ur"),
    ("BD", "bn"),
    ("JP", "ja"),
    ("PH", "en"),
    ("VN", "vi"),
    ("TH", "th"),
    ("MY", "ms"),
    ("SG", "en"),
    ("KR", "ko"),
    ("TW", "zh-Hant"),
    ("HK", "zh-Hant"),
    ("MO", "zh-Hant"),
    ("LK", "si"),
    ("NP", "ne"),
    ("MM", "my"),
    ("KH", "km"),
    ("LA", "lo"),
    ("MN", "mn"),
    ("KZ", "kk"),
    ("UZ", "uz"),
    ("KG", "ky"),
    ("TJ", "tg"),
    ("AF", "fa"),
    ("AU", "en"),
    ("NZ", "en"),
];

/// Canadian area codes of Quebec, where French is the main language.
const QUEBEC_AREA_CODES: &[u16] = &[263, 354, 367, 418, 438, 450, 468, 514, 579, 581, 819, 873];

/// [`MAIN_LANGUAGE`] by [`letters_index`]: every create looks its country up, and the table's
/// order is by region, for its readers.
static MAIN_LANGUAGE_BY_LETTERS: std::sync::LazyLock<[Option<&'static str>; 26 * 26]> =
    std::sync::LazyLock::new(|| {
        let mut by_letters = [None; 26 * 26];
        for (country, language) in MAIN_LANGUAGE {
            if let Some(slot) = letters_index(country).and_then(|i| by_letters.get_mut(i)) {
                slot.get_or_insert(*language);
            }
        }
        by_letters
    });

/// The place of a country code of two upper-case letters among all such pairs.
fn letters_index(country: &str) -> Option<usize> {
    let [first @ b'A'..=b'Z', second @ b'A'..=b'Z'] = country.as_bytes() else {
        return None;
    };
    Some(usize::from(first - b'A') * 26 + usize::from(second - b'A'))
}

/// The main language of `country` (ISO 3166 alpha-2, upper case), `None` when not in the table.
pub fn main_language_of(country: &str) -> Option<&'static str> {
    MAIN_LANGUAGE_BY_LETTERS
        .get(letters_index(country)?)
        .copied()
        .flatten()
}

/// The main language at the destination: its region's where the number tells the region
/// (Quebec's area codes in Canada), else its country's. `e164` is the number's E.164 digits.
pub fn main_language_at(country: &str, e164: u64) -> Option<&'static str> {
    if country == "CA" && is_quebec(e164) {
        return Some("fr");
    }
    main_language_of(country)
}

/// Whether a NANP number (`1` + 10 digits) has one of Quebec's area codes.
fn is_quebec(e164: u64) -> bool {
    if !(10_000_000_000..20_000_000_000).contains(&e164) {
        return false;
    }
    let area = (e164 / 10_000_000) % 1000;
    u16::try_from(area).is_ok_and(|a| QUEBEC_AREA_CODES.contains(&a))
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

/// Picks the template. Languages tried, in order: the explicit `language` of the request, then
/// `main` (the destination's main language, see [`main_language_at`]); for each, the request's
/// `template_XX`, then the request's `template`; then the configuration's templates for the
/// same languages; the configuration's generic template last. An explicit language naming no
/// template falls back to the destination's main language, and no secondary language of a
/// country is ever tried.
pub fn choose(src: &TemplateSources<'_>, explicit: Option<&str>, main: Option<&str>) -> Chosen {
    let explicit = explicit.map(normalize);
    let candidates = explicit.as_deref().into_iter().chain(main);
    for lang in candidates.clone() {
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
            assert!(main_language_of(cc).is_some(), "{cc}");
        }
        assert_eq!(main_language_of("FR"), Some("fr"));
        assert_eq!(main_language_of("US"), Some("en"));
        assert_eq!(main_language_of("BE"), Some("nl"));
        assert_eq!(main_language_of("ZZ"), None);
        let mut seen = std::collections::BTreeSet::new();
        for (cc, lang) in MAIN_LANGUAGE {
            assert!(seen.insert(cc), "{cc} twice");
            assert!(valid_code(lang) && normalize(lang) == *lang, "{cc}: {lang}");
        }
    }

    /// The lookup by letters answers as a search of the table, for every pair of letters
    /// and for what is not one.
    #[test]
    fn the_lookup_by_letters_answers_as_the_table() {
        let search = |country: &str| {
            MAIN_LANGUAGE
                .iter()
                .find(|(c, _)| *c == country)
                .map(|(_, l)| *l)
        };
        let letters = || b'A'..=b'Z';
        for pair in letters().flat_map(|a| letters().map(move |b| [a, b])) {
            let country = std::str::from_utf8(&pair).unwrap_or_default();
            assert_eq!(main_language_of(country), search(country), "{country}");
        }
        for odd in ["", "G", "gb", "Gb", "GBR", "G1", "\u{e9}A", "[A"] {
            assert_eq!(main_language_of(odd), None, "{odd}");
        }
        assert!(MAIN_LANGUAGE
            .iter()
            .all(|(c, _)| letters_index(c).is_some()));
    }

    #[test]
    fn quebec_area_codes_read_french() {
        assert_eq!(main_language_at("CA", 14_165_550_123), Some("en")); // Toronto
        assert_eq!(main_language_at("CA", 15_145_550_123), Some("fr")); // Montreal
        assert_eq!(main_language_at("CA", 14_185_550_123), Some("fr")); // Quebec City
        assert_eq!(main_language_at("CA", 18_195_550_123), Some("fr")); // Gatineau
        assert_eq!(main_language_at("CA", 16_045_550_123), Some("en")); // Vancouver
                                                                        // the same area code elsewhere in NANP is not Quebec
        assert_eq!(main_language_at("US", 15_145_550_123), Some("en"));
        assert_eq!(main_language_at("CA", 514), Some("en"));
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
        let main = main_language_of;
        assert_eq!(choose(&src, None, main("FR")).template, "FR {{pin}}");
        assert_eq!(
            choose(&src, None, main("BR")).language.as_deref(),
            Some("pt")
        );
        assert_eq!(choose(&src, Some("fr"), main("DE")).template, "FR {{pin}}");
        assert_eq!(choose(&src, None, main("DE")).template, "G {{pin}}");
        // an explicit language without a template: the destination's main language decides
        assert_eq!(choose(&src, Some("ja"), main("FR")).template, "FR {{pin}}");
        // a secondary language (French in Belgium, Spanish in the US) never wins
        assert_eq!(choose(&src, None, main("BE")).template, "G {{pin}}");
        let src2 = TemplateSources {
            request_generic: None,
            ..src
        };
        assert_eq!(choose(&src2, None, main("DE")).template, "DE {{pin}}");
        assert_eq!(choose(&src2, None, main("US")).template, "D {{pin}}");
        assert_eq!(choose(&src2, None, main("US")).language, None);
    }
}
