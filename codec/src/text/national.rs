//! National language tables of 3GPP TS 23.038 annex A (locking shift A.3, single shift A.2) and
//! [`NationalLanguage`], the languages otpgate can encode with them.

use super::gsm7::{Alphabet, Table, NONE};

/// A.3.1 Turkish national language locking shift table (127 characters).
const TURKISH_LOCKING: Table = [
    '@', '\u{a3}', '$', '\u{a5}', '\u{20ac}', '\u{e9}', '\u{f9}', '\u{131}', // 0x00
    '\u{f2}', '\u{c7}', '\n', '\u{11e}', '\u{11f}', '\r', '\u{c5}', '\u{e5}', // 0x08
    '\u{394}', '_', '\u{3a6}', '\u{393}', '\u{39b}', '\u{3a9}', '\u{3a0}', '\u{3a8}', // 0x10
    '\u{3a3}', '\u{398}', '\u{39e}', NONE, '\u{15e}', '\u{15f}', '\u{df}', '\u{c9}', // 0x18
    ' ', '!', '"', '#', '\u{a4}', '%', '&', '\'', // 0x20
    '(', ')', '*', '+', ',', '-', '.', '/', // 0x28
    '0', '1', '2', '3', '4', '5', '6', '7', // 0x30
    '8', '9', ':', ';', '<', '=', '>', '?', // 0x38
    '\u{130}', 'A', 'B', 'C', 'D', 'E', 'F', 'G', // 0x40
    'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O', // 0x48
    'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', // 0x50
    'X', 'Y', 'Z', '\u{c4}', '\u{d6}', '\u{d1}', '\u{dc}', '\u{a7}', // 0x58
    '\u{e7}', 'a', 'b', 'c', 'd', 'e', 'f', 'g', // 0x60
    'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', // 0x68
    'p', 'q', 'r', 's', 't', 'u', 'v', 'w', // 0x70
    'x', 'y', 'z', '\u{e4}', '\u{f6}', '\u{f1}', '\u{fc}', '\u{e0}', // 0x78
];
/// A.2.1 Turkish national language single shift table (17 characters).
const TURKISH_SINGLE: Table = [
    NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, // 0x00
    NONE, NONE, '\u{c}', NONE, NONE, NONE, NONE, NONE, // 0x08
    NONE, NONE, NONE, NONE, '^', NONE, NONE, NONE, // 0x10
    NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, // 0x18
    NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, // 0x20
    '{', '}', NONE, NONE, NONE, NONE, NONE, '\\', // 0x28
    NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, // 0x30
    NONE, NONE, NONE, NONE, '[', '~', ']', NONE, // 0x38
    '|', NONE, NONE, NONE, NONE, NONE, NONE, '\u{11e}', // 0x40
    NONE, '\u{130}', NONE, NONE, NONE, NONE, NONE, NONE, // 0x48
    NONE, NONE, NONE, '\u{15e}', NONE, NONE, NONE, NONE, // 0x50
    NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, // 0x58
    NONE, NONE, NONE, '\u{e7}', NONE, '\u{20ac}', NONE, '\u{11f}', // 0x60
    NONE, '\u{131}', NONE, NONE, NONE, NONE, NONE, NONE, // 0x68
    NONE, NONE, NONE, '\u{15f}', NONE, NONE, NONE, NONE, // 0x70
    NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, // 0x78
];
/// A.2.2 Spanish national language single shift table (19 characters).
const SPANISH_SINGLE: Table = [
    NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, // 0x00
    NONE, '\u{e7}', '\u{c}', NONE, NONE, NONE, NONE, NONE, // 0x08
    NONE, NONE, NONE, NONE, '^', NONE, NONE, NONE, // 0x10
    NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, // 0x18
    NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, // 0x20
    '{', '}', NONE, NONE, NONE, NONE, NONE, '\\', // 0x28
    NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, // 0x30
    NONE, NONE, NONE, NONE, '[', '~', ']', NONE, // 0x38
    '|', '\u{c1}', NONE, NONE, NONE, NONE, NONE, NONE, // 0x40
    NONE, '\u{cd}', NONE, NONE, NONE, NONE, NONE, '\u{d3}', // 0x48
    NONE, NONE, NONE, NONE, NONE, '\u{da}', NONE, NONE, // 0x50
    NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, // 0x58
    NONE, '\u{e1}', NONE, NONE, NONE, '\u{20ac}', NONE, NONE, // 0x60
    NONE, '\u{ed}', NONE, NONE, NONE, NONE, NONE, '\u{f3}', // 0x68
    NONE, NONE, NONE, NONE, NONE, '\u{fa}', NONE, NONE, // 0x70
    NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, // 0x78
];
/// A.3.3 Portuguese national language locking shift table (127 characters).
const PORTUGUESE_LOCKING: Table = [
    '@', '\u{a3}', '$', '\u{a5}', '\u{ea}', '\u{e9}', '\u{fa}', '\u{ed}', // 0x00
    '\u{f3}', '\u{e7}', '\n', '\u{d4}', '\u{f4}', '\r', '\u{c1}', '\u{e1}', // 0x08
    '\u{394}', '_', '\u{aa}', '\u{c7}', '\u{c0}', '\u{221e}', '^', '\\', // 0x10
    '\u{20ac}', '\u{d3}', '|', NONE, '\u{c2}', '\u{e2}', '\u{ca}', '\u{c9}', // 0x18
    ' ', '!', '"', '#', '\u{ba}', '%', '&', '\'', // 0x20
    '(', ')', '*', '+', ',', '-', '.', '/', // 0x28
    '0', '1', '2', '3', '4', '5', '6', '7', // 0x30
    '8', '9', ':', ';', '<', '=', '>', '?', // 0x38
    '\u{cd}', 'A', 'B', 'C', 'D', 'E', 'F', 'G', // 0x40
    'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O', // 0x48
    'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', // 0x50
    'X', 'Y', 'Z', '\u{c3}', '\u{d5}', '\u{da}', '\u{dc}', '\u{a7}', // 0x58
    '~', 'a', 'b', 'c', 'd', 'e', 'f', 'g', // 0x60
    'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', // 0x68
    'p', 'q', 'r', 's', 't', 'u', 'v', 'w', // 0x70
    'x', 'y', 'z', '\u{e3}', '\u{f5}', '`', '\u{fc}', '\u{e0}', // 0x78
];
/// A.2.3 Portuguese national language single shift table (37 characters).
const PORTUGUESE_SINGLE: Table = [
    NONE, NONE, NONE, NONE, NONE, '\u{ea}', NONE, NONE, // 0x00
    NONE, '\u{e7}', '\u{c}', '\u{d4}', '\u{f4}', NONE, '\u{c1}', '\u{e1}', // 0x08
    NONE, NONE, '\u{3a6}', '\u{393}', '^', '\u{3a9}', '\u{3a0}', '\u{3a8}', // 0x10
    '\u{3a3}', '\u{398}', NONE, NONE, NONE, NONE, NONE, '\u{ca}', // 0x18
    NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, // 0x20
    '{', '}', NONE, NONE, NONE, NONE, NONE, '\\', // 0x28
    NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, // 0x30
    NONE, NONE, NONE, NONE, '[', '~', ']', NONE, // 0x38
    '|', '\u{c0}', NONE, NONE, NONE, NONE, NONE, NONE, // 0x40
    NONE, '\u{cd}', NONE, NONE, NONE, NONE, NONE, '\u{d3}', // 0x48
    NONE, NONE, NONE, NONE, NONE, '\u{da}', NONE, NONE, // 0x50
    NONE, NONE, NONE, '\u{c3}', '\u{d5}', NONE, NONE, NONE, // 0x58
    NONE, '\u{c2}', NONE, NONE, NONE, '\u{20ac}', NONE, NONE, // 0x60
    NONE, '\u{ed}', NONE, NONE, NONE, NONE, NONE, '\u{f3}', // 0x68
    NONE, NONE, NONE, NONE, NONE, '\u{fa}', NONE, NONE, // 0x70
    NONE, NONE, NONE, '\u{e3}', '\u{f5}', NONE, NONE, '\u{e2}', // 0x78
];

static TURKISH_LOCK: Alphabet = Alphabet::new(TURKISH_LOCKING);
static TURKISH_SHIFT: Alphabet = Alphabet::new(TURKISH_SINGLE);
static SPANISH_SHIFT: Alphabet = Alphabet::new(SPANISH_SINGLE);
static PORTUGUESE_LOCK: Alphabet = Alphabet::new(PORTUGUESE_LOCKING);
static PORTUGUESE_SHIFT: Alphabet = Alphabet::new(PORTUGUESE_SINGLE);

/// A national language of TS 23.038 annex A whose tables otpgate carries. Its identifier goes in
/// the UDH information elements 0x24 (single shift) and 0x25 (locking shift).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NationalLanguage {
    /// Identifier 1: locking and single shift tables.
    Turkish,
    /// Identifier 2: single shift table only (the spec defines no Spanish locking table).
    Spanish,
    /// Identifier 3: locking and single shift tables.
    Portuguese,
}

impl NationalLanguage {
    /// Every supported language, in identifier order.
    pub const ALL: [NationalLanguage; 3] = [Self::Turkish, Self::Spanish, Self::Portuguese];

    /// The national language identifier of TS 23.038 6.2.1.2.4.
    pub fn id(self) -> u8 {
        match self {
            Self::Turkish => 1,
            Self::Spanish => 2,
            Self::Portuguese => 3,
        }
    }

    /// The language an identifier names, if otpgate has its tables.
    pub fn from_id(id: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.id() == id)
    }

    /// Lower-case English name, as used in configuration and JSON (`turkish`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Turkish => "turkish",
            Self::Spanish => "spanish",
            Self::Portuguese => "portuguese",
        }
    }

    /// Parses [`name`](Self::name) (any case) or an ISO 639-1 code (`tr`, `es`, `pt`).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|l| name.eq_ignore_ascii_case(l.name()) || name.eq_ignore_ascii_case(l.iso639()))
    }

    /// ISO 639-1 code.
    pub fn iso639(self) -> &'static str {
        match self {
            Self::Turkish => "tr",
            Self::Spanish => "es",
            Self::Portuguese => "pt",
        }
    }

    /// Whether the spec defines a locking-shift table for this language.
    pub fn has_locking_shift(self) -> bool {
        self.locking_table().is_some()
    }

    pub(crate) fn locking_table(self) -> Option<&'static Alphabet> {
        match self {
            Self::Turkish => Some(&TURKISH_LOCK),
            Self::Spanish => None,
            Self::Portuguese => Some(&PORTUGUESE_LOCK),
        }
    }

    pub(crate) fn single_shift_table(self) -> &'static Alphabet {
        match self {
            Self::Turkish => &TURKISH_SHIFT,
            Self::Spanish => &SPANISH_SHIFT,
            Self::Portuguese => &PORTUGUESE_SHIFT,
        }
    }
}

impl std::fmt::Display for NationalLanguage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::super::gsm7::{DEFAULT, DEFAULT_EXTENSION};
    use super::*;

    /// Entry counts of the tables as printed in TS 23.038 (escape septet excluded).
    #[test]
    fn table_sizes_match_the_spec() {
        assert_eq!(DEFAULT.len(), 127);
        assert_eq!(DEFAULT_EXTENSION.len(), 10);
        assert_eq!(TURKISH_LOCK.len(), 127);
        assert_eq!(TURKISH_SHIFT.len(), 17);
        assert_eq!(SPANISH_SHIFT.len(), 19);
        assert_eq!(PORTUGUESE_LOCK.len(), 127);
        assert_eq!(PORTUGUESE_SHIFT.len(), 37);
    }

    #[test]
    fn reverse_maps_invert_the_tables() {
        let all: [&Alphabet; 7] = [
            &DEFAULT,
            &DEFAULT_EXTENSION,
            &TURKISH_LOCK,
            &TURKISH_SHIFT,
            &SPANISH_SHIFT,
            &PORTUGUESE_LOCK,
            &PORTUGUESE_SHIFT,
        ];
        for table in all {
            for septet in 0..128u8 {
                if let Some(ch) = table.char_of(septet) {
                    assert_eq!(table.septet(ch), Some(septet), "{ch:?}");
                }
            }
        }
    }

    #[test]
    fn spot_checks() {
        assert_eq!(TURKISH_LOCK.septet('ş'), Some(0x1D));
        assert_eq!(TURKISH_LOCK.septet('İ'), Some(0x40));
        assert_eq!(TURKISH_SHIFT.septet('ğ'), Some(0x67));
        assert_eq!(SPANISH_SHIFT.septet('á'), Some(0x61));
        assert_eq!(PORTUGUESE_LOCK.septet('∞'), Some(0x15));
        assert_eq!(PORTUGUESE_SHIFT.septet('â'), Some(0x7F));
        assert_eq!(DEFAULT.septet('ç'), None);
        assert_eq!(DEFAULT_EXTENSION.septet('€'), Some(0x65));
        assert_eq!(NONE, '\0');
    }
}
