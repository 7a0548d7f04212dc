//! The counters a delivery update moves, as handles kept by the sink: looked up by name and
//! labels on every update they cost a registry lookup and label strings per message.

use std::sync::{OnceLock, PoisonError, RwLock};

use metrics::Counter;

use crate::dispatch::ReceiptOutcome;
use crate::telemetry::names;

/// The receipt outcomes, in the order of [`outcome_index`].
const OUTCOMES: usize = 5;

fn outcome_index(outcome: ReceiptOutcome) -> usize {
    match outcome {
        ReceiptOutcome::Delivered => 0,
        ReceiptOutcome::Undelivered => 1,
        ReceiptOutcome::Expired => 2,
        ReceiptOutcome::Rejected => 3,
        ReceiptOutcome::Pending => 4,
    }
}

fn outcome_label(outcome: ReceiptOutcome) -> &'static str {
    match outcome {
        ReceiptOutcome::Delivered => "delivered",
        ReceiptOutcome::Undelivered => "undelivered",
        ReceiptOutcome::Expired => "expired",
        ReceiptOutcome::Rejected => "rejected",
        ReceiptOutcome::Pending => "pending",
    }
}

/// Each handle is looked up on first use (a series appears once it moves), then kept.
#[derive(Default)]
pub(super) struct DeliveryCounters {
    receipts: [OnceLock<Counter>; OUTCOMES],
    /// By SMSC name: the parts charged and their cost. A handful of SMSCs: a list.
    charged: RwLock<Vec<(String, Counter, Counter)>>,
}

impl DeliveryCounters {
    /// `otpgate_receipts_total{outcome}`.
    pub(super) fn receipt(&self, outcome: ReceiptOutcome) {
        if let Some(slot) = self.receipts.get(outcome_index(outcome)) {
            slot.get_or_init(
                || metrics::counter!(names::RECEIPTS_SEEN, "outcome" => outcome_label(outcome)),
            )
            .increment(1);
        }
    }

    /// `otpgate_parts_charged_total{smsc}` and `otpgate_cost_charged_micros_total{smsc}`.
    pub(super) fn charged(&self, smsc: &str, parts: u64, cost: u64) {
        let count = |list: &[(String, Counter, Counter)]| {
            list.iter()
                .find(|(name, ..)| name == smsc)
                .map(|(_, p, c)| {
                    p.increment(parts);
                    c.increment(cost);
                })
        };
        let known = self.charged.read().unwrap_or_else(PoisonError::into_inner);
        if count(&known).is_some() {
            return;
        }
        drop(known);
        let mut list = self.charged.write().unwrap_or_else(PoisonError::into_inner);
        if !list.iter().any(|(name, ..)| name == smsc) {
            list.push((
                smsc.to_owned(),
                metrics::counter!(names::PARTS_CHARGED, "smsc" => smsc.to_owned()),
                metrics::counter!(names::COST_CHARGED, "smsc" => smsc.to_owned()),
            ));
        }
        count(&list);
    }
}
