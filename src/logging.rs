//! Logging: the `tracing` subscriber of the binary (human-readable text by default, one JSON
//! object per line with `--log-format json` or `[log] format = "json"`), and the masking of
//! phone numbers for every log line that names one.
//!
//! What never reaches a log line: a PIN, the SMS text, a full phone number. Numbers go through
//! [`mask_phone`], which keeps the last 3 digits (enough to tell two users apart in an
//! incident, too little to identify anyone).

use std::fmt;

use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::EnvFilter;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// Human-readable lines (the default).
    #[default]
    Text,
    /// One JSON object per line, for log shippers.
    Json,
}

impl LogFormat {
    /// `text` (or `human`) and `json`.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "text" | "human" => Some(Self::Text),
            "json" => Some(Self::Json),
            _ => None,
        }
    }
}

impl std::str::FromStr for LogFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Self::parse(s).ok_or_else(|| format!("unknown log format `{s}` (text or json)"))
    }
}

/// The filter: `RUST_LOG` when set and valid, else `level` (the `[log] level` setting), else
/// `info`.
pub fn filter(level: &str) -> EnvFilter {
    EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(level))
        .unwrap_or_else(|_| EnvFilter::new("info"))
}

/// Installs the process-wide subscriber, writing to stdout.
/// Returns false when one was already installed (the embedding program's wins).
pub fn init(format: LogFormat, level: &str) -> bool {
    init_with_writer(format, level, std::io::stdout)
}

/// [`init`] with another destination for the lines (a file, a buffer in tests).
pub fn init_with_writer<W>(format: LogFormat, level: &str, writer: W) -> bool
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter(level))
        .with_writer(writer);
    match format {
        LogFormat::Text => builder.try_init().is_ok(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init()
            .is_ok(),
    }
}

/// How many trailing digits of a phone number stay readable.
pub const PHONE_DIGITS_SHOWN: usize = 3;

/// A phone number for logs: every digit or letter but the last [`PHONE_DIGITS_SHOWN`] digits
/// replaced by `*`; punctuation (`+`, spaces) kept. `+447700900123` -> `+*********123`.
pub fn mask_phone(number: &str) -> String {
    let digits = number.chars().filter(char::is_ascii_digit).count();
    let keep_from = digits.saturating_sub(PHONE_DIGITS_SHOWN);
    let mut seen = 0usize;
    number
        .chars()
        .map(|c| {
            if c.is_ascii_digit() {
                seen += 1;
                if seen > keep_from {
                    return c;
                }
                '*'
            } else if c.is_alphanumeric() {
                '*'
            } else {
                c
            }
        })
        .collect()
}

/// A phone number as a log field: `to = %Masked(&number)` formats it masked, without
/// allocating when the line is filtered out.
pub struct Masked<'a>(pub &'a str);

impl fmt::Display for Masked<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&mask_phone(self.0))
    }
}

impl fmt::Debug for Masked<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", mask_phone(self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_last_three_digits_stay() {
        assert_eq!(mask_phone("+447700900123"), "+*********123");
        assert_eq!(mask_phone("447700900123"), "*********123");
        assert_eq!(mask_phone("+44 7700 900123"), "+** **** ***123");
        assert_eq!(mask_phone("123"), "123");
        assert_eq!(mask_phone("12"), "12");
        assert_eq!(mask_phone(""), "");
        // letters never survive, digits before them are masked too
        assert_eq!(mask_phone("ab1234"), "***234");
        assert_eq!(format!("{}", Masked("+33612345678")), "+********678");
        assert_eq!(format!("{:?}", Masked("+33612345678")), "\"+********678\"");
    }

    #[test]
    fn formats_parse() {
        assert_eq!(LogFormat::parse("json"), Some(LogFormat::Json));
        assert_eq!(LogFormat::parse("Text"), Some(LogFormat::Text));
        assert_eq!(LogFormat::parse("human"), Some(LogFormat::Text));
        assert_eq!(LogFormat::parse("xml"), None);
        assert!("yaml".parse::<LogFormat>().is_err());
    }
}
