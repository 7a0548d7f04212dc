//! Delivery receipts from the SMSC simulator reach the sink with the message id the SMSC gave
//! in submit_sm_resp, whether ids are hex, decimal or mixed, and are acknowledged.

use std::time::Duration;

use crate::support::smpp::*;
use otpgate::dispatch::{DeliveryUpdate, ReceiptOutcome};
use otpgate::smpp::SmppEngine;
use otpgate_codec::dlr::message_id_variants;
use otpgate_sim::{MessageIdFormat, ReceiptCarrier, SimConfig};

async fn receipts_match(format: MessageIdFormat, carrier: ReceiptCarrier) {
    let sim = start_sim(SimConfig::default()).await;
    sim.update_behaviour(|b| {
        b.message_id = format;
        b.receipts.carrier = carrier;
    });
    let sink = sink();
    let engine = SmppEngine::start(
        vec![smsc("sim", sim.local_addr())],
        settings(),
        sink.clone(),
    )
    .unwrap();
    let n = 10;
    dispatch_n(&engine, n);
    sink.wait_until("a receipt per message", |u| {
        u.iter()
            .filter(|u| matches!(u, DeliveryUpdate::Receipt { .. }))
            .count()
            >= n as usize
    })
    .await;
    let ids: Vec<String> = sink.submitted().into_iter().flat_map(|s| s.2).collect();
    assert_eq!(ids.len(), n as usize);
    for u in sink.all() {
        if let DeliveryUpdate::Receipt {
            message_id,
            outcome,
            error,
            ..
        } = u
        {
            assert_eq!(outcome, ReceiptOutcome::Delivered);
            assert_eq!(error, None);
            let variants: Vec<String> = message_id_variants(&message_id).collect();
            assert!(
                ids.iter()
                    .any(|id| message_id_variants(id).any(|v| variants.contains(&v))),
                "receipt id {message_id} matches no submitted id {ids:?}"
            );
            if carrier != ReceiptCarrier::Text || format != MessageIdFormat::Mixed {
                assert!(
                    ids.contains(&message_id),
                    "{message_id} not verbatim in {ids:?}"
                );
            }
        }
    }
    eventually("receipts acknowledged", || {
        let c = sim.counters();
        c.receipts_acked == c.receipts_sent && c.receipts_sent >= n as u64
    })
    .await;
    engine.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn hex_ids() {
    receipts_match(MessageIdFormat::Hex, ReceiptCarrier::Both).await;
}

#[tokio::test]
async fn decimal_ids() {
    receipts_match(MessageIdFormat::Decimal, ReceiptCarrier::Text).await;
}

#[tokio::test]
async fn mixed_ids_in_text_only() {
    receipts_match(MessageIdFormat::Mixed, ReceiptCarrier::Text).await;
}

#[tokio::test]
async fn tlv_only_receipts() {
    receipts_match(MessageIdFormat::Decimal, ReceiptCarrier::Tlv).await;
}
