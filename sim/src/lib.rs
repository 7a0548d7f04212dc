//! otpgate-sim: the SMPP 3.4 SMSC simulator as a library: [`spawn`] it on a bound listener,
//! drive and observe it through its [`SimHandle`]. otpgate embeds it, its tests drive it, and
//! otpgate-loadtest wraps it in the `smsc-sim` command.
//!
//! Layout:
//! - [`config`]: [`SimConfig`], accounts and per-account [`Behaviour`] (serde).
//! - `listener`: accept loop; `session` + `handlers`: one task per connection.
//! - `receipts`: delivery receipts built on submit and sent after their delay.
//! - `query`: query_sm answered from the state of each accepted part.
//! - [`messages`]: reassembly into [`ReceivedMessage`]s, the bounded log, duplicates.
//! - [`counters`]: atomics and their [`CountersSnapshot`].
//! - `capture`: optional JSON-lines capture; `http`: `GET /counters` and `GET /messages`.
//! - `text`: what a handset shows for one part; `ids`: message ids and receipt dates.
//! - `timer`: the sub-millisecond clock that releases answers held back by latency.

pub mod config;
pub mod counters;
pub mod duration;
pub mod messages;

mod capture;
mod handlers;
mod http;
mod ids;
mod listener;
mod message_states;
mod query;
mod receipt_mix;
mod receipts;
mod session;
mod state;
mod text;
mod timer;

use std::net::SocketAddr;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::{broadcast, mpsc};
use tokio_util::sync::CancellationToken;

pub use config::{
    AccountConfig, Behaviour, Latency, MessageIdFormat, QuerySmMode, ReceiptCarrier, ReceiptConfig,
    ReceiptMix, ReceiptStat, SimConfig,
};
pub use counters::CountersSnapshot;
pub use ids::unix_ms;
pub use messages::ReceivedMessage;
pub use text::{decode_text, Concat};

use state::Shared;

/// Why the simulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("listener address: {0}")]
    LocalAddr(std::io::Error),
    #[error("capture file {path}: {source}")]
    Capture {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("latency timer thread: {0}")]
    Timer(std::io::Error),
}

/// Starts the simulator on `listener` (already bound: tests pass `127.0.0.1:0`).
pub async fn spawn(listener: TcpListener, config: SimConfig) -> Result<SimHandle, SimError> {
    let local_addr = listener.local_addr().map_err(SimError::LocalAddr)?;
    let capture = match &config.capture {
        Some(path) => {
            Some(
                capture::Capture::open(path)
                    .await
                    .map_err(|source| SimError::Capture {
                        path: path.clone(),
                        source,
                    })?,
            )
        }
        None => None,
    };
    let (receipts_tx, receipts_rx) = mpsc::channel(65_536);
    let timer = timer::PreciseTimer::start().map_err(SimError::Timer)?;
    let shared = Arc::new(Shared::new(config, receipts_tx, capture, timer));
    let scheduler = receipts::Scheduler {
        shared: shared.clone(),
        rx: receipts_rx,
    };
    shared.tracker.spawn(scheduler.run());
    let l = listener::Listener {
        shared: shared.clone(),
        listener,
    };
    shared.tracker.spawn(l.run());
    tracing::info!(%local_addr, "SMSC simulator listening");
    Ok(SimHandle { shared, local_addr })
}

/// Control and observation of a running simulator. Cheap to clone.
#[derive(Clone)]
pub struct SimHandle {
    shared: Arc<Shared>,
    local_addr: SocketAddr,
}

impl SimHandle {
    /// Where the SMPP listener is.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    pub fn config(&self) -> &SimConfig {
        &self.shared.config
    }

    pub fn counters(&self) -> CountersSnapshot {
        self.shared
            .counters
            .snapshot(self.shared.messages.per_destination())
    }

    /// Reassembled messages still in the log, oldest first.
    pub fn messages(&self) -> Vec<ReceivedMessage> {
        self.shared.messages.all()
    }

    /// Reassembled messages to one destination address (as sent, e.g. `447700900123`).
    pub fn messages_to(&self, destination: &str) -> Vec<ReceivedMessage> {
        let d = destination.trim_start_matches('+');
        let mut v = self.shared.messages.to_destination(d);
        if d != destination {
            v.extend(self.shared.messages.to_destination(destination));
            v.sort_by_key(|m| m.seq);
        }
        v
    }

    /// Every message reassembled from now on (a slow receiver misses messages, never blocks).
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<ReceivedMessage>> {
        self.shared.messages.subscribe()
    }

    /// Logs every reassembled message at info level (target `smsc_sim::sms`), as the handset
    /// would show it: `SMS to +44...: "text"`. The simulator plays the phone, so showing the
    /// text is its job. Ends when the simulator shuts down.
    pub fn log_messages(&self) -> tokio::task::JoinHandle<()> {
        use tokio::sync::broadcast::error::RecvError;
        let mut rx = self.subscribe();
        tokio::spawn(async move {
            loop {
                match rx.recv().await {
                    Ok(m) => tracing::info!(
                        target: "smsc_sim::sms",
                        "SMS to {}: {:?}",
                        m.display_destination(),
                        m.text
                    ),
                    Err(RecvError::Lagged(n)) => {
                        tracing::info!(target: "smsc_sim::sms", "{n} messages not logged (too many)")
                    }
                    Err(RecvError::Closed) => return,
                }
            }
        })
    }

    /// Waits for a message to `destination` (with or without `+`) received after `after_seq`
    /// (0: any), at most `wait`.
    pub async fn wait_for_message(
        &self,
        destination: &str,
        after_seq: u64,
        wait: Duration,
    ) -> Option<ReceivedMessage> {
        let mut rx = self.subscribe();
        let find = |h: &Self| {
            h.messages_to(destination)
                .into_iter()
                .find(|m| m.seq > after_seq)
        };
        if let Some(m) = find(self) {
            return Some(m);
        }
        let d = destination.trim_start_matches('+');
        tokio::time::timeout(wait, async {
            loop {
                match rx.recv().await {
                    Ok(m) if m.seq > after_seq && m.destination.trim_start_matches('+') == d => {
                        return Some((*m).clone())
                    }
                    Ok(_) => {}
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        if let Some(m) = find(self) {
                            return Some(m);
                        }
                    }
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        })
        .await
        .ok()
        .flatten()
    }

    /// Hang mode: PDUs are read and ignored, nothing is answered or sent.
    pub fn set_hang(&self, hang: bool) {
        self.shared.hang.store(hang, Relaxed);
    }

    /// Drops every connection at once, without unbind.
    pub fn disconnect_all(&self) {
        self.shared.kick.send_modify(|g| *g = g.wrapping_add(1));
    }

    /// Replaces the accounts (bound sessions stay bound; new binds are checked against these).
    pub fn set_accounts(&self, accounts: Vec<AccountConfig>) {
        self.shared.set_accounts(&accounts);
    }

    /// Changes one account's password; `false` when there is no such account.
    pub fn set_password(&self, system_id: &str, password: &str) -> bool {
        self.shared.set_password(system_id, password)
    }

    /// Answers a fraction `rate` (0.0-1.0) of submit_sm with `status`.
    pub fn set_error_injection(&self, rate: f64, status: u32) {
        let rate = rate.clamp(0.0, 1.0);
        self.shared.update_behaviour(|b| {
            b.error_rate = rate;
            b.error_status = status;
        });
    }

    /// submit_sm per second per account; `None` removes the limit.
    pub fn set_tps_limit(&self, tps: Option<u32>) {
        self.shared.update_behaviour(|b| b.tps = tps);
    }

    /// submit_sm_resp latency of every account.
    pub fn set_latency(&self, latency: Latency) {
        self.shared
            .update_behaviour(|b| b.latency = latency.clone());
    }

    /// Per-session window limit; `None` removes it.
    pub fn set_window(&self, window: Option<u32>) {
        self.shared.update_behaviour(|b| b.window = window);
    }

    /// Any other change to every account's behaviour.
    pub fn update_behaviour(&self, f: impl Fn(&mut Behaviour)) {
        self.shared.update_behaviour(f);
    }

    /// Serves `GET /counters` and `GET /messages` on `listener` until shutdown.
    pub fn serve_http(&self, listener: TcpListener) -> tokio::task::JoinHandle<()> {
        tokio::spawn(http::serve(self.clone(), listener))
    }

    fn shutdown_token(&self) -> CancellationToken {
        self.shared.shutdown.clone()
    }

    /// Graceful stop: sessions send unbind (and wait briefly for unbind_resp), the listener
    /// closes, the capture file is flushed. Returns once every task has ended.
    pub async fn shutdown(&self) {
        self.shared.shutdown.cancel();
        self.shared.tracker.close();
        self.shared.tracker.wait().await;
        if let Some(c) = &self.shared.capture {
            let _ = tokio::time::timeout(Duration::from_secs(5), c.flush()).await;
        }
    }
}
