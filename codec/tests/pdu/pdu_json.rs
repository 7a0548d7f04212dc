//! `decode_hex_pdu` input checks and the JSON view of decoded PDUs.

use otpgate_codec::pdu::*;
use serde_json::json;

// deliver_sm carrying a delivery receipt with receipted_message_id and message_state TLVs.
const RECEIPT_HEX: &str = "00000060 00000005 00000000 00000003 \
    00 0101 3434393531333631393230 00 0101 3430343034 00 \
    04 00 00 00 00 00 00 00 00 22 \
    69643a3132332064656c69766572656420646f6e6520737461742044454c49565244 \
    001e0004 31323300 0427 0001 02";

#[test]
fn receipt_hex_decodes_to_named_json() {
    let pdu = decode_hex_pdu(RECEIPT_HEX).expect("decodes");
    let v = pdu_to_json(&pdu);
    assert_eq!(v["command_id"], "deliver_sm");
    assert_eq!(v["command_id_hex"], "0x00000005");
    assert_eq!(v["command_status"], "ESME_ROK");
    assert_eq!(v["sequence_number"], 3);
    assert_eq!(v["source_addr_ton"], 1);
    assert_eq!(v["source_addr_npi"], 1);
    assert_eq!(v["source_addr"], "44951361920");
    assert_eq!(v["destination_addr"], "40404");
    assert_eq!(v["esm_class"], 4);
    assert_eq!(v["command_length"], 0x60);
    assert_eq!(
        v["tlvs"][0],
        json!({"tag": "receipted_message_id", "tag_hex": "0x001E", "value": "123"})
    );
    assert_eq!(
        v["tlvs"][1],
        json!({"tag": "message_state", "tag_hex": "0x0427", "value": 2})
    );
    let sm = v["short_message"].as_str().expect("hex string");
    assert_eq!(
        hex::decode(sm).expect("hex"),
        b"id:123 delivered done stat DELIVRD"
    );
}

#[test]
fn hex_input_errors_are_specific() {
    assert_eq!(
        decode_hex_pdu("0000001g"),
        Err(HexDecodeError::InvalidHexDigit {
            position: 7,
            found: 'g'
        })
    );
    assert_eq!(
        decode_hex_pdu("000"),
        Err(HexDecodeError::OddLength { digits: 3 })
    );
    assert_eq!(
        decode_hex_pdu("00000010"),
        Err(HexDecodeError::TooShort { len: 4 })
    );
    assert_eq!(
        decode_hex_pdu("00000011 00000015 00000000 00000001"),
        Err(HexDecodeError::LengthMismatch {
            command_length: 17,
            actual: 16
        })
    );
    let err = decode_hex_pdu("00000011 00000004 00000000 00000001 41").unwrap_err();
    assert!(matches!(err, HexDecodeError::Decode { .. }), "{err:?}");
    assert!(err.to_string().contains("ESME_RINVSERTYP"), "{err}");
}

#[test]
fn hex_input_accepts_whitespace_and_prefix() {
    let pdu = decode_hex_pdu(" 0x00000010 00000015\n00000000 0000002a ").expect("decodes");
    assert_eq!(pdu, Pdu::new(42, Body::EnquireLink));
    let v = pdu_to_json(&pdu);
    assert_eq!(v["command_id"], "enquire_link");
    assert_eq!(v["command_length"], 16);
}

#[test]
fn unknown_command_and_vendor_status_are_shown_raw() {
    let pdu = decode_hex_pdu("00000012 00010203 00000400 00000001 abcd").expect("decodes");
    let v = pdu_to_json(&pdu);
    assert_eq!(v["command_id"], "unknown");
    assert_eq!(v["command_id_hex"], "0x00010203");
    assert_eq!(v["command_status"], "vendor_specific");
    assert_eq!(v["command_status_hex"], "0x00000400");
    assert_eq!(v["body"], "abcd");
}
