//! Receipts recorded while the bind reads on: several deliver_sm in flight on one bind, each
//! answered only once its receipt is recorded (in the order they are recorded, not received),
//! and no more in flight than `[engine] receipts_in_flight` (the bind stops reading meanwhile).

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;
use futures::SinkExt;
use otpgate::dispatch::{DeliverySink, DeliveryUpdate, NotRecorded};
use otpgate::smpp::{EngineSettings, SmppEngine};
use otpgate_codec::pdu::{Body, CommandStatus, Pdu};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::support::smpp::*;

/// Records a receipt only once the test releases its message id, as a slow store would;
/// counts the receipts being recorded at once.
#[derive(Default)]
struct GatedSink {
    inner: RecordingSink,
    gates: Mutex<HashMap<String, Arc<Semaphore>>>,
    recording: AtomicUsize,
    most_recording: AtomicUsize,
}

impl GatedSink {
    fn gate(&self, id: &str) -> Arc<Semaphore> {
        let mut gates = self.gates.lock().unwrap();
        gates
            .entry(id.to_owned())
            .or_insert_with(|| Arc::new(Semaphore::new(0)))
            .clone()
    }

    fn release(&self, id: &str) {
        self.gate(id).add_permits(1);
    }

    fn recorded(&self, id: &str) -> bool {
        self.inner
            .count(|u| matches!(u, DeliveryUpdate::Receipt { message_id, .. } if message_id == id))
            == 1
    }
}

impl DeliverySink for GatedSink {
    fn on_update(&self, update: DeliveryUpdate) {
        self.inner.on_update(update);
    }

    fn record(&self, update: DeliveryUpdate) -> BoxFuture<'_, Result<(), NotRecorded>> {
        Box::pin(async move {
            let now = self.recording.fetch_add(1, Ordering::SeqCst) + 1;
            self.most_recording.fetch_max(now, Ordering::SeqCst);
            if let DeliveryUpdate::Receipt { message_id, .. } = &update {
                let gate = self.gate(message_id);
                let _released = gate.acquire().await.unwrap();
            }
            self.inner.on_update(update);
            self.recording.fetch_sub(1, Ordering::SeqCst);
            Ok(())
        })
    }
}

/// The next PDU that is not the engine's own enquire_link (answered on the way).
async fn next_answer(link: &mut ScriptedLink) -> Pdu {
    loop {
        let p = scripted_next(link).await;
        if p.body != Body::EnquireLink {
            return p;
        }
        link.send(Pdu::new(p.sequence_number, Body::EnquireLinkResp))
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn receipts_are_recorded_concurrently_and_answered_once_recorded_within_the_bound() {
    const BOUND: usize = 3;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sink = Arc::new(GatedSink::default());
    let cfg = smsc("gated", listener.local_addr().unwrap());
    let settings = EngineSettings {
        receipts_in_flight: BOUND,
        ..settings()
    };
    let engine = SmppEngine::start(vec![cfg], settings, sink.clone()).unwrap();
    let mut link = scripted_accept(&listener).await;

    // Five receipts at once, then an enquire_link: the bind reads the enquire_link only once
    // it has room for the fifth receipt, i.e. after two receipts were answered.
    let ids: Vec<String> = (1..=5).map(|n| format!("rcpt{n}")).collect();
    for (n, id) in (1u32..).zip(&ids) {
        link.send(Pdu::new(n, Body::DeliverSm(receipt_for(id))))
            .await
            .unwrap();
    }
    link.send(Pdu::new(100, Body::EnquireLink)).await.unwrap();

    // Three in flight together, none answered: none is recorded yet.
    eventually("the bound of receipts in flight reached", || {
        sink.recording.load(Ordering::SeqCst) == BOUND
    })
    .await;
    assert!(ids.iter().all(|id| !sink.recorded(id)));

    // The second recorded first: its answer goes out first, once recorded.
    sink.release("rcpt2");
    let p = next_answer(&mut link).await;
    assert_eq!(p.sequence_number, 2, "{p:?}");
    assert!(matches!(p.body, Body::DeliverSmResp(_)), "{p:?}");
    assert_eq!(p.command_status, CommandStatus::ESME_ROK);
    assert!(sink.recorded("rcpt2"));
    assert!(!sink.recorded("rcpt1"));

    // Room for one more: the fourth is taken, the bound holds.
    eventually("the fourth receipt taken", || {
        sink.recording.load(Ordering::SeqCst) == BOUND
    })
    .await;

    // The rest, released one at a time: each answer follows its recording.
    let mut answered = vec![2];
    let mut enquire_after = None;
    for (n, id) in [(1u32, "rcpt1"), (3, "rcpt3"), (5, "rcpt5"), (4, "rcpt4")] {
        sink.release(id);
        let p = loop {
            let p = next_answer(&mut link).await;
            if p.sequence_number == 100 {
                assert_eq!(p.body, Body::EnquireLinkResp, "{p:?}");
                enquire_after = Some(answered.len());
                continue;
            }
            break p;
        };
        assert_eq!(p.sequence_number, n, "{p:?}");
        assert!(matches!(p.body, Body::DeliverSmResp(_)), "{p:?}");
        assert_eq!(p.command_status, CommandStatus::ESME_ROK);
        assert!(sink.recorded(id));
        answered.push(n);
    }
    assert_eq!(answered, vec![2, 1, 3, 5, 4]);
    let enquire_after = enquire_after.expect("enquire_link answered before the last receipt");
    assert!(
        enquire_after >= 2,
        "enquire_link read after {enquire_after} receipts answered"
    );
    assert_eq!(sink.most_recording.load(Ordering::SeqCst), BOUND);
    assert_eq!(sink.inner.all().len(), 5);

    drop((link, listener));
    engine.shutdown(Duration::from_secs(2)).await;
}
