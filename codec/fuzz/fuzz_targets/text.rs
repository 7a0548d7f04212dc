//! Fuzz target: the text code on arbitrary input. `analyze` and `split` of any string with any
//! options never panic and agree with each other; a split message decodes and reassembles to
//! the text it came from; `decode_short_message`, `parse_udh` and `parse_receipt_text` of
//! arbitrary octets never panic, and a receipt that parses keeps its id and state when written
//! back out and read again.

#![no_main]

use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use otpgate_codec::dlr::{format_receipt_text, parse_receipt_text};
use otpgate_codec::text::{
    analyze, decode_short_message, decode_short_message_packed, join_parts, parse_udh, split,
    Concat, ConcatInfo, EncodingChoice, NationalLanguage, SplitOptions, TextError,
};

#[derive(Debug)]
enum Input<'a> {
    Split {
        text: String,
        encoding: u8,
        concat: u8,
        languages: u16,
        max_parts: u16,
        packed: bool,
        reference: u16,
    },
    Decode {
        data_coding: u8,
        esm_class: u8,
        data: &'a [u8],
    },
    Receipt(&'a [u8]),
}

impl<'a> Input<'a> {
    /// The first octet picks the case; the rest fills its fields.
    fn read(mut u: Unstructured<'a>) -> Result<Self> {
        Ok(match u.int_in_range(0u8..=3)? {
            0 | 1 => Input::Split {
                encoding: u.arbitrary()?,
                concat: u.arbitrary()?,
                languages: u.arbitrary()?,
                max_parts: u.arbitrary()?,
                packed: u.arbitrary()?,
                reference: u.arbitrary()?,
                // Valid UTF-8 passes unchanged; anything else becomes U+FFFD.
                text: String::from_utf8_lossy(u.take_rest()).into_owned(),
            },
            2 => Input::Decode {
                data_coding: u.arbitrary()?,
                esm_class: u.arbitrary()?,
                data: u.take_rest(),
            },
            _ => Input::Receipt(u.take_rest()),
        })
    }
}

fn options(
    encoding: u8,
    concat: u8,
    languages: u16,
    max_parts: u16,
    packed: bool,
    reference: u16,
) -> SplitOptions {
    let encodings = [
        EncodingChoice::Auto,
        EncodingChoice::Gsm7,
        EncodingChoice::Ucs2,
        EncodingChoice::Latin1,
    ];
    let concats = [Concat::Udh8, Concat::Udh16, Concat::Sar, Concat::Payload];
    SplitOptions {
        encoding: encodings[usize::from(encoding) % encodings.len()],
        concat: concats[usize::from(concat) % concats.len()],
        national_languages: NationalLanguage::ALL
            .into_iter()
            .enumerate()
            .filter(|(i, _)| languages & (1 << i) != 0)
            .map(|(_, l)| l)
            .collect(),
        max_parts: usize::from(max_parts),
        packed_gsm7: packed,
        reference,
    }
}

fn split_round_trip(text: &str, o: &SplitOptions) {
    let analyzed = analyze(text, o);
    let msg = match split(text, o) {
        Ok(msg) => msg,
        Err(e) => {
            assert_eq!(analyzed, Err(e.clone()), "analyze and split disagree");
            if let TextError::Unrepresentable { .. } = e {
                assert_ne!(o.encoding, EncodingChoice::Auto, "auto refused a character");
            }
            return;
        }
    };
    assert_eq!(
        analyzed,
        Ok((msg.encoding, msg.segments)),
        "analyze and split disagree"
    );
    assert!(
        msg.segments <= o.max_parts.min(255),
        "{} segments",
        msg.segments
    );
    let mut decoded = Vec::with_capacity(msg.parts.len());
    for p in &msg.parts {
        let esm = if p.esm_class_udhi() { 0x40 } else { 0x00 };
        let sm = p.short_message();
        if o.concat != Concat::Payload {
            let max = if o.packed_gsm7 || !msg.encoding.is_gsm7() {
                140
            } else {
                160
            };
            assert!(sm.len() <= max, "part of {} octets", sm.len());
        }
        let d = if o.packed_gsm7 {
            decode_short_message_packed(msg.data_coding, esm, &sm)
        } else {
            decode_short_message(msg.data_coding, esm, &sm)
        };
        let mut d = d.unwrap_or_else(|e| panic!("part does not decode: {e}"));
        assert_eq!(d.encoding, msg.encoding);
        if let Some(sar) = p.sar {
            assert!(d.concat.is_none());
            d.concat = Some(ConcatInfo::from(sar));
        }
        decoded.push(d);
    }
    let back = join_parts(&mut decoded).unwrap_or_else(|e| panic!("parts do not join: {e}"));
    // Packed GSM-7 follows TS 23.038's CR padding rule, ambiguous for a part whose own last
    // character is a CR ending on an octet boundary (see text::packing): a receiver drops it.
    if o.packed_gsm7 && msg.encoding.is_gsm7() && text.contains('\r') {
        assert_eq!(back.replace('\r', ""), text.replace('\r', ""));
        return;
    }
    assert_eq!(back, text);
}

fuzz_target!(|data: &[u8]| {
    let Ok(input) = Input::read(Unstructured::new(data)) else {
        return;
    };
    match input {
        Input::Split {
            text,
            encoding,
            concat,
            languages,
            max_parts,
            packed,
            reference,
        } => {
            let o = options(encoding, concat, languages, max_parts, packed, reference);
            split_round_trip(&text, &o);
        }
        Input::Decode {
            data_coding,
            esm_class,
            data,
        } => {
            let _ = decode_short_message(data_coding, esm_class, data);
            let _ = decode_short_message_packed(data_coding, esm_class, data);
            let _ = parse_udh(data);
        }
        Input::Receipt(data) => {
            if let Ok(r) = parse_receipt_text(data) {
                let again = parse_receipt_text(format_receipt_text(&r).as_bytes())
                    .unwrap_or_else(|e| panic!("a written receipt does not parse: {e}"));
                assert_eq!((&again.id, again.stat), (&r.id, r.stat));
            }
        }
    }
});
