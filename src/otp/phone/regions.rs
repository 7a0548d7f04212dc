//! The phone-number metadata of the fast paths ([`super::e164`], [`super::national`]): each
//! region's patterns compiled once into plain `Regex`es (the library looks every pattern up in
//! a shared, locked cache keyed by its source text on every use), with the library's own
//! matching rules, so that the fast paths answer exactly as the library would.

use std::sync::OnceLock;

use phonenumber::metadata::{Descriptor, Metadata, DATABASE};
use regex::{Regex, RegexBuilder};

use super::matcher::Matcher;
use super::{NumberType, Phone, PhoneError};

/// Longest national number the fast paths answer for: the library accepts 17 digits, but from
/// 17 on its national number (under 2^56) may overflow, so those go to the library.
pub(super) const MAX_NSN: usize = 16;
/// Shortest national significant number the library accepts (its `MIN_LENGTH_FOR_NSN`).
pub(super) const MIN_NSN: usize = 2;
/// The library's `MAX_LENGTH_FOR_NSN`.
pub(super) const LIBRARY_MAX_NSN: usize = 17;
/// Country calling codes are 1 to 3 digits.
pub(super) const MAX_CODE_DIGITS: usize = 3;

/// The pattern of a descriptor, with the library's matching rule: a possible length, then a
/// match that starts at the first digit (the library's `find(..).start() == 0`).
pub(super) struct Pattern {
    re: Matcher,
    lengths: Box<[u16]>,
}

/// The library's options (`ignore_whitespace`), anchored at the start. The newline ends a
/// `#` comment the pattern might hold before the group closes. A leftmost match that starts
/// at the first digit is the anchored match, captures included (the group is not capturing).
pub(super) fn anchored(source: &str) -> Option<Regex> {
    RegexBuilder::new(&format!("^(?:{source}\n)"))
        .ignore_whitespace(true)
        .build()
        .ok()
}

fn len16(s: &str) -> u16 {
    u16::try_from(s.len()).unwrap_or(u16::MAX)
}

impl Pattern {
    fn new(d: &Descriptor) -> Option<Self> {
        Some(Self {
            re: Matcher::new(d.national_number().as_str())?,
            lengths: d.possible_length().into(),
        })
    }

    /// The library's `Descriptor::is_match`.
    pub(super) fn matches(&self, national: &str) -> bool {
        (self.lengths.is_empty() || self.lengths.contains(&len16(national)))
            && self.re.is_match(national)
    }
}

/// The library's `validator::length(meta, number, Type::Unknown)`, as far as parsing asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Length {
    Possible,
    TooShort,
    Other,
}

/// One region's compiled metadata.
pub(super) struct Region {
    pub(super) id: [u8; 2],
    pub(super) code: u16,
    pub(super) national_prefix: Option<&'static str>,
    pub(super) prefix_for_parsing: Option<Regex>,
    pub(super) transform: Option<&'static str>,
    pub(super) international_prefix: Option<Regex>,
    leading_digits: Option<Matcher>,
    pub(super) general: Pattern,
    general_local_lengths: Box<[u16]>,
    /// The types the library's `number_type` tests before fixed line and mobile, in its order.
    special: Vec<(NumberType, Pattern)>,
    fixed_line: Option<Pattern>,
    mobile: Option<Pattern>,
    /// The fixed-line and mobile patterns are the same text: the library cannot tell them
    /// apart and says `FixedLineOrMobile`.
    fixed_same_as_mobile: bool,
}

fn optional(source: Option<&str>) -> Option<Option<Regex>> {
    match source {
        Some(source) => Some(Some(anchored(source)?)),
        None => Some(None),
    }
}

impl Region {
    fn compile(meta: &'static Metadata) -> Option<Self> {
        let id = meta.id().as_bytes();
        let d = meta.descriptors();
        let special = [
            (NumberType::PremiumRate, d.premium_rate()),
            (NumberType::TollFree, d.toll_free()),
            (NumberType::SharedCost, d.shared_cost()),
            (NumberType::Voip, d.voip()),
            (NumberType::PersonalNumber, d.personal_number()),
            (NumberType::Pager, d.pager()),
            (NumberType::Uan, d.uan()),
            (NumberType::Voicemail, d.voicemail()),
        ];
        Some(Self {
            id: [*id.first()?, *id.get(1)?],
            code: meta.country_code(),
            national_prefix: meta.national_prefix(),
            prefix_for_parsing: optional(meta.national_prefix_for_parsing().map(|r| r.as_str()))?,
            transform: meta.national_prefix_transform_rule(),
            international_prefix: optional(meta.international_prefix().map(|r| r.as_str()))?,
            leading_digits: match meta.leading_digits() {
                Some(re) => Some(Matcher::new(re.as_str())?),
                None => None,
            },
            general: Pattern::new(d.general())?,
            general_local_lengths: d.general().possible_local_length().into(),
            special: special
                .into_iter()
                .filter_map(|(kind, d)| Some((kind, d?)))
                .map(|(kind, d)| Some((kind, Pattern::new(d)?)))
                .collect::<Option<_>>()?,
            fixed_line: d
                .fixed_line()
                .map(Pattern::new)
                .map_or(Some(None), |p| p.map(Some))?,
            mobile: d
                .mobile()
                .map(Pattern::new)
                .map_or(Some(None), |p| p.map(Some))?,
            fixed_same_as_mobile: source(d.fixed_line()) == source(d.mobile()),
        })
    }

    /// The library's `number_type`: `None` for its `Unknown` (an invalid number).
    pub(super) fn number_type(&self, national: &str) -> Option<NumberType> {
        if !self.general.matches(national) {
            return None;
        }
        if let Some((kind, _)) = self.special.iter().find(|(_, p)| p.matches(national)) {
            return Some(*kind);
        }
        let mobile = self.mobile.as_ref().is_some_and(|p| p.matches(national));
        if self
            .fixed_line
            .as_ref()
            .is_some_and(|p| p.matches(national))
        {
            return Some(if self.fixed_same_as_mobile || mobile {
                NumberType::FixedLineOrMobile
            } else {
                NumberType::FixedLine
            });
        }
        mobile.then_some(NumberType::Mobile)
    }

    /// Whether the library would strip a national prefix or carrier code from `national`.
    pub(super) fn strips_prefix(&self, national: &str) -> bool {
        self.prefix_for_parsing
            .as_ref()
            .is_some_and(|re| re.is_match(national))
            || self
                .national_prefix
                .is_some_and(|p| national.starts_with(p))
    }

    /// The library's `validator::length` of `national` for any type (its first and last
    /// possible lengths taken as its bounds, as the library does).
    pub(super) fn length(&self, national: &str) -> Length {
        let len = len16(national);
        let possible = &self.general.lengths;
        let (Some(&min), Some(&max)) = (possible.first(), possible.last()) else {
            return Length::Other;
        };
        if self.general_local_lengths.contains(&len) || len == min {
            Length::Possible
        } else if len < min {
            Length::TooShort
        } else if len > max {
            Length::Other
        } else if possible.contains(&len) {
            Length::Possible
        } else {
            Length::Other
        }
    }
}

fn source(d: Option<&Descriptor>) -> Option<&str> {
    d.map(|d| d.national_number().as_str())
}

/// A region of a calling code, compiled on first use.
pub(super) struct Slot {
    meta: &'static Metadata,
    compiled: OnceLock<Option<Region>>,
}

impl Slot {
    pub(super) fn region(&self) -> Option<&Region> {
        self.compiled
            .get_or_init(|| Region::compile(self.meta))
            .as_ref()
    }
}

/// What the metadata holds for one calling code.
pub(super) enum Code {
    /// Not a calling code.
    Unknown,
    /// A non-geographic code (`001`, such as +800): never valid for a region.
    NonGeographic,
    /// Its regions, main region first, as the library orders them.
    Regions(Vec<Slot>),
    /// Something the fast paths do not reproduce: the library decides.
    Slow,
}

/// Calling codes 0-999.
pub(super) struct Table(Vec<Code>);

pub(super) fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| {
        let db: &'static phonenumber::metadata::Database = &DATABASE;
        let codes = (0u16..1000)
            .map(|code| {
                let Some(regions) = db.region(&code) else {
                    return Code::Unknown;
                };
                if regions == ["001"] {
                    return Code::NonGeographic;
                }
                let slots: Option<Vec<Slot>> = regions
                    .iter()
                    .map(|r| {
                        let meta = db.by_id(*r)?;
                        let ok = r.len() == 2
                            && r.parse::<phonenumber::country::Id>().is_ok()
                            && meta.country_code() == code;
                        ok.then(|| Slot {
                            meta,
                            compiled: OnceLock::new(),
                        })
                    })
                    .collect();
                match slots {
                    Some(s) if !s.is_empty() => Code::Regions(s),
                    _ => Code::Slow,
                }
            })
            .collect();
        Table(codes)
    })
}

impl Table {
    pub(super) fn code(&self, code: u16) -> Option<&Code> {
        self.0.get(usize::from(code))
    }

    /// The compiled region `id` (ISO 3166 alpha-2, upper case); `None` when the fast paths
    /// cannot use it.
    pub(super) fn region(&self, id: &str) -> Option<&Region> {
        let code = DATABASE.by_id(id)?.country_code();
        match self.code(code)? {
            Code::Regions(slots) => slots
                .iter()
                .find(|s| s.meta.id() == id)
                .and_then(Slot::region),
            _ => None,
        }
    }

    /// The library's split of international digits into a calling code and the rest: the
    /// shortest known code wins. `None` when no code is known.
    pub(super) fn split_code<'d>(&self, digits: &'d str) -> Option<(u16, &'d str)> {
        (1..=MAX_CODE_DIGITS).find_map(|len| {
            let code: u16 = digits.get(..len)?.parse().ok()?;
            let entry = self.code(code)?;
            (!matches!(entry, Code::Unknown)).then(|| digits.get(len..).map(|rest| (code, rest)))?
        })
    }
}

/// The type of valid `national` number of region `id`; `None` when the fast paths cannot use
/// the region or its patterns do not classify the number.
pub(super) fn number_type_in(id: &str, national: &str) -> Option<NumberType> {
    table().region(id)?.number_type(national)
}

/// The library's `source_for`: the region `national` belongs to among its calling code's,
/// with its number type (`None`: not a valid number there). The type is found once: the
/// search of a shared code (+44, +1...) already computes it for the regions without leading
/// digits.
pub(super) fn region_of<'t>(
    slots: &'t [Slot],
    national: &str,
) -> Result<Option<(&'t Region, Option<NumberType>)>, ()> {
    if let [only] = slots {
        let region = only.region().ok_or(())?;
        return Ok(Some((region, region.number_type(national))));
    }
    for slot in slots {
        let region = slot.region().ok_or(())?;
        let found = match &region.leading_digits {
            Some(re) => re.is_match(national).then(|| region.number_type(national)),
            None => region.number_type(national).map(Some),
        };
        if let Some(kind) = found {
            return Ok(Some((region, kind)));
        }
    }
    Ok(None)
}

/// The library's `is_valid`, region and E.164 of calling code `code` with national number
/// `national` (2 to [`MAX_NSN`] digits, no leading zero); `None` when the library must decide.
pub(super) fn validate(code: u16, national: &str) -> Option<Result<Phone, PhoneError>> {
    let slots = match table().code(code)? {
        Code::Regions(slots) => slots,
        Code::NonGeographic => return Some(Err(PhoneError::Invalid)),
        Code::Unknown | Code::Slow => return None,
    };
    let Some((region, Some(kind))) = region_of(slots, national).ok()? else {
        return Some(Err(PhoneError::Invalid));
    };
    Some(Ok(phone(region, code, national, kind)?))
}

/// The `Phone` of a valid number of `region`.
pub(super) fn phone(region: &Region, code: u16, national: &str, kind: NumberType) -> Option<Phone> {
    let value: u64 = national.parse().ok()?;
    let digits = 10u64
        .checked_pow(u32::try_from(national.len()).ok()?)?
        .checked_mul(u64::from(code))?
        .checked_add(value)?;
    Some(Phone {
        digits,
        country: region.id,
        calling_code: code,
        kind,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    impl Region {
        fn matchers(&self) -> impl Iterator<Item = &Matcher> {
            let patterns = [
                Some(&self.general),
                self.fixed_line.as_ref(),
                self.mobile.as_ref(),
            ];
            patterns
                .into_iter()
                .flatten()
                .chain(self.special.iter().map(|(_, p)| p))
                .map(|p| &p.re)
                .chain(self.leading_digits.as_ref())
        }
    }

    /// Every pattern of every region the fast paths compile: its DFA answers as its `Regex`
    /// on the region's example numbers, each of their prefixes, each with a digit appended
    /// or its last digit changed, and each with any two first digits; and nearly every
    /// pattern has its DFA.
    #[test]
    fn each_pattern_answers_as_its_regex() {
        let (mut patterns, mut with_dfa, mut checked) = (0usize, 0usize, 0usize);
        let (mut bytes, mut largest) = (0usize, 0usize);
        let started = std::time::Instant::now();
        for code in 0..1000u16 {
            let Some(Code::Regions(slots)) = table().code(code) else {
                continue;
            };
            for slot in slots {
                let Some(region) = slot.region() else {
                    continue;
                };
                let d = slot.meta.descriptors();
                let examples = [Some(d.general()), d.fixed_line(), d.mobile(), d.toll_free()];
                let mut inputs = Vec::new();
                for example in examples.iter().flatten().filter_map(|d| d.example()) {
                    for end in 1..=example.len() {
                        inputs.push(example[..end].to_owned());
                    }
                    for digit in ['0', '5', '9'] {
                        inputs.push(format!("{example}{digit}"));
                        inputs.push(format!("{}{digit}", &example[..example.len() - 1]));
                    }
                    // every first two digits before the example's rest: the refusal by
                    // them must agree with the search
                    if let Some(rest) = example.get(2..) {
                        for first in 0..100 {
                            inputs.push(format!("{first:02}{rest}"));
                        }
                    }
                }
                for m in region.matchers() {
                    patterns += 1;
                    if let Some(b) = m.dfa_bytes() {
                        with_dfa += 1;
                        bytes += b;
                        largest = largest.max(b);
                    }
                    for input in &inputs {
                        checked += 1;
                        assert_eq!(
                            m.is_match(input),
                            m.regex_is_match(input),
                            "{input} in {}",
                            slot.meta.id()
                        );
                    }
                }
            }
        }
        eprintln!(
            "{patterns} patterns, {with_dfa} with a DFA ({bytes} bytes, the largest {largest}), \
             {checked} inputs, {:?}",
            started.elapsed()
        );
        assert!(patterns > 1000, "{patterns}");
        assert!(with_dfa * 100 >= patterns * 98, "{with_dfa} of {patterns}");
    }
}
