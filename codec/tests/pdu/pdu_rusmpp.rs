//! Differential tests against rusmpp 0.4, an independent SMPP implementation: for random
//! submit_sm, deliver_sm, bind_* and submit_sm_resp, the same PDU built in both libraries must
//! encode to identical octets, rusmpp must decode ours to its value, and we must decode
//! rusmpp's octets to ours.

use bytes::{Bytes, BytesMut};
use otpgate_codec::pdu::*;
use proptest::collection::vec;
use proptest::prelude::*;
use rusmpp::tokio_codec::CommandCodec;
use rusmpp::types::{AnyOctetString, COctetString as RCStr, EmptyOrFullCOctetString, OctetString};
use rusmpp::values::{
    DataCoding, EsmClass, InterfaceVersion, MessagePayload, MessageState, Npi, PriorityFlag,
    RegisteredDelivery, ReplaceIfPresentFlag, ServiceType, Ton, UserMessageReference,
};
use rusmpp::{Command, CommandStatus as RStatus};
use tokio_util::codec::{Decoder, Encoder};

/// Printable ASCII (rusmpp's C-Octet strings are ASCII) of fewer than `max` octets.
fn ascii(max: usize) -> impl Strategy<Value = String> {
    vec(0x20u8..0x7f, 0..max).prop_map(|v| String::from_utf8(v).expect("ascii"))
}

/// schedule_delivery_time / validity_period: empty or a full 16-character time.
fn date() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        vec(0x30u8..0x3a, 16..=16).prop_map(|mut v| {
            v[15] = b'+';
            String::from_utf8(v).expect("ascii")
        })
    ]
}

fn rc<const MIN: usize, const MAX: usize>(s: &str) -> RCStr<MIN, MAX> {
    let mut v = s.as_bytes().to_vec();
    v.push(0);
    RCStr::from_vec(v).expect("valid for rusmpp")
}

fn rdate(s: &str) -> EmptyOrFullCOctetString<17> {
    let mut v = s.as_bytes().to_vec();
    v.push(0);
    EmptyOrFullCOctetString::from_vec(v).expect("valid date")
}

#[derive(Debug, Clone)]
enum Extra {
    Payload(Vec<u8>),
    SarRef(u16),
    SarTotal(u8),
    SarSeq(u8),
    UserRef(u16),
    Receipted(String),
    State(u8),
}

// rusmpp decodes a zero-length TLV as "no value", unlike the value it builds, so payloads here
// are never empty (the empty message_payload is covered by the conformance vectors).
fn submit_extra() -> impl Strategy<Value = Extra> {
    prop_oneof![
        vec(any::<u8>(), 1..300).prop_map(Extra::Payload),
        any::<u16>().prop_map(Extra::SarRef),
        any::<u8>().prop_map(Extra::SarTotal),
        any::<u8>().prop_map(Extra::SarSeq),
        any::<u16>().prop_map(Extra::UserRef),
    ]
}

fn deliver_extra() -> impl Strategy<Value = Extra> {
    prop_oneof![
        vec(any::<u8>(), 1..300).prop_map(Extra::Payload),
        ascii(65).prop_map(Extra::Receipted),
        (0u8..=9).prop_map(Extra::State),
        any::<u16>().prop_map(Extra::UserRef),
    ]
}

fn ours_tlv(e: &Extra) -> Tlv {
    match e {
        Extra::Payload(v) => Tlv::MessagePayload(Bytes::from(v.clone())),
        Extra::SarRef(v) => Tlv::SarMsgRefNum(*v),
        Extra::SarTotal(v) => Tlv::SarTotalSegments(*v),
        Extra::SarSeq(v) => Tlv::SarSegmentSeqnum(*v),
        Extra::UserRef(v) => Tlv::UserMessageReference(*v),
        Extra::Receipted(s) => Tlv::ReceiptedMessageId(s.as_str().into()),
        Extra::State(v) => Tlv::MessageState(*v),
    }
}

#[derive(Debug, Clone)]
struct Sm {
    service_type: String,
    src: (u8, u8, String),
    dst: (u8, u8, String),
    bytes: [u8; 7],
    sched: String,
    valid: String,
    short_message: Vec<u8>,
    extras: Vec<Extra>,
}

fn sm(extra: BoxedStrategy<Extra>) -> impl Strategy<Value = Sm> {
    (
        (
            ascii(6),
            any::<(u8, u8)>(),
            ascii(21),
            any::<(u8, u8)>(),
            ascii(21),
        ),
        (any::<[u8; 7]>(), date(), date()),
        (vec(any::<u8>(), 0..=254), vec(extra, 0..4)),
    )
        .prop_map(
            |((st, s, sa, d, da), (bytes, sched, valid), (msg, extras))| Sm {
                service_type: st,
                src: (s.0, s.1, sa),
                dst: (d.0, d.1, da),
                bytes,
                sched,
                valid,
                short_message: msg,
                extras,
            },
        )
}

fn ours_sm(m: &Sm) -> SubmitSm {
    SubmitSm {
        service_type: m.service_type.as_str().into(),
        source: Address {
            ton: m.src.0,
            npi: m.src.1,
            addr: m.src.2.as_str().into(),
        },
        destination: Address {
            ton: m.dst.0,
            npi: m.dst.1,
            addr: m.dst.2.as_str().into(),
        },
        esm_class: m.bytes[0],
        protocol_id: m.bytes[1],
        priority_flag: m.bytes[2],
        schedule_delivery_time: m.sched.as_str().into(),
        validity_period: m.valid.as_str().into(),
        registered_delivery: m.bytes[3],
        replace_if_present_flag: m.bytes[4],
        data_coding: m.bytes[5],
        sm_default_msg_id: m.bytes[6],
        short_message: ShortMessage::try_from(m.short_message.as_slice()).unwrap(),
        tlvs: m.extras.iter().map(ours_tlv).collect(),
    }
}

fn their_submit(m: &Sm) -> rusmpp::pdus::SubmitSm {
    let mut b = rusmpp::pdus::SubmitSm::builder()
        .service_type(ServiceType::new(rc(&m.service_type)))
        .source_addr_ton(Ton::from(m.src.0))
        .source_addr_npi(Npi::from(m.src.1))
        .source_addr(rc(&m.src.2))
        .dest_addr_ton(Ton::from(m.dst.0))
        .dest_addr_npi(Npi::from(m.dst.1))
        .destination_addr(rc(&m.dst.2))
        .esm_class(EsmClass::from(m.bytes[0]))
        .protocol_id(m.bytes[1])
        .priority_flag(PriorityFlag::from(m.bytes[2]))
        .schedule_delivery_time(rdate(&m.sched))
        .validity_period(rdate(&m.valid))
        .registered_delivery(RegisteredDelivery::from(m.bytes[3]))
        .replace_if_present_flag(ReplaceIfPresentFlag::from(m.bytes[4]))
        .data_coding(DataCoding::from(m.bytes[5]))
        .sm_default_msg_id(m.bytes[6])
        .short_message(OctetString::from_slice(&m.short_message).expect("<= 255"));
    use rusmpp::tlvs::MessageSubmissionRequestTlvValue as V;
    for e in &m.extras {
        b = b.push_tlv(match e {
            Extra::Payload(v) => {
                V::MessagePayload(MessagePayload::new(AnyOctetString::from_slice(v)))
            }
            Extra::SarRef(v) => V::SarMsgRefNum(*v),
            Extra::SarTotal(v) => V::SarTotalSegments(*v),
            Extra::SarSeq(v) => V::SarSegmentSeqnum(*v),
            Extra::UserRef(v) => V::UserMessageReference(UserMessageReference::new(*v)),
            other => unreachable!("not a submit TLV: {other:?}"),
        });
    }
    b.build()
}

fn their_deliver(m: &Sm) -> rusmpp::pdus::DeliverSm {
    let mut b = rusmpp::pdus::DeliverSm::builder()
        .service_type(ServiceType::new(rc(&m.service_type)))
        .source_addr_ton(Ton::from(m.src.0))
        .source_addr_npi(Npi::from(m.src.1))
        .source_addr(rc(&m.src.2))
        .dest_addr_ton(Ton::from(m.dst.0))
        .dest_addr_npi(Npi::from(m.dst.1))
        .destination_addr(rc(&m.dst.2))
        .esm_class(EsmClass::from(m.bytes[0]))
        .protocol_id(m.bytes[1])
        .priority_flag(PriorityFlag::from(m.bytes[2]))
        .schedule_delivery_time(rdate(&m.sched))
        .validity_period(rdate(&m.valid))
        .registered_delivery(RegisteredDelivery::from(m.bytes[3]))
        .replace_if_present_flag(ReplaceIfPresentFlag::from(m.bytes[4]))
        .data_coding(DataCoding::from(m.bytes[5]))
        .sm_default_msg_id(m.bytes[6])
        .short_message(OctetString::from_slice(&m.short_message).expect("<= 255"));
    use rusmpp::tlvs::MessageDeliveryRequestTlvValue as V;
    for e in &m.extras {
        b = b.push_tlv(match e {
            Extra::Payload(v) => {
                V::MessagePayload(MessagePayload::new(AnyOctetString::from_slice(v)))
            }
            Extra::Receipted(s) => V::ReceiptedMessageId(rc(s)),
            Extra::State(v) => V::MessageState(MessageState::from(*v)),
            Extra::UserRef(v) => V::UserMessageReference(UserMessageReference::new(*v)),
            other => unreachable!("not a deliver TLV: {other:?}"),
        });
    }
    b.build()
}

/// Both directions and byte equality for one PDU built in both libraries.
fn differential(ours: Pdu, theirs: Command) -> Result<(), TestCaseError> {
    let mut ours_wire = BytesMut::new();
    encode_pdu(&ours, &mut ours_wire).expect("ours encodes");
    let mut their_wire = BytesMut::new();
    CommandCodec::new()
        .without_max_length()
        .encode(&theirs, &mut their_wire)
        .expect("rusmpp encodes");
    prop_assert_eq!(&ours_wire[..], &their_wire[..], "identical octets");

    let mut src = ours_wire.clone();
    let decoded = CommandCodec::new()
        .without_max_length()
        .decode(&mut src)
        .expect("rusmpp decodes ours")
        .expect("a whole frame");
    prop_assert_eq!(decoded, theirs);

    prop_assert_eq!(decode_pdu(their_wire.freeze()), Ok(ours));
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn submit_sm_matches_rusmpp(seq in any::<u32>(), m in sm(submit_extra().boxed())) {
        let ours = Pdu::new(seq, Body::SubmitSm(ours_sm(&m)));
        let theirs = Command::new(RStatus::EsmeRok, seq, their_submit(&m));
        differential(ours, theirs)?;
    }

    #[test]
    fn deliver_sm_matches_rusmpp(seq in any::<u32>(), m in sm(deliver_extra().boxed())) {
        let ours = Pdu::new(seq, Body::DeliverSm(ours_sm(&m)));
        let theirs = Command::new(RStatus::EsmeRok, seq, their_deliver(&m));
        differential(ours, theirs)?;
    }

    #[test]
    fn binds_match_rusmpp(
        seq in any::<u32>(),
        kind in 0u8..3,
        (system_id, password, system_type, address_range) in (ascii(16), ascii(9), ascii(13), ascii(41)),
        (version, ton, npi) in any::<(u8, u8, u8)>(),
    ) {
        let bind = Bind {
            system_id: system_id.as_str().into(),
            password: password.as_str().into(),
            system_type: system_type.as_str().into(),
            interface_version: version,
            addr_ton: ton,
            addr_npi: npi,
            address_range: address_range.as_str().into(),
        };
        macro_rules! theirs {
            ($t:ty) => {
                <$t>::new(
                    rc(&system_id),
                    rc(&password),
                    rc(&system_type),
                    InterfaceVersion::from(version),
                    Ton::from(ton),
                    Npi::from(npi),
                    rc(&address_range),
                )
            };
        }
        let (body, theirs) = match kind {
            0 => (Body::BindTransmitter(bind), Command::new(RStatus::EsmeRok, seq, theirs!(rusmpp::pdus::BindTransmitter))),
            1 => (Body::BindReceiver(bind), Command::new(RStatus::EsmeRok, seq, theirs!(rusmpp::pdus::BindReceiver))),
            _ => (Body::BindTransceiver(bind), Command::new(RStatus::EsmeRok, seq, theirs!(rusmpp::pdus::BindTransceiver))),
        };
        differential(Pdu::new(seq, body), theirs)?;
    }

    #[test]
    fn submit_sm_resp_matches_rusmpp(seq in any::<u32>(), status in 0u32..0x100, id in ascii(65)) {
        let ours = Pdu {
            command_status: CommandStatus(status),
            sequence_number: seq,
            body: Body::SubmitSmResp(SubmitSmResp { message_id: id.as_str().into() }),
        };
        let theirs = Command::new(
            RStatus::from(status),
            seq,
            rusmpp::pdus::SubmitSmResp::new(rc(&id), vec![]),
        );
        differential(ours, theirs)?;
    }
}
