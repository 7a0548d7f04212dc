//! Conformance on published wire vectors from python-smpplib and node-smpp test suites (see
//! `pdu_vectors.rs` for cloudhopper-smpp). Each vector names its source repository and path.

use bytes::{Bytes, BytesMut};
use otpgate_codec::pdu::*;

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

/// Decodes to `want` and `want` encodes back to exactly the vector.
fn canonical(vector: &str, want: Pdu) {
    assert_eq!(
        decode_pdu(hex(vector)).as_ref(),
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

fn sms(body: Body) -> SubmitSm {
    match body {
        Body::SubmitSm(m) | Body::DeliverSm(m) => m,
        other => panic!("not a submit_sm/deliver_sm: {other:?}"),
    }
}

// python-smpplib/python-smpplib smpplib/tests/test_command.py (test_parse_deliver_sm):
// a receipt with a UCS-2 message_payload and more_messages_to_send.
#[test]
fn smpplib_receipt_with_payload() {
    let p = decodes("000000cb000000050000000000000001000101333136303030303030303000050058585820595959590004000000000000000000000e0001010006000101001e000931643330356234630004270001020424007269643a30343839373038333634207375623a30303120646c7672643a303031207375626d697420646174653a3138313031353139303720646f6e6520646174653a3138313031353139303720737461743a44454c49565244206572723a30303020746578743a041f044004380432043504420426000101");
    let m = sms(p.body);
    assert_eq!(m.source, addr(1, 1, "31600000000"));
    assert_eq!(m.destination, addr(5, 0, "XXX YYYY"));
    assert_eq!(
        m.tlvs.receipted_message_id(),
        Some(&COctetString::from("1d305b4c"))
    );
    assert_eq!(m.tlvs.message_state(), Some(2));
    assert_eq!(m.tlvs.message_payload().map(|b| b.len()), Some(0x72));
    assert_eq!(
        m.tlvs.last(),
        Some(&Tlv::Other {
            tag: tag::MORE_MESSAGES_TO_SEND,
            value: Bytes::from_static(&[1])
        })
    );
}

// python-smpplib/python-smpplib smpplib/tests/test_command.py (test_unrecognised_optional_parameters):
// vendor-specific TLVs 0x1403 and 0x1402 are kept byte for byte and re-encode unchanged.
#[test]
fn smpplib_vendor_tlvs_round_trip() {
    let v = "000000a800000005000000002f70c69a0000003232353439393039303238000100000400000000000000006969643a373935393230303236207375623a30303120646c7672643a303031207375626d697420646174653a32303033313931333139313320646f6e6520646174653a32303033313931333139313320737461743a44454c49565244206572723a30303020746578743a14030007286e756c6c29001402000436313200";
    let p = decodes(v);
    assert_eq!(p.sequence_number, 0x2f70_c69a);
    let m = sms(p.body.clone());
    assert_eq!(m.destination, addr(1, 0, ""));
    assert_eq!(
        m.tlvs,
        vec![
            Tlv::Other {
                tag: 0x1403,
                value: Bytes::from_static(b"(null)\0")
            },
            Tlv::Other {
                tag: 0x1402,
                value: Bytes::from_static(b"612\0")
            },
        ]
    );
    canonical(v, p);
}

// farhadi/node-smpp test/pdu.js ('should construct a pdu from buffer', 'should extract tlv
// parameters if available'): submit_sm with a UDH (esm_class 0x40), then with message_payload.
#[test]
fn node_smpp_submit_sm_with_udh() {
    let base = "0000003f00000004000000000000000200010034363730313133333131310001013436373039373731333337004000000000000001000803240103747B7374";
    let mut m = SubmitSm {
        source: addr(1, 0, "46701133111"),
        destination: addr(1, 1, "46709771337"),
        esm_class: 0x40,
        data_coding: 1,
        short_message: ShortMessage::try_from(hex("03240103747b7374")).unwrap(),
        ..Default::default()
    };
    canonical(base, Pdu::new(2, Body::SubmitSm(m.clone())));
    m.tlvs = vec![Tlv::MessagePayload(Bytes::from_static(b"test"))];
    let with_payload = format!("00000047{}0424000474657374", &base[8..]);
    canonical(&with_payload, Pdu::new(2, Body::SubmitSm(m)));
}
