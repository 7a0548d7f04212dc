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
    re: Regex,
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
        Some(Self { dfa, re })
    }

    /// `Regex::is_match`: a match starting at the first byte (the pattern is anchored).
    pub(super) fn is_match(&self, text: &str) -> bool {
        if let Some(dfa) = self.dfa.as_ref().filter(|_| text.is_ascii()) {
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
