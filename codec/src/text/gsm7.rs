//! GSM 7-bit alphabets of 3GPP TS 23.038: the default alphabet and its extension table as
//! character tables indexed by septet, and [`Alphabet`], a table with a reverse map built at
//! compile time so that encoding a character is a table lookup, never a search.

/// One 128-entry table: the character each septet stands for, [`NONE`] where the spec has none.
pub(crate) type Table = [char; 128];

/// Marks a septet with no character (also the escape septet 0x1B in a locking-shift table).
pub(crate) const NONE: char = '\0';

/// The escape septet: the next septet is read in the single-shift (extension) table.
pub(crate) const ESC: u8 = 0x1B;

/// Reverse map entry meaning "not in this table".
const ABSENT: u8 = 0xFF;

/// A 7-bit table with its reverse map: a direct array for U+0000..U+00FF and a sorted list of the
/// characters above (Greek capitals, euro sign, Turkish letters, Indic scripts) for binary
/// search.
pub(crate) struct Alphabet {
    chars: Table,
    low: [u8; 256],
    high: [(char, u8); 128],
    high_len: usize,
}

impl Alphabet {
    /// Builds the reverse maps at compile time. Indexing and arithmetic here run in const
    /// evaluation over fixed-size tables, where any slip fails the build instead of a request.
    pub(crate) const fn new(chars: Table) -> Self {
        Self::decode_only_at(chars, ABSENT)
    }

    /// Like [`Alphabet::new`], but septet `decode_only` is read and never written: for a
    /// position whose character the published tables disagree on, so that a text needing it
    /// goes out in another encoding rather than risk showing another letter.
    #[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
    pub(crate) const fn decode_only_at(chars: Table, decode_only: u8) -> Self {
        let mut low = [ABSENT; 256];
        let mut high = [(NONE, ABSENT); 128];
        let mut high_len = 0;
        let mut septet = 0;
        while septet < 128 {
            let ch = chars[septet];
            if ch != NONE && septet != decode_only as usize {
                let cp = ch as u32;
                if cp < 256 {
                    // The first septet wins should a table list a character twice.
                    if low[cp as usize] == ABSENT {
                        low[cp as usize] = septet as u8;
                    }
                } else if !Self::holds(&high, high_len, ch) {
                    // Insertion sort by character; the first septet wins here too.
                    let mut at = high_len;
                    while at > 0 && high[at - 1].0 as u32 > cp {
                        high[at] = high[at - 1];
                        at -= 1;
                    }
                    high[at] = (ch, septet as u8);
                    high_len += 1;
                }
            }
            septet += 1;
        }
        Self {
            chars,
            low,
            high,
            high_len,
        }
    }

    /// Whether `ch` is among the first `len` entries of `high` (const: no iterators).
    #[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
    const fn holds(high: &[(char, u8); 128], len: usize, ch: char) -> bool {
        let mut i = 0;
        while i < len {
            if high[i].0 == ch {
                return true;
            }
            i += 1;
        }
        false
    }

    /// The septet standing for `ch`, if the table has it.
    #[inline]
    pub(crate) fn septet(&self, ch: char) -> Option<u8> {
        let cp = ch as u32;
        if cp < 256 {
            return match self.low.get(cp as usize) {
                Some(&s) if s != ABSENT => Some(s),
                _ => None,
            };
        }
        let high = self.high.get(..self.high_len)?;
        high.binary_search_by(|(c, _)| c.cmp(&ch))
            .ok()
            .and_then(|i| high.get(i))
            .map(|&(_, s)| s)
    }

    /// The septet for the character U+0000..U+00FF whose code is `byte`, or 0xFF if absent.
    #[inline]
    pub(crate) fn septet_of_byte(&self, byte: u8) -> u8 {
        self.low.get(usize::from(byte)).copied().unwrap_or(ABSENT)
    }

    /// The character a septet stands for, if any (the top bit of `septet` is ignored).
    #[inline]
    pub(crate) fn char_of(&self, septet: u8) -> Option<char> {
        match self.chars.get(usize::from(septet & 0x7F)) {
            Some(&c) if c != NONE => Some(c),
            _ => None,
        }
    }

    /// How many characters the table holds (for tests against the spec's counts).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.chars.iter().filter(|&&c| c != NONE).count()
    }
}

/// 6.2.1 GSM 7 bit default alphabet (127 characters).
const DEFAULT_LOCKING: Table = [
    '@', '\u{a3}', '$', '\u{a5}', '\u{e8}', '\u{e9}', '\u{f9}', '\u{ec}', // 0x00
    '\u{f2}', '\u{c7}', '\n', '\u{d8}', '\u{f8}', '\r', '\u{c5}', '\u{e5}', // 0x08
    '\u{394}', '_', '\u{3a6}', '\u{393}', '\u{39b}', '\u{3a9}', '\u{3a0}', '\u{3a8}', // 0x10
    '\u{3a3}', '\u{398}', '\u{39e}', NONE, '\u{c6}', '\u{e6}', '\u{df}', '\u{c9}', // 0x18
    ' ', '!', '"', '#', '\u{a4}', '%', '&', '\'', // 0x20
    '(', ')', '*', '+', ',', '-', '.', '/', // 0x28
    '0', '1', '2', '3', '4', '5', '6', '7', // 0x30
    '8', '9', ':', ';', '<', '=', '>', '?', // 0x38
    '\u{a1}', 'A', 'B', 'C', 'D', 'E', 'F', 'G', // 0x40
    'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O', // 0x48
    'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', // 0x50
    'X', 'Y', 'Z', '\u{c4}', '\u{d6}', '\u{d1}', '\u{dc}', '\u{a7}', // 0x58
    '\u{bf}', 'a', 'b', 'c', 'd', 'e', 'f', 'g', // 0x60
    'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', // 0x68
    'p', 'q', 'r', 's', 't', 'u', 'v', 'w', // 0x70
    'x', 'y', 'z', '\u{e4}', '\u{f6}', '\u{f1}', '\u{fc}', '\u{e0}', // 0x78
];
/// 6.2.1.1 GSM 7 bit default alphabet extension table (10 characters).
const DEFAULT_SINGLE: Table = [
    NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, // 0x00
    NONE, NONE, '\u{c}', NONE, NONE, NONE, NONE, NONE, // 0x08
    NONE, NONE, NONE, NONE, '^', NONE, NONE, NONE, // 0x10
    NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, // 0x18
    NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, // 0x20
    '{', '}', NONE, NONE, NONE, NONE, NONE, '\\', // 0x28
    NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, // 0x30
    NONE, NONE, NONE, NONE, '[', '~', ']', NONE, // 0x38
    '|', NONE, NONE, NONE, NONE, NONE, NONE, NONE, // 0x40
    NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, // 0x48
    NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, // 0x50
    NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, // 0x58
    NONE, NONE, NONE, NONE, NONE, '\u{20ac}', NONE, NONE, // 0x60
    NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, // 0x68
    NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, // 0x70
    NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, // 0x78
];

/// The default alphabet (TS 23.038 6.2.1).
pub(crate) static DEFAULT: Alphabet = Alphabet::new(DEFAULT_LOCKING);
/// The default extension table (TS 23.038 6.2.1.1), reached through [`ESC`].
pub(crate) static DEFAULT_EXTENSION: Alphabet = Alphabet::new(DEFAULT_SINGLE);

/// The pair of tables in force for one message: the locking-shift table (one septet per
/// character) and the single-shift table reached through [`ESC`] (two septets per character).
#[derive(Clone, Copy)]
pub(crate) struct Charset {
    pub(crate) locking: &'static Alphabet,
    pub(crate) single: &'static Alphabet,
}

/// How one character is written: one septet, or the escape septet and one more.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Code {
    One(u8),
    Escaped(u8),
}

impl Code {
    /// Septets it takes.
    #[inline]
    pub(crate) fn cost(self) -> usize {
        match self {
            Code::One(_) => 1,
            Code::Escaped(_) => 2,
        }
    }
    #[inline]
    pub(crate) fn push_to(self, out: &mut Vec<u8>) {
        match self {
            Code::One(s) => out.push(s),
            Code::Escaped(s) => {
                out.push(ESC);
                out.push(s);
            }
        }
    }
}

impl Charset {
    /// The default alphabet with its extension table.
    pub(crate) fn default_tables() -> Self {
        Self {
            locking: &DEFAULT,
            single: &DEFAULT_EXTENSION,
        }
    }

    /// How `ch` is written in these tables; `None` when it cannot be.
    #[inline]
    pub(crate) fn code(&self, ch: char) -> Option<Code> {
        if let Some(s) = self.locking.septet(ch) {
            return Some(Code::One(s));
        }
        self.single.septet(ch).map(Code::Escaped)
    }

    /// Septets an ASCII character takes (1 or 2), 0 when the tables lack it.
    #[inline]
    pub(crate) fn ascii_cost(&self, byte: u8) -> usize {
        if self.locking.septet_of_byte(byte) != ABSENT {
            1
        } else if self.single.septet_of_byte(byte) != ABSENT {
            2
        } else {
            0
        }
    }

    /// Decodes unpacked septets (one per octet) into `out`. An escape followed by a septet the
    /// single-shift table lacks shows the locking table's character (TS 23.038 6.2.1.1); an
    /// escape with nothing after it, or a second escape, shows a space, as the spec asks of a
    /// receiver. Returns the offset and value of the first octet above 0x7F, if any.
    pub(crate) fn decode_into(&self, septets: &[u8], out: &mut String) -> Result<(), (usize, u8)> {
        let mut iter = septets.iter().copied().enumerate();
        while let Some((at, s)) = iter.next() {
            if s > 0x7F {
                return Err((at, s));
            }
            if s == ESC {
                match iter.next() {
                    None => out.push(' '),
                    Some((at, next)) if next > 0x7F => return Err((at, next)),
                    Some((_, ESC)) => out.push(' '),
                    Some((_, next)) => {
                        let ch = self
                            .single
                            .char_of(next)
                            .or_else(|| self.locking.char_of(next))
                            .unwrap_or(' ');
                        out.push(ch);
                    }
                }
                continue;
            }
            // A hole of a locking-shift table (the Indian ones have some) shows a space.
            out.push(self.locking.char_of(s).unwrap_or(' '));
        }
        Ok(())
    }
}
