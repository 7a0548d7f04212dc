//! The engine against a scripted SMSC written on the codec's framing, to check the wire
//! exactly: the bind it sends, the submit_sm fields, answers to enquire_link, unknown and
//! malformed PDUs, deliver_sm acknowledged only after the receipt is recorded (and answered
//! ESME_RX_T_APPN when it could not be), MO messages, SMSC-initiated unbind and a bad header.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::support::smpp::*;
use bytes::Bytes;
use futures::future::BoxFuture;
use futures::{SinkExt, StreamExt};
use otpgate::dispatch::{DeliverySink, DeliveryUpdate, Dispatcher, NotRecorded, ReceiptOutcome};
use otpgate::smpp::SmppEngine;
use otpgate_codec::framing::{Frame, SmppCodec};
use otpgate_codec::pdu::{
    Address, BindResp, Body, CommandStatus, DeliverSm, Pdu, ShortMessage, SubmitSmResp, Tlv,
};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::codec::Framed;

type Conn = Framed<TcpStream, SmppCodec>;

async fn next_pdu(c: &mut Conn) -> Pdu {
    match tokio::time::timeout(WAIT, c.next()).await {
        Ok(Some(Ok(Frame::Pdu(p)))) => p,
        other => panic!("expected a PDU, got {other:?}"),
    }
}

/// Accepts a connection and answers its bind; returns it with the bind request.
async fn accept_bound(l: &TcpListener) -> (Conn, Pdu) {
    let (s, _) = tokio::time::timeout(WAIT, l.accept())
        .await
        .unwrap()
        .unwrap();
    let mut c = Framed::new(s, SmppCodec::default());
    let bind = next_pdu(&mut c).await;
    let resp = Pdu::new(
        bind.sequence_number,
        Body::BindTransceiverResp(BindResp {
            system_id: "fake".into(),
            tlvs: vec![],
        }),
    );
    c.send(resp).await.unwrap();
    (c, bind)
}

#[tokio::test]
async fn wire_behaviour_against_a_scripted_smsc() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sink = sink();
    let mut cfg = smsc("fake", listener.local_addr().unwrap());
    cfg.system_type = "OTP".into();
    cfg.address_range = "^44".into();
    let engine = SmppEngine::start(vec![cfg], settings(), sink.clone()).unwrap();
    let (mut c, bind) = accept_bound(&listener).await;
    match &bind.body {
        Body::BindTransceiver(b) => {
            assert_eq!(b.interface_version, 0x34);
            assert_eq!(b.system_id.to_string(), "test");
            assert_eq!(b.password.to_string(), "secret");
            assert_eq!(b.system_type.to_string(), "OTP");
            assert_eq!(b.address_range.to_string(), "^44");
        }
        other => panic!("expected bind_transceiver, got {other:?}"),
    }

    // submit_sm: receipt requested, relative validity, TON/NPI from the addresses.
    engine.try_dispatch(sms(1)).unwrap();
    let submit = next_pdu(&mut c).await;
    let Body::SubmitSm(sm) = &submit.body else {
        panic!("expected submit_sm, got {submit:?}");
    };
    assert_eq!(sm.registered_delivery, 1);
    let v = sm.validity_period.to_string();
    assert!(v.len() == 16 && v.ends_with('R'), "validity {v}");
    assert!(v.starts_with("0000000009"), "about 10 minutes: {v}");
    assert_eq!((sm.source.ton, sm.source.npi), (5, 0));
    assert_eq!((sm.destination.ton, sm.destination.npi), (1, 1));
    assert_eq!(
        sm.destination.addr.to_string(),
        destination(1).trim_start_matches('+')
    );
    assert_ne!(submit.sequence_number, bind.sequence_number);
    let resp = Pdu::new(
        submit.sequence_number,
        Body::SubmitSmResp(SubmitSmResp {
            message_id: "abc123".into(),
        }),
    );
    c.send(resp).await.unwrap();
    sink.wait_final(1).await;
    assert_eq!(sink.submitted()[0].2, vec!["abc123".to_string()]);

    // enquire_link from the SMSC is answered.
    c.send(Pdu::new(900, Body::EnquireLink)).await.unwrap();
    let p = next_pdu(&mut c).await;
    assert_eq!((p.sequence_number, p.body), (900, Body::EnquireLinkResp));

    // An unknown command: generic_nack ESME_RINVCMDID.
    c.send(Pdu::new(
        901,
        Body::Unknown {
            command_id: 0x0000_0077,
            body: Bytes::new(),
        },
    ))
    .await
    .unwrap();
    let p = next_pdu(&mut c).await;
    assert_eq!(p.sequence_number, 901);
    assert_eq!(p.body, Body::GenericNack);
    assert_eq!(p.command_status, CommandStatus::ESME_RINVCMDID);

    // A deliver_sm whose body does not decode (a C-Octet string without its NUL).
    let mut raw = Vec::new();
    raw.extend_from_slice(&19u32.to_be_bytes());
    raw.extend_from_slice(&5u32.to_be_bytes());
    raw.extend_from_slice(&0u32.to_be_bytes());
    raw.extend_from_slice(&902u32.to_be_bytes());
    raw.extend_from_slice(b"abc");
    c.get_mut().write_all(&raw).await.unwrap();
    let p = next_pdu(&mut c).await;
    assert_eq!(p.sequence_number, 902);
    assert_eq!(p.body, Body::GenericNack);
    assert!(!p.command_status.is_ok());

    // A receipt: recorded in the sink before deliver_sm_resp comes back.
    let receipt = DeliverSm {
        source: Address {
            ton: 1,
            npi: 1,
            addr: "447700900001".into(),
        },
        esm_class: 0x04,
        short_message: ShortMessage::from_static(
            b"id:abc123 sub:001 dlvrd:001 submit date:2401011200 done date:2401011201 stat:DELIVRD err:000 text:",
        ),
        ..DeliverSm::default()
    };
    c.send(Pdu::new(903, Body::DeliverSm(receipt)))
        .await
        .unwrap();
    let p = next_pdu(&mut c).await;
    assert_eq!(p.sequence_number, 903);
    match &p.body {
        Body::DeliverSmResp(r) => assert!(r.message_id.is_empty()),
        other => panic!("expected deliver_sm_resp, got {other:?}"),
    }
    assert!(sink.all().contains(&DeliveryUpdate::Receipt {
        smsc: "fake".into(),
        message_id: "abc123".into(),
        outcome: ReceiptOutcome::Delivered,
        error: None,
    }));

    // A mobile-originated message: acknowledged, not a receipt.
    let mo = DeliverSm {
        short_message: ShortMessage::from_static(b"STOP"),
        tlvs: vec![Tlv::UserMessageReference(1)],
        ..DeliverSm::default()
    };
    let before = sink.all().len();
    c.send(Pdu::new(904, Body::DeliverSm(mo))).await.unwrap();
    let p = next_pdu(&mut c).await;
    assert_eq!(p.sequence_number, 904);
    assert!(matches!(p.body, Body::DeliverSmResp(_)));
    assert_eq!(sink.all().len(), before);

    // The SMSC unbinds: unbind_resp, then a new bind.
    c.send(Pdu::new(905, Body::Unbind)).await.unwrap();
    let p = next_pdu(&mut c).await;
    assert_eq!((p.sequence_number, p.body), (905, Body::UnbindResp));
    drop(c);
    let (mut c, _) = accept_bound(&listener).await;

    // A header that cannot be trusted closes the link; the engine binds again.
    c.get_mut()
        .write_all(&[0, 0, 0, 4, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 1])
        .await
        .unwrap();
    let closed = tokio::time::timeout(WAIT, async {
        loop {
            match c.next().await {
                None | Some(Err(_)) => return,
                Some(Ok(_)) => {}
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "link not closed after a bad header");
    let (_c, _) = accept_bound(&listener).await;
    eventually("bind up again", || engine.binds_up() == 1).await;
    engine.shutdown(Duration::from_secs(2)).await;
}

/// Gives up the first receipt it is asked to record, as a sink whose store is unavailable
/// would; records the others.
#[derive(Default)]
struct FailsFirstReceipt {
    inner: RecordingSink,
    failed: AtomicBool,
}

impl DeliverySink for FailsFirstReceipt {
    fn on_update(&self, update: DeliveryUpdate) {
        self.inner.on_update(update);
    }

    fn record(&self, update: DeliveryUpdate) -> BoxFuture<'_, Result<(), NotRecorded>> {
        if !self.failed.swap(true, Ordering::SeqCst) {
            return Box::pin(std::future::ready(Err(NotRecorded)));
        }
        self.inner.record(update)
    }
}

#[tokio::test]
async fn a_receipt_that_could_not_be_recorded_is_delivered_again() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sink = Arc::new(FailsFirstReceipt::default());
    let cfg = smsc("fake", listener.local_addr().unwrap());
    let engine = SmppEngine::start(vec![cfg], settings(), sink.clone()).unwrap();
    let (mut c, _) = accept_bound(&listener).await;
    let receipt = DeliveryUpdate::Receipt {
        smsc: "fake".into(),
        message_id: "abc123".into(),
        outcome: ReceiptOutcome::Delivered,
        error: None,
    };

    // The sink gives the receipt up: ESME_RX_T_APPN, so that the SMSC delivers it again.
    c.send(Pdu::new(10, Body::DeliverSm(receipt_for("abc123"))))
        .await
        .unwrap();
    let p = next_pdu(&mut c).await;
    assert_eq!(p.sequence_number, 10);
    assert!(matches!(p.body, Body::DeliverSmResp(_)), "{p:?}");
    assert_eq!(p.command_status, CommandStatus(0x0000_0064));
    assert!(!sink.inner.all().contains(&receipt));

    // Delivered again, it is recorded and acknowledged.
    c.send(Pdu::new(11, Body::DeliverSm(receipt_for("abc123"))))
        .await
        .unwrap();
    let p = next_pdu(&mut c).await;
    assert_eq!(p.sequence_number, 11);
    assert!(matches!(p.body, Body::DeliverSmResp(_)), "{p:?}");
    assert_eq!(p.command_status, CommandStatus::ESME_ROK);
    assert_eq!(sink.inner.all(), vec![receipt]);
    // Gone before the engine stops, so that it does not wait for an unbind_resp.
    drop((c, listener));
    engine.shutdown(Duration::from_secs(2)).await;
}
