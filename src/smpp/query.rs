//! query_sm for parts whose final receipt has not come `query_after_s` after their
//! submit_sm_resp. A bind that can submit asks about its SMSC's due ids, a bounded number in
//! flight; the answer's message_state is recorded through the sink like a receipt. Each id is
//! asked about once. An SMSC that refuses query_sm (generic_nack, or ESME_RINVCMDID) is not
//! asked again while the engine runs. A part that ends without a final state (query refused,
//! failed, unanswered, answered with a state that is not final, or queries off) counts once
//! in `otpgate_smpp_receipts_missing_total` and its OTP stays SENT.

use otpgate_codec::pdu::{Body, COctetString, CommandStatus, Pdu, QuerySm, QuerySmResp};
use tokio::time::Instant;

use super::metrics;
use super::receipt_watch::QueryMode;
use super::session::{Session, SessionEnd};
use crate::dispatch::{DeliveryUpdate, ReceiptOutcome};

/// query_sm outstanding per bind.
const MAX_IN_FLIGHT: usize = 32;
/// Ids given up at once when queries are off (the rest on the next turn of the loop).
const GIVE_UP_BATCH: usize = 1024;

/// SMPP 3.4 section 5.2.28 message_state to a final outcome; none for a state that is not
/// final (ENROUTE, ACCEPTED, UNKNOWN) or not defined.
fn outcome(message_state: u8) -> Option<ReceiptOutcome> {
    match message_state {
        2 => Some(ReceiptOutcome::Delivered),
        3 => Some(ReceiptOutcome::Expired),
        4 | 5 => Some(ReceiptOutcome::Undelivered),
        8 => Some(ReceiptOutcome::Rejected),
        _ => None,
    }
}

impl Session {
    fn queries_on(&self) -> bool {
        self.role.submits() && self.smsc.watch.enabled()
    }

    /// When queries need a look: the earliest query deadline, and the next due id while
    /// this bind may ask (room left, not draining, no other bind probing the SMSC).
    pub(super) fn query_timer(&self) -> Option<Instant> {
        if !self.queries_on() {
            return None;
        }
        let watch = &self.smsc.watch;
        let may_ask = self.queries.pending.len() < MAX_IN_FLIGHT
            && self.draining.is_none()
            && !watch.probing();
        let due = if may_ask { watch.next_due() } else { None };
        let deadline = self.queries.pending.values().map(|(_, d)| *d).min();
        due.into_iter().chain(deadline).min()
    }

    /// Gives up unanswered queries and asks about the ids now due.
    pub(super) async fn on_query_timer(&mut self, now: Instant) -> Result<(), SessionEnd> {
        if !self.queries_on() {
            return Ok(());
        }
        let before = self.queries.pending.len();
        self.queries
            .pending
            .retain(|_, (_, deadline)| *deadline > now);
        let expired = before - self.queries.pending.len();
        if expired > 0 {
            self.smsc.watch.probe_unanswered();
            metrics::receipts_missing(self.name(), expired);
            tracing::debug!(smsc = self.name(), bind = %self.label, expired, "query_sm unanswered in time");
        }
        if self.draining.is_some() {
            return Ok(());
        }
        let room = MAX_IN_FLIGHT.saturating_sub(self.queries.pending.len());
        match self.smsc.watch.mode(room) {
            QueryMode::Off => {
                let n = self.smsc.watch.take_due(now, GIVE_UP_BATCH).len();
                if n > 0 {
                    metrics::receipts_missing(self.name(), n);
                }
            }
            QueryMode::Send(0) => {}
            QueryMode::Send(max) => {
                let due = self.smsc.watch.take_due(now, max);
                if due.is_empty() {
                    self.smsc.watch.probe_unanswered();
                }
                for w in due {
                    let seq = self.seq.next_sequence();
                    let body = Body::QuerySm(QuerySm {
                        message_id: COctetString::from(w.message_id.as_str()),
                        source: w.source,
                    });
                    self.queries
                        .pending
                        .insert(seq, (w.message_id, now + self.response_timeout));
                    self.link.feed(Pdu::new(seq, body)).await?;
                }
            }
        }
        Ok(())
    }

    /// A generic_nack: true when it answers one of this bind's query_sm (which means the
    /// SMSC does not know the command).
    pub(super) fn on_query_nack(&mut self, seq: u32) -> bool {
        if self.queries.pending.remove(&seq).is_none() {
            return false;
        }
        self.queries_refused(CommandStatus::ESME_RINVCMDID);
        true
    }

    fn queries_refused(&mut self, status: CommandStatus) {
        metrics::receipts_missing(self.name(), 1);
        if self.smsc.watch.turn_off() {
            tracing::warn!(smsc = self.name(), bind = %self.label, %status, "the SMSC does not support query_sm: no more queries to it");
        }
    }

    pub(super) async fn on_query_resp(&mut self, seq: u32, status: CommandStatus, r: QuerySmResp) {
        let Some((message_id, _)) = self.queries.pending.remove(&seq) else {
            tracing::debug!(smsc = self.name(), bind = %self.label, seq, "query_sm_resp to no pending query_sm");
            return;
        };
        if status == CommandStatus::ESME_RINVCMDID {
            self.queries_refused(status);
            return;
        }
        self.smsc.watch.answered();
        let outcome = if status.is_ok() {
            outcome(r.message_state)
        } else {
            tracing::debug!(smsc = self.name(), bind = %self.label, %status, "query_sm failed");
            None
        };
        let Some(outcome) = outcome else {
            metrics::receipts_missing(self.name(), 1);
            return;
        };
        // No longer waited for: its delay is not a receipt's.
        let _ = self.shared.receipt_clock.take(&message_id);
        let update = DeliveryUpdate::Receipt {
            smsc: self.name().to_owned(),
            message_id,
            outcome,
            error: (r.error_code != 0).then(|| format!("network {}", r.error_code)),
        };
        let sink = self.shared.sink.clone();
        if sink.record(update).await.is_err() {
            metrics::receipts_missing(self.name(), 1);
            tracing::warn!(
                smsc = self.name(),
                bind = %self.label,
                "query_sm answer not recorded"
            );
        }
    }

    /// The link ended: its outstanding queries will not be answered.
    pub(super) fn forget_queries(&mut self) {
        let n = self.queries.pending.len();
        if n > 0 {
            self.queries.pending.clear();
            self.smsc.watch.probe_unanswered();
            metrics::receipts_missing(self.name(), n);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn final_states_only() {
        assert_eq!(outcome(2), Some(ReceiptOutcome::Delivered));
        assert_eq!(outcome(3), Some(ReceiptOutcome::Expired));
        assert_eq!(outcome(5), Some(ReceiptOutcome::Undelivered));
        assert_eq!(outcome(8), Some(ReceiptOutcome::Rejected));
        for pending in [0, 1, 6, 7, 9, 255] {
            assert_eq!(outcome(pending), None);
        }
    }
}
