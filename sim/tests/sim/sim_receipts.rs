//! Delivery receipts over real TCP: delay, state mix, id formats, text and TLV carriers,
//! routing to a receiver of the same account; the HTTP counters endpoint and capture file.

use crate::common;

use std::time::{Duration, Instant};

use common::{sms, start, Client, Kind};
use futures::SinkExt;
use otpgate_codec::pdu::{Body, DeliverSmResp, Pdu, Tlv, TlvList};
use otpgate_sim::{
    CountersSnapshot, Latency, MessageIdFormat, ReceiptCarrier, ReceiptStat, SimConfig,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn config(format: MessageIdFormat, carrier: ReceiptCarrier, stat: ReceiptStat) -> SimConfig {
    let mut c = SimConfig::default();
    c.behaviour.message_id = format;
    c.behaviour.receipts.carrier = carrier;
    c.behaviour.receipts.mix = otpgate_sim::ReceiptMix::only(stat);
    c.behaviour.receipts.delay = Latency::Fixed {
        value: Duration::from_millis(150),
    };
    c
}

/// Submits on a transmitter, reads the receipt on a receiver; returns (resp id, receipt).
async fn one_receipt(config: SimConfig) -> (String, otpgate_codec::pdu::DeliverSm, Duration) {
    let sim = start(config).await;
    let mut rx = Client::bound(sim.local_addr(), Kind::Rx).await;
    let mut tx = Client::bound(sim.local_addr(), Kind::Tx).await;
    let t0 = Instant::now();
    tx.submit(sms("447700900009", "Your code is 123456", 1))
        .await;
    let r = tx.recv().await.unwrap();
    let Body::SubmitSmResp(resp) = r.body else {
        panic!("{r:?}")
    };
    let d = rx.recv().await.unwrap();
    let waited = t0.elapsed();
    let Body::DeliverSm(deliver) = d.body else {
        panic!("{d:?}")
    };
    rx.framed
        .send(Pdu::new(
            d.sequence_number,
            Body::DeliverSmResp(DeliverSmResp::default()),
        ))
        .await
        .unwrap();
    // The ack is counted once the simulator has read it.
    for _ in 0..100 {
        if sim.counters().receipts_acked == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let n = sim.counters();
    assert_eq!((n.receipts_sent, n.receipts_acked), (1, 1));
    (resp.message_id.to_string(), deliver, waited)
}

fn text(d: &otpgate_codec::pdu::DeliverSm) -> String {
    String::from_utf8(d.short_message.to_vec()).unwrap()
}

#[tokio::test]
async fn receipt_after_delay_with_text_and_tlvs() {
    let (id, d, waited) = one_receipt(config(
        MessageIdFormat::Hex,
        ReceiptCarrier::Both,
        ReceiptStat::DELIVRD,
    ))
    .await;
    assert!(waited >= Duration::from_millis(150), "{waited:?}");
    assert_eq!(d.esm_class & 0x3C, 0x04);
    assert_eq!(d.source.addr.as_bytes(), b"447700900009");
    let t = text(&d);
    assert!(t.starts_with(&format!("id:{id} sub:001 dlvrd:001 ")), "{t}");
    assert!(
        t.contains(" stat:DELIVRD err:000 text:Your code is 123456"),
        "{t}"
    );
    assert_eq!(d.tlvs.receipted_message_id().unwrap().to_string(), id);
    assert_eq!(d.tlvs.message_state(), Some(2));
}

#[tokio::test]
async fn receipt_tlv_only_with_failure_state() {
    let (id, d, _) = one_receipt(config(
        MessageIdFormat::Decimal,
        ReceiptCarrier::Tlv,
        ReceiptStat::UNDELIV,
    ))
    .await;
    assert!(id.parse::<u64>().is_ok());
    assert!(d.short_message.is_empty());
    assert_eq!(d.tlvs.receipted_message_id().unwrap().to_string(), id);
    assert_eq!(d.tlvs.message_state(), Some(5));
    assert!(d
        .tlvs
        .iter()
        .any(|t| matches!(t, Tlv::NetworkErrorCode { .. })));
}

#[tokio::test]
async fn mixed_ids_hex_in_resp_decimal_in_text() {
    let (id, d, _) = one_receipt(config(
        MessageIdFormat::Mixed,
        ReceiptCarrier::Text,
        ReceiptStat::EXPIRED,
    ))
    .await;
    let n = u64::from_str_radix(&id, 16).unwrap();
    let t = text(&d);
    assert!(t.starts_with(&format!("id:{n} ")), "{t} vs {id}");
    assert!(t.contains("stat:EXPIRED"));
    assert!(d.tlvs.is_empty());
}

#[tokio::test]
async fn no_receipt_unless_requested_and_transceiver_receives_its_own() {
    let sim = start(config(
        MessageIdFormat::Hex,
        ReceiptCarrier::Both,
        ReceiptStat::DELIVRD,
    ))
    .await;
    let mut c = Client::bound(sim.local_addr(), Kind::Trx).await;
    c.submit(sms("447700900009", "no receipt", 0)).await;
    c.submit(sms("447700900009", "failure only", 2)).await;
    c.submit(sms("447700900009", "receipt", 1)).await;
    for _ in 0..3 {
        assert!(matches!(
            c.recv().await.unwrap().body,
            Body::SubmitSmResp(_)
        ));
    }
    let d = c.recv().await.unwrap();
    let Body::DeliverSm(d) = d.body else {
        panic!("{d:?}")
    };
    assert!(text(&d).ends_with("text:receipt"));
    assert!(c.recv_within(Duration::from_millis(400)).await.is_none());
    assert_eq!(sim.counters().receipts_sent, 1);
}

async fn http_get(addr: std::net::SocketAddr, path: &str) -> String {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    assert!(out.starts_with("HTTP/1.1 200"), "{out}");
    out.split_once("\r\n\r\n").unwrap().1.to_owned()
}

#[tokio::test]
async fn counters_and_messages_over_http_and_capture_file() {
    let dir = std::env::temp_dir().join(format!("otpgate-sim-capture-{}", std::process::id()));
    let config = SimConfig {
        capture: Some(dir.clone()),
        ..Default::default()
    };
    let sim = start(config).await;
    let http = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let http_addr = http.local_addr().unwrap();
    sim.serve_http(http);
    let mut c = Client::bound(sim.local_addr(), Kind::Trx).await;
    c.submit(sms("447700900042", "Your verification code is 987654", 0))
        .await;
    assert!(c.recv().await.unwrap().command_status.is_ok());

    let counters: CountersSnapshot =
        serde_json::from_str(&http_get(http_addr, "/counters").await).unwrap();
    assert_eq!(counters, sim.counters());
    assert_eq!((counters.submit_sm, counters.messages), (1, 1));
    let msgs: Vec<otpgate_sim::ReceivedMessage> =
        serde_json::from_str(&http_get(http_addr, "/messages?to=%2B447700900042").await).unwrap();
    assert_eq!(msgs.len(), 1);
    assert_eq!(msgs[0].text, "Your verification code is 987654");
    let none: Vec<otpgate_sim::ReceivedMessage> =
        serde_json::from_str(&http_get(http_addr, "/messages?to=1").await).unwrap();
    assert!(none.is_empty());

    sim.shutdown().await;
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&dir)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let _ = std::fs::remove_file(&dir);
    assert_eq!(lines.iter().filter(|l| l["type"] == "pdu").count(), 2);
    let msg = lines.iter().find(|l| l["type"] == "message").unwrap();
    assert_eq!(msg["text"], "Your verification code is 987654");
    let submit = lines
        .iter()
        .find(|l| l["command_id"] == "0x00000004")
        .unwrap();
    assert_eq!(submit["destination"], "447700900042");
}
