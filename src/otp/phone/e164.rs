//! The fast path of phone validation for international input (`+` and digits): the same
//! answer as `phonenumber::parse` + `is_valid` + the E.164 format, from the same metadata
//! compiled once ([`super::regions`]). Anything this path cannot answer with certainty (a
//! national prefix or carrier code to strip, a leading zero, an unusual character, a calling
//! code whose regions it cannot compile) returns `None` and the caller asks the library. A
//! number that starts with no calling code at all is answered here: the library's own lookup
//! of the code fails for it, and sending it there cost a hostile client's request several
//! times a valid create.

use super::regions::{region_of, table, Code, MAX_NSN, MIN_NSN};
use super::{Phone, PhoneError};

/// At most this many digits in all, so that the number fits a `u64` without checks.
const MAX_DIGITS: usize = 18;

/// Validates international input (`+` then digits, spaces, `-`, `.`, `(`, `)`); `None` when
/// the library must decide.
pub(super) fn parse(input: &str) -> Option<Result<Phone, PhoneError>> {
    let rest = input.strip_prefix('+')?;
    let mut buf = [0u8; MAX_DIGITS];
    let mut n = 0usize;
    for b in rest.bytes() {
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
    if digits.len() <= MIN_NSN || digits.starts_with('0') {
        return None;
    }
    let table = table();
    let Some((code, national)) = table.split_code(digits) else {
        return Some(Err(PhoneError::Invalid));
    };
    if national.len() < MIN_NSN || national.len() > MAX_NSN || national.starts_with('0') {
        return None;
    }
    let slots = match table.code(code)? {
        Code::Regions(slots) => slots,
        Code::NonGeographic => return Some(Err(PhoneError::Invalid)),
        Code::Unknown | Code::Slow => return None,
    };
    let Some((region, kind)) = region_of(slots, national).ok()? else {
        return Some(Err(PhoneError::Invalid));
    };
    if region.strips_prefix(national) {
        return None;
    }
    let Some(kind) = kind else {
        return Some(Err(PhoneError::Invalid));
    };
    Some(Ok(Phone {
        digits: digits.parse().ok()?,
        country: region.id,
        calling_code: code,
        kind,
    }))
}

#[cfg(test)]
mod tests {
    //! Differential tests: wherever the fast path answers, its answer must be the library's.

    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    use phonenumber::metadata::DATABASE;

    use super::super::parse_with_library;
    use super::*;

    /// Fast-path answers compared, split into (valid, invalid).
    #[derive(Default)]
    struct Tally {
        valid: usize,
        invalid: usize,
        library_only: usize,
    }

    impl Tally {
        fn check(&mut self, input: &str) {
            match parse(input) {
                Some(fast) => {
                    assert_eq!(fast, parse_with_library(None, input), "input {input:?}");
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

    fn codes() -> Vec<u16> {
        (1u16..1000)
            .filter(|c| DATABASE.region(c).is_some())
            .collect()
    }

    /// Every example number of every type of every region, as E.164, then each with its last
    /// digit changed, one digit more, one digit less, and written with separators.
    #[test]
    fn metadata_examples_agree() {
        let mut t = Tally::default();
        let mut rng = StdRng::seed_from_u64(0x0e16);
        for meta in DATABASE.iter() {
            let d = meta.descriptors();
            let all = [
                Some(d.general()),
                d.fixed_line(),
                d.mobile(),
                d.toll_free(),
                d.premium_rate(),
                d.shared_cost(),
                d.personal_number(),
                d.voip(),
                d.pager(),
                d.uan(),
                d.emergency(),
                d.voicemail(),
                d.short_code(),
                d.standard_rate(),
                d.carrier(),
                d.no_international(),
            ];
            for example in all.into_iter().flatten().filter_map(|d| d.example()) {
                let e164 = format!("+{}{example}", meta.country_code());
                t.check(&e164);
                let last = rng.random_range(0..10u8);
                let mut changed = e164.clone();
                changed.pop();
                t.check(&format!("{changed}{last}"));
                t.check(&changed);
                t.check(&format!("{e164}{last}"));
                let spaced: String = e164
                    .chars()
                    .enumerate()
                    .flat_map(|(i, c)| {
                        let sep = [' ', '-', '.', '(', ')'][i % 5];
                        [Some(c), (i % 3 == 2).then_some(sep)]
                    })
                    .flatten()
                    .collect();
                t.check(&spaced);
            }
        }
        assert!(t.valid > 1000, "valid examples compared: {}", t.valid);
        assert!(t.invalid > 500, "invalid variants compared: {}", t.invalid);
    }

    /// Random national numbers of every length after every calling code.
    #[test]
    fn random_numbers_agree() {
        let mut t = Tally::default();
        let mut rng = StdRng::seed_from_u64(0xe164);
        for code in codes() {
            for len in 1..=18usize {
                for _ in 0..6 {
                    let national: String = (0..len)
                        .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
                        .collect();
                    t.check(&format!("+{code}{national}"));
                }
            }
        }
        assert!(
            t.invalid > 10_000,
            "invalid numbers compared: {}",
            t.invalid
        );
    }

    /// Random numbers after every three digits that start no calling code (none of their
    /// first one, two or three digits is one in the metadata): all answered here, all
    /// invalid, as the library says.
    #[test]
    fn numbers_without_a_calling_code_agree() {
        let no_code = |p: &str| {
            (1..=p.len()).all(|len| {
                p.get(..len)
                    .and_then(|d| d.parse::<u16>().ok())
                    .is_some_and(|c| DATABASE.region(&c).is_none())
            })
        };
        let prefixes: Vec<String> = (100u16..1000)
            .map(|p| p.to_string())
            .filter(|p| no_code(p))
            .collect();
        assert!(prefixes.len() > 50, "prefixes: {}", prefixes.len());
        let mut t = Tally::default();
        let mut rng = StdRng::seed_from_u64(0x0999);
        for prefix in &prefixes {
            for len in 0..=14usize {
                let tail: String = (0..len)
                    .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
                    .collect();
                let input = format!("+{prefix}{tail}");
                assert!(parse(&input).is_some(), "{input} went to the library");
                t.check(&input);
            }
        }
        assert_eq!(t.valid, 0);
        assert!(t.invalid > 500, "invalid numbers compared: {}", t.invalid);
    }

    /// Random numbers that follow a region's own leading digits: a valid example with its
    /// tail replaced, so that many are valid and many are near misses.
    #[test]
    fn example_prefixes_with_random_tails_agree() {
        let mut t = Tally::default();
        let mut rng = StdRng::seed_from_u64(0x7a11);
        for meta in DATABASE.iter() {
            let d = meta.descriptors();
            for example in [d.mobile(), d.fixed_line()]
                .into_iter()
                .flatten()
                .filter_map(|d| d.example())
            {
                for _ in 0..8 {
                    let keep = rng.random_range(0..=example.len());
                    let tail: String = (keep..example.len())
                        .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
                        .collect();
                    let head = example.get(..keep).unwrap_or(example);
                    t.check(&format!("+{}{head}{tail}", meta.country_code()));
                }
            }
        }
        assert!(t.valid > 500, "valid numbers compared: {}", t.valid);
        assert!(t.invalid > 500, "invalid numbers compared: {}", t.invalid);
    }

    #[test]
    fn edge_cases_agree_or_go_to_the_library() {
        let mut t = Tally::default();
        for input in [
            "+",
            "+0",
            "+1",
            "+12",
            "+123",
            "+0044",
            "+00447400123456",
            "+1 202 555 0123",
            "+1-202-555-0123",
            "+1 (202) 555-0123",
            "+44 (0) 7400 123456",
            "+4407400123456",
            "+447400123456",
            "+44 7400 123456",
            "+800 1234 5678",
            "+80012345678",
            "+979123456789",
            "+870773111632",
            "+882 1234 5678",
            "+3906 6982 0000",
            "+390669820000",
            "+393123456789",
            "+79161234567",
            "+7 916 123-45-67",
            "+78",
            "+5491123456789",
            "+541123456789",
            "+52 1 55 1234 5678",
            "+525512345678",
            "+61 4 1234 5678",
            "+6141234567",
            "+262 692 12 34 56",
            "+590 690 00 12 34",
            "+1 684 733 1234",
            "+1 876 210 1234",
            "+99999999999",
            "+999",
            "+1234567890123456789",
            "+447400123456 ",
            "+44..7400..123456",
            "+44--7400",
            "+44)7400(123456",
        ] {
            t.check(input);
        }
        assert!(t.valid >= 5 && t.invalid >= 3 && t.library_only >= 3);
    }

    #[test]
    fn common_mobiles_take_the_fast_path() {
        for (number, country) in [
            ("+447400123456", *b"GB"),
            ("+33612345678", *b"FR"),
            ("+12025550123", *b"US"),
            ("+14165550123", *b"CA"),
            ("+4915123456789", *b"DE"),
            ("+919876543210", *b"IN"),
            ("+5511987654321", *b"BR"),
            ("+79161234567", *b"RU"),
        ] {
            let fast = parse(number).and_then(Result::ok);
            assert_eq!(fast.map(|p| p.country), Some(country), "{number}");
            assert_eq!(fast.map(|p| p.e164()).as_deref(), Some(number));
        }
    }
}
