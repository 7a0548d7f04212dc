//! The engine's reports, applied to the store: the OTP core's [`DeliverySink`]. It needs only
//! the store, so it can be built before the engine and handed to it.

use std::sync::Arc;

use crate::dispatch::{DeliverySink, DeliveryUpdate, ReceiptOutcome};

use super::clock::Clock;
use super::model::{DeliveryStatus, OtpId};
use super::store::{DeliveryChange, Store};

/// Applies [`DeliveryUpdate`]s to a [`Store`].
pub struct StoreSink {
    store: Arc<dyn Store>,
    clock: Arc<Clock>,
}

impl StoreSink {
    pub fn new(store: Arc<dyn Store>, clock: Arc<Clock>) -> Self {
        Self { store, clock }
    }
}

fn receipt_status(outcome: ReceiptOutcome) -> Option<DeliveryStatus> {
    match outcome {
        ReceiptOutcome::Delivered => Some(DeliveryStatus::Delivered),
        ReceiptOutcome::Undelivered | ReceiptOutcome::Expired => Some(DeliveryStatus::Undelivered),
        ReceiptOutcome::Rejected => Some(DeliveryStatus::Rejected),
        ReceiptOutcome::Pending => None,
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

impl DeliverySink for StoreSink {
    fn on_update(&self, update: DeliveryUpdate) {
        let now = self.clock.unix_secs();
        match update {
            DeliveryUpdate::Submitted {
                otp_id,
                smsc,
                message_ids,
            } => {
                let Some(id) = OtpId::parse(&otp_id) else {
                    return;
                };
                let change = DeliveryChange::Submitted { smsc, message_ids };
                self.store.apply_delivery(&id, change, now);
            }
            DeliveryUpdate::Rejected {
                otp_id,
                smsc,
                command_status,
                reason,
            } => {
                let Some(id) = OtpId::parse(&otp_id) else {
                    return;
                };
                let change = DeliveryChange::Status {
                    status: DeliveryStatus::Rejected,
                    smsc: Some(smsc),
                    error: Some(format!("0x{command_status:08X}: {reason}")),
                };
                self.store.apply_delivery(&id, change, now);
            }
            DeliveryUpdate::Failed { otp_id, reason } => {
                let Some(id) = OtpId::parse(&otp_id) else {
                    return;
                };
                let change = DeliveryChange::Status {
                    status: DeliveryStatus::Failed,
                    smsc: None,
                    error: Some(reason),
                };
                self.store.apply_delivery(&id, change, now);
            }
            DeliveryUpdate::Receipt {
                message_id,
                outcome,
                error,
            } => {
                metrics::counter!("otpgate_receipts_total", "outcome" => outcome_label(outcome))
                    .increment(1);
                let found = message_id_variants(&message_id)
                    .iter()
                    .find_map(|v| self.store.find_by_message_id(v));
                let Some(id) = found else {
                    tracing::debug!(message_id = %message_id, "receipt for an unknown message id");
                    metrics::counter!("otpgate_receipts_unmatched_total").increment(1);
                    return;
                };
                if let Some(status) = receipt_status(outcome) {
                    let error = error.map(|e| format!("receipt err: {e}"));
                    let change = DeliveryChange::Status {
                        status,
                        smsc: None,
                        error,
                    };
                    self.store.apply_delivery(&id, change, now);
                }
            }
        }
    }
}

// replace with otpgate_codec::dlr::message_id_variants
/// The forms under which an SMSC message id may have been indexed: as given, lowercase,
/// without leading zeros, and its hex<->decimal conversions (SMSCs disagree on which one the
/// receipt carries). Never empty; no duplicates; the id as given first.
fn message_id_variants(id: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut push = |s: String| {
        if !s.is_empty() && !out.contains(&s) {
            out.push(s);
        }
    };
    let trimmed = id.trim();
    push(trimmed.to_owned());
    let lower = trimmed.to_ascii_lowercase();
    push(lower.clone());
    let stripped = lower.trim_start_matches('0');
    push(if stripped.is_empty() {
        "0".into()
    } else {
        stripped.to_owned()
    });
    if lower.len() <= 32 && !lower.is_empty() {
        if lower.bytes().all(|b| b.is_ascii_digit()) {
            if let Ok(n) = lower.parse::<u128>() {
                push(format!("{n:x}"));
                push(format!("{n:X}"));
            }
        }
        if lower.bytes().all(|b| b.is_ascii_hexdigit()) {
            if let Ok(n) = u128::from_str_radix(&lower, 16) {
                push(n.to_string());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::message_id_variants;

    #[test]
    fn variants() {
        let v = message_id_variants("00FF");
        assert_eq!(v.first().map(String::as_str), Some("00FF"));
        assert!(v.contains(&"00ff".to_string()));
        assert!(v.contains(&"ff".to_string()));
        assert!(v.contains(&"255".to_string()));
        let d = message_id_variants("255");
        assert!(d.contains(&"ff".to_string()));
        assert!(message_id_variants("abc-123").contains(&"abc-123".to_string()));
        assert!(!message_id_variants("").is_empty());
    }
}
