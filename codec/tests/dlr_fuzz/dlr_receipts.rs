//! Delivery receipts: texts as real SMSCs send them (sources cited per sample), TLVs winning
//! over text, message-id variants, and arbitrary bytes never panicking.

use bytes::Bytes;
use otpgate_codec::dlr::{
    format_receipt_text, message_id_variants, parse_receipt_text, receipt_from_deliver_sm, Receipt,
    ReceiptError, ReceiptState,
};
use otpgate_codec::pdu::{COctetString, ShortMessage, SubmitSm, Tlv};
use proptest::prelude::*;

#[test]
fn smpp34_appendix_b_layout() {
    // SMPP 3.4 appendix B example, with values (template also used by DeathHand/smpp
    // report_test.go).
    let r = parse_receipt_text(
        b"id:1234567890 sub:001 dlvrd:001 submit date:0512011200 done date:0512011201 \
          stat:DELIVRD err:000 Text:Your code is 1234",
    )
    .unwrap();
    assert_eq!(r.id, "1234567890");
    assert_eq!(r.sub, Some(1));
    assert_eq!(r.dlvrd, Some(1));
    assert_eq!(r.submit_date.as_deref(), Some("0512011200"));
    assert_eq!(r.done_date.as_deref(), Some("0512011201"));
    assert_eq!(r.stat, ReceiptState::Delivered);
    assert_eq!(r.err.as_deref(), Some("000"));
    assert_eq!(r.text.as_deref(), Some("Your code is 1234"));
}

#[test]
fn restcomm_smscgateway_enroute_sample() {
    // RestComm/smscgateway ParseDeliveryReceiptTest.java
    let r = parse_receipt_text(
        b"id:0512249005 sub:001 dlvrd:000 submit date:1609051327 done date:1609051337 stat:ENROUTE err:054 text:xxssxx",
    )
    .unwrap();
    assert_eq!(r.id, "0512249005");
    assert_eq!(r.dlvrd, Some(0));
    assert_eq!(r.stat, ReceiptState::Enroute);
    assert!(!r.stat.is_final());
    assert_eq!(r.err.as_deref(), Some("054"));
    assert_eq!(r.text.as_deref(), Some("xxssxx"));
    // Same with an empty text.
    let r = parse_receipt_text(
        b"id:0512249005 sub:001 dlvrd:000 submit date:1609051327 done date:1609051337 stat:ENROUTE err:054 text:",
    )
    .unwrap();
    assert_eq!(r.text.as_deref(), Some(""));
}

#[test]
fn jsmpp_samples() {
    // opentelecoms-org/jsmpp DeliveryReceiptParserTest (lower-case `text:`).
    let r = parse_receipt_text(
        b"id:0123456789 sub:001 dlvrd:001 submit date:0809011130 done date:0809011131 stat:DELIVRD err:000 text:testing jsmpp bow",
    )
    .unwrap();
    assert_eq!(r.text.as_deref(), Some("testing jsmpp bow"));
    // jsmpp ExampleDeliveryReceiptStripperTest: no err, no text.
    let r = parse_receipt_text(
        b"id:123456 sub:234 dlvrd:000 submit date:1604052345 done date:1605021145 stat:DELIVRD",
    )
    .unwrap();
    assert_eq!(
        (r.id.as_str(), r.sub, r.err, r.text),
        ("123456", Some(234), None, None)
    );
}

#[test]
fn tolerant_of_case_order_spacing_and_colons_in_text() {
    let r = parse_receipt_text(
        b"  STAT:undeliv   ID:ab-12  Submit_Date:2401011200 DONE  DATE : 2401011201 \
          err:0B1 dlvrd:0 text: code: 12 34 id:zz stat:DELIVRD ",
    )
    .unwrap();
    assert_eq!(r.id, "ab-12");
    assert_eq!(r.stat, ReceiptState::Undeliverable);
    assert_eq!(r.submit_date.as_deref(), Some("2401011200"));
    assert_eq!(r.done_date.as_deref(), Some("2401011201"));
    assert_eq!(r.dlvrd, Some(0));
    assert_eq!(r.sub, None);
    assert_eq!(r.text.as_deref(), Some("code: 12 34 id:zz stat:DELIVRD"));
}

#[test]
fn missing_or_unknown_fields() {
    assert_eq!(
        parse_receipt_text(b"sub:001 stat:DELIVRD"),
        Err(ReceiptError::MissingField("id"))
    );
    assert_eq!(
        parse_receipt_text(b"id:1 sub:001"),
        Err(ReceiptError::MissingField("stat"))
    );
    assert_eq!(
        parse_receipt_text(b"id:1 stat:WHATEVER"),
        Err(ReceiptError::UnknownStat("WHATEVER".into()))
    );
    // "status:" is not "stat:", "identity:" is not "id:".
    assert!(parse_receipt_text(b"identity:9 status:DELIVRD").is_err());
}

#[test]
fn every_state_round_trips() {
    for n in 1..=8u8 {
        let s = ReceiptState::from_message_state(n).unwrap();
        assert_eq!(s.message_state(), n);
        assert_eq!(ReceiptState::from_stat(s.stat_str()), Some(s));
        assert_eq!(
            ReceiptState::from_stat(&s.stat_str().to_lowercase()),
            Some(s)
        );
    }
    assert_eq!(ReceiptState::from_message_state(0), None);
    assert_eq!(ReceiptState::from_message_state(9), None);
}

#[test]
fn format_then_parse() {
    let r = Receipt {
        id: "5f3a".into(),
        sub: Some(1),
        dlvrd: Some(1),
        submit_date: Some("2405061230".into()),
        done_date: Some("2405061231".into()),
        stat: ReceiptState::Delivered,
        err: Some("000".into()),
        text: Some("Your code: 123456".into()),
        network_error: None,
    };
    let text = format_receipt_text(&r);
    assert_eq!(
        text,
        "id:5f3a sub:001 dlvrd:001 submit date:2405061230 done date:2405061231 stat:DELIVRD err:000 text:Your code: 123456"
    );
    assert_eq!(parse_receipt_text(text.as_bytes()).unwrap(), r);
}

fn deliver_sm(esm_class: u8, short_message: &[u8], tlvs: Vec<Tlv>) -> SubmitSm {
    SubmitSm {
        esm_class,
        short_message: ShortMessage::try_from(short_message).unwrap(),
        tlvs,
        ..SubmitSm::default()
    }
}

#[test]
fn python_smpplib_sample_tlvs_win_and_ids_match() {
    // python-smpplib tests/test_command.py: text id in decimal with a leading zero,
    // receipted_message_id in hex, message_state 2, a UCS-2 tail after `text:`.
    let text = b"id:0489708364 sub:001 dlvrd:001 submit date:1810151907 done date:1810151907 stat:DELIVRD err:000 text:\x04\x1f\x04@\x048\x042\x045\x04B";
    let sm = deliver_sm(
        0x04,
        text,
        vec![
            Tlv::ReceiptedMessageId(COctetString::from("1d305b4c")),
            Tlv::MessageState(2),
        ],
    );
    let r = receipt_from_deliver_sm(&sm).unwrap();
    assert_eq!(r.id, "1d305b4c");
    assert_eq!(r.stat, ReceiptState::Delivered);
    let text_id = parse_receipt_text(text).unwrap().id;
    assert_eq!(text_id, "0489708364");
    // The store indexes one form and finds the other through the variants.
    let indexed: Vec<String> = message_id_variants("1d305b4c").take(1).collect();
    assert!(message_id_variants(&text_id).any(|v| v == indexed[0]));
}

#[test]
fn tlvs_override_text() {
    let sm = deliver_sm(
        0x04,
        b"id:AAA sub:001 dlvrd:000 submit date:2401011200 done date:2401011201 stat:ENROUTE err:000 text:x",
        vec![
            Tlv::MessageState(5),
            Tlv::NetworkErrorCode {
                network_type: 3,
                error_code: 0x0001,
            },
        ],
    );
    let r = receipt_from_deliver_sm(&sm).unwrap();
    assert_eq!(r.id, "AAA");
    assert_eq!(r.stat, ReceiptState::Undeliverable);
    assert_eq!(r.network_error, Some((3, 1)));
    assert_eq!(r.done_date.as_deref(), Some("2401011201"));
}

#[test]
fn receipt_detection() {
    let text = b"id:1 sub:001 dlvrd:001 submit date:x done date:y stat:DELIVRD err:000 text:";
    // A mobile-originated message is not a receipt, even if it looks like one.
    assert!(receipt_from_deliver_sm(&deliver_sm(0x00, text, vec![])).is_none());
    for esm in [0x04, 0x08, 0x20, 0x04 | 0x03] {
        assert!(receipt_from_deliver_sm(&deliver_sm(esm, text, vec![])).is_some());
    }
    // TLVs alone make a receipt, with no text at all.
    let r = receipt_from_deliver_sm(&deliver_sm(
        0x00,
        b"",
        vec![
            Tlv::ReceiptedMessageId(COctetString::from("77")),
            Tlv::MessageState(3),
        ],
    ))
    .unwrap();
    assert_eq!((r.id.as_str(), r.stat), ("77", ReceiptState::Expired));
    // A receipt type with unreadable text and no TLVs: nothing to report.
    assert!(receipt_from_deliver_sm(&deliver_sm(0x04, b"garbage", vec![])).is_none());
    // Text in message_payload.
    let r = receipt_from_deliver_sm(&deliver_sm(
        0x04,
        b"",
        vec![Tlv::MessagePayload(Bytes::from_static(
            b"id:9 stat:REJECTD",
        ))],
    ))
    .unwrap();
    assert_eq!((r.id.as_str(), r.stat), ("9", ReceiptState::Rejected));
}

#[test]
fn ucs2_receipt_text() {
    let text: Vec<u8> = "id:42 stat:EXPIRED"
        .encode_utf16()
        .flat_map(|u| u.to_be_bytes())
        .collect();
    let mut sm = deliver_sm(0x04, &text, vec![]);
    sm.data_coding = 0x08;
    let r = receipt_from_deliver_sm(&sm).unwrap();
    assert_eq!((r.id.as_str(), r.stat), ("42", ReceiptState::Expired));
}

#[test]
fn id_variants() {
    let v = |id: &str| message_id_variants(id).collect::<Vec<_>>();
    assert_eq!(v("00001A2B"), ["1a2b", "6699"]);
    assert_eq!(v("6699"), ["6699", "26265", "1a2b"]);
    assert_eq!(v("0489708364"), ["489708364", "19485721444", "1d305b4c"]);
    assert_eq!(v("msg-Ab"), ["msg-ab"]);
    assert_eq!(v("000"), ["0"]);
    assert_eq!(v("10"), ["10", "16", "a"]);
    assert_eq!(v("a"), ["a", "10"]);
    let long = "1".repeat(65);
    assert_eq!(v(&long), vec![long]);
    // Too big for 128 bits but under 64 characters: no numeric forms.
    let big = "f".repeat(40);
    assert_eq!(v(&big), vec![big]);
    assert_eq!(v(""), [""]);
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(data in prop::collection::vec(any::<u8>(), 0..400)) {
        let _ = parse_receipt_text(&data);
        // short_message holds at most 254 octets; the whole run also goes as message_payload.
        let sm = &data[..data.len().min(254)];
        let payload = vec![Tlv::MessagePayload(Bytes::copy_from_slice(&data))];
        for esm in [0x00u8, 0x04, 0x44] {
            let _ = receipt_from_deliver_sm(&deliver_sm(esm, sm, vec![]));
            let _ = receipt_from_deliver_sm(&deliver_sm(esm, &[], payload.clone()));
        }
    }

    #[test]
    fn receipt_like_noise_never_panics(parts in prop::collection::vec(
        prop_oneof![
            Just("id:".to_string()), Just("stat:".to_string()), Just("submit date:".to_string()),
            Just("text:".to_string()), Just(" ".to_string()), Just("DELIVRD".to_string()),
            "[a-z0-9:_ ]{0,6}",
        ], 0..30)) {
        let s: String = parts.concat();
        let _ = parse_receipt_text(s.as_bytes());
    }

    #[test]
    fn variants_bounded_and_first_is_normalised(id in "[0-9a-fA-F]{0,70}") {
        let v: Vec<String> = message_id_variants(&id).collect();
        prop_assert!(!v.is_empty() && v.len() <= 3);
        let mut sorted = v.clone();
        sorted.sort();
        sorted.dedup();
        prop_assert_eq!(sorted.len(), v.len());
        prop_assert_eq!(&v[0], &message_id_variants(&id.to_uppercase()).next().unwrap());
    }

    #[test]
    fn variants_are_those_of_the_definition(id in "[ 0]{0,2}[0-9a-fA-F]{0,40}[ ]?") {
        let v: Vec<String> = message_id_variants(&id).collect();
        prop_assert_eq!(v, variants_by_definition(&id));
    }
}

/// The forms of a message id as documented, all made at once: what the lazy iterator must yield.
fn variants_by_definition(id: &str) -> Vec<String> {
    let lower = id.trim().to_ascii_lowercase();
    let stripped = lower.trim_start_matches('0');
    let first = if stripped.is_empty() && !lower.is_empty() {
        "0".to_owned()
    } else {
        stripped.to_owned()
    };
    let mut out = vec![first.clone()];
    if first.len() <= 64 && !first.is_empty() {
        let hex_to_dec = first
            .bytes()
            .all(|b| b.is_ascii_hexdigit())
            .then(|| u128::from_str_radix(&first, 16).ok())
            .flatten()
            .map(|n| n.to_string());
        let dec_to_hex = first
            .bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| first.parse::<u128>().ok())
            .flatten()
            .map(|n| format!("{n:x}"));
        for v in [hex_to_dec, dec_to_hex].into_iter().flatten() {
            if !out.contains(&v) {
                out.push(v);
            }
        }
    }
    out
}
