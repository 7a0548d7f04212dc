//! One client connection: a single task that reads PDUs, answers them in batches (every ready
//! PDU handled, then one flush), writes delayed answers and receipts, and enforces injected
//! faults. Command handling lives in [`super::handlers`].

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;

use futures::{FutureExt, SinkExt, StreamExt};
use otpgate_codec::framing::{Frame, SmppCodec};
use otpgate_codec::pdu::{Body, Pdu};
use rand::rngs::SmallRng;
use rand::SeedableRng;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::{sleep_until, timeout, Instant};
use tokio_util::codec::Framed;

use super::config::Behaviour;
use super::counters::Counters;
use super::state::{Account, Outbound, Shared};

/// PDUs handled between two flushes at most.
const MAX_BATCH: usize = 256;
/// How long a graceful unbind waits for unbind_resp.
const UNBIND_WAIT: Duration = Duration::from_secs(1);

/// Bind state of a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BindKind {
    Transmitter,
    Receiver,
    Transceiver,
}

impl BindKind {
    pub fn can_submit(self) -> bool {
        matches!(self, Self::Transmitter | Self::Transceiver)
    }
    pub fn can_receive(self) -> bool {
        matches!(self, Self::Receiver | Self::Transceiver)
    }
}

/// What to do after handling a PDU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    Continue,
    /// Flush what is written, then close (after unbind).
    Close,
    /// Close at once, without flushing (injected fault).
    Drop,
}

/// An answer held back by the configured latency.
pub struct Delayed {
    pub due: Instant,
    pub order: u64,
    pub is_submit: bool,
    pub pdu: Pdu,
}

impl PartialEq for Delayed {
    fn eq(&self, o: &Self) -> bool {
        (self.due, self.order) == (o.due, o.order)
    }
}
impl Eq for Delayed {}
impl PartialOrd for Delayed {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Delayed {
    /// Reversed, so that `BinaryHeap` pops the earliest.
    fn cmp(&self, o: &Self) -> Ordering {
        (o.due, o.order).cmp(&(self.due, self.order))
    }
}

/// A registration with the simulator's precise timer for one deadline.
struct Armed {
    due: Instant,
    fired: oneshot::Receiver<()>,
}

pub struct Session {
    pub(super) shared: Arc<Shared>,
    pub(super) id: u64,
    pub(super) framed: Framed<TcpStream, SmppCodec>,
    pub(super) bound: Option<BindKind>,
    pub(super) account: Option<Arc<Account>>,
    pub(super) behaviour: Arc<Behaviour>,
    pub(super) generation: u64,
    pub(super) next_seq: u32,
    pub(super) pdus: u64,
    pub(super) delayed: BinaryHeap<Delayed>,
    pub(super) delayed_order: u64,
    /// The timer registration for the earliest delayed answer.
    armed: Option<Armed>,
    /// submit_sm answers held back by latency (the client's unanswered submits).
    pub(super) outstanding: u32,
    pub(super) disconnect_at: Option<Instant>,
    pub(super) enquire_at: Option<Instant>,
    pub(super) rng: SmallRng,
    pub(super) outbound_tx: mpsc::Sender<Outbound>,
    outbound_rx: mpsc::Receiver<Outbound>,
    kick: watch::Receiver<u64>,
}

impl Session {
    pub fn new(shared: Arc<Shared>, stream: TcpStream) -> Self {
        let _ = stream.set_nodelay(true);
        let (outbound_tx, outbound_rx) = mpsc::channel(1024);
        let kick = shared.kick.subscribe();
        let codec = SmppCodec::new(shared.config.max_pdu_len);
        Self {
            id: shared.next_session_id(),
            framed: Framed::new(stream, codec),
            bound: None,
            account: None,
            behaviour: Arc::new(shared.config.behaviour.clone()),
            generation: shared.generation.load(Relaxed),
            next_seq: 0,
            pdus: 0,
            delayed: BinaryHeap::new(),
            delayed_order: 0,
            armed: None,
            outstanding: 0,
            disconnect_at: None,
            enquire_at: None,
            rng: SmallRng::from_rng(&mut rand::rng()),
            outbound_tx,
            outbound_rx,
            kick,
            shared,
        }
    }

    /// Writes out everything fed; `false` when the link is gone.
    pub(super) async fn flush(&mut self) -> bool {
        SinkExt::<Pdu>::flush(&mut self.framed).await.is_ok()
    }

    pub fn id(&self) -> u64 {
        self.id
    }

    /// The next sequence number for a PDU the simulator originates (1..=0x7FFFFFFF).
    pub(super) fn next_sequence(&mut self) -> u32 {
        self.next_seq = if self.next_seq >= 0x7FFF_FFFF {
            1
        } else {
            self.next_seq + 1
        };
        self.next_seq
    }

    /// Re-reads the account's behaviour after a runtime change.
    pub(super) fn refresh(&mut self) {
        let g = self.shared.generation.load(Relaxed);
        if g == self.generation {
            return;
        }
        self.generation = g;
        if let Some(a) = self
            .account
            .as_ref()
            .and_then(|a| self.shared.account(&a.system_id))
        {
            self.behaviour = a.behaviour.clone();
            self.account = Some(a);
        }
    }

    pub async fn run(mut self) {
        let bind_deadline = Instant::now() + self.shared.config.bind_timeout;
        let shutdown = self.shared.shutdown.clone();
        let flow = loop {
            let next_delayed = self.delayed.peek().map(|d| d.due);
            self.arm(next_delayed);
            let disconnect_at = self.disconnect_at;
            let enquire_at = self.enquire_at;
            let unbound = self.bound.is_none();
            tokio::select! {
                biased;
                _ = shutdown.cancelled() => {
                    self.graceful_unbind().await;
                    break Flow::Close;
                }
                _ = self.kick.changed() => {
                    Counters::inc(&self.shared.counters.disconnects_injected);
                    break Flow::Drop;
                }
                frame = self.framed.next() => {
                    let flow = self.on_read(frame).await;
                    if flow != Flow::Continue {
                        break flow;
                    }
                    if !self.flush().await {
                        break Flow::Drop;
                    }
                }
                Some(out) = self.outbound_rx.recv() => {
                    let mut next = Some(out);
                    while let Some(Outbound::Receipt(d)) = next {
                        let seq = self.next_sequence();
                        if self.framed.feed(Pdu::new(seq, Body::DeliverSm(*d))).await.is_err() {
                            break;
                        }
                        Counters::inc(&self.shared.counters.receipts_sent);
                        next = self.outbound_rx.try_recv().ok();
                    }
                    if !self.flush().await {
                        break Flow::Drop;
                    }
                }
                _ = Self::fired(&mut self.armed), if next_delayed.is_some() => {
                    self.armed = None;
                    if self.send_due().await.is_err() {
                        break Flow::Drop;
                    }
                }
                _ = sleep_until(disconnect_at.unwrap_or(bind_deadline)), if disconnect_at.is_some() => {
                    Counters::inc(&self.shared.counters.disconnects_injected);
                    break Flow::Drop;
                }
                _ = sleep_until(enquire_at.unwrap_or(bind_deadline)), if enquire_at.is_some() => {
                    self.enquire_at = self.shared.config.enquire_interval.map(|i| Instant::now() + i);
                    if self.shared.hang.load(Relaxed) {
                        continue;
                    }
                    let seq = self.next_sequence();
                    if self.framed.send(Pdu::new(seq, Body::EnquireLink)).await.is_err() {
                        break Flow::Drop;
                    }
                    Counters::inc(&self.shared.counters.enquire_links_sent);
                }
                _ = sleep_until(bind_deadline), if unbound => {
                    tracing::debug!(session = self.id, "no bind in time; closing");
                    break Flow::Close;
                }
            }
        };
        if flow == Flow::Close {
            let _ = self.flush().await;
        }
        self.cleanup();
    }

    /// Keeps one timer registration, for the earliest delayed answer. Deadlines are absolute
    /// (`received + latency`), so re-arming never adds up delays.
    fn arm(&mut self, next: Option<Instant>) {
        match (next, &self.armed) {
            (None, _) => self.armed = None,
            (Some(due), Some(a)) if a.due == due => {}
            (Some(due), _) => {
                self.armed = Some(Armed {
                    due,
                    fired: self.shared.timer.at(due),
                })
            }
        }
    }

    /// Completes when the armed deadline has passed (pending if nothing is armed).
    async fn fired(armed: &mut Option<Armed>) {
        match armed {
            // An error means the timer is gone (the simulator is stopping): the answers
            // are due as far as this session can tell.
            Some(a) => {
                let _ = (&mut a.fired).await;
            }
            None => std::future::pending().await,
        }
    }

    /// Handles one read result and every further PDU already buffered (up to [`MAX_BATCH`]).
    async fn on_read(
        &mut self,
        first: Option<Result<Frame, otpgate_codec::framing::FramingError>>,
    ) -> Flow {
        let mut next = first;
        for handled in 1..=MAX_BATCH {
            let frame = match next {
                None => return Flow::Close,
                Some(Err(e)) => {
                    if !matches!(e, otpgate_codec::framing::FramingError::Io(_)) {
                        Counters::inc(&self.shared.counters.framing_errors);
                    }
                    tracing::debug!(session = self.id, error = %e, "closing link");
                    return Flow::Close;
                }
                Some(Ok(frame)) => frame,
            };
            let flow = self.on_frame(frame).await;
            if flow != Flow::Continue || handled == MAX_BATCH {
                return flow;
            }
            match self.framed.next().now_or_never() {
                Some(more) => next = more,
                None => return Flow::Continue,
            }
        }
        Flow::Continue
    }

    /// Writes every delayed answer now due.
    async fn send_due(&mut self) -> Result<(), ()> {
        let now = Instant::now();
        let hang = self.shared.hang.load(Relaxed);
        while self.delayed.peek().is_some_and(|d| d.due <= now) {
            let Some(d) = self.delayed.pop() else { break };
            if d.is_submit {
                self.outstanding = self.outstanding.saturating_sub(1);
            }
            if !hang {
                self.framed.feed(d.pdu).await.map_err(|_| ())?;
            }
        }
        if self.flush().await {
            Ok(())
        } else {
            Err(())
        }
    }

    /// Sends unbind and waits briefly for unbind_resp.
    async fn graceful_unbind(&mut self) {
        if self.bound.is_none() {
            return;
        }
        let seq = self.next_sequence();
        if self.framed.send(Pdu::new(seq, Body::Unbind)).await.is_err() {
            return;
        }
        let _ = timeout(UNBIND_WAIT, async {
            while let Some(Ok(frame)) = self.framed.next().await {
                if let Frame::Pdu(Pdu {
                    body: Body::UnbindResp,
                    ..
                }) = frame
                {
                    return;
                }
            }
        })
        .await;
    }

    fn cleanup(&mut self) {
        if let (Some(kind), Some(account)) = (self.bound.take(), self.account.as_ref()) {
            if kind.can_receive() {
                self.shared.registry.remove(&account.system_id, self.id);
            }
            let mut counts = self
                .shared
                .bind_counts
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            if let Some(n) = counts.get_mut(&account.system_id) {
                *n = n.saturating_sub(1);
            }
        }
        Counters::dec(&self.shared.counters.connections_open);
    }
}
