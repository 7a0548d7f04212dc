//! The rendered SMS text: template rendering, and its encoding and number of parts.

use std::sync::LazyLock;

use memchr::memmem;
use otpgate_codec::text::{analyze, SplitOptions, TextError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Gsm7,
    Ucs2,
    /// ISO-8859-1, on an SMSC configured for it.
    Latin1,
}

impl Encoding {
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Gsm7 => "GSM7",
            Encoding::Ucs2 => "UCS2",
            Encoding::Latin1 => "LATIN1",
        }
    }

    /// The encoding an SMSC reported by name (`GSM7`, `UCS2`, `LATIN1`).
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "GSM7" => Some(Encoding::Gsm7),
            "UCS2" => Some(Encoding::Ucs2),
            "LATIN1" => Some(Encoding::Latin1),
            _ => None,
        }
    }
}

/// Whether `c` is in the GSM 03.38 default alphabet's basic table (sender IDs must be).
pub fn is_gsm_basic(c: char) -> bool {
    otpgate_codec::text::gsm7_basic_septet(c).is_some()
}

/// Encoding and number of SMS parts of `text` as the codec will send it with the default
/// concatenation (8-bit UDH): GSM-7 when every character is in the default alphabet and its
/// extension table, otherwise UCS-2. The SMSC's own settings may change the count slightly
/// (16-bit UDH, national tables); the reply states what the default gives.
pub fn analyze_text(text: &str) -> (Encoding, usize) {
    let options = SplitOptions {
        max_parts: usize::MAX,
        ..SplitOptions::default()
    };
    let (encoding, parts) = match analyze(text, &options) {
        Ok((encoding, parts)) => (encoding, parts),
        // More than 255 parts: the count still tells the caller it is far over its limit.
        Err(TextError::TooManyParts { parts, .. }) => (otpgate_codec::text::Encoding::Ucs2, parts),
        Err(_) => (otpgate_codec::text::Encoding::Ucs2, usize::MAX),
    };
    let encoding = if encoding.is_gsm7() {
        Encoding::Gsm7
    } else {
        Encoding::Ucs2
    };
    (encoding, parts)
}

/// `template` with every `{{pin}}` replaced by `pin`.
pub fn render(template: &str, pin: &str) -> String {
    const PLACEHOLDER: &str = "{{pin}}";
    // memchr's finder, made once: `str::replace`'s general searcher costs about a thousand
    // instructions on an SMS-sized template, and a create renders twice
    static FINDER: LazyLock<memmem::Finder<'static>> =
        LazyLock::new(|| memmem::Finder::new(PLACEHOLDER));
    let mut out = String::with_capacity(template.len() + pin.len());
    let mut last = 0;
    for at in FINDER.find_iter(template.as_bytes()) {
        out.push_str(template.get(last..at).unwrap_or_default());
        out.push_str(pin);
        last = at + PLACEHOLDER.len();
    }
    out.push_str(template.get(last..).unwrap_or_default());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gsm_and_ucs2_parts() {
        assert_eq!(analyze_text("Your code is 123456"), (Encoding::Gsm7, 1));
        assert_eq!(analyze_text(&"a".repeat(160)), (Encoding::Gsm7, 1));
        assert_eq!(analyze_text(&"a".repeat(161)), (Encoding::Gsm7, 2));
        assert_eq!(analyze_text(&"a".repeat(306)), (Encoding::Gsm7, 2));
        assert_eq!(analyze_text(&"a".repeat(307)), (Encoding::Gsm7, 3));
        assert_eq!(analyze_text(&"€".repeat(80)), (Encoding::Gsm7, 1));
        assert_eq!(analyze_text("Ваш код 1234"), (Encoding::Ucs2, 1));
        assert_eq!(analyze_text(&"ж".repeat(71)), (Encoding::Ucs2, 2));
        // an escape pair is not split: 152 + 2 septets do not fit 153
        let t = format!("{}€{}", "a".repeat(152), "a".repeat(10));
        assert_eq!(analyze_text(&t), (Encoding::Gsm7, 2));
    }

    #[test]
    fn render_replaces_every_placeholder() {
        assert_eq!(render("{{pin}} is {{pin}}", "1234"), "1234 is 1234");
        for t in [
            "",
            "{{pin}}",
            "no placeholder",
            "{{pin}}{{pin}}",
            "{{{pin}}}",
            "{{pi{{pin}}n}}",
            "Код {{pin}} — ваш 🔐 {{pin}}",
            "{{pin",
        ] {
            assert_eq!(render(t, "0042"), t.replace("{{pin}}", "0042"), "{t}");
        }
    }
}
