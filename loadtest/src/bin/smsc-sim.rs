//! `smsc-sim`: an SMPP 3.4 SMSC for tests and load runs. Flags (each with an env variable)
//! override a `--config` file (TOML or JSON, the shape of `SimConfig`); with no flags it
//! listens on 127.0.0.1:2775 with one account `test`/`secret`. Every reassembled message is
//! logged (`SMS to +44...: "..."`); on SIGINT/SIGTERM the counters are printed as JSON.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::Parser;
use otpgate_sim::duration::parse_duration;
use otpgate_sim::{
    self as sim, AccountConfig, Latency, MessageIdFormat, QuerySmMode, ReceiptCarrier, ReceiptMix,
    SimConfig,
};
use tokio::net::TcpListener;

#[derive(Parser, Debug)]
#[command(name = "smsc-sim", version, about = "SMPP 3.4 SMSC simulator")]
struct Args {
    /// SMPP listen address.
    #[arg(long, env = "SMSC_SIM_LISTEN", default_value = "127.0.0.1:2775")]
    listen: SocketAddr,
    /// Configuration file (TOML or JSON) in the shape of SimConfig; flags override it.
    #[arg(long, env = "SMSC_SIM_CONFIG")]
    config: Option<PathBuf>,
    /// system_id of the single account (unless --accounts or the config file give accounts).
    #[arg(long, env = "SMSC_SIM_SYSTEM_ID")]
    system_id: Option<String>,
    /// Password of that account.
    #[arg(long, env = "SMSC_SIM_PASSWORD", hide_env_values = true)]
    password: Option<String>,
    /// File (TOML `[[accounts]]` or a JSON array) of accounts: system_id, password,
    /// optional max_binds and behaviour.
    #[arg(long, env = "SMSC_SIM_ACCOUNTS")]
    accounts: Option<PathBuf>,
    /// submit_sm_resp latency: 0, 5ms, uniform:1ms-10ms, exp:5ms.
    #[arg(long, env = "SMSC_SIM_LATENCY")]
    latency: Option<Latency>,
    /// Unanswered submit_sm allowed per session; beyond: ESME_RMSGQFUL.
    #[arg(long, env = "SMSC_SIM_WINDOW")]
    window: Option<u32>,
    /// submit_sm per second per account; beyond: ESME_RTHROTTLED.
    #[arg(long, env = "SMSC_SIM_TPS")]
    tps: Option<u32>,
    /// Fraction (0-1) of submit_sm answered with --error-status.
    #[arg(long, env = "SMSC_SIM_ERROR_RATE")]
    error_rate: Option<f64>,
    /// command_status of injected errors (decimal or 0x hex).
    #[arg(long, env = "SMSC_SIM_ERROR_STATUS", value_parser = parse_u32)]
    error_status: Option<u32>,
    /// Drop a session when its N-th PDU arrives (unanswered).
    #[arg(long, env = "SMSC_SIM_DISCONNECT_AFTER")]
    disconnect_after: Option<u64>,
    /// Drop every session this long after its bind (e.g. 30s).
    #[arg(long, env = "SMSC_SIM_DISCONNECT_EVERY", value_parser = parse_duration)]
    disconnect_every: Option<Duration>,
    /// Start in hang mode (PDUs read, nothing answered).
    #[arg(long, env = "SMSC_SIM_HANG")]
    hang: bool,
    /// Never send delivery receipts.
    #[arg(long, env = "SMSC_SIM_NO_RECEIPTS")]
    no_receipts: bool,
    /// Delay of receipts after the submit: 2s, uniform:1s-5s, exp:2s.
    #[arg(long, env = "SMSC_SIM_RECEIPT_DELAY")]
    receipt_delay: Option<Latency>,
    /// Receipt outcomes by weight, e.g. DELIVRD=90,UNDELIV=8,EXPIRED=2.
    #[arg(long, env = "SMSC_SIM_RECEIPT_MIX")]
    receipt_mix: Option<ReceiptMix>,
    /// Where receipts carry id and state: text (short_message), tlv, both, or payload
    /// (the text in message_payload).
    #[arg(long, env = "SMSC_SIM_RECEIPT_CARRIER")]
    receipt_carrier: Option<ReceiptCarrier>,
    /// query_sm: answer (with the message's state, the outcome its receipt has or would
    /// have) or refuse (generic_nack ESME_RINVCMDID, the default).
    #[arg(long, env = "SMSC_SIM_QUERY_SM")]
    query_sm: Option<QuerySmMode>,
    /// Send each receipt before its submit_sm_resp (on the same transceiver session, or on a
    /// receiver session while the transmitter's answer waits 20 ms); --receipt-delay is ignored.
    #[arg(long, env = "SMSC_SIM_RECEIPT_BEFORE_RESPONSE")]
    receipt_before_response: bool,
    /// Send ENROUTE, then ACCEPTD, before each final receipt.
    #[arg(long, env = "SMSC_SIM_RECEIPT_INTERMEDIATE")]
    receipt_intermediate: bool,
    /// Message ids: hex, decimal or mixed (hex in submit_sm_resp, decimal in receipt text).
    #[arg(long, env = "SMSC_SIM_MESSAGE_ID")]
    message_id: Option<MessageIdFormat>,
    /// Send enquire_link on every bound session at this interval (e.g. 30s).
    #[arg(long, env = "SMSC_SIM_ENQUIRE_INTERVAL", value_parser = parse_duration)]
    enquire_interval: Option<Duration>,
    /// Serve GET /counters and GET /messages on this address (e.g. 127.0.0.1:0).
    #[arg(long, env = "SMSC_SIM_HTTP")]
    http: Option<SocketAddr>,
    /// Write every received PDU and reassembled message to this file as JSON lines.
    #[arg(long, env = "SMSC_SIM_CAPTURE")]
    capture: Option<PathBuf>,
    /// Do not reassemble or keep messages (no per-message log, fastest).
    #[arg(long, env = "SMSC_SIM_NO_MESSAGES")]
    no_messages: bool,
    /// Do not log each received message.
    #[arg(long, env = "SMSC_SIM_QUIET")]
    quiet: bool,
    /// Print the effective configuration as JSON and exit.
    #[arg(long)]
    print_config: bool,
}

fn parse_u32(s: &str) -> Result<u32, String> {
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(h) => u32::from_str_radix(h, 16),
        None => s.parse(),
    }
    .map_err(|e| format!("{s:?}: {e}"))
}

fn load<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let is_json = path.extension().is_some_and(|e| e == "json");
    if is_json {
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
    } else {
        toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))
    }
}

#[derive(serde::Deserialize)]
struct AccountsFile {
    accounts: Vec<AccountConfig>,
}

fn build_config(a: &Args) -> Result<SimConfig> {
    let mut c: SimConfig = match &a.config {
        Some(p) => load(p)?,
        None => SimConfig::default(),
    };
    if let Some(p) = &a.accounts {
        c.accounts = if p.extension().is_some_and(|e| e == "json") {
            load::<Vec<AccountConfig>>(p)?
        } else {
            load::<AccountsFile>(p)?.accounts
        };
    }
    if a.system_id.is_some() || a.password.is_some() {
        let system_id = a.system_id.clone().unwrap_or_else(|| "test".into());
        let password = a.password.clone().unwrap_or_else(|| "secret".into());
        c.accounts = vec![AccountConfig::new(&system_id, &password)];
    }
    if c.accounts.is_empty() {
        bail!("no accounts configured");
    }
    let b = &mut c.behaviour;
    if let Some(v) = &a.latency {
        b.latency = v.clone();
    }
    b.window = a.window.or(b.window);
    b.tps = a.tps.or(b.tps);
    if let Some(r) = a.error_rate {
        if !(0.0..=1.0).contains(&r) {
            bail!("--error-rate must be between 0 and 1");
        }
        b.error_rate = r;
    }
    b.error_status = a.error_status.unwrap_or(b.error_status);
    b.disconnect_after_pdus = a.disconnect_after.or(b.disconnect_after_pdus);
    b.disconnect_every = a.disconnect_every.or(b.disconnect_every);
    if a.no_receipts {
        b.receipts.enabled = false;
    }
    if let Some(v) = &a.receipt_delay {
        b.receipts.delay = v.clone();
    }
    if let Some(v) = &a.receipt_mix {
        b.receipts.mix = v.clone();
    }
    b.receipts.carrier = a.receipt_carrier.unwrap_or(b.receipts.carrier);
    b.receipts.before_response |= a.receipt_before_response;
    b.receipts.intermediate |= a.receipt_intermediate;
    b.message_id = a.message_id.unwrap_or(b.message_id);
    b.query_sm = a.query_sm.unwrap_or(b.query_sm);
    c.enquire_interval = a.enquire_interval.or(c.enquire_interval);
    if a.capture.is_some() {
        c.capture = a.capture.clone();
    }
    if a.no_messages {
        c.record_messages = false;
    }
    Ok(c)
}

#[tokio::main]
async fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let config = build_config(&args)?;
    if args.print_config {
        println!("{}", serde_json::to_string_pretty(&config)?);
        return Ok(());
    }
    let listener = TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    let handle = sim::spawn(listener, config).await?;
    handle.set_hang(args.hang);
    if let Some(addr) = args.http {
        let l = TcpListener::bind(addr)
            .await
            .with_context(|| format!("binding HTTP {addr}"))?;
        tracing::info!(addr = %l.local_addr()?, "counters on GET /counters, messages on GET /messages");
        handle.serve_http(l);
    }
    if !args.quiet {
        handle.log_messages();
    }
    wait_for_signal().await?;
    tracing::info!("stopping: unbinding clients");
    handle.shutdown().await;
    println!("{}", serde_json::to_string_pretty(&handle.counters())?);
    Ok(())
}

async fn wait_for_signal() -> Result<()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate())?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r?,
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    tokio::signal::ctrl_c().await?;
    Ok(())
}
