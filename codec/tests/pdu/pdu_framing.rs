//! The tokio_util framing: exact `None`/`Some` sequences for frames fed byte by byte and at
//! every split, header errors raised before any allocation, bad bodies surfaced as
//! `Frame::Invalid` with the right status, and a real TCP exchange on loopback.

use bytes::{BufMut, Bytes, BytesMut};
use futures::{SinkExt, StreamExt};
use otpgate_codec::framing::{Frame, FramingError, SmppCodec, DEFAULT_MAX_PDU_LEN};
use otpgate_codec::pdu::*;
use tokio_util::codec::{Decoder, Encoder, FramedRead, FramedWrite};

fn sample_pdus() -> Vec<Pdu> {
    vec![
        Pdu::new(1, Body::EnquireLink),
        Pdu::new(
            2,
            Body::SubmitSm(SubmitSm {
                source: Address {
                    ton: 5,
                    npi: 0,
                    addr: "OTP".into(),
                },
                destination: Address {
                    ton: 1,
                    npi: 1,
                    addr: "15550001111".into(),
                },
                short_message: ShortMessage::from_static(b"code 424242"),
                tlvs: vec![Tlv::SarMsgRefNum(9), Tlv::SarTotalSegments(2)],
                ..Default::default()
            }),
        ),
        Pdu::new(
            3,
            Body::SubmitSmResp(SubmitSmResp {
                message_id: "a1b2".into(),
            }),
        ),
        Pdu::new(4, Body::UnbindResp),
    ]
}

fn wire(pdus: &[Pdu]) -> (BytesMut, Vec<usize>) {
    let mut buf = BytesMut::new();
    let mut ends = Vec::new();
    for p in pdus {
        SmppCodec::default().encode(p, &mut buf).expect("encodes");
        ends.push(buf.len());
    }
    (buf, ends)
}

fn frame(header: [u32; 4], body: &[u8]) -> BytesMut {
    let mut b = BytesMut::new();
    for w in header {
        b.put_u32(w);
    }
    b.put_slice(body);
    b
}

#[test]
fn byte_by_byte_gives_exact_none_some_sequence() {
    let pdus = sample_pdus();
    let (bytes, ends) = wire(&pdus);
    let mut codec = SmppCodec::default();
    let mut src = BytesMut::new();
    let mut got = Vec::new();
    for (i, b) in bytes.iter().enumerate() {
        src.put_u8(*b);
        let out = codec.decode(&mut src).expect("no framing error");
        if ends.contains(&(i + 1)) {
            got.push(out.expect("a frame completes here"));
            assert!(src.is_empty());
        } else {
            assert_eq!(out, None, "no frame may complete at octet {}", i + 1);
        }
    }
    let want: Vec<Frame> = pdus.into_iter().map(Frame::Pdu).collect();
    assert_eq!(got, want);
}

#[test]
fn every_split_point_yields_the_same_frames() {
    let pdus = sample_pdus();
    let (bytes, _) = wire(&pdus);
    let want: Vec<Frame> = pdus.into_iter().map(Frame::Pdu).collect();
    for split in 0..=bytes.len() {
        let mut codec = SmppCodec::default();
        let mut src = BytesMut::from(&bytes[..split]);
        let mut got = Vec::new();
        while let Some(f) = codec.decode(&mut src).expect("ok") {
            got.push(f);
        }
        src.extend_from_slice(&bytes[split..]);
        while let Some(f) = codec.decode(&mut src).expect("ok") {
            got.push(f);
        }
        assert_eq!(got, want, "split at {split}");
        assert!(codec.decode_eof(&mut src).expect("clean eof").is_none());
    }
}

#[test]
fn short_command_length_is_an_error_before_allocation() {
    let mut codec = SmppCodec::default();
    let mut src = BytesMut::from(&[0u8, 0, 0, 15][..]);
    let cap = src.capacity();
    let err = codec.decode(&mut src).unwrap_err();
    assert!(matches!(
        err,
        FramingError::CommandLengthTooShort { command_length: 15 }
    ));
    assert_eq!(src.capacity(), cap);
}

#[test]
fn oversized_command_length_is_an_error_before_allocation() {
    let mut codec = SmppCodec::new(1024);
    let mut src = BytesMut::from(&[0u8, 0, 4, 1, 0, 0][..]);
    let cap = src.capacity();
    let err = codec.decode(&mut src).unwrap_err();
    assert!(matches!(
        err,
        FramingError::CommandLengthTooLong {
            command_length: 1025,
            max: 1024
        }
    ));
    assert_eq!(src.capacity(), cap);
    let mut src = BytesMut::from(&[0xFFu8, 0xFF, 0xFF, 0xFF][..]);
    assert!(SmppCodec::default().decode(&mut src).is_err());
    assert_eq!(SmppCodec::default().max_pdu_len(), DEFAULT_MAX_PDU_LEN);
}

#[test]
fn cstring_without_nul_is_invalid_with_field_status() {
    // submit_sm whose source_addr runs 30 octets without a NUL.
    let mut body = vec![0u8, 1, 1];
    body.extend_from_slice(&[b'1'; 30]);
    let mut src = frame([16 + 33, command_id::SUBMIT_SM, 0, 77], &body);
    let Some(Frame::Invalid(bad)) = SmppCodec::default().decode(&mut src).expect("ok") else {
        panic!("expected an invalid frame");
    };
    assert_eq!(bad.command_id, command_id::SUBMIT_SM);
    assert_eq!(bad.sequence_number, 77);
    assert_eq!(
        bad.error,
        DecodeError::UnterminatedCString {
            field: Field::SourceAddr,
            offset: 19,
            max: 21
        }
    );
    assert_eq!(bad.command_status(), CommandStatus::ESME_RINVSRCADR);
    let nack = bad.generic_nack();
    assert_eq!(nack.body, Body::GenericNack);
    assert_eq!(nack.sequence_number, 77);
    assert_eq!(nack.command_status, CommandStatus::ESME_RINVSRCADR);
    assert!(src.is_empty(), "the bad frame is consumed whole");
}

#[test]
fn bind_with_long_system_id_is_invalid_sysid() {
    let body = [b'x'; 20];
    let mut src = frame([36, command_id::BIND_TRANSCEIVER, 0, 5], &body);
    let Some(Frame::Invalid(bad)) = SmppCodec::default().decode(&mut src).expect("ok") else {
        panic!("expected an invalid frame");
    };
    assert_eq!(bad.command_status(), CommandStatus::ESME_RINVSYSID);
}

#[test]
fn tlv_past_end_is_invalid() {
    // deliver_sm with every mandatory field empty, then a TLV claiming 10 octets but giving 2.
    let mut body = vec![0u8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    body.extend_from_slice(&[0x04, 0x24, 0x00, 0x0A, 0xAA, 0xBB]);
    let len = 16 + body.len() as u32;
    let mut src = frame([len, command_id::DELIVER_SM, 0, 8], &body);
    let Some(Frame::Invalid(bad)) = SmppCodec::default().decode(&mut src).expect("ok") else {
        panic!("expected an invalid frame");
    };
    assert_eq!(
        bad.error,
        DecodeError::TlvOverrun {
            tag: 0x0424,
            offset: 33,
            length: 10,
            available: 2
        }
    );
    assert_eq!(bad.command_status(), CommandStatus::ESME_RINVOPTPARSTREAM);
}

#[test]
fn short_message_past_end_is_invalid_msglen() {
    let mut body = vec![0u8; 16];
    body.push(50);
    body.extend_from_slice(b"short");
    let len = 16 + body.len() as u32;
    let mut src = frame([len, command_id::SUBMIT_SM, 0, 8], &body);
    let Some(Frame::Invalid(bad)) = SmppCodec::default().decode(&mut src).expect("ok") else {
        panic!("expected an invalid frame");
    };
    assert_eq!(bad.command_status(), CommandStatus::ESME_RINVMSGLEN);
}

#[test]
fn trailing_garbage_on_enquire_link_resp_is_accepted() {
    let mut src = frame([20, command_id::ENQUIRE_LINK_RESP, 0, 9], b"\0\0\0\0");
    let out = SmppCodec::default().decode(&mut src).expect("ok");
    assert_eq!(out, Some(Frame::Pdu(Pdu::new(9, Body::EnquireLinkResp))));
}

#[test]
fn empty_submit_sm_resp_is_accepted() {
    let mut src = frame([16, command_id::SUBMIT_SM_RESP, 0x45, 10], b"");
    let out = SmppCodec::default().decode(&mut src).expect("ok");
    assert_eq!(
        out,
        Some(Frame::Pdu(Pdu {
            command_status: CommandStatus::ESME_RSUBMITFAIL,
            sequence_number: 10,
            body: Body::SubmitSmResp(SubmitSmResp::default()),
        }))
    );
}

#[test]
fn unknown_command_is_kept_whole() {
    let mut src = frame([19, 0x0001_0000, 0, 11], b"xyz");
    let out = SmppCodec::default().decode(&mut src).expect("ok");
    assert_eq!(
        out,
        Some(Frame::Pdu(Pdu::new(
            11,
            Body::Unknown {
                command_id: 0x0001_0000,
                body: Bytes::from_static(b"xyz")
            }
        )))
    );
}

#[test]
fn eof_inside_a_pdu_is_an_error() {
    let mut src = BytesMut::from(&[0u8, 0, 0, 16, 0, 0][..]);
    assert!(matches!(
        SmppCodec::default().decode_eof(&mut src),
        Err(FramingError::Io(_))
    ));
}

#[tokio::test]
async fn pdus_cross_a_real_tcp_connection() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let pdus = sample_pdus();
    let to_send = pdus.clone();
    let client = tokio::spawn(async move {
        let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
        let mut w = FramedWrite::new(stream, SmppCodec::default());
        for p in to_send {
            w.send(p).await.expect("send");
        }
        // An over-long header must end the link on the other side.
        let inner = w.get_mut();
        tokio::io::AsyncWriteExt::write_all(inner, &[0, 1, 0, 0, 0, 0, 0, 0])
            .await
            .expect("write");
    });
    let (stream, _) = listener.accept().await.expect("accept");
    let mut r = FramedRead::new(stream, SmppCodec::new(4096));
    for p in pdus {
        let got = r.next().await.expect("a frame").expect("no error");
        assert_eq!(got, Frame::Pdu(p));
    }
    let err = r.next().await.expect("an item").unwrap_err();
    assert!(matches!(
        err,
        FramingError::CommandLengthTooLong {
            command_length: 0x0001_0000,
            max: 4096
        }
    ));
    client.await.expect("client task");
}
