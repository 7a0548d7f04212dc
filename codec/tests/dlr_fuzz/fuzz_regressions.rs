//! The properties of the fuzz targets in `codec/fuzz` (decode, text), as plain tests over
//! inputs kept from fuzzing and hand-made edge cases, so that they run with every
//! `cargo test`. An input that ever breaks a target is added here, with a line on what it broke.

use bytes::{Bytes, BytesMut};
use otpgate_codec::dlr::{format_receipt_text, parse_receipt_text};
use otpgate_codec::framing::{Frame, SmppCodec};
use otpgate_codec::pdu::{decode_pdu, encode_pdu, pdu_to_json, Pdu};
use otpgate_codec::text::{
    analyze, decode_short_message, decode_short_message_packed, join_parts, parse_udh, split,
    Concat, ConcatInfo, EncodingChoice, NationalLanguage, SplitOptions, TextError,
};
use tokio_util::codec::Decoder;

fn round_trip(pdu: &Pdu) {
    let mut buf = BytesMut::new();
    encode_pdu(pdu, &mut buf).expect("a decoded PDU re-encodes");
    let again = decode_pdu(buf.freeze()).expect("a re-encoded PDU decodes");
    assert_eq!(&again, pdu);
    let _ = pdu_to_json(pdu);
}

/// The `decode` target.
fn decode_property(data: &[u8]) {
    let mut codec = SmppCodec::new(4096);
    let mut src = BytesMut::from(data);
    loop {
        match codec.decode(&mut src) {
            Ok(Some(Frame::Pdu(pdu))) => round_trip(&pdu),
            Ok(Some(Frame::Invalid(bad))) => {
                let nack = bad.generic_nack();
                assert_eq!(nack.sequence_number, bad.sequence_number);
                round_trip(&nack);
            }
            Ok(None) | Err(_) => break,
        }
    }
    if let Ok(pdu) = decode_pdu(Bytes::copy_from_slice(data)) {
        round_trip(&pdu);
    }
}

/// The split half of the `text` target.
fn split_property(text: &str, o: &SplitOptions) {
    let analyzed = analyze(text, o);
    let msg = match split(text, o) {
        Ok(msg) => msg,
        Err(e) => {
            assert_eq!(analyzed, Err(e.clone()));
            if let TextError::Unrepresentable { .. } = e {
                assert_ne!(o.encoding, EncodingChoice::Auto);
            }
            return;
        }
    };
    assert_eq!(analyzed, Ok((msg.encoding, msg.segments)));
    assert!(msg.segments <= o.max_parts.min(255));
    let mut decoded = Vec::new();
    for p in &msg.parts {
        let esm = if p.esm_class_udhi() { 0x40 } else { 0x00 };
        let sm = p.short_message();
        let mut d = if o.packed_gsm7 {
            decode_short_message_packed(msg.data_coding, esm, &sm)
        } else {
            decode_short_message(msg.data_coding, esm, &sm)
        }
        .expect("a part decodes");
        if let Some(sar) = p.sar {
            d.concat = Some(ConcatInfo::from(sar));
        }
        decoded.push(d);
    }
    let back = join_parts(&mut decoded).expect("the parts join");
    if o.packed_gsm7 && msg.encoding.is_gsm7() && text.contains('\r') {
        assert_eq!(back.replace('\r', ""), text.replace('\r', ""));
    } else {
        assert_eq!(back, text);
    }
}

fn receipt_property(data: &[u8]) {
    if let Ok(r) = parse_receipt_text(data) {
        let again = parse_receipt_text(format_receipt_text(&r).as_bytes()).expect("re-parses");
        assert_eq!((&again.id, again.stat), (&r.id, r.stat));
    }
}

#[test]
fn decode_edge_inputs() {
    let cases: &[&str] = &[
        "",
        "00000010",
        // command_length below the header, then above the maximum
        "0000000400000004000000000000000100",
        "7fffffff000000040000000000000001",
        // submit_sm whose C-Octet strings never end
        "0000001a000000040000000000000001414243444546474849",
        // a TLV announcing more octets than the body has
        "0000001a800000040000000000000001000427000400",
        // generic_nack with a body, unknown command id, two PDUs back to back
        "000000140000000000000000000000010a0b0c0d",
        "00000010000000770000000000000005",
        "00000010000000150000000000000001000000108000001500000000000000010000",
        // submit_multi with zero destinations, then with a count larger than the body
        "0000001f00000021000000000000000100010100000001010000000000000000",
        "0000001f0000002100000000000000010001010000ff01010000000000000000",
    ];
    for hex in cases {
        decode_property(&hex::decode(hex).unwrap());
    }
}

#[test]
fn split_edge_inputs() {
    let texts = [
        "",
        "\r",
        "a\r",
        &"\r".repeat(161),
        &"€".repeat(80),
        // an escape character on the 153-septet boundary
        &format!("{}€", "x".repeat(152)),
        &"😀".repeat(40),
        &format!("{}😀", "a".repeat(66)),
        "ğşı İç and €",
        "\u{c}{}[]~\\^|",
    ];
    for text in texts {
        for max_parts in [0, 1, 6, 255, 1000] {
            for concat in [Concat::Udh8, Concat::Udh16, Concat::Sar, Concat::Payload] {
                for encoding in [
                    EncodingChoice::Auto,
                    EncodingChoice::Gsm7,
                    EncodingChoice::Ucs2,
                    EncodingChoice::Latin1,
                ] {
                    for packed in [false, true] {
                        let o = SplitOptions {
                            encoding,
                            concat,
                            national_languages: NationalLanguage::ALL.to_vec(),
                            max_parts,
                            packed_gsm7: packed,
                            reference: 0xFFFF,
                        };
                        split_property(text, &o);
                    }
                }
            }
        }
    }
}

#[test]
fn decode_text_and_receipt_edge_inputs() {
    let blobs: &[&[u8]] = &[
        b"",
        b"\x05\x00\x03\xa5\x02",
        b"\x06\x08\x04\x12\x34\x02",
        b"\x03\x24\x01\x09abc",
        b"\xff\xff\xff",
        b"\x1b",
        b"\x1b\x1b\x1b",
        b"\xd8\x3d",
        b"\x00\xd8\x3d\xde\x00\xde\x00",
    ];
    for data in blobs {
        for dc in [0x00, 0x01, 0x03, 0x08, 0x10, 0x18, 0xC0, 0xE0, 0xF0, 0xF4] {
            for esm in [0x00, 0x40] {
                let _ = decode_short_message(dc, esm, data);
                let _ = decode_short_message_packed(dc, esm, data);
            }
        }
        let _ = parse_udh(data);
        receipt_property(data);
    }
    let receipts: &[&[u8]] = &[
        b"id:stat:DELIVRD",
        b"id: stat: DELIVRD",
        b"id:1 stat:DELIVRD text:id:2 stat:UNDELIV",
        b"ID:abc,STAT:UNDELIV;err:0x21",
        b"id:\xff\xfe stat:REJECTD",
        b"submit_date:1 done date: stat:DELIVRD id:z",
        b"text:id:1 stat:DELIVRD",
    ];
    for r in receipts {
        receipt_property(r);
    }
}

/// Found by the `text` target (after about 3.3 million runs): a repeated key was read as the value
/// of the key before it, so `id:sub:` gave the id `sub:`, and the receipt written back out
/// (`id:sub: sub:001 ...`) no longer had an id.
#[test]
fn a_repeated_key_ends_the_value_before_it() {
    let minimized: &[u8] = b"sub:stat:DELIVRD\nid:sub:";
    receipt_property(minimized);
    assert_eq!(
        parse_receipt_text(minimized),
        Err(otpgate_codec::dlr::ReceiptError::MissingField("id"))
    );
    let original = include_bytes!("../fuzz_inputs/text-receipt-repeated-key.bin");
    receipt_property(&original[1..]);
    // The first value still wins, and the repeat ends the value before it.
    let r = parse_receipt_text(b"id:abc stat:DELIVRD id:zzz err:001 stat:UNDELIV").unwrap();
    assert_eq!((r.id.as_str(), r.err.as_deref()), ("abc", Some("001")));
    assert_eq!(r.stat, otpgate_codec::dlr::ReceiptState::Delivered);
}
