//! Number types as libphonenumber names them: what a tenant accepts (`[[tenants]]
//! number_types`) and what the fast paths ([`super::regions`]) and the library classify.

/// A number's type, as libphonenumber names them (`[[tenants]] number_types`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NumberType {
    Mobile,
    /// The region's numbering plan does not tell fixed lines from mobiles (NANP, China...).
    FixedLineOrMobile,
    FixedLine,
    TollFree,
    PremiumRate,
    SharedCost,
    Voip,
    PersonalNumber,
    Pager,
    /// Universal access ("company") numbers.
    Uan,
    Voicemail,
    /// Not classified: a stored number read back (its type was checked when it was created).
    Unknown,
}

impl NumberType {
    pub const ALL: [NumberType; 12] = [
        NumberType::Mobile,
        NumberType::FixedLineOrMobile,
        NumberType::FixedLine,
        NumberType::TollFree,
        NumberType::PremiumRate,
        NumberType::SharedCost,
        NumberType::Voip,
        NumberType::PersonalNumber,
        NumberType::Pager,
        NumberType::Uan,
        NumberType::Voicemail,
        NumberType::Unknown,
    ];

    /// What a tenant accepts unless it says otherwise: numbers that can receive an SMS.
    pub const DEFAULT_ACCEPTED: [NumberType; 2] =
        [NumberType::Mobile, NumberType::FixedLineOrMobile];

    /// As written in the configuration and in the error's `reason`.
    pub fn as_str(self) -> &'static str {
        match self {
            NumberType::Mobile => "mobile",
            NumberType::FixedLineOrMobile => "fixed_line_or_mobile",
            NumberType::FixedLine => "fixed_line",
            NumberType::TollFree => "toll_free",
            NumberType::PremiumRate => "premium_rate",
            NumberType::SharedCost => "shared_cost",
            NumberType::Voip => "voip",
            NumberType::PersonalNumber => "personal_number",
            NumberType::Pager => "pager",
            NumberType::Uan => "uan",
            NumberType::Voicemail => "voicemail",
            NumberType::Unknown => "unknown",
        }
    }

    /// The bit of this type in a set of types ([`NumberTypes`]).
    fn bit(self) -> u16 {
        1 << (self as u16)
    }

    /// The library's type, `None` for its `Unknown` and the types a valid number never has.
    pub(super) fn of_library(t: phonenumber::Type) -> Option<NumberType> {
        use phonenumber::Type as T;
        Some(match t {
            T::Mobile => NumberType::Mobile,
            T::FixedLineOrMobile => NumberType::FixedLineOrMobile,
            T::FixedLine => NumberType::FixedLine,
            T::TollFree => NumberType::TollFree,
            T::PremiumRate => NumberType::PremiumRate,
            T::SharedCost => NumberType::SharedCost,
            T::Voip => NumberType::Voip,
            T::PersonalNumber => NumberType::PersonalNumber,
            T::Pager => NumberType::Pager,
            T::Uan => NumberType::Uan,
            T::Voicemail => NumberType::Voicemail,
            _ => return None,
        })
    }
}

/// A set of number types, one bit each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NumberTypes(u16);

impl NumberTypes {
    /// `types`, or [`NumberType::DEFAULT_ACCEPTED`] when it is empty.
    pub fn or_default(types: &[NumberType]) -> Self {
        let types = if types.is_empty() {
            &NumberType::DEFAULT_ACCEPTED[..]
        } else {
            types
        };
        Self(types.iter().fold(0, |set, t| set | t.bit()))
    }

    pub fn contains(self, t: NumberType) -> bool {
        self.0 & t.bit() != 0
    }
}
