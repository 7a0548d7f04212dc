//! The rendered SMS text: template rendering, and its encoding and number of parts.

/// GSM 03.38 default alphabet (basic table), as Unicode.
const GSM_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
/// GSM 03.38 extension table: each costs two septets (escape + character).
const GSM_EXTENDED: &str = "^{}\\[~]|€\u{000C}";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Gsm7,
    Ucs2,
}

impl Encoding {
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Gsm7 => "GSM7",
            Encoding::Ucs2 => "UCS2",
        }
    }
}

/// Whether `c` is in the GSM 03.38 basic table.
pub fn is_gsm_basic(c: char) -> bool {
    GSM_BASIC.contains(c)
}

/// Septets `c` costs in GSM-7, or `None` when it needs UCS-2.
fn gsm_septets(c: char) -> Option<usize> {
    if is_gsm_basic(c) {
        Some(1)
    } else if GSM_EXTENDED.contains(c) {
        Some(2)
    } else {
        None
    }
}

// replace with otpgate_codec::text::analyze
/// Encoding and number of SMS parts of `text`: GSM-7 when every character is in the default
/// alphabet (160 septets in one part, 153 per part when concatenated, an escape pair never
/// split), otherwise UCS-2 (70 units, 67 per part, a surrogate pair never split).
pub fn analyze_text(text: &str) -> (Encoding, usize) {
    let septets: Option<Vec<usize>> = text.chars().map(gsm_septets).collect();
    match septets {
        Some(units) => (Encoding::Gsm7, count_parts(&units, 160, 153)),
        None => {
            let units: Vec<usize> = text.chars().map(char::len_utf16).collect();
            (Encoding::Ucs2, count_parts(&units, 70, 67))
        }
    }
}

/// Parts needed for characters costing `units` each, never splitting one character.
fn count_parts(units: &[usize], single: usize, multi: usize) -> usize {
    let total: usize = units.iter().sum();
    if total <= single {
        return 1;
    }
    let mut parts = 1;
    let mut used = 0;
    for &u in units {
        if used + u > multi {
            parts += 1;
            used = 0;
        }
        used += u;
    }
    parts
}

/// `template` with every `{{pin}}` replaced by `pin`.
pub fn render(template: &str, pin: &str) -> String {
    template.replace("{{pin}}", pin)
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
    }
}
