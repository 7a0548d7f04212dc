//! Hand-written encode/decode cases: exact wire bytes for a few PDUs, round trips, encoder
//! rejections and the forgiving decodes real SMSCs need.

use bytes::{Bytes, BytesMut};
use otpgate_codec::pdu::field::Field;
use otpgate_codec::pdu::*;

fn encode(pdu: &Pdu) -> Bytes {
    let mut buf = BytesMut::new();
    encode_pdu(pdu, &mut buf).expect("encodes");
    buf.freeze()
}

fn roundtrip(pdu: Pdu) {
    let wire = encode(&pdu);
    assert_eq!(decode_pdu(wire).expect("decodes"), pdu);
}

fn sample_submit() -> SubmitSm {
    SubmitSm {
        service_type: "".into(),
        source: Address {
            ton: 5,
            npi: 0,
            addr: "OTPGATE".into(),
        },
        destination: Address {
            ton: 1,
            npi: 1,
            addr: "447700900123".into(),
        },
        registered_delivery: 1,
        short_message: ShortMessage::from_static(b"Your code is 123456"),
        tlvs: vec![Tlv::UserMessageReference(7)],
        ..Default::default()
    }
}

#[test]
fn enquire_link_exact_bytes() {
    let wire = encode(&Pdu::new(7, Body::EnquireLink));
    assert_eq!(
        &wire[..],
        &[0, 0, 0, 16, 0, 0, 0, 0x15, 0, 0, 0, 0, 0, 0, 0, 7]
    );
    assert_eq!(
        decode_pdu(wire).expect("decodes"),
        Pdu::new(7, Body::EnquireLink)
    );
}

#[test]
fn bind_transceiver_exact_bytes() {
    let pdu = Pdu::new(
        1,
        Body::BindTransceiver(Bind {
            system_id: "abc".into(),
            password: "pw".into(),
            system_type: "".into(),
            interface_version: 0x34,
            addr_ton: 0,
            addr_npi: 0,
            address_range: "".into(),
        }),
    );
    let wire = encode(&pdu);
    let mut want = vec![0, 0, 0, 28, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 1];
    want.extend_from_slice(b"abc\0pw\0\0\x34\0\0\0");
    assert_eq!(&wire[..], &want[..]);
    roundtrip(pdu);
}

#[test]
fn submit_sm_round_trips() {
    roundtrip(Pdu::new(42, Body::SubmitSm(sample_submit())));
    roundtrip(Pdu::new(43, Body::DeliverSm(sample_submit())));
}

#[test]
fn responses_round_trip() {
    roundtrip(Pdu::new(
        1,
        Body::SubmitSmResp(SubmitSmResp {
            message_id: "abc123".into(),
        }),
    ));
    roundtrip(Pdu::new(
        2,
        Body::BindTransmitterResp(BindResp {
            system_id: "SMSC".into(),
            tlvs: vec![Tlv::ScInterfaceVersion(0x34)],
        }),
    ));
    roundtrip(Pdu {
        command_status: CommandStatus::ESME_RTHROTTLED,
        sequence_number: 3,
        body: Body::GenericNack,
    });
}

#[test]
fn encoder_rejects_bad_values_and_leaves_buffer_alone() {
    let mut buf = BytesMut::from(&b"xy"[..]);
    let mut m = sample_submit();
    m.source.addr = "1234567890123456789012".into();
    let err = encode_pdu(&Pdu::new(1, Body::SubmitSm(m)), &mut buf).unwrap_err();
    assert_eq!(
        err,
        EncodeError::CStringTooLong {
            field: Field::SourceAddr,
            len: 22,
            max: 21
        }
    );
    // short_message cannot hold more than 254 octets: the constructor refuses, never cuts.
    assert_eq!(
        ShortMessage::try_from(vec![b'a'; 255]).unwrap_err(),
        ShortMessageTooLong { len: 255 }
    );
    let mut m = sample_submit();
    m.short_message = ShortMessage::try_from(vec![b'a'; 254]).unwrap();
    assert_eq!(m.short_message.len(), 254);
    let mut full = BytesMut::new();
    encode_pdu(&Pdu::new(1, Body::SubmitSm(m.clone())), &mut full).unwrap();
    assert_eq!(decode_pdu(&full[..]).unwrap().body, Body::SubmitSm(m));
    let mut m = sample_submit();
    m.service_type = COctetString::from_bytes(Bytes::from_static(b"a\0b"));
    let err = encode_pdu(&Pdu::new(1, Body::SubmitSm(m)), &mut buf).unwrap_err();
    assert_eq!(
        err,
        EncodeError::CStringContainsNul {
            field: Field::ServiceType
        }
    );
    assert_eq!(&buf[..], b"xy");
}

#[test]
fn empty_submit_sm_resp_on_error_is_accepted() {
    let wire = Bytes::from_static(&[0, 0, 0, 16, 0x80, 0, 0, 4, 0, 0, 0, 0x58, 0, 0, 0, 9]);
    let pdu = decode_pdu(wire).expect("decodes");
    assert_eq!(pdu.command_status, CommandStatus::ESME_RTHROTTLED);
    assert_eq!(pdu.body, Body::SubmitSmResp(SubmitSmResp::default()));
}

#[test]
fn message_id_without_nul_at_end_is_accepted() {
    let wire = Bytes::from_static(&[
        0, 0, 0, 19, 0x80, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 9, b'a', b'b', b'c',
    ]);
    let pdu = decode_pdu(wire).expect("decodes");
    assert_eq!(
        pdu.body,
        Body::SubmitSmResp(SubmitSmResp {
            message_id: "abc".into()
        })
    );
}
