//! Property tests: every PDU type round-trips through encode and decode and through the
//! framing decoder fed byte by byte; arbitrary and mutated frames never panic the decoder, and
//! whatever decodes re-encodes to something that decodes to the same PDU.

use bytes::{Bytes, BytesMut};
use otpgate_codec::framing::{Frame, SmppCodec};
use otpgate_codec::pdu::*;
use proptest::collection::vec;
use proptest::prelude::*;
use tokio_util::codec::Decoder;

fn cstr(max: usize) -> impl Strategy<Value = COctetString> {
    vec(1u8..=255, 0..max).prop_map(|v| COctetString::from_bytes(Bytes::from(v)))
}

fn octets(max: usize) -> impl Strategy<Value = Bytes> {
    vec(any::<u8>(), 0..=max).prop_map(Bytes::from)
}

fn address(max: usize) -> impl Strategy<Value = Address> {
    (any::<u8>(), any::<u8>(), cstr(max)).prop_map(|(ton, npi, addr)| Address { ton, npi, addr })
}

const TYPED_TAGS: [u16; 12] = [
    tag::MESSAGE_PAYLOAD,
    tag::SAR_MSG_REF_NUM,
    tag::SAR_TOTAL_SEGMENTS,
    tag::SAR_SEGMENT_SEQNUM,
    tag::RECEIPTED_MESSAGE_ID,
    tag::MESSAGE_STATE,
    tag::NETWORK_ERROR_CODE,
    tag::USER_MESSAGE_REFERENCE,
    tag::SC_INTERFACE_VERSION,
    tag::PAYLOAD_TYPE,
    tag::DELIVERY_FAILURE_REASON,
    tag::ADDITIONAL_STATUS_INFO_TEXT,
];

fn tlv() -> impl Strategy<Value = Tlv> {
    prop_oneof![
        octets(300).prop_map(Tlv::MessagePayload),
        any::<u16>().prop_map(Tlv::SarMsgRefNum),
        any::<u8>().prop_map(Tlv::SarTotalSegments),
        any::<u8>().prop_map(Tlv::SarSegmentSeqnum),
        cstr(65).prop_map(Tlv::ReceiptedMessageId),
        any::<u8>().prop_map(Tlv::MessageState),
        (any::<u8>(), any::<u16>()).prop_map(|(network_type, error_code)| {
            Tlv::NetworkErrorCode {
                network_type,
                error_code,
            }
        }),
        any::<u16>().prop_map(Tlv::UserMessageReference),
        any::<u8>().prop_map(Tlv::ScInterfaceVersion),
        any::<u8>().prop_map(Tlv::PayloadType),
        any::<u8>().prop_map(Tlv::DeliveryFailureReason),
        cstr(256).prop_map(Tlv::AdditionalStatusInfoText),
        (
            any::<u16>().prop_filter("untyped tag", |t| !TYPED_TAGS.contains(t)),
            octets(40)
        )
            .prop_map(|(tag, value)| Tlv::Other { tag, value }),
    ]
}

fn tlvs() -> impl Strategy<Value = Vec<Tlv>> {
    vec(tlv(), 0..5)
}

fn short_message() -> impl Strategy<Value = ShortMessage> {
    octets(254).prop_map(|b| ShortMessage::try_from(b).expect("at most 254 octets"))
}

fn bind() -> impl Strategy<Value = Bind> {
    (cstr(16), cstr(9), cstr(13), any::<[u8; 3]>(), cstr(41)).prop_map(
        |(system_id, password, system_type, b, address_range)| Bind {
            system_id,
            password,
            system_type,
            interface_version: b[0],
            addr_ton: b[1],
            addr_npi: b[2],
            address_range,
        },
    )
}

fn bind_resp() -> impl Strategy<Value = BindResp> {
    (cstr(16), tlvs()).prop_map(|(system_id, tlvs)| BindResp { system_id, tlvs })
}

fn submit_sm() -> impl Strategy<Value = SubmitSm> {
    (
        (cstr(6), address(21), address(21)),
        (any::<[u8; 7]>(), cstr(17), cstr(17)),
        (short_message(), tlvs()),
    )
        .prop_map(|((st, src, dst), (f, sched, valid), (sm, tlvs))| SubmitSm {
            service_type: st,
            source: src,
            destination: dst,
            esm_class: f[0],
            protocol_id: f[1],
            priority_flag: f[2],
            schedule_delivery_time: sched,
            validity_period: valid,
            registered_delivery: f[3],
            replace_if_present_flag: f[4],
            data_coding: f[5],
            sm_default_msg_id: f[6],
            short_message: sm,
            tlvs,
        })
}

fn submit_multi() -> impl Strategy<Value = SubmitMulti> {
    let dest = prop_oneof![
        address(21).prop_map(MultiDestination::Sme),
        cstr(21).prop_map(MultiDestination::DistributionList),
    ];
    (submit_sm(), vec(dest, 0..10)).prop_map(|(m, destinations)| SubmitMulti {
        service_type: m.service_type,
        source: m.source,
        destinations,
        esm_class: m.esm_class,
        protocol_id: m.protocol_id,
        priority_flag: m.priority_flag,
        schedule_delivery_time: m.schedule_delivery_time,
        validity_period: m.validity_period,
        registered_delivery: m.registered_delivery,
        replace_if_present_flag: m.replace_if_present_flag,
        data_coding: m.data_coding,
        sm_default_msg_id: m.sm_default_msg_id,
        short_message: m.short_message,
        tlvs: m.tlvs,
    })
}

fn submit_multi_resp() -> impl Strategy<Value = SubmitMultiResp> {
    let sme = (address(21), any::<u32>()).prop_map(|(address, s)| UnsuccessfulSme {
        address,
        error_status_code: CommandStatus(s),
    });
    (cstr(65), vec(sme, 0..6)).prop_map(|(message_id, unsuccess_smes)| SubmitMultiResp {
        message_id,
        unsuccess_smes,
    })
}

fn data_sm() -> impl Strategy<Value = DataSm> {
    (cstr(6), address(65), address(65), any::<[u8; 3]>(), tlvs()).prop_map(
        |(service_type, source, destination, f, tlvs)| DataSm {
            service_type,
            source,
            destination,
            esm_class: f[0],
            registered_delivery: f[1],
            data_coding: f[2],
            tlvs,
        },
    )
}

fn replace_sm() -> impl Strategy<Value = ReplaceSm> {
    (
        cstr(65),
        address(21),
        cstr(17),
        cstr(17),
        any::<[u8; 2]>(),
        short_message(),
    )
        .prop_map(|(message_id, source, sched, valid, f, sm)| ReplaceSm {
            message_id,
            source,
            schedule_delivery_time: sched,
            validity_period: valid,
            registered_delivery: f[0],
            sm_default_msg_id: f[1],
            short_message: sm,
        })
}

const KNOWN_IDS: [u32; 27] = {
    use command_id::*;
    [
        GENERIC_NACK,
        BIND_RECEIVER,
        BIND_RECEIVER_RESP,
        BIND_TRANSMITTER,
        BIND_TRANSMITTER_RESP,
        QUERY_SM,
        QUERY_SM_RESP,
        SUBMIT_SM,
        SUBMIT_SM_RESP,
        DELIVER_SM,
        DELIVER_SM_RESP,
        UNBIND,
        UNBIND_RESP,
        REPLACE_SM,
        REPLACE_SM_RESP,
        CANCEL_SM,
        CANCEL_SM_RESP,
        BIND_TRANSCEIVER,
        BIND_TRANSCEIVER_RESP,
        OUTBIND,
        ENQUIRE_LINK,
        ENQUIRE_LINK_RESP,
        SUBMIT_MULTI,
        SUBMIT_MULTI_RESP,
        ALERT_NOTIFICATION,
        DATA_SM,
        DATA_SM_RESP,
    ]
};

fn body() -> impl Strategy<Value = Body> {
    prop_oneof![
        bind().prop_map(Body::BindTransmitter),
        bind_resp().prop_map(Body::BindTransmitterResp),
        bind().prop_map(Body::BindReceiver),
        bind_resp().prop_map(Body::BindReceiverResp),
        bind().prop_map(Body::BindTransceiver),
        bind_resp().prop_map(Body::BindTransceiverResp),
        (cstr(16), cstr(9)).prop_map(|(system_id, password)| Body::Outbind(Outbind {
            system_id,
            password
        })),
        Just(Body::Unbind),
        Just(Body::UnbindResp),
        Just(Body::EnquireLink),
        Just(Body::EnquireLinkResp),
        Just(Body::GenericNack),
        submit_sm().prop_map(Body::SubmitSm),
        cstr(65).prop_map(|message_id| Body::SubmitSmResp(SubmitSmResp { message_id })),
        submit_multi().prop_map(Body::SubmitMulti),
        submit_multi_resp().prop_map(Body::SubmitMultiResp),
        submit_sm().prop_map(Body::DeliverSm),
        cstr(65).prop_map(|message_id| Body::DeliverSmResp(DeliverSmResp { message_id })),
        data_sm().prop_map(Body::DataSm),
        (cstr(65), tlvs())
            .prop_map(|(message_id, tlvs)| Body::DataSmResp(DataSmResp { message_id, tlvs })),
        (cstr(65), address(21))
            .prop_map(|(message_id, source)| Body::QuerySm(QuerySm { message_id, source })),
        (cstr(65), cstr(17), any::<[u8; 2]>()).prop_map(|(message_id, final_date, f)| {
            Body::QuerySmResp(QuerySmResp {
                message_id,
                final_date,
                message_state: f[0],
                error_code: f[1],
            })
        }),
        (cstr(6), cstr(65), address(21), address(21)).prop_map(|(st, id, src, dst)| {
            Body::CancelSm(CancelSm {
                service_type: st,
                message_id: id,
                source: src,
                destination: dst,
            })
        }),
        Just(Body::CancelSmResp),
        replace_sm().prop_map(Body::ReplaceSm),
        Just(Body::ReplaceSmResp),
        (address(65), address(65), tlvs()).prop_map(|(source, esme, tlvs)| {
            Body::AlertNotification(AlertNotification { source, esme, tlvs })
        }),
        (
            any::<u32>().prop_filter("unknown id", |id| !KNOWN_IDS.contains(id)),
            octets(64)
        )
            .prop_map(|(command_id, body)| Body::Unknown { command_id, body }),
    ]
}

fn pdu() -> impl Strategy<Value = Pdu> {
    (any::<u32>(), any::<u32>(), body()).prop_map(|(status, sequence_number, body)| Pdu {
        command_status: CommandStatus(status),
        sequence_number,
        body,
    })
}

fn encode(pdu: &Pdu) -> Bytes {
    let mut buf = BytesMut::new();
    encode_pdu(pdu, &mut buf).expect("a generated PDU is valid");
    buf.freeze()
}

/// Decoding never panics; what decodes re-encodes and decodes to the same value.
fn check_decode(frame: Bytes) -> Result<(), TestCaseError> {
    if let Ok(pdu) = decode_pdu(frame) {
        let mut buf = BytesMut::new();
        prop_assert!(
            encode_pdu(&pdu, &mut buf).is_ok(),
            "{pdu:?} does not re-encode"
        );
        let again = decode_pdu(buf.freeze());
        prop_assert_eq!(again.as_ref(), Ok(&pdu));
    }
    Ok(())
}

/// A frame with a consistent header over `body`.
fn framed(command_id: u32, body: &[u8]) -> Bytes {
    let len = u32::try_from(16 + body.len()).expect("small");
    let mut v = Vec::with_capacity(16 + body.len());
    v.extend_from_slice(&len.to_be_bytes());
    v.extend_from_slice(&command_id.to_be_bytes());
    v.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 1]);
    v.extend_from_slice(body);
    Bytes::from(v)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn every_pdu_round_trips(pdu in pdu()) {
        let wire = encode(&pdu);
        prop_assert_eq!(wire.len(), encoded_len(&pdu).expect("valid"));
        prop_assert_eq!(
            u32::from_be_bytes(wire[..4].try_into().expect("4 octets")) as usize,
            wire.len()
        );
        prop_assert_eq!(decode_pdu(wire), Ok(pdu));
    }

    #[test]
    fn mutated_frames_never_panic(pdu in pdu(), flips in vec((any::<usize>(), any::<u8>()), 1..6), cut in any::<usize>()) {
        let wire = encode(&pdu);
        let mut body = wire[16..].to_vec();
        for (at, b) in flips {
            if !body.is_empty() {
                let i = at % body.len();
                body[i] = b;
            }
        }
        let keep = if body.is_empty() { 0 } else { cut % (body.len() + 1) };
        body.truncate(keep);
        check_decode(framed(pdu.command_id(), &body))?;
    }

    #[test]
    fn framing_byte_by_byte_is_exact(pdus in vec(pdu(), 1..4)) {
        let mut bytes = BytesMut::new();
        let mut ends = Vec::new();
        for p in &pdus {
            encode_pdu(p, &mut bytes).expect("valid");
            ends.push(bytes.len());
        }
        let mut codec = SmppCodec::default();
        let mut src = BytesMut::new();
        let mut got = Vec::new();
        for (i, b) in bytes.iter().enumerate() {
            src.extend_from_slice(&[*b]);
            let out = codec.decode(&mut src).expect("no framing error");
            if ends.contains(&(i + 1)) {
                prop_assert!(out.is_some(), "frame must complete at {}", i + 1);
                got.extend(out);
            } else {
                prop_assert!(out.is_none(), "no frame may complete at {}", i + 1);
            }
        }
        let want: Vec<Frame> = pdus.into_iter().map(Frame::Pdu).collect();
        prop_assert_eq!(got, want);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(20_000))]

    #[test]
    fn arbitrary_bodies_never_panic(id in prop::sample::select(KNOWN_IDS.to_vec()), body in vec(any::<u8>(), 0..200)) {
        check_decode(framed(id, &body))?;
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in vec(any::<u8>(), 0..120)) {
        check_decode(Bytes::from(bytes))?;
    }
}
