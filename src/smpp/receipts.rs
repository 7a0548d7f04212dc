//! Inbound deliver_sm: delivery receipts parsed by the codec and recorded through the
//! `DeliverySink` (before the session acknowledges them), mobile-originated messages counted.

use otpgate_codec::dlr::{receipt_from_deliver_sm, ReceiptState};
use otpgate_codec::pdu::DeliverSm;

use super::metrics;
use super::shared::Shared;
use crate::dispatch::{DeliveryUpdate, NotRecorded, ReceiptOutcome};

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

/// Records what a deliver_sm says: a receipt is recorded when this returns `Ok`; `Err` when
/// the sink gave it up (the SMSC is then asked to deliver it again).
pub async fn on_deliver_sm(
    shared: &Shared,
    smsc: usize,
    sm: &DeliverSm,
) -> Result<(), NotRecorded> {
    let name = shared.smsc_name(smsc);
    let Some(r) = receipt_from_deliver_sm(sm) else {
        metrics::mo(&name);
        return Ok(());
    };
    metrics::receipt(&name, r.stat.stat_str());
    if r.stat.is_final() {
        if let Some(at) = shared.receipt_clock.take(&r.id) {
            metrics::receipt_delay(&name, at.elapsed().as_secs_f64());
        }
        if let Some(s) = shared.smsc(smsc) {
            s.watch.settle(&r.id);
        }
    }
    shared
        .sink
        .record(DeliveryUpdate::Receipt {
            smsc: name.to_owned(),
            message_id: r.id.clone(),
            outcome: outcome(r.stat),
            error: error_of(r.err.as_deref(), r.network_error),
        })
        .await
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
