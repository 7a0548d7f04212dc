//! What an SMSC charges and how it would send a text: its price table (`[[smsc]] prices`,
//! destination prefix to price per part, longest prefix wins) in integer micro-units, and the
//! encoding and number of parts of a text under that SMSC's own settings (encoding choice,
//! national tables, concatenation method, packing).

use std::collections::BTreeMap;

use otpgate_codec::text::{self, SplitOptions, TextError};

use super::config::SmscConfig;
use super::submit::split_options;

/// Micro-units per currency unit: prices and costs are counted in integers, so that sums of
/// many parts never drift.
pub const MICROS: f64 = 1_000_000.0;

/// Highest price per part accepted in a table (a typo such as 35 for 0.035 still passes: the
/// bound only keeps the sums far from overflowing).
pub const MAX_PRICE_PER_PART: f64 = 1_000.0;

/// `price` in micro-units, rounded; `None` when it is not a finite, non-negative price up to
/// [`MAX_PRICE_PER_PART`].
pub fn to_micros(price: f64) -> Option<u64> {
    (price.is_finite() && (0.0..=MAX_PRICE_PER_PART).contains(&price))
        .then(|| (price * MICROS).round() as u64)
}

/// Whether `prefix` is a price table key: `+` then digits (`+` alone prices every destination).
pub fn valid_prefix(prefix: &str) -> bool {
    prefix
        .strip_prefix('+')
        .is_some_and(|d| d.len() <= 15 && d.bytes().all(|b| b.is_ascii_digit()))
}

/// The price per part, in micro-units, of the longest prefix of `prices` matching
/// `destination` (E.164 with its `+`); `None` when none matches.
pub fn price_for(prices: &BTreeMap<String, f64>, destination: &str) -> Option<u64> {
    if prices.is_empty() {
        return None;
    }
    let digits = destination.trim_start_matches('+');
    let longest = (0..=digits.len().min(15))
        .rev()
        .find(|&n| digits.is_char_boundary(n))?;
    // one key, looked up by its prefixes from the longest (`+` alone last)
    let key = format!("+{}", digits.get(..longest)?);
    (1..=key.len())
        .rev()
        .find_map(|n| prices.get(key.get(..n)?).and_then(|p| to_micros(*p)))
}

/// The parts of `text` exactly as `cfg`'s SMSC would send them (its `max_parts` applied).
pub fn split_for(text: &str, cfg: &SmscConfig) -> Result<text::SplitMessage, TextError> {
    text::split(text, &split_options(cfg, 0))
}

/// How one SMSC would send a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextPlan {
    /// `GSM7` (national tables included), `UCS2` or `LATIN1`.
    pub encoding: &'static str,
    pub parts: usize,
}

/// The encoding and number of parts `cfg`'s SMSC gives `text`. The SMSC's `max_parts` is not
/// applied: the caller compares the count with its own limits.
pub fn plan_text(text: &str, cfg: &SmscConfig) -> Result<TextPlan, TextError> {
    let options = SplitOptions {
        max_parts: usize::MAX,
        ..split_options(cfg, 0)
    };
    let (encoding, parts) = match text::analyze(text, &options) {
        Ok(v) => v,
        Err(TextError::TooManyParts { parts, .. }) => (otpgate_codec::text::Encoding::Ucs2, parts),
        Err(e) => return Err(e),
    };
    Ok(TextPlan {
        encoding: encoding.name(),
        parts,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::smpp::config::{ConcatMethod, TextEncoding};
    use otpgate_codec::text::NationalLanguage;

    fn table(entries: &[(&str, f64)]) -> BTreeMap<String, f64> {
        entries.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    }

    #[test]
    fn the_longest_prefix_prices_a_destination() {
        let t = table(&[("+44", 0.035), ("+4477", 0.04), ("+", 0.05)]);
        assert_eq!(price_for(&t, "+447700900123"), Some(40_000));
        assert_eq!(price_for(&t, "+442071838750"), Some(35_000));
        assert_eq!(price_for(&t, "+33612345678"), Some(50_000));
        assert_eq!(price_for(&table(&[("+44", 0.035)]), "+33612345678"), None);
    }

    #[test]
    fn prices_are_micro_units_without_drift() {
        assert_eq!(to_micros(0.1), Some(100_000));
        assert_eq!(to_micros(0.000_000_4), Some(0));
        assert_eq!(to_micros(-0.1), None);
        assert_eq!(to_micros(f64::NAN), None);
        assert_eq!(to_micros(1e9), None);
        assert!(valid_prefix("+") && valid_prefix("+4477"));
        assert!(!valid_prefix("44") && !valid_prefix("+44a") && !valid_prefix(""));
    }

    /// The create sizes its SMS with a PIN of zeros and keeps that plan for a numeric PIN:
    /// any digits must give the same encoding and parts, whatever the SMSC's settings and the
    /// template's script, at every length across part boundaries.
    #[test]
    fn a_numeric_pin_plans_as_its_zeros() {
        let mut configs = vec![
            SmscConfig::default(),
            SmscConfig {
                concat: ConcatMethod::Udh16,
                ..SmscConfig::default()
            },
        ];
        for encoding in [TextEncoding::Gsm7, TextEncoding::Ucs2, TextEncoding::Latin1] {
            configs.push(SmscConfig {
                encoding,
                ..SmscConfig::default()
            });
        }
        for lang in NationalLanguage::ALL {
            configs.push(SmscConfig {
                national_languages: vec![lang],
                ..SmscConfig::default()
            });
        }
        configs.push(SmscConfig {
            national_languages: NationalLanguage::ALL.to_vec(),
            ..SmscConfig::default()
        });
        let templates = [
            ("Your code is {{pin}}", 'a'),
            ("Doğrulama kodunuz: {{pin}}", 'ş'),
            ("O seu código é {{pin}}", 'ç'),
            ("आपका कोड {{pin}} है", 'क'),
            ("আপনার কোড {{pin}}", 'ক'),
            ("உங்கள் குறியீடு {{pin}}", 'க'),
            ("మీ కోడ్ {{pin}}", 'క'),
            ("آپ کا کوڈ {{pin}}", 'ک'),
            ("Κωδικός {{pin}}", 'Ω'),
            ("验证码 {{pin}}", '码'),
            ("{{pin}} 🔐", '€'),
        ];
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        for cfg in &configs {
            for (template, filler) in templates {
                for pad in 0..330 {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    let len = 4 + (seed % 7) as usize;
                    let digits: String = (0..len)
                        .map(|i| char::from(b'0' + ((seed >> (4 * i)) % 10) as u8))
                        .collect();
                    let text = |pin: &str| {
                        let mut t: String = std::iter::repeat_n(filler, pad).collect();
                        t.push_str(&template.replace("{{pin}}", pin));
                        t
                    };
                    assert_eq!(
                        plan_text(&text(&"0".repeat(len)), cfg).ok(),
                        plan_text(&text(&digits), cfg).ok(),
                        "{template} padded with {pad} x {filler}, PIN {digits}, {cfg:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn parts_and_encoding_follow_the_smsc_settings() {
        let text = "a".repeat(300);
        let udh8 = SmscConfig::default();
        let udh16 = SmscConfig {
            concat: ConcatMethod::Udh16,
            ..SmscConfig::default()
        };
        // 153 septets a part with an 8-bit reference, 152 with a 16-bit one
        let t = "a".repeat(306);
        assert_eq!(plan_text(&t, &udh8).unwrap().parts, 2);
        assert_eq!(plan_text(&t, &udh16).unwrap().parts, 3);
        assert_eq!(plan_text(&text, &udh8).unwrap().encoding, "GSM7");
        let latin1 = SmscConfig {
            encoding: TextEncoding::Latin1,
            ..SmscConfig::default()
        };
        assert_eq!(
            plan_text("Código: 123456", &latin1).unwrap(),
            TextPlan {
                encoding: "LATIN1",
                parts: 1
            }
        );
        // Turkish single shift: GSM-7 instead of UCS-2
        let tr = "Doğrulama kodunuz: 123456. Şifrenizi kimseyle paylaşmayın.";
        assert_eq!(plan_text(tr, &udh8).unwrap().encoding, "UCS2");
        let turkish = SmscConfig {
            national_languages: vec![NationalLanguage::Turkish],
            ..SmscConfig::default()
        };
        assert_eq!(plan_text(tr, &turkish).unwrap().encoding, "GSM7");
    }
}
