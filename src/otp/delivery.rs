//! The engine's reports, applied to the store: the OTP core's [`DeliverySink`]. It needs only
//! the store, so it can be built before the engine and handed to it.

use otpgate_codec::dlr::message_id_variants;
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
                    .find_map(|v| self.store.find_by_message_id(&v));
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
