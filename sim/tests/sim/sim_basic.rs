//! Simulator over real TCP: binds, submit_sm answers, message ids, reassembly, counters.

use crate::common;

use common::{sms, start, Client, Kind};
use otpgate_codec::pdu::{Body, CommandStatus, ShortMessage, SubmitSm};
use otpgate_sim::{AccountConfig, MessageIdFormat, SimConfig};

#[tokio::test]
async fn binds_check_credentials() {
    let mut config = SimConfig::default();
    config.accounts[0].max_binds = Some(2);
    let sim = start(config).await;
    let addr = sim.local_addr();
    for kind in [Kind::Tx, Kind::Rx] {
        let mut c = Client::connect(addr).await;
        assert_eq!(
            c.bind(kind, "test", "secret").await,
            CommandStatus::ESME_ROK
        );
        assert_eq!(
            c.bind(kind, "test", "secret").await,
            CommandStatus::ESME_RALYBND
        );
        std::mem::forget(c);
    }
    let mut c = Client::connect(addr).await;
    assert_eq!(
        c.bind(Kind::Trx, "test", "secret").await,
        CommandStatus::ESME_RBINDFAIL
    );
    assert_eq!(
        c.bind(Kind::Trx, "nobody", "secret").await,
        CommandStatus::ESME_RINVSYSID
    );
    assert_eq!(
        c.bind(Kind::Trx, "test", "wrong").await,
        CommandStatus::ESME_RINVPASWD
    );

    sim.set_password("test", "newpw");
    sim.set_accounts(vec![AccountConfig::new("other", "pw")]);
    let mut c2 = Client::connect(addr).await;
    assert_eq!(
        c2.bind(Kind::Trx, "test", "secret").await,
        CommandStatus::ESME_RINVSYSID
    );
    assert_eq!(
        c2.bind(Kind::Trx, "other", "pw").await,
        CommandStatus::ESME_ROK
    );

    let n = sim.counters();
    assert_eq!(
        (n.binds_transmitter, n.binds_receiver, n.binds_transceiver),
        (1, 1, 1)
    );
    assert_eq!(n.bind_failures, 6);
}

#[tokio::test]
async fn submit_before_bind_and_on_receiver_is_refused() {
    let sim = start(SimConfig::default()).await;
    let mut c = Client::connect(sim.local_addr()).await;
    c.submit(sms("447700900001", "hi", 0)).await;
    let r = c.recv().await.unwrap();
    assert_eq!(r.command_status, CommandStatus::ESME_RINVBNDSTS);
    let mut rx = Client::bound(sim.local_addr(), Kind::Rx).await;
    rx.submit(sms("447700900001", "hi", 0)).await;
    assert_eq!(
        rx.recv().await.unwrap().command_status,
        CommandStatus::ESME_RINVBNDSTS
    );
    assert_eq!(sim.counters().invalid_bind_state, 2);
}

async fn submit_id(format: MessageIdFormat) -> Vec<String> {
    let mut config = SimConfig::default();
    config.behaviour.message_id = format;
    let sim = start(config).await;
    let mut c = Client::bound(sim.local_addr(), Kind::Trx).await;
    let mut ids = Vec::new();
    for i in 0..20 {
        let seq = c.submit(sms("447700900001", &format!("m{i}"), 0)).await;
        let r = c.recv().await.unwrap();
        assert_eq!(r.sequence_number, seq);
        assert_eq!(r.command_status, CommandStatus::ESME_ROK);
        let Body::SubmitSmResp(resp) = r.body else {
            panic!("expected submit_sm_resp, got {r:?}")
        };
        ids.push(resp.message_id.to_string());
    }
    ids
}

#[tokio::test]
async fn submit_sm_resp_ids_follow_format() {
    let hex = submit_id(MessageIdFormat::Hex).await;
    assert!(hex.iter().all(|i| i.chars().all(|c| c.is_ascii_hexdigit())));
    assert!(hex
        .iter()
        .any(|i| i.chars().any(|c| c.is_ascii_lowercase())));
    let dec = submit_id(MessageIdFormat::Decimal).await;
    assert!(dec.iter().all(|i| i.parse::<u64>().is_ok()));
    assert_eq!(
        dec.len(),
        dec.iter().collect::<std::collections::HashSet<_>>().len()
    );
}

#[tokio::test]
async fn enquire_link_and_unbind_answered() {
    let sim = start(SimConfig::default()).await;
    let mut c = Client::bound(sim.local_addr(), Kind::Trx).await;
    let seq = c.send(Body::EnquireLink).await;
    let r = c.recv().await.unwrap();
    assert_eq!((r.sequence_number, r.body), (seq, Body::EnquireLinkResp));
    let seq = c.send(Body::Unbind).await;
    let r = c.recv().await.unwrap();
    assert_eq!((r.sequence_number, r.body), (seq, Body::UnbindResp));
    assert!(c.recv().await.is_none(), "link closed after unbind");
    let n = sim.counters();
    assert_eq!((n.enquire_links, n.unbinds), (1, 1));
}

#[tokio::test]
async fn malformed_body_and_unknown_command_get_generic_nack() {
    let sim = start(SimConfig::default()).await;
    let mut c = Client::bound(sim.local_addr(), Kind::Trx).await;
    // submit_sm whose body is cut short: a sound header over two octets.
    c.send_raw(&[0, 0, 0, 18, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 9, b'a', b'b'])
        .await;
    let r = c.recv().await.unwrap();
    assert_eq!(r.body, Body::GenericNack);
    assert_eq!(r.sequence_number, 9);
    assert!(!r.command_status.is_ok());
    // An unknown command id.
    c.send_raw(&[0, 0, 0, 16, 0, 0, 0x7F, 0x7F, 0, 0, 0, 0, 0, 0, 0, 10])
        .await;
    let r = c.recv().await.unwrap();
    assert_eq!(
        (r.body, r.command_status, r.sequence_number),
        (Body::GenericNack, CommandStatus::ESME_RINVCMDID, 10)
    );
    // The session goes on.
    c.submit(sms("447700900001", "still here", 0)).await;
    assert!(c.recv().await.unwrap().command_status.is_ok());
    // A header with command_length below 16 closes the link.
    c.send_raw(&[0, 0, 0, 4, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 11])
        .await;
    assert!(c.recv().await.is_none());
    let n = sim.counters();
    assert_eq!((n.generic_nacks, n.framing_errors), (2, 1));
}

fn part(to: &str, reference: u8, total: u8, seq: u8, text: &str) -> SubmitSm {
    let mut sm = sms(to, "", 0);
    let mut data = vec![5, 0, 3, reference, total, seq];
    data.extend_from_slice(text.as_bytes());
    sm.esm_class = 0x40;
    sm.short_message = ShortMessage::try_from(data).unwrap();
    sm
}

#[tokio::test]
async fn concatenated_message_is_reassembled_and_counted() {
    let sim = start(SimConfig::default()).await;
    let mut c = Client::bound(sim.local_addr(), Kind::Trx).await;
    // Parts out of order, interleaved with a single-part message to another number.
    c.submit(part("447700900002", 7, 3, 2, "code is ")).await;
    c.submit(sms("447700900003", "Your verification code is 111111", 0))
        .await;
    c.submit(part("447700900002", 7, 3, 1, "Your verification "))
        .await;
    c.submit(part("447700900002", 7, 3, 3, "654321")).await;
    c.submit(sms("447700900003", "Your verification code is 111111", 0))
        .await;
    for _ in 0..5 {
        assert!(c.recv().await.unwrap().command_status.is_ok());
    }
    let m = sim
        .wait_for_message("+447700900002", 0, common::WAIT)
        .await
        .expect("reassembled");
    assert_eq!(m.text, "Your verification code is 654321");
    assert_eq!(m.parts, 3);
    assert_eq!(m.message_ids.len(), 3);
    assert_eq!(m.source, "Verify");
    let n = sim.counters();
    assert_eq!(
        (n.submit_sm, n.parts, n.messages, n.duplicates),
        (5, 5, 3, 1)
    );
    assert_eq!(n.per_destination.get("447700900002"), Some(&1));
    assert_eq!(n.per_destination.get("447700900003"), Some(&2));
    assert_eq!(sim.messages().len(), 3);
    assert!(sim.messages_to("447700900003")[1].duplicate);
}

#[tokio::test]
async fn ucs2_text_is_decoded() {
    let sim = start(SimConfig::default()).await;
    let mut c = Client::bound(sim.local_addr(), Kind::Trx).await;
    let mut sm = sms("359888000001", "", 0);
    sm.data_coding = 8;
    sm.short_message = "Вашият код е 424242"
        .encode_utf16()
        .flat_map(u16::to_be_bytes)
        .collect::<Vec<u8>>()
        .try_into()
        .unwrap();
    c.submit(sm).await;
    assert!(c.recv().await.unwrap().command_status.is_ok());
    let m = sim
        .wait_for_message("359888000001", 0, common::WAIT)
        .await
        .unwrap();
    assert_eq!(m.text, "Вашият код е 424242");
    assert_eq!(m.data_coding, 8);
}
