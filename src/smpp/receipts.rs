//! Inbound deliver_sm: delivery receipts parsed by the codec into the update the session
//! records through the `DeliverySink` (before it acknowledges them), mobile-originated
//! messages counted.

use otpgate_codec::dlr::{receipt_ref_from_deliver_sm, ReceiptState};
use otpgate_codec::pdu::DeliverSm;
use tokio::time::Instant;

use super::metrics::{self, BindMetrics};
use super::shared::{Shared, Smsc};
use crate::dispatch::{DeliveryUpdate, ReceiptOutcome};

fn outcome(state: ReceiptState) -> ReceiptOutcome {
    match state {
        ReceiptState::Delivered => ReceiptOutcome::Delivered,
        ReceiptState::Undeliverable | ReceiptState::Deleted => ReceiptOutcome::Undelivered,
        ReceiptState::Expired => ReceiptOutcome::Expired,
        ReceiptState::Rejected => ReceiptOutcome::Rejected,
        ReceiptState::Enroute | ReceiptState::Accepted | ReceiptState::Unknown => {
            ReceiptOutcome::Pending
        }
    }
}

/// A receipt error worth reporting: `err:` when not all zeros, else the network error code.
fn error_of(err: Option<&str>, network: Option<(u8, u16)>) -> Option<String> {
    let err = err
        .map(str::trim)
        .filter(|e| !e.is_empty() && e.bytes().any(|b| b != b'0'));
    match (err, network) {
        (Some(e), _) => Some(e.to_string()),
        (None, Some((t, code))) if code != 0 => Some(format!("network {t}:{code}")),
        _ => None,
    }
}

/// What a deliver_sm says, counted on the way: the update to record, `None` for a
/// mobile-originated message (counted, nothing to record). Called on the bind's own task, with
/// its metric handles, before the receipt is recorded and then acknowledged. `received`: when
/// the bind read it (the delay to the receipt ends there).
pub(super) fn receipt_update(
    shared: &Shared,
    smsc: &Smsc,
    bind_metrics: &mut BindMetrics,
    sm: &DeliverSm,
    received: Instant,
) -> Option<DeliveryUpdate> {
    let Some(r) = receipt_ref_from_deliver_sm(sm) else {
        metrics::mo(&smsc.cfg.name);
        return None;
    };
    bind_metrics.receipt(r.stat);
    if r.stat.is_final() {
        if let Some(at) = shared.receipt_clock.take(&r.id) {
            bind_metrics.receipt_delay(received.saturating_duration_since(at).as_secs_f64());
        }
        smsc.watch.settle(&r.id);
    }
    let error = error_of(r.err.as_deref(), r.network_error);
    Some(DeliveryUpdate::Receipt {
        smsc: smsc.cfg.name.clone(),
        message_id: r.id.into_owned(),
        outcome: outcome(r.stat),
        error,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors() {
        assert_eq!(error_of(Some("000"), None), None);
        assert_eq!(error_of(Some("001"), None), Some("001".into()));
        assert_eq!(error_of(None, Some((3, 0))), None);
        assert_eq!(error_of(None, Some((3, 27))), Some("network 3:27".into()));
    }
}
