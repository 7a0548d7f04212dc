//! The `otpgate` command line (clap derive; every option also read from the environment).

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::logging::LogFormat;
use crate::smpp::{ConcatMethod, TextEncoding};

#[derive(Debug, Parser)]
#[command(
    name = "otpgate",
    version,
    about = "SMS one-time-PIN engine speaking SMPP"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the HTTP API (the default).
    Serve(ServeArgs),
    /// Validate a configuration file and print a summary (secrets redacted).
    CheckConfig {
        /// The TOML file to check.
        file: PathBuf,
    },
    /// SMPP PDU tools.
    #[command(subcommand)]
    Pdu(PduCommand),
    /// SMS text tools.
    #[command(subcommand)]
    Sms(SmsCommand),
}

#[derive(Debug, Subcommand)]
pub enum PduCommand {
    /// Decode one PDU given in hex (spaces allowed) and print it as JSON.
    Decode {
        /// A configuration file whose `[[smsc]] tlv_names` name the TLVs they declare.
        #[arg(long, short)]
        config: Option<PathBuf>,
        /// The whole PDU, header included, as hex digits.
        hex: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum SmsCommand {
    /// Encode and segment a text as otpgate would send it, and print the parts as JSON.
    Split {
        /// auto (cheapest exact encoding), gsm7, ucs2 or latin1.
        #[arg(long, value_enum, ignore_case = true, default_value = "auto")]
        encoding: TextEncoding,
        /// How parts are tied together: udh8, udh16, sar or payload.
        #[arg(long, value_enum, ignore_case = true, default_value = "udh8")]
        concat: ConcatMethod,
        /// National language shift tables allowed, comma-separated: turkish, spanish, portuguese,
        /// bengali, gujarati, hindi, kannada, malayalam, oriya, punjabi, tamil, telugu, urdu
        /// (or ISO 639-1 codes).
        #[arg(long, value_delimiter = ',')]
        national: Vec<String>,
        /// Most parts allowed; a longer text is an error.
        #[arg(long, default_value_t = 10)]
        max_parts: usize,
        /// A configuration file, for `--smsc`.
        #[arg(long, short, requires = "smsc")]
        config: Option<PathBuf>,
        /// Split as this `[[smsc]]` of `--config` sends (its encoding, concat, national
        /// tables, max_parts; the options above are then ignored).
        #[arg(long, requires = "config")]
        smsc: Option<String>,
        /// With `--smsc`: a destination (E.164) to price the parts for, from the SMSC's
        /// `prices` (or `[otp] price_per_part`).
        #[arg(long, requires = "smsc")]
        to: Option<String>,
        /// The text.
        text: String,
    },
}

#[derive(Debug, Default, clap::Args)]
pub struct ServeArgs {
    /// TOML configuration file; without it, every setting has its default.
    #[arg(long, short, env = "OTPGATE_CONFIG")]
    pub config: Option<PathBuf>,
    /// Log lines as `text` (human-readable) or `json` (one object per line); overrides
    /// `[log] format`.
    #[arg(long, env = "OTPGATE_LOG_FORMAT")]
    pub log_format: Option<LogFormat>,
}

impl Cli {
    /// The command to run, `serve` when none was given.
    pub fn command(self) -> Command {
        self.command
            .unwrap_or_else(|| Command::Serve(ServeArgs::parse_default()))
    }
}

impl ServeArgs {
    fn parse_default() -> Self {
        ServeArgs {
            config: std::env::var_os("OTPGATE_CONFIG").map(PathBuf::from),
            log_format: std::env::var("OTPGATE_LOG_FORMAT")
                .ok()
                .and_then(|f| LogFormat::parse(&f)),
        }
    }
}
