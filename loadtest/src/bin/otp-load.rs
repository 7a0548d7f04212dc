//! `otp-load`: bounded load against otpgate's HTTP API (`--mode otp`, optional `--verify`),
//! a Kannel-style sendsms URL (`--mode sendsms`), a bare echo URL (`--mode echo`), or an
//! SMSC directly (`--mode smpp`); `--sim-counters` adds what reached the simulator. Loopback
//! targets only. Prints a latency/throughput table, or JSON with `--json`.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use clap::{Parser, ValueEnum};
use otpgate_loadtest::load::http::{self, HttpLoad, HttpMode};
use otpgate_loadtest::load::simwatch::SimWatch;
use otpgate_loadtest::load::smpp::{self, SmppLoad};
use otpgate_loadtest::load::{Bounds, Pace};
use otpgate_sim::duration::parse_duration;

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Mode {
    Otp,
    Sendsms,
    Echo,
    Smpp,
}

#[derive(Parser, Debug)]
#[command(
    name = "otp-load",
    version,
    about = "Bounded load generator for otpgate"
)]
struct Args {
    #[arg(long, value_enum, default_value = "otp", env = "OTP_LOAD_MODE")]
    mode: Mode,
    /// Base URL (otp, sendsms) or full URL (echo); loopback only.
    #[arg(long, default_value = "http://127.0.0.1:8080", env = "OTP_LOAD_URL")]
    url: String,
    /// API token, sent as `Authorization: Bearer`.
    #[arg(long, env = "OTP_LOAD_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// JSON body; `{phone}` becomes the generated number.
    #[arg(long, default_value = r#"{"phoneNumber":"{phone}"}"#)]
    body: String,
    /// Numbers are this prefix plus a counter on --phone-digits digits.
    #[arg(long, default_value = "+4477009")]
    phone_prefix: String,
    #[arg(long, default_value_t = 5)]
    phone_digits: u32,
    /// Open loop: requests per second.
    #[arg(long, conflicts_with = "concurrency")]
    rate: Option<f64>,
    /// Closed loop: concurrent connections (HTTP) or binds (SMPP).
    #[arg(long)]
    concurrency: Option<usize>,
    /// Stop after this many requests.
    #[arg(long, default_value_t = 1000)]
    requests: u64,
    /// Stop after this long (e.g. 30s).
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    duration: Duration,
    /// Per-request timeout.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    timeout: Duration,
    /// Verify each OTP with the PIN read from this simulator HTTP endpoint (its /messages).
    #[arg(long, value_name = "SIM_URL")]
    verify: Option<String>,
    /// How long to wait for the SMS before giving up on a verify.
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    verify_timeout: Duration,
    /// sendsms: username, password and text.
    #[arg(long, default_value = "test")]
    username: String,
    #[arg(long, default_value = "secret", hide_default_value = true)]
    password: String,
    #[arg(long, default_value = "Your verification code is 123456")]
    text: String,
    /// SMPP: the SMSC.
    #[arg(long, default_value = "127.0.0.1:2775")]
    smsc: SocketAddr,
    #[arg(long, default_value = "test")]
    system_id: String,
    /// SMPP: submit_sm outstanding per bind.
    #[arg(long, default_value_t = 64)]
    window: usize,
    /// SMPP: request receipts and wait this long for them at the end (e.g. 5s).
    #[arg(long, value_parser = parse_duration)]
    receipts: Option<Duration>,
    /// Watch this simulator's counters (its --http address) during the run and report what
    /// reached the SMSC and at what steady rate.
    #[arg(long, value_name = "SIM_URL")]
    sim_counters: Option<String>,
    /// With --sim-counters: after the load, wait at most this long for the SMSC to stop
    /// receiving (queued messages draining).
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    drain: Duration,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

#[tokio::main]
async fn main() -> Result<()> {
    let a = Args::parse();
    let bounds = Bounds {
        requests: a.requests,
        duration: a.duration,
    };
    bounds.check()?;
    let (done_tx, done_rx) = tokio::sync::watch::channel(false);
    let watcher = match &a.sim_counters {
        Some(url) => {
            let w = SimWatch::new(url, a.drain).await?;
            Some(tokio::spawn(w.run(Instant::now(), done_rx)))
        }
        None => None,
    };
    let mut report = match a.mode {
        Mode::Smpp => {
            smpp::run(SmppLoad {
                addr: a.smsc,
                system_id: a.system_id.clone(),
                password: a.password.clone(),
                window: a.window,
                binds: a.concurrency.unwrap_or(1),
                rate: a.rate,
                bounds,
                receipts: a.receipts,
                text: a.text.clone(),
                dest_prefix: "4477009".into(),
                resp_timeout: a.timeout,
            })
            .await?
        }
        mode => {
            let pace = match (a.rate, a.concurrency) {
                (Some(r), _) if r > 0.0 => Pace::Rate(r),
                (Some(_), _) => bail!("--rate must be above zero"),
                (None, c) => Pace::Concurrency(c.unwrap_or(16).max(1)),
            };
            if a.verify.is_some() && !matches!(mode, Mode::Otp) {
                bail!("--verify only applies to --mode otp");
            }
            http::run(HttpLoad {
                mode: match mode {
                    Mode::Sendsms => HttpMode::SendSms,
                    Mode::Echo => HttpMode::Echo,
                    _ => HttpMode::Otp,
                },
                url: a.url.clone(),
                token: a.token.clone(),
                body_template: a.body.clone(),
                phone_prefix: a.phone_prefix.clone(),
                phone_digits: a.phone_digits,
                username: a.username.clone(),
                password: a.password.clone(),
                text: a.text.clone(),
                verify_sim_url: a.verify.clone(),
                verify_timeout: a.verify_timeout,
                pace,
                bounds,
                request_timeout: a.timeout,
            })
            .await?
        }
    };
    let _ = done_tx.send(true);
    if let Some(w) = watcher {
        report.smsc = Some(w.await??);
    }
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.table());
    }
    Ok(())
}
