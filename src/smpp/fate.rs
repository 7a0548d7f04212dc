//! How a message ends or goes round again: the reports to the `DeliverySink` (each message's
//! fate reported exactly once) and the retry of a part after a transient error or a timeout
//! (backoff, a bounded number of attempts, failover to another SMSC of the route).

use std::sync::Arc;

use otpgate_codec::pdu::CommandStatus;
use tokio::time::Instant;

use super::address::mask;
use super::backoff::retry_delay;
use super::config::ms;
use super::message::{Message, Work};
use super::metrics;
use super::pricing::price_for;
use super::shared::Shared;
use super::status::status_reason;
use crate::dispatch::{DeliveryUpdate, SentAs};

impl Shared {
    /// What the SMSC accepted of a finished message, reported with its fate (just before it)
    /// so that the fate's status change already shows the cost: the parts accepted on its
    /// current SMSC (earlier copies left behind by a failover were counted as not charged
    /// when it moved).
    fn charged(&self, msg: &Message) -> DeliveryUpdate {
        let (smsc, accepted, prepared) = {
            let s = msg.state();
            (
                s.smsc,
                s.ids.iter().filter(|id| id.is_some()).count(),
                s.prepared.clone(),
            )
        };
        let sent_as = prepared.filter(|_| accepted > 0).map(|p| SentAs {
            encoding: p.encoding,
            parts: u32::try_from(p.parts.len()).unwrap_or(u32::MAX),
        });
        let priced = (accepted > 0)
            .then(|| {
                self.with_smsc(smsc, |s| {
                    (
                        s.cfg.name.clone(),
                        price_for(&s.cfg.prices, &msg.sms.destination),
                    )
                })
            })
            .flatten();
        let (smsc, price_per_part) = match priced {
            Some((name, price)) => (Some(name), price),
            None => (None, None),
        };
        DeliveryUpdate::Charged {
            otp_id: msg.sms.otp_id.clone(),
            smsc,
            parts: u32::try_from(accepted).unwrap_or(u32::MAX),
            price_per_part,
            sent_as,
        }
    }

    pub fn report_submitted(&self, msg: &Message, smsc: usize, message_ids: Vec<String>) {
        if !msg.finish() {
            return;
        }
        let submitted = DeliveryUpdate::Submitted {
            otp_id: msg.sms.otp_id.clone(),
            smsc: self.smsc_name(smsc),
            message_ids,
        };
        self.sink.on_fate(self.charged(msg), submitted);
    }

    pub fn report_rejected(&self, msg: &Message, smsc: usize, status: CommandStatus) {
        if !msg.finish() {
            return;
        }
        let name = self.smsc_name(smsc);
        tracing::warn!(smsc = %name, otp_id = %msg.sms.otp_id, to = %mask(&msg.sms.destination), %status, "message rejected");
        let rejected = DeliveryUpdate::Rejected {
            otp_id: msg.sms.otp_id.clone(),
            smsc: name,
            command_status: status.0,
            reason: status_reason(status),
        };
        self.sink.on_fate(self.charged(msg), rejected);
    }

    pub fn report_failed(&self, msg: &Message, reason: &str) {
        if !msg.finish() {
            return;
        }
        tracing::warn!(otp_id = %msg.sms.otp_id, to = %mask(&msg.sms.destination), reason, "message failed");
        let failed = DeliveryUpdate::Failed {
            otp_id: msg.sms.otp_id.clone(),
            reason: reason.to_string(),
        };
        self.sink.on_fate(self.charged(msg), failed);
    }

    /// A part failed transiently (`reason`: a bounded label) on `smsc`: send it again after a
    /// backoff, or give up after `max_attempts`.
    pub fn retry_later(
        &self,
        msg: Arc<Message>,
        generation: u32,
        part: u16,
        smsc: usize,
        reason: &'static str,
        detail: &str,
    ) {
        let attempts = {
            let mut s = msg.state();
            if s.finished || s.generation != generation {
                return;
            }
            s.attempts = s.attempts.saturating_add(1);
            s.attempts_here = s.attempts_here.saturating_add(1);
            s.attempts
        };
        if attempts >= self.settings.max_attempts {
            self.report_failed(
                &msg,
                &format!("gave up after {attempts} attempts: {detail}"),
            );
            return;
        }
        if msg.is_expired(self.wall.now()) {
            self.report_failed(&msg, "expired before an SMSC accepted it");
            return;
        }
        metrics::retry(&self.smsc_name(smsc), reason);
        let delay = retry_delay(
            ms(self.settings.retry_min_ms),
            ms(self.settings.retry_max_ms),
            attempts,
        );
        self.delayed.push(
            Instant::now() + delay,
            smsc,
            Work::parts(msg, generation, vec![part]),
        );
    }

    /// A delayed retry is due: back into its SMSC's queue, or to another SMSC of its route
    /// when it failed there often enough and another one is healthy.
    pub fn requeue_due(&self, smsc: usize, work: Work, now: Instant) {
        let (finished, attempts_here, current) = {
            let s = work.msg.state();
            (s.finished, s.attempts_here, s.smsc)
        };
        if finished {
            return;
        }
        if attempts_here >= self.settings.failover_after_attempts {
            if let Some(next) = self.other_for(&work.msg, current, now) {
                self.move_to(work.msg, next, "transient errors");
                return;
            }
        }
        match self.smsc(smsc) {
            Some(s) => s.queue.push(work),
            // its SMSC was removed by a reload while it waited
            None => self.rehome(work.msg, smsc, now),
        }
    }

    /// A message whose SMSC is no longer configured: to the next SMSC of its route, or
    /// failed as a message without a route.
    pub fn rehome(&self, msg: Arc<Message>, from: usize, now: Instant) {
        if msg.is_finished() {
            return;
        }
        let choice = msg.sms.smscs.as_deref();
        match self.choose(&msg.sms.destination, choice, Some(from), now, false) {
            Some((_, next)) => self.move_to(msg, next, "SMSC removed"),
            None => self.report_failed(&msg, "no route: its SMSC was removed"),
        }
    }

    /// Hands a message to another SMSC: prepared again there, sent whole.
    pub fn move_to(&self, msg: Arc<Message>, to: usize, why: &str) {
        let from = msg.state().smsc;
        tracing::info!(
            otp_id = %msg.sms.otp_id,
            from = %self.smsc_name(from),
            to = %self.smsc_name(to),
            why,
            "message fails over"
        );
        metrics::retry(&self.smsc_name(from), "failover");
        // parts the old SMSC accepted go again, whole, to the new one: charged there only
        let left_behind = msg.state().ids.iter().filter(|id| id.is_some()).count();
        if left_behind > 0 {
            metrics::parts_not_charged(&self.smsc_name(from), left_behind);
        }
        msg.move_to(to);
        if let Some(s) = self.smsc(to) {
            s.queue.push(Work::fresh(msg));
        }
    }
}
