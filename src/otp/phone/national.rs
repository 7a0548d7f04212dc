//! The fast path of phone validation for national input (digits and separators, with the
//! request's `countryIso`): the library's own steps over the same metadata compiled once
//! ([`super::regions`]): the region's international dialling prefix (`011 44 ...` from the
//! US), the calling code written without `+` (`33 6 ...` for France), the national prefix or
//! carrier code stripped or transformed as the region's rules say (`0 6 ...`, `8 916 ...`,
//! Argentina's `0 11 15 ...`), then the same validity and region as [`super::e164`]. What it
//! cannot answer with certainty (a leading zero kept in the national number, a `+` inside, a
//! rule the library would trip on) returns `None` and the caller asks the library.

use std::borrow::Cow;

use super::regions::{table, validate, Length, Region, LIBRARY_MAX_NSN, MAX_NSN, MIN_NSN};
use super::{Phone, PhoneError};

/// Input longer than this many digits goes to the library (it is refused there anyway).
const MAX_DIGITS: usize = 24;

/// Validates national input `input` for region `country` (ISO 3166 alpha-2, upper case);
/// `None` when the library must decide.
pub(super) fn parse(input: &str, country: &str) -> Option<Result<Phone, PhoneError>> {
    let mut buf = [0u8; MAX_DIGITS];
    let mut n = 0usize;
    for b in input.bytes() {
        match b {
            b'0'..=b'9' => {
                *buf.get_mut(n)? = b;
                n += 1;
            }
            b' ' | b'-' | b'.' | b'(' | b')' => {}
            _ => return None,
        }
    }
    let digits = std::str::from_utf8(buf.get(..n)?).ok()?;
    if digits.len() < MIN_NSN {
        return None;
    }
    let table = table();
    let region = table.region(country)?;
    let (code, national) = match after_idd(region, digits) {
        Some(rest) => {
            // the library's `country_code` for a number dialled with the IDD
            if rest.len() <= MIN_NSN || rest.starts_with('0') {
                return Some(Err(PhoneError::Invalid));
            }
            let Some((code, national)) = table.split_code(rest) else {
                return Some(Err(PhoneError::Invalid));
            };
            (code, national)
        }
        None => (region.code, without_own_code(region, digits)),
    };
    let national = strip_national_prefix(region, national)?;
    if national.len() < MIN_NSN || national.len() > LIBRARY_MAX_NSN {
        return Some(Err(PhoneError::Invalid));
    }
    if national.len() > MAX_NSN || national.starts_with('0') {
        return None;
    }
    validate(code, &national)
}

/// The digits after the region's international dialling prefix, when they start with it and
/// what follows is not a `0` (the library's `international_prefix`).
fn after_idd<'d>(region: &Region, digits: &'d str) -> Option<&'d str> {
    let end = region.international_prefix.as_ref()?.find(digits)?.end();
    let rest = digits.get(end..)?;
    (!rest.starts_with('0')).then_some(rest)
}

/// The library strips the region's own calling code written without `+` when the digits are
/// not a possible national number as they stand.
fn without_own_code<'d>(region: &Region, digits: &'d str) -> &'d str {
    let code = region.code.to_string();
    match digits.strip_prefix(code.as_str()) {
        Some(rest)
            if !region.general.matches(digits) || region.length(digits) != Length::Possible =>
        {
            rest
        }
        _ => digits,
    }
}

/// The library's `national_number` and the national prefix stripped again after it, kept
/// only when what is left is not too short. `None` when the library must decide.
fn strip_national_prefix<'d>(region: &Region, national: &'d str) -> Option<Cow<'d, str>> {
    let mut potential: Cow<'d, str> = Cow::Borrowed(national);
    match &region.prefix_for_parsing {
        None => {
            if let Some(p) = region.national_prefix {
                if let Some(rest) = national.strip_prefix(p) {
                    potential = Cow::Borrowed(rest);
                }
            }
        }
        Some(re) => {
            if let Some(c) = re.captures(national) {
                let end = c.get(0)?.end();
                let last = c.get(c.len().checked_sub(1)?);
                match (region.transform, last) {
                    (Some(rule), Some(_)) => {
                        // the library unwraps the first group here: let it decide
                        c.get(1)?;
                        let transformed = re.replace(national, rule);
                        let viable = region.general.matches(national);
                        if !viable || region.general.matches(&transformed) {
                            potential = Cow::Owned(transformed.into_owned());
                        }
                    }
                    _ => potential = Cow::Borrowed(national.get(end..)?),
                }
            }
        }
    }
    if let Some(p) = region.national_prefix {
        if let Some(rest) = potential.strip_prefix(p) {
            potential = Cow::Owned(rest.to_owned());
        }
    }
    if region.length(&potential) == Length::TooShort {
        Some(Cow::Borrowed(national))
    } else {
        Some(potential)
    }
}

#[cfg(test)]
mod tests {
    //! Differential tests: wherever the fast path answers, its answer must be the library's.

    use phonenumber::metadata::DATABASE;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    use super::super::parse_with_library;
    use super::*;

    #[derive(Default)]
    struct Tally {
        valid: usize,
        invalid: usize,
        library_only: usize,
    }

    impl Tally {
        fn check(&mut self, input: &str, country: &str) {
            let id: phonenumber::country::Id = country.parse().unwrap();
            match parse(input, country) {
                Some(fast) => {
                    assert_eq!(
                        fast,
                        parse_with_library(Some(id), input),
                        "input {input:?} in {country}"
                    );
                    if fast.is_ok() {
                        self.valid += 1;
                    } else {
                        self.invalid += 1;
                    }
                }
                None => self.library_only += 1,
            }
        }
    }

    /// The ways a national number is written: as is, after the national prefix, after the
    /// calling code without `+`, after the region's preferred IDD and a code.
    fn forms(meta: &phonenumber::metadata::Metadata, example: &str) -> Vec<String> {
        let mut out = vec![example.to_owned()];
        if let Some(p) = meta.national_prefix() {
            out.push(format!("{p}{example}"));
            out.push(format!(
                "({p}{}) {}",
                &example[..2.min(example.len())],
                &example[2.min(example.len())..]
            ));
        }
        out.push(format!("{}{example}", meta.country_code()));
        if let Some(idd) = meta.preferred_international_prefix() {
            if idd.bytes().all(|b| b.is_ascii_digit()) {
                out.push(format!("{idd} 44 7400 123456"));
                out.push(format!("{idd}{}{example}", meta.country_code()));
            }
        }
        out
    }

    /// Every example number of every type of every region, written the ways a national
    /// number is, then each with its last digit changed, one digit more and one less.
    #[test]
    fn metadata_examples_agree() {
        let mut t = Tally::default();
        let mut rng = StdRng::seed_from_u64(0x0a71);
        for meta in DATABASE.iter() {
            if meta.id().len() != 2 {
                continue;
            }
            let d = meta.descriptors();
            let all = [
                d.fixed_line(),
                d.mobile(),
                d.toll_free(),
                d.premium_rate(),
                d.shared_cost(),
                d.personal_number(),
                d.voip(),
                d.uan(),
                d.short_code(),
            ];
            for example in all.into_iter().flatten().filter_map(|d| d.example()) {
                for form in forms(meta, example) {
                    t.check(&form, meta.id());
                    let last = rng.random_range(0..10u8);
                    let mut changed = form.clone();
                    changed.pop();
                    t.check(&format!("{changed}{last}"), meta.id());
                    t.check(&changed, meta.id());
                    t.check(&format!("{form}{last}"), meta.id());
                }
            }
        }
        assert!(t.valid > 2000, "valid examples compared: {}", t.valid);
        assert!(t.invalid > 1000, "invalid variants compared: {}", t.invalid);
        // the fast path answers for nearly everything: the library is the exception
        let answered = t.valid + t.invalid;
        assert!(
            answered > 9 * t.library_only,
            "fast {answered}, library {}",
            t.library_only
        );
    }

    /// Random digits of every length in every region.
    #[test]
    fn random_numbers_agree() {
        let mut t = Tally::default();
        let mut rng = StdRng::seed_from_u64(0x4a7e);
        for meta in DATABASE.iter().filter(|m| m.id().len() == 2) {
            for len in 2..=20usize {
                for _ in 0..3 {
                    let digits: String = (0..len)
                        .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
                        .collect();
                    t.check(&digits, meta.id());
                }
            }
        }
        assert!(t.invalid > 5000, "invalid numbers compared: {}", t.invalid);
    }

    #[test]
    fn edge_cases_agree_or_go_to_the_library() {
        let mut t = Tally::default();
        for (input, country) in [
            ("06 12 34 56 78", "FR"),
            ("0612345678", "FR"),
            ("00612345678", "FR"),
            ("33612345678", "FR"),
            ("33 06 12 34 56 78", "FR"),
            ("612345678", "FR"),
            ("0", "FR"),
            ("06", "FR"),
            ("07400 123456", "GB"),
            ("447400123456", "GB"),
            ("(202) 555-0123", "US"),
            ("1 202 555 0123", "US"),
            ("1-202-555-0123", "US"),
            ("011 44 7400 123456", "US"),
            ("011 0 7400 123456", "US"),
            ("011 800 1234 5678", "US"),
            ("011 99", "US"),
            ("011", "US"),
            ("8 916 123-45-67", "RU"),
            ("8 10 44 7400 123456", "RU"),
            ("0151 23456789", "DE"),
            ("(011) 15-2345-6789", "AR"),
            ("011 15 2345 6789", "AR"),
            ("15 2345 6789", "AR"),
            ("0 21 11 98765 4321", "BR"),
            ("(11) 98765-4321", "BR"),
            ("044 55 1234 5678", "MX"),
            ("55 1234 5678", "MX"),
            ("06 6982 0000", "IT"),
            ("312 345 6789", "IT"),
            ("090-1234-5678", "JP"),
            ("138 0013 8000", "CN"),
            ("0803 123 4567", "NG"),
            ("098765 43210", "IN"),
            ("0412 345 678", "AU"),
            ("0692 12 34 56", "RE"),
            ("0690 00 12 34", "GP"),
            ("(876) 210-1234", "JM"),
        ] {
            t.check(input, country);
        }
        assert!(t.valid >= 15 && t.invalid >= 5, "{} {}", t.valid, t.invalid);
    }

    /// Mobile numbers of major countries as their people write them never reach the library.
    #[test]
    fn common_national_mobiles_take_the_fast_path() {
        for (input, country, e164) in [
            ("06 12 34 56 78", "FR", "+33612345678"),
            ("07400 123456", "GB", "+447400123456"),
            ("(202) 555-0123", "US", "+12025550123"),
            ("1-202-555-0123", "US", "+12025550123"),
            ("011 44 7400 123456", "US", "+447400123456"),
            ("(416) 555-0123", "CA", "+14165550123"),
            ("0151 23456789", "DE", "+4915123456789"),
            ("098765 43210", "IN", "+919876543210"),
            ("(11) 98765-4321", "BR", "+5511987654321"),
            ("8 916 123-45-67", "RU", "+79161234567"),
            ("612 34 56 78", "ES", "+34612345678"),
            ("312 345 6789", "IT", "+393123456789"),
            ("06-1234-5678", "NL", "+31612345678"),
            ("0412 345 678", "AU", "+61412345678"),
            ("090-1234-5678", "JP", "+819012345678"),
            ("138 0013 8000", "CN", "+8613800138000"),
            ("0803 123 4567", "NG", "+2348031234567"),
            ("0712 345678", "KE", "+254712345678"),
            ("0532 123 45 67", "TR", "+905321234567"),
            ("0812-3456-7890", "ID", "+6281234567890"),
            ("0917 123 4567", "PH", "+639171234567"),
            ("050-234-5678", "IL", "+972502345678"),
            ("050 123 4567", "AE", "+971501234567"),
            ("0300 1234567", "PK", "+923001234567"),
            ("01712-345678", "BD", "+8801712345678"),
            ("512 345 678", "PL", "+48512345678"),
            ("082 123 4567", "ZA", "+27821234567"),
            ("55 1234 5678", "MX", "+525512345678"),
            ("010-1234-5678", "KR", "+821012345678"),
            ("091 234 56 78", "VN", "+84912345678"),
        ] {
            let fast = parse(input, country).and_then(Result::ok);
            assert_eq!(
                fast.map(|p| p.e164()).as_deref(),
                Some(e164),
                "{input} in {country}"
            );
        }
    }
}
