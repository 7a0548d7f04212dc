//! Phone numbers: parsed and validated with libphonenumber (`phonenumber`), normalised to
//! E.164 and kept as a number. International input ([`e164`]) and national input with its
//! country ([`national`]) take fast paths over the same metadata compiled once
//! ([`regions`]); what they cannot answer goes to the library, whose regex cache is one
//! global lock: on the async workers it would stall every other request, so the front runs it
//! on a few blocking threads ([`LibraryPool`]).

mod e164;
mod library;
mod matcher;
mod national;
mod number_type;
mod regions;

pub use library::LibraryPool;
pub use number_type::{NumberType, NumberTypes};

use phonenumber::country::Id;

/// A validated destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Phone {
    /// E.164 digits (country code + national number) as a number.
    pub digits: u64,
    /// ISO 3166 alpha-2 of the number's region.
    pub country: [u8; 2],
    /// The country calling code (33 for France, 1 for NANP).
    pub calling_code: u16,
    /// What the number is, as the metadata classifies it.
    pub kind: NumberType,
}

/// `+` and `digits` (written by `itoa`: a create writes a number three times).
pub fn e164_text(digits: u64) -> String {
    let mut text = itoa::Buffer::new();
    let text = text.format(digits);
    let mut out = String::with_capacity(1 + text.len());
    out.push('+');
    out.push_str(text);
    out
}

impl Phone {
    pub fn e164(&self) -> String {
        e164_text(self.digits)
    }

    pub fn country_str(&self) -> &str {
        std::str::from_utf8(&self.country).unwrap_or("ZZ")
    }

    /// The number's prefix: its country calling code followed by the first `n` digits of the
    /// national number (as a number; `+33 6 12...` with n = 2 gives 3361).
    pub fn prefix(&self, n: u8) -> u64 {
        let total = digit_count(self.digits);
        let keep = (digit_count(u64::from(self.calling_code)) + u32::from(n)).min(total);
        self.digits / 10u64.pow(total - keep)
    }
}

/// The country calling code of an ISO 3166 alpha-2 region (0 when unknown).
pub fn calling_code_of(country: &str) -> u16 {
    phonenumber::metadata::DATABASE
        .by_id(country)
        .map_or(0, |m| m.country_code())
}

impl Phone {
    /// A stored number (E.164 digits and region) as a `Phone` again.
    pub fn stored(digits: u64, country: [u8; 2]) -> Phone {
        let cc = std::str::from_utf8(&country).unwrap_or("ZZ");
        Phone {
            digits,
            country,
            calling_code: calling_code_of(cc),
            kind: NumberType::Unknown,
        }
    }
}

fn digit_count(mut n: u64) -> u32 {
    let mut d = 1;
    while n >= 10 {
        n /= 10;
        d += 1;
    }
    d
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("countryIso must be two letters (ISO 3166 alpha-2)")]
    CountryFormat,
    #[error("countryIso is not a known country")]
    CountryUnknown,
    #[error("a national-format phone number needs countryIso")]
    NeedsCountry,
    #[error("not a valid phone number")]
    Invalid,
    #[error("too many phone numbers are being parsed: retry")]
    Busy,
}

/// Parses a country code (`fr` and `FR` are accepted).
pub fn parse_country(iso: &str) -> Result<Id, PhoneError> {
    if iso.len() != 2 || !iso.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(PhoneError::CountryFormat);
    }
    iso.to_ascii_uppercase()
        .parse::<Id>()
        .map_err(|_| PhoneError::CountryUnknown)
}

/// What the fast paths make of a number: their answer, or the input the library must parse.
#[derive(Debug)]
pub enum Parsed {
    Done(Result<Phone, PhoneError>),
    Library(LibraryInput),
}

/// A number only the library can answer for.
#[derive(Debug, Clone)]
pub struct LibraryInput {
    country: Option<Id>,
    input: String,
}

impl LibraryInput {
    /// The library's answer (blocking: it takes the library's global lock).
    pub fn parse(&self) -> Result<Phone, PhoneError> {
        parse_with_library(self.country, &self.input)
    }
}

/// Validates `number` (E.164, or national format with `country_iso`), with the library when
/// the fast paths cannot answer (blocking: see [`LibraryPool`] for the async front).
pub fn parse_phone(number: &str, country_iso: Option<&str>) -> Result<Phone, PhoneError> {
    match parse_fast(number, country_iso) {
        Parsed::Done(result) => result,
        Parsed::Library(input) => input.parse(),
    }
}

/// Validates `number` as [`parse_phone`] does, without ever calling the library: its answer,
/// or what the library must be asked.
pub fn parse_fast(number: &str, country_iso: Option<&str>) -> Parsed {
    let number = number.trim();
    let dialable = number
        .chars()
        .all(|c| c.is_ascii_digit() || " +-().".contains(c));
    let digits = number.chars().filter(char::is_ascii_digit).count();
    if number.len() > 32 || !dialable || digits < 3 {
        return Parsed::Done(Err(PhoneError::Invalid));
    }
    let international = number.starts_with('+') || number.starts_with("00");
    let country = match country_iso {
        Some(c) if !international => match parse_country(c) {
            Ok(id) => Some(id),
            Err(e) => return Parsed::Done(Err(e)),
        },
        Some(c) => {
            // Ignored for an international number, but it must still be well formed.
            if let Err(e) = parse_country(c) {
                return Parsed::Done(Err(e));
            }
            None
        }
        None if international => None,
        None => return Parsed::Done(Err(PhoneError::NeedsCountry)),
    };
    let input = match number.strip_prefix("00") {
        Some(rest) if country.is_none() => format!("+{rest}"),
        _ => number.to_owned(),
    };
    let fast = match &country {
        None => e164::parse(&input),
        Some(id) => national::parse(&input, id.as_ref()),
    };
    match fast {
        Some(result) => Parsed::Done(result),
        None => Parsed::Library(LibraryInput { country, input }),
    }
}

/// `phonenumber::parse` + `is_valid` + the E.164 format: the reference the fast path must
/// agree with.
fn parse_with_library(country: Option<Id>, input: &str) -> Result<Phone, PhoneError> {
    let pn = phonenumber::parse(country, input).map_err(|_| PhoneError::Invalid)?;
    if !phonenumber::is_valid(&pn) {
        return Err(PhoneError::Invalid);
    }
    let region = pn.country().id().ok_or(PhoneError::Invalid)?;
    // The library's `number_type` drops a national number's leading zeros (Italy, Benin...),
    // which its `is_valid` keeps: classify what `is_valid` matched, in the same region.
    let national = pn.national().to_string();
    let kind = regions::number_type_in(region.as_ref(), &national)
        .or_else(|| NumberType::of_library(pn.number_type(&phonenumber::metadata::DATABASE)))
        .unwrap_or(NumberType::Unknown);
    let e164 = pn.format().mode(phonenumber::Mode::E164).to_string();
    let digits: u64 = e164
        .strip_prefix('+')
        .and_then(|d| d.parse().ok())
        .ok_or(PhoneError::Invalid)?;
    let code = region.as_ref().as_bytes();
    let country = [
        code.first().copied().unwrap_or(b'Z'),
        code.get(1).copied().unwrap_or(b'Z'),
    ];
    Ok(Phone {
        digits,
        country,
        calling_code: pn.code().value(),
        kind,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e164_and_national() {
        let p = parse_phone("+33612345678", None).ok();
        assert_eq!(p.map(|p| p.e164()), Some("+33612345678".into()));
        assert_eq!(p.map(|p| p.country), Some(*b"FR"));
        assert_eq!(p.map(|p| p.prefix(2)), Some(3361));
        assert_eq!(p.map(|p| p.prefix(0)), Some(33));
        assert_eq!(p.map(|p| p.prefix(40)), Some(33612345678));
        let us = parse_phone("+12025550123", None).ok();
        assert_eq!(us.map(|p| p.prefix(3)), Some(1202));
        assert_eq!(Phone::stored(33612345678, *b"FR").prefix(2), 3361);
        let n = parse_phone("06 12 34 56 78", Some("fr")).ok();
        assert_eq!(n.map(|p| p.e164()), Some("+33612345678".into()));
        assert_eq!(
            parse_phone("+447400123456", Some("DE")).map(|p| p.country),
            Ok(*b"GB")
        );
        assert_eq!(
            parse_phone("0033612345678", None).map(|p| p.digits),
            Ok(33612345678)
        );
    }

    /// Every example number of every type of every region: the fast path classifies it as
    /// the library does (`number_type`), and nearly always as the type it is the example of.
    #[test]
    fn example_numbers_are_classified_as_the_library_does() {
        use phonenumber::metadata::DATABASE;
        let mut fast = std::collections::HashMap::<NumberType, usize>::new();
        let mut as_documented = 0usize;
        let mut examples = 0usize;
        for meta in DATABASE.iter().filter(|m| m.id().len() == 2) {
            let d = meta.descriptors();
            for (documented, descriptor) in [
                (NumberType::Mobile, d.mobile()),
                (NumberType::FixedLine, d.fixed_line()),
                (NumberType::TollFree, d.toll_free()),
                (NumberType::PremiumRate, d.premium_rate()),
                (NumberType::SharedCost, d.shared_cost()),
                (NumberType::Voip, d.voip()),
                (NumberType::PersonalNumber, d.personal_number()),
                (NumberType::Pager, d.pager()),
                (NumberType::Uan, d.uan()),
                (NumberType::Voicemail, d.voicemail()),
            ] {
                let Some(example) = descriptor.and_then(|d| d.example()) else {
                    continue;
                };
                let e164 = format!("+{}{example}", meta.country_code());
                let Parsed::Done(Ok(phone)) = parse_fast(&e164, None) else {
                    continue;
                };
                // the fast paths never answer for a leading zero, where the library's own
                // `number_type` is right
                let pn = phonenumber::parse(None, &e164).unwrap();
                let library = NumberType::of_library(pn.number_type(&DATABASE));
                assert_eq!(Some(phone.kind), library, "{e164} ({documented:?})");
                assert_eq!(
                    parse_with_library(None, &e164).map(|p| p.kind),
                    Ok(phone.kind)
                );
                examples += 1;
                *fast.entry(phone.kind).or_default() += 1;
                let same = phone.kind == documented
                    || (phone.kind == NumberType::FixedLineOrMobile
                        && matches!(documented, NumberType::Mobile | NumberType::FixedLine));
                as_documented += usize::from(same);
            }
        }
        for kind in [
            NumberType::Mobile,
            NumberType::FixedLine,
            NumberType::FixedLineOrMobile,
            NumberType::TollFree,
            NumberType::PremiumRate,
            NumberType::SharedCost,
            NumberType::Voip,
            NumberType::PersonalNumber,
            NumberType::Uan,
        ] {
            let n = fast.get(&kind).copied().unwrap_or(0);
            assert!(n >= 5, "{kind:?} examples classified on the fast path: {n}");
        }
        assert!(
            as_documented * 100 > examples * 95,
            "{as_documented}/{examples}"
        );
    }

    #[test]
    fn types_of_common_numbers() {
        let kind = |n: &str| parse_phone(n, None).map(|p| p.kind);
        assert_eq!(kind("+447400123456"), Ok(NumberType::Mobile));
        assert_eq!(kind("+442079460000"), Ok(NumberType::FixedLine));
        assert_eq!(kind("+449098765432"), Ok(NumberType::PremiumRate));
        assert_eq!(kind("+448001234567"), Ok(NumberType::TollFree));
        assert_eq!(kind("+12025550123"), Ok(NumberType::FixedLineOrMobile));
        assert_eq!(kind("+33612345678"), Ok(NumberType::Mobile));
        // leading zeros in the national number: only the library parses them
        assert_eq!(kind("+2290195123456"), Ok(NumberType::Mobile));
        assert_eq!(kind("+393123456789"), Ok(NumberType::Mobile));
        let default = NumberTypes::or_default(&[]);
        assert!(default.contains(NumberType::Mobile));
        assert!(default.contains(NumberType::FixedLineOrMobile));
        assert!(!default.contains(NumberType::FixedLine));
        assert!(!default.contains(NumberType::Unknown));
        let landlines = NumberTypes::or_default(&[NumberType::FixedLine]);
        assert!(landlines.contains(NumberType::FixedLine));
        assert!(!landlines.contains(NumberType::Mobile));
        for t in NumberType::ALL {
            let parsed: NumberType = serde_json::from_value(serde_json::json!(t.as_str())).unwrap();
            assert_eq!(parsed, t);
        }
    }

    #[test]
    fn errors() {
        assert_eq!(
            parse_phone("0612345678", None),
            Err(PhoneError::NeedsCountry)
        );
        assert_eq!(
            parse_phone("0612345678", Some("F")),
            Err(PhoneError::CountryFormat)
        );
        assert_eq!(
            parse_phone("0612345678", Some("QQ")),
            Err(PhoneError::CountryUnknown)
        );
        assert_eq!(parse_phone("+3361234", None), Err(PhoneError::Invalid));
        assert_eq!(parse_phone("hello", Some("FR")), Err(PhoneError::Invalid));
        assert_eq!(parse_phone("", None), Err(PhoneError::Invalid));
        assert_eq!(parse_phone("hello", None), Err(PhoneError::Invalid));
    }
}
