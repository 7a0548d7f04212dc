//! Delivery receipts: built from an accepted submit_sm, held until their delay is over, then
//! handed to a receiving session of the same account (retried while none can take them).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use otpgate_codec::dlr::{format_receipt_text, Receipt, ReceiptState};
use otpgate_codec::pdu::{Address, COctetString, DeliverSm, ShortMessage, SubmitSm, Tlv};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::config::{MessageIdFormat, ReceiptCarrier, ReceiptStat};
use super::ids::{decimal_id, hex_id, receipt_date_now};
use super::state::{Outbound, ScheduledReceipt, Shared};

/// At most this many receipts wait at once; more are dropped and counted.
pub const MAX_PENDING_RECEIPTS: usize = 1_000_000;
/// A receipt nobody could take is offered again after this long.
const RETRY_AFTER: Duration = Duration::from_millis(200);

/// Whether registered_delivery asks for a receipt with this outcome.
pub fn wanted(registered_delivery: u8, stat: ReceiptStat) -> bool {
    match registered_delivery & 0x03 {
        1 => true,
        2 => !stat.is_success(),
        3 => stat.is_success(),
        _ => false,
    }
}

/// The deliver_sm receipt for `sm`, accepted under message number `n`.
pub fn build(
    sm: &SubmitSm,
    n: u64,
    stat: ReceiptStat,
    format: MessageIdFormat,
    carrier: ReceiptCarrier,
    submit_date: &str,
) -> DeliverSm {
    let (resp_id, text_id) = match format {
        MessageIdFormat::Hex => (hex_id(n), hex_id(n)),
        MessageIdFormat::Decimal => (decimal_id(n), decimal_id(n)),
        MessageIdFormat::Mixed => (hex_id(n), decimal_id(n)),
    };
    let mut tlvs = Vec::new();
    let mut short_message = ShortMessage::new();
    if matches!(
        carrier,
        ReceiptCarrier::Text | ReceiptCarrier::Both | ReceiptCarrier::Payload
    ) {
        let excerpt: String = String::from_utf8_lossy(&sm.short_message)
            .chars()
            .filter(|c| !c.is_control())
            .take(20)
            .collect();
        let receipt = Receipt {
            id: String::from_utf8_lossy(&text_id).into_owned(),
            sub: Some(1),
            dlvrd: Some(u32::from(stat.is_success())),
            submit_date: Some(submit_date.to_owned()),
            done_date: Some(receipt_date_now()),
            stat: ReceiptState::from_stat(stat.as_str()).unwrap_or(ReceiptState::Unknown),
            err: Some(format!("{:03}", stat.error_code())),
            text: Some(excerpt),
            network_error: None,
        };
        let text = format_receipt_text(&receipt);
        // A receipt text is about 110 octets; one that would not fit goes as message_payload.
        match ShortMessage::try_from(text.as_str()) {
            Ok(sm) if carrier != ReceiptCarrier::Payload => short_message = sm,
            _ => tlvs.push(Tlv::MessagePayload(Bytes::from(text))),
        }
    }
    if matches!(carrier, ReceiptCarrier::Tlv | ReceiptCarrier::Both) {
        tlvs.push(Tlv::ReceiptedMessageId(COctetString::from_bytes(resp_id)));
        tlvs.push(Tlv::MessageState(stat.message_state()));
        if !stat.is_success() {
            tlvs.push(Tlv::NetworkErrorCode {
                network_type: 3,
                error_code: stat.error_code(),
            });
        }
    }
    DeliverSm {
        source: Address {
            ton: sm.destination.ton,
            npi: sm.destination.npi,
            addr: sm.destination.addr.clone(),
        },
        destination: Address {
            ton: sm.source.ton,
            npi: sm.source.npi,
            addr: sm.source.addr.clone(),
        },
        esm_class: 0x04,
        short_message,
        tlvs,
        ..Default::default()
    }
}

/// The scheduler task: a min-heap of due times fed by sessions.
pub struct Scheduler {
    pub shared: Arc<Shared>,
    pub rx: mpsc::Receiver<ScheduledReceipt>,
}

impl Scheduler {
    pub async fn run(mut self) {
        let mut heap: BinaryHeap<Reverse<(Instant, u64)>> = BinaryHeap::new();
        let mut slots: std::collections::HashMap<u64, ScheduledReceipt> = Default::default();
        let mut key = 0u64;
        loop {
            let next_due = heap.peek().map(|Reverse((due, _))| *due);
            tokio::select! {
                _ = self.shared.shutdown.cancelled() => return,
                got = self.rx.recv() => {
                    let Some(r) = got else { return };
                    if heap.len() >= MAX_PENDING_RECEIPTS {
                        self.shared.counters.receipts_dropped.fetch_add(1, Relaxed);
                        continue;
                    }
                    key += 1;
                    heap.push(Reverse((r.due, key)));
                    slots.insert(key, r);
                }
                _ = tokio::time::sleep_until(next_due.unwrap_or_else(Instant::now)), if next_due.is_some() => {
                    let now = Instant::now();
                    while let Some(Reverse((due, k))) = heap.peek().copied() {
                        if due > now {
                            break;
                        }
                        heap.pop();
                        let Some(r) = slots.remove(&k) else { continue };
                        if let Some(r) = self.deliver(r, now) {
                            heap.push(Reverse((r.due, k)));
                            slots.insert(k, r);
                        }
                    }
                }
            }
        }
    }

    /// Offers a due receipt; gives it back, re-dated, when no session can take it now.
    fn deliver(&self, r: ScheduledReceipt, now: Instant) -> Option<ScheduledReceipt> {
        if self.shared.hang.load(Relaxed) {
            return Some(ScheduledReceipt {
                due: now + RETRY_AFTER,
                ..r
            });
        }
        let ScheduledReceipt {
            system_id, deliver, ..
        } = r;
        match self
            .shared
            .registry
            .offer(&system_id, Outbound::Receipt(Box::new(deliver)))
        {
            Ok(()) => None,
            Err(Outbound::Receipt(deliver)) => Some(ScheduledReceipt {
                due: now + RETRY_AFTER,
                system_id,
                deliver: *deliver,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_delivery_rules() {
        assert!(wanted(1, ReceiptStat::DELIVRD));
        assert!(wanted(1, ReceiptStat::UNDELIV));
        assert!(!wanted(2, ReceiptStat::DELIVRD));
        assert!(wanted(2, ReceiptStat::EXPIRED));
        assert!(wanted(3, ReceiptStat::DELIVRD));
        assert!(!wanted(0, ReceiptStat::DELIVRD));
        assert!(!wanted(0x10, ReceiptStat::DELIVRD));
    }

    #[test]
    fn mixed_ids_in_receipt() {
        let sm = SubmitSm {
            source: Address {
                ton: 5,
                npi: 0,
                addr: "Verify".into(),
            },
            destination: Address {
                ton: 1,
                npi: 1,
                addr: "447700900123".into(),
            },
            short_message: ShortMessage::from_static(b"Your code is 123456"),
            ..Default::default()
        };
        let d = build(
            &sm,
            255,
            ReceiptStat::UNDELIV,
            MessageIdFormat::Mixed,
            ReceiptCarrier::Both,
            "2401010000",
        );
        let text = String::from_utf8(d.short_message.to_vec()).unwrap();
        assert!(text.starts_with("id:255 sub:001 dlvrd:000 submit date:2401010000 done date:"));
        assert!(text.contains(" stat:UNDELIV err:001 text:Your code is 123456"));
        assert_eq!(d.esm_class, 0x04);
        assert_eq!(d.source.addr.as_bytes(), b"447700900123");
        assert_eq!(d.destination.addr.as_bytes(), b"Verify");
        assert!(d.tlvs.contains(&Tlv::ReceiptedMessageId("ff".into())));
        assert!(d.tlvs.contains(&Tlv::MessageState(5)));
        let parsed = otpgate_codec::dlr::receipt_from_deliver_sm(&d).unwrap();
        assert_eq!(parsed.stat, ReceiptState::Undeliverable);
    }
}
