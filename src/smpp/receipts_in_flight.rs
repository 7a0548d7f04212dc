//! Receipts being recorded while the bind reads on: each deliver_sm (or data_sm) is answered
//! once its receipt is recorded, up to a bound per bind. Answers may leave in another order
//! than the requests came in: their sequence numbers match them.

use futures::future::BoxFuture;
use futures::stream::FuturesUnordered;
use futures::{FutureExt, StreamExt};
use otpgate_codec::pdu::Pdu;

/// A receipt's answer, ready once the receipt is recorded (or given up).
pub(super) type PendingAnswer = BoxFuture<'static, Pdu>;

pub(super) struct ReceiptsInFlight {
    recording: FuturesUnordered<PendingAnswer>,
    limit: usize,
}

impl ReceiptsInFlight {
    pub(super) fn new(limit: usize) -> Self {
        Self {
            recording: FuturesUnordered::new(),
            limit: limit.max(1),
        }
    }

    /// The answer at once when the receipt is recorded when first polled (an in-process
    /// store), else `None`: it is kept in flight.
    pub(super) fn start(&mut self, mut answer: PendingAnswer) -> Option<Pdu> {
        let ready = (&mut answer).now_or_never();
        if ready.is_none() {
            self.recording.push(answer);
        }
        ready
    }

    pub(super) fn len(&self) -> usize {
        self.recording.len()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.recording.is_empty()
    }

    /// At the bound: the bind reads no more PDUs until one is answered.
    pub(super) fn is_full(&self) -> bool {
        self.recording.len() >= self.limit
    }

    /// The next answer ready; never resolves while none is in flight.
    pub(super) async fn next_answer(&mut self) -> Pdu {
        match self.recording.next().await {
            Some(pdu) => pdu,
            None => std::future::pending().await,
        }
    }

    /// An answer ready now, if any.
    pub(super) fn ready_answer(&mut self) -> Option<Pdu> {
        self.recording.next().now_or_never().flatten()
    }

    /// The link is gone: what is being recorded is still recorded (unanswered, the SMSC
    /// delivers it again), rather than cut off half way through.
    pub(super) fn finish_detached(&mut self) {
        let mut rest = std::mem::take(&mut self.recording);
        if !rest.is_empty() {
            tokio::spawn(async move { while rest.next().await.is_some() {} });
        }
    }
}
