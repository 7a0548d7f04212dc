//! A pattern of the metadata, tested on the request's thread without shared state. A `Regex`
//! searches with a lazy DFA whose cache it takes from a pool, and the pool's fast path serves
//! only the thread that used it first: every other runtime worker takes a lock per search, and
//! one number's type is up to a dozen searches. A fully compiled DFA needs no cache. Patterns
//! whose DFA would be too big (or that a DFA cannot express) keep the `Regex`.

use regex::Regex;
use regex_automata::dfa::{dense, Automaton, StartKind};
use regex_automata::{util::syntax, Anchored, Input};

use super::regions::anchored;

/// A pattern's compiled DFA stays under this: the largest of the metadata takes under 20 KiB,
/// all of them together about 2 MB (a region's patterns are compiled when a number of that
/// region first comes).
const DFA_BYTES: usize = 1 << 20;

pub(super) struct Matcher {
    dfa: Option<dense::DFA<Vec<u32>>>,
    /// Bit `10 * a + b` set when a text starting with the digits `a`, `b` can match, as the
    /// DFA says after those two bytes: most of a region's patterns are tried on a number
    /// and refused on its first digits, and this refuses them without a search.
    two_digits: u128,
    re: Regex,
}

/// The DFA's answer after the two digits `a`, `b` of a longer text: `false` when no text
/// that starts with them matches. A DFA's match state is seen one byte late, so a match of
/// the empty text or of `a` alone shows in the state after `b`, which is then not dead.
fn may_match_after(dfa: &dense::DFA<Vec<u32>>, a: u8, b: u8) -> bool {
    let Ok(start) = dfa.start_state_forward(&Input::new("00").anchored(Anchored::Yes)) else {
        return true;
    };
    let after_a = dfa.next_state(start, a);
    if dfa.is_match_state(after_a) || dfa.is_quit_state(after_a) {
        return true;
    }
    if dfa.is_dead_state(after_a) {
        return false;
    }
    !dfa.is_dead_state(dfa.next_state(after_a, b))
}

fn two_digits_of(dfa: Option<&dense::DFA<Vec<u32>>>) -> u128 {
    let Some(dfa) = dfa else {
        return u128::MAX;
    };
    let mut mask = 0u128;
    for (a, b) in (b'0'..=b'9').flat_map(|a| (b'0'..=b'9').map(move |b| (a, b))) {
        if may_match_after(dfa, a, b) {
            mask |= 1 << two_digit_bit(a, b);
        }
    }
    mask
}

/// The bit of the digits `a`, `b` in [`Matcher::two_digits`].
fn two_digit_bit(a: u8, b: u8) -> u32 {
    u32::from(a - b'0') * 10 + u32::from(b - b'0')
}

impl Matcher {
    /// A pattern of the metadata, as [`anchored`] compiles it and as the same text's DFA
    /// when it builds within the limit; `None` when the `Regex` does not build.
    pub(super) fn new(source: &str) -> Option<Self> {
        let re = anchored(source)?;
        let dfa = dense::Builder::new()
            // ASCII classes (`\d` is 0-9): the Unicode ones make each DFA about a hundred times
            // bigger, and the DFA only sees ASCII (below).
            .syntax(syntax::Config::new().ignore_whitespace(true).unicode(false))
            .configure(
                dense::Config::new()
                    .start_kind(StartKind::Anchored)
                    .dfa_size_limit(Some(DFA_BYTES))
                    .determinize_size_limit(Some(DFA_BYTES)),
            )
            .build(re.as_str())
            .ok();
        let two_digits = two_digits_of(dfa.as_ref());
        Some(Self {
            dfa,
            two_digits,
            re,
        })
    }

    /// `Regex::is_match`: a match starting at the first byte (the pattern is anchored).
    pub(super) fn is_match(&self, text: &str) -> bool {
        if let Some(dfa) = self.dfa.as_ref().filter(|_| text.is_ascii()) {
            // what the DFA would find after the first two digits
            if let [a @ b'0'..=b'9', b @ b'0'..=b'9', _, ..] = text.as_bytes() {
                if self.two_digits & (1 << two_digit_bit(*a, *b)) == 0 {
                    return false;
                }
            }
            let input = Input::new(text).anchored(Anchored::Yes).earliest(true);
            // A DFA without quit bytes or word boundaries never gives up; if it did, the
            // `Regex` answers.
            if let Ok(found) = dfa.try_search_fwd(&input) {
                return found.is_some();
            }
        }
        self.re.is_match(text)
    }

    /// Bytes of the DFA, `None` without one.
    #[cfg(test)]
    pub(super) fn dfa_bytes(&self) -> Option<usize> {
        self.dfa.as_ref().map(|d| d.memory_usage())
    }

    #[cfg(test)]
    pub(super) fn regex_is_match(&self, text: &str) -> bool {
        self.re.is_match(text)
    }
}
