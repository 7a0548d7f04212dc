//! Logging: the `tracing` subscriber of the binary (human-readable text by default, one JSON
//! object per line with `--log-format json` or `[log] format = "json"`), and the masking of
//! phone numbers for every log line that names one.
//!
//! What never reaches a log line: a PIN, the SMS text, a full phone number. Numbers go through
//! [`mask_phone`], which keeps the last 3 digits (enough to tell two users apart in an
//! incident, too little to identify anyone).
//!
//! Lines go to stdout through a writer thread: a request never waits for a slow terminal or
//! log shipper. Its buffer is bounded ([`BUFFERED_LINES`]); when it is full, lines are dropped
//! and counted ([`dropped_lines`], exported as `otpgate_log_lines_dropped_total`).

use std::fmt;
use std::io::Write;
use std::sync::OnceLock;

use tracing_appender::non_blocking::{ErrorCounter, NonBlocking, NonBlockingBuilder, WorkerGuard};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::EnvFilter;

/// Log lines waiting for the writer thread, at most; beyond, new lines are dropped.
pub const BUFFERED_LINES: usize = 65_536;

static DROPPED: OnceLock<ErrorCounter> = OnceLock::new();

/// Keeps the log writer thread running; dropping it writes out the lines still buffered
/// (waiting at most about a second). Hold it until the process exits.
#[must_use = "dropping the guard stops the log writer"]
pub struct LogGuard {
    _worker: WorkerGuard,
}

/// Log lines dropped so far because the writer thread's buffer was full.
pub fn dropped_lines() -> u64 {
    DROPPED
        .get()
        .map_or(0, |c| u64::try_from(c.dropped_lines()).unwrap_or(u64::MAX))
}

/// A writer that hands each line to a thread writing to `out`: never blocks the caller, holds
/// at most `limit` lines, drops (and counts) beyond.
pub fn non_blocking<W: Write + Send + 'static>(out: W, limit: usize) -> (NonBlocking, WorkerGuard) {
    NonBlockingBuilder::default()
        .buffered_lines_limit(limit)
        .lossy(true)
        .thread_name("otpgate-log")
        .finish(out)
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    /// Human-readable lines (the default).
    #[default]
    #[serde(alias = "human")]
    #[value(alias = "human")]
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

/// `[log]`.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// `tracing` filter (`info`, `otpgate=debug`...); `RUST_LOG` wins when set.
    pub level: String,
    /// `text` (or `human`) or `json`.
    pub format: LogFormat,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            level: "info".into(),
            format: LogFormat::Text,
        }
    }
}

/// The filter: `RUST_LOG` when set and valid, else `level` (the `[log] level` setting), else
/// `info`.
pub fn filter(level: &str) -> EnvFilter {
    EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(level))
        .unwrap_or_else(|_| EnvFilter::new("info"))
}

/// Installs the process-wide subscriber, writing to stdout through the writer thread (lines
/// are written in batches, and flushed whenever the thread has caught up). `None` when one
/// was already installed (the embedding program's wins).
pub fn init(format: LogFormat, level: &str) -> Option<LogGuard> {
    let (writer, worker) = non_blocking(std::io::BufWriter::new(std::io::stdout()), BUFFERED_LINES);
    let dropped = writer.error_counter();
    if !init_with_writer(format, level, writer) {
        return None;
    }
    let _ = DROPPED.set(dropped);
    Some(LogGuard { _worker: worker })
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

    /// Whether the gate is open, and the bytes written through it.
    type GateState = std::sync::Mutex<(bool, Vec<u8>)>;

    /// A writer that blocks until the gate opens, then keeps what it is given.
    #[derive(Clone, Default)]
    struct Gate {
        state: std::sync::Arc<(GateState, std::sync::Condvar)>,
    }

    impl Gate {
        fn open(&self) {
            let (lock, cv) = &*self.state;
            if let Ok(mut s) = lock.lock() {
                s.0 = true;
            }
            cv.notify_all();
        }

        fn lines(&self) -> usize {
            let (lock, _) = &*self.state;
            lock.lock()
                .map_or(0, |s| s.1.iter().filter(|b| **b == b'\n').count())
        }
    }

    impl Write for Gate {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let (lock, cv) = &*self.state;
            let mut s = lock.lock().map_err(|_| std::io::ErrorKind::Other)?;
            while !s.0 {
                s = cv.wait(s).map_err(|_| std::io::ErrorKind::Other)?;
            }
            s.1.extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_stuck_writer_never_blocks_logging_and_drops_are_counted() {
        const LINES: usize = 200;
        const LIMIT: usize = 8;
        let gate = Gate::default();
        let (writer, worker) = non_blocking(gate.clone(), LIMIT);
        let dropped = writer.error_counter();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(writer)
            .with_max_level(tracing::Level::INFO)
            .finish();
        // The writer is stuck: every call below returns anyway.
        tracing::subscriber::with_default(subscriber, || {
            for i in 0..LINES {
                tracing::info!(i, "line");
            }
        });
        let lost = dropped.dropped_lines();
        // at most LIMIT queued plus the one the writer thread holds
        assert!(lost >= LINES - LIMIT - 1, "dropped {lost}");
        gate.open();
        drop(worker); // writes out what was queued
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while gate.lines() < LINES - lost && std::time::Instant::now() < deadline {
            std::thread::yield_now();
        }
        assert_eq!(gate.lines(), LINES - lost);
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
