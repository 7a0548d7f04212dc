//! The `otpgate` binary: parses the command line, loads the configuration, sets up logging and
//! runs the chosen command. Everything else lives in the library.

use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use otpgate::cli::{Cli, Command, PduCommand, ServeArgs, SmsCommand};
use otpgate::config;

/// mimalloc instead of glibc's malloc: measured cheaper per OTP (docs/performance.md).
#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: otpgate_alloc::MiMalloc = otpgate_alloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command() {
        Command::CheckConfig { file } => check_config(&file),
        Command::Pdu(PduCommand::Decode { config, hex }) => print_json(pdu_decode(config, &hex)),
        Command::Sms(SmsCommand::Split {
            config: Some(config),
            smsc: Some(smsc),
            to,
            text,
            ..
        }) => print_json(sms_split_for(&config, &smsc, to.as_deref(), &text)),
        Command::Sms(SmsCommand::Split {
            encoding,
            concat,
            national,
            max_parts,
            text,
            ..
        }) => print_json(otpgate::tools::sms_split(
            &text,
            encoding.into(),
            concat.into(),
            &national,
            max_parts,
        )),
        Command::Serve(args) => match serve(args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("otpgate: {e:#}");
                ExitCode::FAILURE
            }
        },
    }
}

/// Writes `text` to standard output. A reader that went away (`otpgate sms split ... | head`)
/// is not an error of ours: the output is simply not wanted any more.
fn emit(text: &str) -> ExitCode {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("otpgate: writing the output: {e}");
            ExitCode::FAILURE
        }
    }
}

fn print_json(result: Result<serde_json::Value, String>) -> ExitCode {
    match result {
        Ok(json) => emit(&format!("{json:#}\n")),
        Err(e) => {
            eprintln!("otpgate: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `pdu decode`, with the TLV names of a configuration when one is given.
fn pdu_decode(
    config: Option<std::path::PathBuf>,
    hex: &[String],
) -> Result<serde_json::Value, String> {
    let names = match config {
        Some(path) => {
            let c = config::load_file(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            otpgate::smpp::tlv_lists::configured_names(&c.smsc)
        }
        None => Default::default(),
    };
    otpgate::tools::pdu_decode_named(&hex.concat(), &names)
}

/// `sms split --config FILE --smsc NAME`: as that SMSC sends the text.
fn sms_split_for(
    path: &std::path::Path,
    smsc: &str,
    to: Option<&str>,
    text: &str,
) -> Result<serde_json::Value, String> {
    let c = config::load_file(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let Some(cfg) = c.smsc.iter().find(|s| s.name == smsc) else {
        let names: Vec<&str> = c.smsc.iter().map(|s| s.name.as_str()).collect();
        return Err(format!(
            "{}: no [[smsc]] named {smsc:?} (configured: {})",
            path.display(),
            names.join(", ")
        ));
    };
    otpgate::tools::sms_split_for_smsc(text, cfg, to, c.otp.price_per_part, &c.otp.currency)
}

fn check_config(file: &std::path::Path) -> ExitCode {
    match config::load_file(file) {
        // the certificate files too: a renewal can be checked before the reload
        Ok(c) => match otpgate::http::load_tls(&c.http) {
            Ok(_) => emit(&format!("{}: OK\n{}", file.display(), c.summary())),
            Err(e) => {
                eprintln!("{}: {e}", file.display());
                ExitCode::FAILURE
            }
        },
        Err(e) => {
            eprintln!("{}: {e}", file.display());
            ExitCode::FAILURE
        }
    }
}

fn serve(args: ServeArgs) -> anyhow::Result<()> {
    // the file and the environment of the start, read again by each reload (SIGHUP)
    let (config, source) = match &args.config {
        Some(path) => {
            let source = config::ConfigSource::new(path, std::env::vars());
            let loaded = source.read().with_context(|| path.display().to_string())?;
            (loaded.config.clone(), Some((source, loaded)))
        }
        None => (config::load_str("", std::env::vars())?, None),
    };
    let format = args.log_format.unwrap_or(config.log.format);
    // Held until the process exits: dropping it writes out the buffered log lines.
    let _log = otpgate::logging::init(format, &config.log.level);
    let runtime = tokio::runtime::Runtime::new().context("starting the runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(config.listen_addr()?)
            .await
            .with_context(|| format!("binding {}", config.http.listen))?;
        // JSON lines go to a journal or a log shipper: the plain-text how-to would break them.
        let how_to = format != otpgate::logging::LogFormat::Json;
        otpgate::serve::run_reloadable(config, source, listener, shutdown_signal(), |started| {
            announce(started, how_to)
        })
        .await?;
        Ok(())
    })
}

/// Tells a newcomer where things are, and (`how_to`) how to send a first OTP.
fn announce(started: &otpgate::serve::Started, how_to: bool) {
    let addr = started.http_addr;
    let scheme = if started.tls { "https" } else { "http" };
    tracing::info!(%addr, scheme, "otpgate listening");
    if let Some(sim) = &started.simulator {
        tracing::info!(
            smsc = %sim.local_addr(),
            "no [[smsc]] configured: started the embedded SMSC simulator on loopback; \
             sent SMS appear in this log"
        );
    }
    let token = started
        .demo_token
        .as_deref()
        .unwrap_or("<your tenant token>");
    if started.demo_token.is_some() {
        tracing::warn!(
            "no [[tenants]] configured: created tenant `demo` with a random token for this run"
        );
    }
    // The demo's token is nowhere else: then the how-to is printed whatever the format.
    if !how_to && started.demo_token.is_none() {
        return;
    }
    println!(
        "\nSend an OTP:\n  curl -s -X POST {scheme}://{addr}/otp -H 'Authorization: Bearer {token}' \\\n    -H 'Content-Type: application/json' -d '{{\"phoneNumber\": \"+447400123456\"}}'\n\
         Verify it (PIN from the SMS in this log, otpId from the reply):\n  curl -s -X POST {scheme}://{addr}/otp/OTP_ID/verify -H 'Authorization: Bearer {token}' \\\n    -H 'Content-Type: application/json' -d '{{\"pin\": \"PIN\"}}'\n"
    );
}

/// Completes on SIGTERM or SIGINT.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
    tracing::info!("shutdown signal received");
}
