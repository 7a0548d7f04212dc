//! The `otpgate` command line (clap derive; every option also read from the environment).

use std::path::PathBuf;

use clap::{Parser, Subcommand};

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
}

#[derive(Debug, Default, clap::Args)]
pub struct ServeArgs {
    /// TOML configuration file; without it, every setting has its default.
    #[arg(long, short, env = "OTPGATE_CONFIG")]
    pub config: Option<PathBuf>,
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
        }
    }
}
