//! Conformance on published wire vectors from cloudhopper-smpp's test suite (the vectors of
//! python-smpplib and node-smpp are in `pdu_vectors_other.rs`). Each
//! vector names its source (repository and path). Canonical vectors must decode to the given
//! PDU and that PDU must encode back to the very same octets; sloppy ones must decode; broken
//! ones must be refused with the right command_status.

use bytes::{Bytes, BytesMut};
use otpgate_codec::framing::{Frame, FramingError, SmppCodec};
use otpgate_codec::pdu::*;
use tokio_util::codec::Decoder;

fn hex(s: &str) -> Bytes {
    Bytes::from(hex::decode(s).expect("vector is hex"))
}

fn addr(ton: u8, npi: u8, a: &str) -> Address {
    Address {
        ton,
        npi,
        addr: a.into(),
    }
}

fn pdu(status: u32, seq: u32, body: Body) -> Pdu {
    Pdu {
        command_status: CommandStatus(status),
        sequence_number: seq,
        body,
    }
}

/// Decodes to `want` and `want` encodes back to exactly the vector.
fn canonical(vector: &str, want: Pdu) {
    let wire = hex(vector);
    assert_eq!(
        decode_pdu(wire.clone()).as_ref(),
        Ok(&want),
        "decode {vector}"
    );
    let mut buf = BytesMut::new();
    encode_pdu(&want, &mut buf).expect("encodes");
    assert_eq!(
        hex::encode(&buf),
        vector.to_ascii_lowercase(),
        "encode {want:?}"
    );
}

fn decodes(vector: &str) -> Pdu {
    decode_pdu(hex(vector)).unwrap_or_else(|e| panic!("{vector} must decode: {e}"))
}

fn refused(vector: &str, status: CommandStatus) -> DecodeError {
    let err = decode_pdu(hex(vector)).expect_err("vector must be refused");
    assert_eq!(err.command_status(), status, "{err}");
    err
}

fn sms(body: Body) -> SubmitSm {
    match body {
        Body::SubmitSm(m) | Body::DeliverSm(m) => m,
        other => panic!("not a submit_sm/deliver_sm: {other:?}"),
    }
}

fn bind(system_id: &str, password: &str, ton: u8, npi: u8) -> Bind {
    Bind {
        system_id: system_id.into(),
        password: password.into(),
        system_type: "".into(),
        interface_version: 0x34,
        addr_ton: ton,
        addr_npi: npi,
        address_range: "".into(),
    }
}

fn bind_resp(system_id: &str, tlvs: Vec<Tlv>) -> BindResp {
    BindResp {
        system_id: system_id.into(),
        tlvs,
    }
}

const NETWORK_TYPES: [Tlv; 2] = [
    Tlv::Other {
        tag: tag::SOURCE_NETWORK_TYPE,
        value: Bytes::from_static(&[1]),
    },
    Tlv::Other {
        tag: tag::DEST_NETWORK_TYPE,
        value: Bytes::from_static(&[1]),
    },
];

// twitter-archive/cloudhopper-smpp src/test/java/com/cloudhopper/smpp/transcoder/PduDecoderTest.java
// and PduEncoderTest.java (decodeEnquireLink / encodeEnquireLink, *Resp, decodeUnbind, decodeGenericNak).
#[test]
fn cloudhopper_empty_bodies() {
    canonical(
        "0000001000000015000000000a342ee7",
        pdu(0, 171_192_039, Body::EnquireLink),
    );
    canonical(
        "0000001080000015000000000a342eed",
        pdu(0, 171_192_045, Body::EnquireLinkResp),
    );
    canonical(
        "0000001000000015000000007fffffff",
        pdu(0, 0x7fff_ffff, Body::EnquireLink),
    );
    canonical(
        "00000010000000150000000080000000",
        pdu(0, 0x8000_0000, Body::EnquireLink),
    );
    canonical("00000010000000060000000000000001", pdu(0, 1, Body::Unbind));
    canonical(
        "00000010800000060000000000000001",
        pdu(0, 1, Body::UnbindResp),
    );
    canonical(
        "00000010800000000000000100082a77",
        pdu(1, 535_159, Body::GenericNack),
    );
}

// twitter-archive/cloudhopper-smpp src/test/java/com/cloudhopper/smpp/transcoder/PduDecoderTest.java
// (decodeSubmitSmResp, decodeSubmitSmRespWithEmptyMessageId, decodeDeliverSmResp,
// decodeDataSmResp, decodeDeliverSMWithNotPerSpecSequenceNumberButNeedsToBeValid).
#[test]
fn cloudhopper_message_id_responses() {
    let id = || COctetString::from("94258431594");
    canonical(
        "0000001c80000004000000000a342ee1393432353834333135393400",
        pdu(
            0,
            171_192_033,
            Body::SubmitSmResp(SubmitSmResp { message_id: id() }),
        ),
    );
    canonical(
        "0000001180000004000000000a342ee100",
        pdu(0, 171_192_033, Body::SubmitSmResp(SubmitSmResp::default())),
    );
    canonical(
        "0000001c800000050000000000116ac7393432353834333135393400",
        pdu(
            0,
            1_141_447,
            Body::DeliverSmResp(DeliverSmResp { message_id: id() }),
        ),
    );
    canonical(
        "0000001c800001030000000000116ac7393432353834333135393400",
        pdu(
            0,
            1_141_447,
            Body::DataSmResp(DataSmResp {
                message_id: id(),
                tlvs: vec![],
            }),
        ),
    );
    canonical(
        "000000118000000500000000806A179B00",
        pdu(
            0,
            0x806A_179B,
            Body::DeliverSmResp(DeliverSmResp::default()),
        ),
    );
}

// twitter-archive/cloudhopper-smpp src/test/java/com/cloudhopper/smpp/transcoder/PduDecoderTest.java
// (decodeSubmitSmRespWithNoMessageId, decodeDeliverSmRespWithNoMessageId,
// decodeDataSmRespWithNoMessageId, decodeSubmitSmRespWithNoNullByteForMessageId): the sloppy
// forms real SMSCs send. Cloudhopper refuses the last one; otpgate keeps the message_id.
#[test]
fn cloudhopper_sloppy_responses_are_accepted() {
    let p = decodes("0000001080000004000000000a342ee1");
    assert_eq!(p.body, Body::SubmitSmResp(SubmitSmResp::default()));
    let p = decodes("00000010800000050000000000116ac7");
    assert_eq!(p.body, Body::DeliverSmResp(DeliverSmResp::default()));
    let p = decodes("00000010800001030000000000116ac7");
    assert_eq!(p.body, Body::DataSmResp(DataSmResp::default()));
    let p = decodes("0000001180000004000000000a342ee139");
    assert_eq!(
        p.body,
        Body::SubmitSmResp(SubmitSmResp {
            message_id: "9".into()
        })
    );
}

// twitter-archive/cloudhopper-smpp src/test/java/com/cloudhopper/smpp/transcoder/PduEncoderTest.java
// (encodeBindTransceiver*, encodeBindTransmitter, encodeBindReceiver, encodeBind*Resp*).
#[test]
fn cloudhopper_binds() {
    canonical(
        "00000023000000090000000000039951414c4c5f545700414c4c5f5457000034010200",
        pdu(
            0,
            235_857,
            Body::BindTransceiver(bind("ALL_TW", "ALL_TW", 1, 2)),
        ),
    );
    canonical(
        "00000023000000090000000000039951414c4c5f545700414c4c5f5457000034000000",
        pdu(
            0,
            235_857,
            Body::BindTransceiver(bind("ALL_TW", "ALL_TW", 0, 0)),
        ),
    );
    canonical(
        "0000002500000002000000000003995f747769747465720074776974746572000034000000",
        pdu(
            0,
            235_871,
            Body::BindTransmitter(bind("twitter", "twitter", 0, 0)),
        ),
    );
    canonical(
        "00000025000000010000000000039961747769747465720074776974746572000034000000",
        pdu(
            0,
            235_873,
            Body::BindReceiver(bind("twitter", "twitter", 0, 0)),
        ),
    );
    canonical(
        "0000001f800000090000000000039951536d73632053696d756c61746f7200",
        pdu(
            0,
            235_857,
            Body::BindTransceiverResp(bind_resp("Smsc Simulator", vec![])),
        ),
    );
    canonical(
        "00000015800000090000000e00004db3534d534300",
        pdu(
            0x0e,
            19_891,
            Body::BindTransceiverResp(bind_resp("SMSC", vec![])),
        ),
    );
    let v34 = || vec![Tlv::ScInterfaceVersion(0x34)];
    canonical(
        "0000001d800000090000000000039943536d7363204757000210000134",
        pdu(
            0,
            235_843,
            Body::BindTransceiverResp(bind_resp("Smsc GW", v34())),
        ),
    );
    canonical(
        "0000001d80000002000000000003995f54574954544552000210000134",
        pdu(
            0,
            235_871,
            Body::BindTransmitterResp(bind_resp("TWITTER", v34())),
        ),
    );
    canonical(
        "0000001d80000001000000000003996274776974746572000210000134",
        pdu(
            0,
            235_874,
            Body::BindReceiverResp(bind_resp("twitter", v34())),
        ),
    );
}

// twitter-archive/cloudhopper-smpp src/test/java/com/cloudhopper/smpp/transcoder/PduEncoderTest.java
// (encodeSubmitSm, encodeDeliverSm).
#[test]
fn cloudhopper_submit_and_deliver() {
    canonical(
        "00000039000000040000000000004FE80001013430343034000101343439353133363139323000000000000001000000084024232125262F3A",
        pdu(
            0,
            20_456,
            Body::SubmitSm(SubmitSm {
                source: addr(1, 1, "40404"),
                destination: addr(1, 1, "44951361920"),
                registered_delivery: 1,
                short_message: ShortMessage::try_from(hex("4024232125262f3a")).unwrap(),
                ..Default::default()
            }),
        ),
    );
    canonical(
        "000000400000000500000000000000030002013837363534333231000409343034303400000000000000000000084024232125262F3A000E0001010006000101",
        pdu(
            0,
            3,
            Body::DeliverSm(SubmitSm {
                source: addr(2, 1, "87654321"),
                destination: addr(4, 9, "40404"),
                short_message: ShortMessage::try_from(hex("4024232125262f3a")).unwrap(),
                tlvs: NETWORK_TYPES.to_vec(),
                ..Default::default()
            }),
        ),
    );
}

// twitter-archive/cloudhopper-smpp src/test/java/com/cloudhopper/smpp/transcoder/PduEncoderTest.java
// (encodeDeliverSmAsDeliveryReceipt): receipt text plus receipted_message_id and message_state.
#[test]
fn cloudhopper_delivery_receipt_with_tlvs() {
    let text = "69643A30303539313133393738207375623A30303120646C7672643A303031207375626D697420646174653A3130303231303137333020646F6E6520646174653A3130303231303137333120737461743A44454C49565244206572723A30303020746578743A4024232125262F3A";
    let mut tlvs = NETWORK_TYPES.to_vec();
    tlvs.push(Tlv::ReceiptedMessageId("38601fa".into()));
    tlvs.push(Tlv::MessageState(2));
    canonical(
        "000000BA00000005000000000000000200010134343935313336313932300001013430343034000400000000000000006E69643A30303539313133393738207375623A30303120646C7672643A303031207375626D697420646174653A3130303231303137333020646F6E6520646174653A3130303231303137333120737461743A44454C49565244206572723A30303020746578743A4024232125262F3A000E0001010006000101001E000833383630316661000427000102",
        pdu(
            0,
            2,
            Body::DeliverSm(SubmitSm {
                source: addr(1, 1, "44951361920"),
                destination: addr(1, 1, "40404"),
                esm_class: 4,
                short_message: ShortMessage::try_from(hex(text)).unwrap(),
                tlvs,
                ..Default::default()
            }),
        ),
    );
}

// twitter-archive/cloudhopper-smpp src/test/java/com/cloudhopper/smpp/transcoder/PduDecoderTest.java
// (decodeDeliverSmWithOptionalMessagePayload, decodeDeliverSmWithNoPayload,
// decodeDeliverSmWithDeliveryReceiptThatFailedFromEndToEnd, decodeDeliveryReceipt0, decodeDataSM).
#[test]
fn cloudhopper_deliver_sm_variants() {
    let m = sms(decodes("000000640000000500000000000547EB0002013434393531333631393200040934303430340000000000000000000000000E000101000600010104240026404D616964656E6D616E363634207761732069742073617070793F2026526F6D616E7469633F").body);
    assert_eq!(m.source, addr(2, 1, "4495136192"));
    assert!(m.short_message.is_empty());
    assert_eq!(
        m.tlvs.message_payload(),
        Some(&Bytes::from_static(
            b"@Maidenman664 was it sappy? &Romantic?"
        ))
    );

    let m = sms(decodes("0000003E000000050000000000657E4E0002013434393531333631393200040934303430340000000000000000000000000E000101000600010104240000").body);
    assert_eq!(m.tlvs.message_payload(), Some(&Bytes::new()));

    let p = decodes("000000A2000000050000000000116AD500010134343935313336313932303537000501475442616E6B000400000000010000006E69643A3934323531343330393233207375623A30303120646C7672643A303031207375626D697420646174653A3039313130343031323420646F6E6520646174653A3039313130343031323420737461743A41434345505444206572723A31303720746578743A20323646313032");
    assert_eq!(p.sequence_number, 1_141_461);
    let m = sms(p.body);
    assert_eq!(m.destination, addr(5, 1, "GTBank"));
    assert_eq!(m.esm_class, 4);
    assert_eq!(m.registered_delivery, 1);
    assert_eq!(m.short_message.len(), 110);
    assert!(m.short_message.starts_with(b"id:94251430923 sub:001"));
    assert!(m.tlvs.is_empty());

    let m = sms(decodes("000000EB00000005000000000000000100010134343935313336313932300000013430343034000400000000000003009069643A3132366538356136656465616331613032303230303939333132343739353634207375623A30303120646C7672643A303031207375626D697420646174653A3130303231393136333020646F6E6520646174653A3130303231393136333020737461743A44454C49565244206572723A30303020546578743A48656C6C6F2020202020202020202020202020200427000102001E0021313236653835613665646561633161303230323030393933313234373935363400").body);
    assert_eq!(m.data_coding, 3);
    assert_eq!(m.short_message.len(), 144);
    assert_eq!(m.tlvs.message_state(), Some(2));
    assert_eq!(
        m.tlvs.receipted_message_id(),
        Some(&COctetString::from("126e85a6edeac1a02020099312479564"))
    );

    canonical(
        "000000300000010300000000000000000001013535353237313030303000000139363935000001000424000454657374",
        pdu(
            0,
            0,
            Body::DataSm(DataSm {
                source: addr(1, 1, "5552710000"),
                destination: addr(0, 1, "9695"),
                registered_delivery: 1,
                tlvs: vec![Tlv::MessagePayload(Bytes::from_static(b"Test"))],
                ..Default::default()
            }),
        ),
    );
}

// twitter-archive/cloudhopper-smpp src/test/java/com/cloudhopper/smpp/transcoder/PduDecoderTest.java
// (decodeSubmitSmWith255ByteShortMessage, decodeDeliverSMWithCorrectTotalByteLengthButInvalid
// ShortMessageLength, decodeDeliverSmNetforsDeliveryReceiptTriggeredErrorInLegacySmppLibrary):
// sm_length 255 is outside SMPP 3.4's 0..254, a short_message and a TLV that run past the end.
#[test]
fn cloudhopper_broken_lengths_are_refused() {
    let text = "4c".repeat(255);
    let err = refused(
        &format!("00000130000000040000000000004FE80001013430343034000101343439353133363139323000000000000001000000FF{text}"),
        CommandStatus::ESME_RINVMSGLEN,
    );
    assert!(matches!(
        err,
        DecodeError::InvalidSmLength { sm_length: 255, .. }
    ));
    let err = refused(
        "00000039000000050000000000000001000101393939393139393134353933000000363436340000000000000000080010c1e1e9edf3faf1fc",
        CommandStatus::ESME_RINVMSGLEN,
    );
    assert!(matches!(
        err,
        DecodeError::ShortMessageOverrun {
            sm_length: 16,
            available: 8,
            ..
        }
    ));
    let err = refused(
        "000000a40000000500000000000000050001013233343830333337363831353100050056414e534f000400000000040000006369643a30303030303033303035207375623a30303120646c7672643a303031207375626d697420646174653a3130303131383134333120646f6e6520646174653a3130303131383134333120737461743a44454c49565244206572723a3030302074650427000102001e00413330303500",
        CommandStatus::ESME_RINVOPTPARSTREAM,
    );
    assert!(matches!(
        err,
        DecodeError::TlvOverrun {
            tag: 0x001E,
            length: 0x41,
            available: 5,
            ..
        }
    ));
}

// twitter-archive/cloudhopper-smpp src/test/java/com/cloudhopper/smpp/transcoder/PduDecoderTest.java
// (decodeBadPduButSkipAllDataInBuffer, decodeUnsupportedRequestCommandId, decodeSignedIntLength,
// decodeTwoEnquireLinkRespButWithReadRequiredInBetween): through the framing decoder.
#[test]
fn cloudhopper_streams() {
    let mut codec = SmppCodec::default();
    let mut src = BytesMut::from(
        &hex("0000001100000110000000000a342ee70F0000001000000015000000000a342ee7")[..],
    );
    assert_eq!(
        codec.decode(&mut src).expect("ok"),
        Some(Frame::Pdu(pdu(
            0,
            171_192_039,
            Body::Unknown {
                command_id: 0x110,
                body: Bytes::from_static(&[0x0f])
            }
        )))
    );
    assert_eq!(
        codec.decode(&mut src).expect("ok"),
        Some(Frame::Pdu(pdu(0, 171_192_039, Body::EnquireLink)))
    );

    let mut src = BytesMut::from(&hex("F000001100000110000000000a342ee7")[..]);
    assert!(matches!(
        codec.decode(&mut src),
        Err(FramingError::CommandLengthTooLong { .. })
    ));

    let mut src =
        BytesMut::from(&hex("0000001080000015000000000a342eed0000001080000015000000000a342e")[..]);
    assert!(codec.decode(&mut src).expect("ok").is_some());
    assert_eq!(codec.decode(&mut src).expect("ok"), None);
    assert_eq!(src.len(), 15);
    src.extend_from_slice(&[0xf1]);
    assert_eq!(
        codec.decode(&mut src).expect("ok"),
        Some(Frame::Pdu(pdu(0, 171_192_049, Body::EnquireLinkResp)))
    );
}
