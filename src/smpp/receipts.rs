//! Inbound deliver_sm: delivery receipts parsed by the codec and recorded through the
//! `DeliverySink` (before the session acknowledges them), mobile-originated messages counted;
//! and the bounded clock that measures submit-to-receipt delay.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use otpgate_codec::dlr::{message_id_variants, receipt_from_deliver_sm, ReceiptState};
use otpgate_codec::pdu::DeliverSm;
use tokio::time::Instant;

use super::metrics;
use super::shared::Shared;
use crate::dispatch::{DeliveryUpdate, ReceiptOutcome};

/// Message ids accepted recently, with when: at most `capacity`, oldest forgotten first, none
/// older than a day.
/// Id to acceptance time, and the ids in acceptance order (for eviction).
type Clock = (HashMap<String, Instant>, VecDeque<(Instant, String)>);

pub struct ReceiptClock {
    inner: Mutex<Clock>,
    capacity: usize,
}

const MAX_AGE: Duration = Duration::from_secs(86_400);

impl ReceiptClock {
    pub fn new(capacity: usize) -> Self {
        Self {
            inner: Mutex::new((HashMap::new(), VecDeque::new())),
            capacity,
        }
    }

    pub fn record(&self, message_id: &str, _smsc: usize, now: Instant) {
        if self.capacity == 0 {
            return;
        }
        let Some(key) = message_id_variants(message_id).next() else {
            return;
        };
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let (map, order) = &mut *g;
        while order.len() >= self.capacity
            || order
                .front()
                .is_some_and(|(t, _)| now.saturating_duration_since(*t) > MAX_AGE)
        {
            match order.pop_front() {
                Some((t, k)) => {
                    if map.get(&k) == Some(&t) {
                        map.remove(&k);
                    }
                }
                None => break,
            }
        }
        map.insert(key.clone(), now);
        order.push_back((now, key));
    }

    /// When the message a receipt names was accepted (its id in any hex/decimal form).
    pub fn take(&self, receipt_id: &str) -> Option<Instant> {
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        message_id_variants(receipt_id).find_map(|v| g.0.remove(&v))
    }
}

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

/// Records what a deliver_sm says (a receipt is recorded when this returns). Returns whether
/// it was a receipt.
pub async fn on_deliver_sm(shared: &Shared, smsc: usize, sm: &DeliverSm) -> bool {
    let name = shared.smsc_name(smsc);
    let Some(r) = receipt_from_deliver_sm(sm) else {
        metrics::mo(name);
        return false;
    };
    metrics::receipt(name, r.stat.stat_str());
    if r.stat.is_final() {
        if let Some(at) = shared.receipt_clock.take(&r.id) {
            metrics::receipt_delay(name, at.elapsed().as_secs_f64());
        }
    }
    shared
        .sink
        .record(DeliveryUpdate::Receipt {
            message_id: r.id.clone(),
            outcome: outcome(r.stat),
            error: error_of(r.err.as_deref(), r.network_error),
        })
        .await;
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_matches_hex_and_decimal_and_stays_bounded() {
        let c = ReceiptClock::new(2);
        let t = Instant::now();
        c.record("0000FF", 0, t);
        assert!(c.take("255").is_some());
        assert!(c.take("255").is_none());
        c.record("1", 0, t);
        c.record("2", 0, t);
        c.record("3", 0, t);
        assert!(c.take("1").is_none());
        assert!(c.take("3").is_some());
    }

    #[test]
    fn errors() {
        assert_eq!(error_of(Some("000"), None), None);
        assert_eq!(error_of(Some("001"), None), Some("001".into()));
        assert_eq!(error_of(None, Some((3, 0))), None);
        assert_eq!(error_of(None, Some((3, 27))), Some("network 3:27".into()));
    }
}
