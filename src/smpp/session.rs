//! A bound link: one task that reads the SMSC's PDUs, feeds submit_sm through the window and
//! the throttle, keeps the link alive with enquire_link, times out requests, and drains and
//! unbinds on shutdown. Whatever it holds when the link ends (in flight or about to be sent)
//! goes back to its SMSC's queue, ahead of newer messages.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use otpgate_codec::pdu::{Body, Pdu};
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::{sleep_until, Instant};
use tokio_util::sync::CancellationToken;

use super::bind_task::BindTask;
use super::config::{ms, TimeoutPolicy};
use super::control::BindCell;
use super::message::{Message, Prepared, Work};
use super::metrics;
use super::queries::Queries;
use super::receipts_in_flight::ReceiptsInFlight;
use super::role::Role;
use super::shared::{Shared, Smsc};
use super::throttle::Throttle;
use super::transport::{Link, LinkError};
use super::window::{Pending, Sequencer, Window};

/// Frames handled in one go when they are already buffered.
const MAX_FRAMES_AT_ONCE: usize = 256;

/// How a session ended.
#[derive(Debug)]
pub enum SessionEnd {
    /// Unbound on shutdown: do not reconnect.
    Unbound,
    /// The link is gone (`reason`: a bounded label): reconnect.
    Lost(&'static str, String),
}

impl From<LinkError> for SessionEnd {
    fn from(e: LinkError) -> Self {
        SessionEnd::Lost(e.reason(), e.to_string())
    }
}

/// The message being sent: its parts go out in order on this bind.
pub(super) struct Current {
    pub(super) msg: Arc<Message>,
    pub(super) generation: u32,
    pub(super) prepared: Arc<Prepared>,
    pub(super) remaining: PartsLeft,
}

/// The parts of the current message still to send, in order: every part of a freshly
/// prepared message (a range, nothing allocated: the case of almost every OTP), or the parts
/// a retry asked for.
pub(super) enum PartsLeft {
    All(std::ops::Range<u16>),
    Listed(VecDeque<u16>),
}

impl PartsLeft {
    pub(super) fn pop_front(&mut self) -> Option<u16> {
        match self {
            PartsLeft::All(range) => range.next(),
            PartsLeft::Listed(parts) => parts.pop_front(),
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        match self {
            PartsLeft::All(range) => range.is_empty(),
            PartsLeft::Listed(parts) => parts.is_empty(),
        }
    }

    pub(super) fn into_vec(self) -> Vec<u16> {
        match self {
            PartsLeft::All(range) => range.collect(),
            PartsLeft::Listed(parts) => parts.into(),
        }
    }
}

/// What the submit side waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Idle,
    NeedPermit,
    NeedWork,
    Until(Instant),
    SendNow,
}

pub struct Session {
    pub(super) shared: Arc<Shared>,
    pub(super) smsc: Arc<Smsc>,
    pub(super) role: Role,
    pub(super) slot: Option<usize>,
    pub(super) label: String,
    pub(super) link: Link,
    pub(super) seq: Sequencer,
    pub(super) window: Window,
    pub(super) throttle: Throttle,
    pub(super) current: Option<Current>,
    pub(super) permit: Option<OwnedSemaphorePermit>,
    pub(super) paused_until: Option<Instant>,
    /// When the last frame (or batch of frames) was read: the time of the responses and
    /// receipts in it.
    pub(super) last_rx: Instant,
    /// The outstanding enquire_link: sequence number and deadline.
    pub(super) enquire: Option<(u32, Instant)>,
    pub(super) consecutive_timeouts: u32,
    pub(super) queries: Queries,
    /// Where this bind publishes its status.
    pub(super) cell: Option<Arc<BindCell>>,
    pub(super) receipts: ReceiptsInFlight,
    pub(super) metrics: metrics::BindMetrics,
    drain: CancellationToken,
    pub(super) draining: Option<Instant>,
    pub(super) response_timeout: Duration,
    enquire_interval: Duration,
    /// See [`BindTask::unbind_within`].
    unbind_within: Option<Duration>,
    unbind_timeout: Duration,
    /// `[engine] submit_gather_ms`, when not 0.
    submit_gather: Option<Duration>,
}

impl Session {
    pub fn new(task: &BindTask, link: Link, seq: Sequencer) -> Self {
        let cfg = &task.smsc.cfg;
        let settings = &task.shared.settings;
        let binds = cfg.binds as f64;
        let now = Instant::now();
        let window = Window::new(cfg.window);
        let throttle = Throttle::new(f64::from(cfg.tps) / binds, now);
        let cell = task.cell();
        if let Some(c) = &cell {
            c.publish_rate(throttle.rate());
            c.bound(window.semaphore());
        }
        Self {
            shared: task.shared.clone(),
            smsc: task.smsc.clone(),
            role: task.role,
            slot: task.slot,
            label: task.label.clone(),
            link,
            seq,
            window,
            throttle,
            current: None,
            permit: None,
            paused_until: None,
            last_rx: now,
            enquire: None,
            consecutive_timeouts: 0,
            queries: Queries::default(),
            cell,
            receipts: ReceiptsInFlight::new(settings.receipts_in_flight),
            metrics: metrics::BindMetrics::new(&cfg.name, &task.label),
            drain: task.drain.clone(),
            draining: None,
            response_timeout: cfg.response_timeout(settings),
            enquire_interval: cfg.enquire_link_interval(settings),
            unbind_within: task.unbind_within,
            unbind_timeout: ms(settings.bind_timeout_ms),
            submit_gather: (settings.submit_gather_ms > 0).then(|| ms(settings.submit_gather_ms)),
        }
    }

    /// Drains on `token` rather than on the engine's shutdown alone.
    pub(super) fn draining_on(mut self, token: CancellationToken) -> Self {
        self.drain = token;
        self
    }

    pub(super) fn name(&self) -> &str {
        &self.smsc.cfg.name
    }

    pub async fn run(mut self) -> SessionEnd {
        if self.role.submits() {
            metrics::window(self.name(), &self.label, 0, self.window.size());
        }
        let end = match self.run_inner().await {
            Ok(()) => SessionEnd::Unbound,
            Err(end) => end,
        };
        self.give_back();
        end
    }

    async fn run_inner(&mut self) -> Result<(), SessionEnd> {
        loop {
            let now = Instant::now();
            if let Some(deadline) = self.draining {
                let settled = self.window.pending_len() == 0 && self.receipts.is_empty();
                if settled || now >= deadline {
                    return self.unbind().await;
                }
            }
            let step = self.submit_step(now);
            if step == Step::SendNow {
                self.send_next_part(now).await?;
                continue;
            }
            // Nothing more to send at once: what was fed goes out in one write.
            self.link.flush().await?;
            let timer = self.next_timer(now);
            let semaphore = self.window.semaphore();
            let queue = &self.smsc.queue;
            tokio::select! {
                _ = self.drain.cancelled(), if self.draining.is_none() => self.start_drain(),
                // At the bound of receipts in flight the SMSC waits: nothing more is read.
                frame = self.link.recv(), if !self.receipts.is_full() => {
                    self.last_rx = Instant::now();
                    self.on_frame(frame?).await?;
                    // Responses come in bursts: take what is already there before sending.
                    for _ in 0..MAX_FRAMES_AT_ONCE {
                        if self.receipts.is_full() {
                            break;
                        }
                        let Some(frame) = self.link.try_recv() else { break };
                        self.on_frame(frame?).await?;
                    }
                }
                answer = self.receipts.next_answer() => self.answer_receipts(answer).await?,
                permit = semaphore.acquire_owned(), if step == Step::NeedPermit => {
                    self.permit = permit.ok();
                }
                _ = queue.wait_nonempty(), if step == Step::NeedWork => gather(self.submit_gather, now).await,
                _ = sleep_until(step_until(step, now)), if matches!(step, Step::Until(_)) => {}
                _ = sleep_until(timer) => self.on_timer(Instant::now()).await?,
            }
        }
    }

    fn submit_step(&mut self, now: Instant) -> Step {
        if !self.role.submits() || self.draining.is_some() {
            return Step::Idle;
        }
        if let Some(until) = self.paused_until {
            if now < until {
                return Step::Until(until);
            }
            self.paused_until = None;
        }
        if self.permit.is_none() {
            self.permit = self.window.semaphore().try_acquire_owned().ok();
            if self.permit.is_none() {
                return Step::NeedPermit;
            }
        }
        if self.current.is_none() {
            self.current = self.take_work(now);
            if self.current.is_none() {
                return Step::NeedWork;
            }
        }
        let at = self.throttle.ready_at(now);
        if at > now {
            return Step::Until(at);
        }
        Step::SendNow
    }

    fn next_timer(&self, now: Instant) -> Instant {
        let mut t = match self.enquire {
            Some((_, deadline)) => deadline,
            None => self.last_rx + self.enquire_interval,
        };
        if let Some(d) = self.window.next_deadline() {
            t = t.min(d);
        }
        if let Some(d) = self.draining {
            t = t.min(d);
        }
        if let Some(d) = self.query_timer() {
            t = t.min(d);
        }
        t.max(now)
    }

    async fn on_timer(&mut self, now: Instant) -> Result<(), SessionEnd> {
        match self.enquire {
            Some((_, deadline)) if now >= deadline => {
                return Err(SessionEnd::Lost(
                    "dead_link",
                    "no enquire_link_resp in time".into(),
                ));
            }
            None if now >= self.last_rx + self.enquire_interval => {
                let seq = self.seq.next_sequence();
                self.link.send(Pdu::new(seq, Body::EnquireLink)).await?;
                let timeout = ms(self.shared.settings.enquire_link_timeout_ms);
                self.enquire = Some((seq, now + timeout));
            }
            _ => {}
        }
        self.on_query_timer(now).await?;
        let expired = self.window.take_expired(now);
        if expired.is_empty() {
            return Ok(());
        }
        let name = self.smsc.cfg.name.clone();
        for (_, p) in expired {
            self.consecutive_timeouts = self.consecutive_timeouts.saturating_add(1);
            metrics::submit(&name, "timeout");
            let Pending {
                msg,
                generation,
                part,
                permit,
                ..
            } = p;
            drop(permit);
            match self.shared.settings.timeout_policy {
                TimeoutPolicy::Retry => self.shared.retry_later(
                    msg,
                    generation,
                    part,
                    self.smsc.index,
                    "timeout",
                    "no submit_sm_resp in time",
                ),
                TimeoutPolicy::Fail => {
                    if msg.state().generation == generation {
                        self.shared.report_failed(&msg, "no submit_sm_resp in time");
                    }
                }
            }
        }
        metrics::window(&name, &self.label, self.window.in_use(), self.window.size());
        if self.consecutive_timeouts >= self.shared.settings.max_consecutive_timeouts {
            return Err(SessionEnd::Lost(
                "response_timeouts",
                format!("{} submit_sm timed out in a row", self.consecutive_timeouts),
            ));
        }
        Ok(())
    }

    fn start_drain(&mut self) {
        let now = Instant::now();
        let bind_timeout = ms(self.shared.settings.bind_timeout_ms);
        // a shutdown's deadline, or the budget of a lost lease: half for the window, half
        // for the unbind, so the binds are closed before the lease expires
        let deadline = match (self.shared.drain_deadline.get(), self.unbind_within) {
            (Some(d), _) => *d,
            (None, Some(within)) => {
                self.unbind_timeout = bind_timeout.min(within / 2);
                now + within / 2
            }
            (None, None) => now + bind_timeout,
        };
        self.draining = Some(deadline);
        // What was about to be sent stays queued (and is reported at shutdown).
        self.return_current();
        self.permit = None;
    }

    /// unbind, then wait for unbind_resp (answering what else comes meanwhile).
    async fn unbind(&mut self) -> Result<(), SessionEnd> {
        let seq = self.seq.next_sequence();
        self.link.send(Pdu::new(seq, Body::Unbind)).await?;
        let waited = tokio::time::timeout(self.unbind_timeout, async {
            loop {
                let frame = tokio::select! {
                    frame = self.link.recv(), if !self.receipts.is_full() => frame?,
                    answer = self.receipts.next_answer() => {
                        self.answer_receipts(answer).await?;
                        continue;
                    }
                };
                if let otpgate_codec::framing::Frame::Pdu(p) = &frame {
                    if p.sequence_number == seq && matches!(p.body, Body::UnbindResp) {
                        return Ok::<(), SessionEnd>(());
                    }
                }
                self.last_rx = Instant::now();
                self.on_frame(frame).await?;
                self.link.flush().await?;
            }
        })
        .await;
        match waited {
            Ok(Ok(())) => Ok(()),
            Ok(Err(SessionEnd::Lost(reason, detail))) => {
                tracing::debug!(smsc = self.name(), bind = %self.label, reason, %detail, "link lost while unbinding");
                Ok(())
            }
            Ok(Err(SessionEnd::Unbound)) => Ok(()),
            Err(_) => {
                tracing::warn!(smsc = self.name(), bind = %self.label, "no unbind_resp in time");
                Ok(())
            }
        }
    }

    pub(super) fn return_current(&mut self) {
        if let Some(cur) = self.current.take() {
            if !cur.remaining.is_empty() {
                self.smsc.queue.push(Work::parts(
                    cur.msg,
                    cur.generation,
                    cur.remaining.into_vec(),
                ));
            }
        }
    }

    /// The link ended: everything in flight or about to be sent goes back to the queue, in
    /// order, for another bind (or this one, reconnected) to send again.
    fn give_back(&mut self) {
        self.receipts.finish_detached();
        self.forget_queries();
        self.return_current();
        self.permit = None;
        let pending = self.window.drain();
        let mut by_msg: HashMap<(u64, u32), (Arc<Message>, Vec<u16>)> = HashMap::new();
        for p in pending {
            by_msg
                .entry((p.msg.order, p.generation))
                .or_insert_with(|| (p.msg.clone(), Vec::new()))
                .1
                .push(p.part);
        }
        let count = by_msg.len();
        for ((_, generation), (msg, parts)) in by_msg {
            self.smsc.queue.push(Work::parts(msg, generation, parts));
        }
        if count > 0 {
            metrics::retry(&self.smsc.cfg.name, "link_lost");
            tracing::info!(smsc = self.name(), bind = %self.label, messages = count, "in-flight messages requeued");
        }
        if self.role.submits() {
            metrics::window(self.name(), &self.label, 0, self.window.size());
        }
    }
}

fn step_until(step: Step, now: Instant) -> Instant {
    match step {
        Step::Until(t) => t,
        _ => now,
    }
}

/// Work came while the bind waited for it since `idle_from`. When it came within
/// `submit_gather` (`[engine] submit_gather_ms`) of that (dense traffic: the next create is
/// never far behind), the rest of that time is waited out, so that what else comes leaves in
/// the same write: at tens of thousands of creates a second, a wake-up and a write for many
/// creates instead of for a few. A quiet bind sends at once.
async fn gather(submit_gather: Option<Duration>, idle_from: Instant) {
    let Some(gather) = submit_gather else {
        return;
    };
    let until = idle_from + gather;
    if Instant::now() < until {
        sleep_until(until).await;
    }
}

#[cfg(test)]
mod tests {
    //! The session's timers on paused time: tokio's clock moves only when every task waits,
    //! straight to the next deadline, so the instants below are exact. The SMSC is the other
    //! end of an in-memory pipe, never a socket.

    use futures::{SinkExt, StreamExt};
    use otpgate_codec::framing::{Frame, SmppCodec};
    use tokio::io::DuplexStream;
    use tokio_util::codec::Framed;

    use super::*;
    use crate::dispatch::{DeliverySink, DeliveryUpdate};
    use crate::smpp::config::{EngineSettings, SmscConfig};
    use crate::smpp::message::test_sms;

    struct NoSink;
    impl DeliverySink for NoSink {
        fn on_update(&self, _: DeliveryUpdate) {}
    }

    type Smsc = Framed<DuplexStream, SmppCodec>;

    /// A bound session and the SMSC's end of its link.
    fn session(settings: EngineSettings) -> (Session, Arc<Shared>, Smsc) {
        let shared = Arc::new(Shared::new(
            vec![SmscConfig::default()],
            settings,
            Arc::new(NoSink),
            Arc::new(crate::dispatch::SystemClock),
        ));
        let (ours, theirs) = tokio::io::duplex(64 * 1024);
        let task = BindTask {
            shared: shared.clone(),
            smsc: shared.smscs()[0].clone(),
            role: Role::Transceiver,
            slot: Some(0),
            label: "0".into(),
            drain: CancellationToken::new(),
            unbind_within: None,
        };
        let link = Link::over(Box::pin(ours), Duration::from_secs(5), 4096);
        let session = Session::new(&task, link, Sequencer::default());
        (session, shared, Framed::new(theirs, SmppCodec::default()))
    }

    async fn next_pdu(smsc: &mut Smsc) -> Pdu {
        match smsc.next().await {
            Some(Ok(Frame::Pdu(p))) => p,
            other => panic!("expected a PDU, got {other:?}"),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn enquire_link_after_the_interval_and_dead_link_after_its_timeout() {
        let (session, _shared, mut smsc) = session(EngineSettings {
            enquire_link_interval_ms: 1_000,
            enquire_link_timeout_ms: 400,
            ..EngineSettings::default()
        });
        let start = Instant::now();
        let run = tokio::spawn(session.run());

        // Answered: the link stays up, the next one comes an interval after the answer.
        let p = next_pdu(&mut smsc).await;
        assert_eq!(p.body, Body::EnquireLink);
        assert_eq!(start.elapsed(), Duration::from_millis(1_000));
        smsc.send(Pdu::new(p.sequence_number, Body::EnquireLinkResp))
            .await
            .unwrap();
        let p = next_pdu(&mut smsc).await;
        assert_eq!(p.body, Body::EnquireLink);
        assert_eq!(start.elapsed(), Duration::from_millis(2_000));

        // Not answered: dead when its timeout passes.
        let end = run.await.unwrap();
        assert!(matches!(end, SessionEnd::Lost("dead_link", _)), "{end:?}");
        assert_eq!(start.elapsed(), Duration::from_millis(2_400));
    }

    /// When each submit_sm of three left, the first pushed to a bind idle for 100 ms, the two
    /// others right after it was sent.
    async fn submit_times(submit_gather_ms: u64) -> Vec<Duration> {
        let (session, shared, mut smsc) = session(EngineSettings {
            submit_gather_ms,
            enquire_link_interval_ms: 60_000,
            ..EngineSettings::default()
        });
        let start = Instant::now();
        let run = tokio::spawn(session.run());
        let push = |n: u64| {
            let msg = Arc::new(Message::new(n, test_sms(n as u32), 0));
            shared.smscs()[0].queue.push(Work::fresh(msg));
        };
        tokio::time::sleep(Duration::from_millis(100)).await;
        push(1);
        let mut times = Vec::new();
        assert!(matches!(next_pdu(&mut smsc).await.body, Body::SubmitSm(_)));
        times.push(start.elapsed());
        // the bind is back waiting for work: two more come at once
        push(2);
        push(3);
        for _ in 0..2 {
            assert!(matches!(next_pdu(&mut smsc).await.body, Body::SubmitSm(_)));
            times.push(start.elapsed());
        }
        run.abort();
        times
    }

    #[tokio::test(start_paused = true)]
    async fn a_busy_bind_gathers_what_comes_within_submit_gather_and_a_quiet_one_sends_at_once() {
        let ms = Duration::from_millis;
        assert_eq!(submit_times(5).await, [ms(100), ms(105), ms(105)]);
        assert_eq!(submit_times(0).await, [ms(100), ms(100), ms(100)]);
    }

    #[tokio::test(start_paused = true)]
    async fn unanswered_submits_time_out_retry_and_recycle_the_bind() {
        let (session, shared, mut smsc) = session(EngineSettings {
            response_timeout_ms: 300,
            max_consecutive_timeouts: 3,
            enquire_link_interval_ms: 60_000,
            max_attempts: 50,
            ..EngineSettings::default()
        });
        for n in 0..3 {
            let msg = Arc::new(Message::new(n, test_sms(n as u32), 0));
            shared.smscs()[0].queue.push(Work::fresh(msg));
        }
        let start = Instant::now();
        let run = tokio::spawn(session.run());
        for _ in 0..3 {
            assert!(matches!(next_pdu(&mut smsc).await.body, Body::SubmitSm(_)));
        }
        assert_eq!(start.elapsed(), Duration::ZERO);

        // Three timeouts in a row, all at the response timeout: the bind is recycled, and
        // each message waits for its retry.
        let end = run.await.unwrap();
        assert!(
            matches!(end, SessionEnd::Lost("response_timeouts", _)),
            "{end:?}"
        );
        assert_eq!(start.elapsed(), Duration::from_millis(300));
        assert_eq!(shared.delayed.drain().len(), 3);
    }
}
