//! The delivery sink in front of each store: many OTPs' updates given at once, interleaved, are
//! applied concurrently yet in order per OTP (a receipt after the `Submitted` of its id and
//! after the OTP's other updates), and a flush waits for all of them; a send's charge and its
//! `Submitted` given together as the engine gives them (`on_fate`) or one by one alike.

use std::sync::Arc;

use crate::support::store::{record, Fixture};
use otpgate::dispatch::{DeliverySink, DeliveryUpdate, ReceiptOutcome};
use otpgate::otp::model::{DeliveryStatus, OtpId};
use otpgate::otp::StoreSink;

// within the fixtures' `max_live`
const OTPS: u64 = 150;

/// `together`: each OTP's charge and `Submitted` given through `on_fate`.
async fn updates_of_each_otp_stay_in_order(f: Fixture, together: bool) {
    let now = f.clock.unix_secs();
    let mut ids = Vec::new();
    for n in 0..OTPS {
        let id = OtpId::random();
        let phone = 447_400_200_000 + n;
        f.store
            .insert(id, record(phone, now, 600, 3, 7))
            .await
            .unwrap();
        ids.push(id);
    }
    let sink = StoreSink::new(f.store.clone(), Arc::clone(&f.clock));
    // each OTP's story in order, the OTPs' stories interleaved step by step
    let story = |n: usize, id: &OtpId| {
        let otp_id = id.to_string();
        let message_id = format!("{:x}", 0xabc000 + n);
        vec![
            DeliveryUpdate::Charged {
                otp_id: otp_id.clone(),
                smsc: Some("second".into()),
                parts: 1,
                price_per_part: Some(10_000),
                sent_as: None,
            },
            DeliveryUpdate::Submitted {
                otp_id: otp_id.clone(),
                smsc: "second".into(),
                message_ids: vec![message_id.clone()],
            },
            // a status then a final receipt: applied in this order the receipt's status wins
            // (applied the other way round, FAILED would)
            DeliveryUpdate::Failed {
                otp_id,
                reason: "a status before the receipt".into(),
            },
            DeliveryUpdate::Receipt {
                smsc: "second".into(),
                message_id: message_id.to_uppercase(),
                outcome: ReceiptOutcome::Delivered,
                error: None,
            },
        ]
    };
    let stories: Vec<Vec<DeliveryUpdate>> =
        ids.iter().enumerate().map(|(n, id)| story(n, id)).collect();
    for step in 0..4 {
        for s in &stories {
            match (together, step) {
                (true, 0) => sink.on_fate(s[0].clone(), s[1].clone()),
                (true, 1) => {}
                _ => sink.on_update(s[step].clone()),
            }
        }
    }
    sink.flush().await;
    for id in &ids {
        let r = f.store.get(id).await.unwrap().unwrap();
        assert_eq!(r.delivery, DeliveryStatus::Delivered, "OTP {id}");
        let cost = r.extra.as_deref().and_then(|e| e.cost);
        assert_eq!(cost.map(|c| c.charged), Some(10_000), "OTP {id}");
    }
    // every receipt followed its Submitted: none is left held
    for (n, _) in ids.iter().enumerate() {
        let held = f
            .store
            .take_held("second", &[format!("{:x}", 0xabc000 + n)])
            .await
            .unwrap();
        assert!(held.is_empty(), "receipt {n} still held");
    }
}

#[tokio::test]
async fn memory() {
    updates_of_each_otp_stay_in_order(crate::support::store::memory(), false).await;
    updates_of_each_otp_stay_in_order(crate::support::store::memory(), true).await;
}

#[tokio::test]
#[ignore = "needs redis-server (OTPGATE_REDIS_URL, set by .ci/install.d/50-redis.sh)"]
async fn redis() {
    let f = crate::support::store::redis("sink_order").await;
    updates_of_each_otp_stay_in_order(f, false).await;
    let f = crate::support::store::redis("sink_order_fate").await;
    updates_of_each_otp_stay_in_order(f, true).await;
}

#[tokio::test]
#[ignore = "needs a Redis Cluster (OTPGATE_REDIS_CLUSTER_NODES, set by .ci/install.d/51-redis-cluster.sh)"]
async fn redis_cluster() {
    let f = crate::support::store::cluster("sink_order").await;
    updates_of_each_otp_stay_in_order(f, false).await;
    let f = crate::support::store::cluster("sink_order_fate").await;
    updates_of_each_otp_stay_in_order(f, true).await;
}
