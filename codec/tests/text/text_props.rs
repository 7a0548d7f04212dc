//! Property tests: split then decode and reassemble gives the text back, for every concat
//! mode and encoding choice; decoding arbitrary bytes never panics.

use otpgate_codec::text::{
    analyze, decode_short_message, decode_short_message_packed, join_parts, split, Concat,
    ConcatInfo, EncodingChoice, NationalLanguage, SplitOptions, TextError,
};
use proptest::prelude::*;

/// Characters from every table and beyond: ASCII, GSM extension, Turkish/Spanish/Portuguese
/// letters, Indian scripts (locking and single shift entries, and U+0904 that the Hindi
/// tables lack), Latin-1 only, Cyrillic, CJK, emoji (surrogate pairs), form feed.
fn any_char() -> impl Strategy<Value = char> {
    prop_oneof![
        6 => prop::char::range('a', 'z'),
        2 => prop::sample::select(vec![' ', '0', '9', '@', '\n', '\r', 'É', 'ß', 'Ø', 'Δ']),
        2 => prop::sample::select(vec!['€', '{', '}', '[', ']', '~', '\\', '^', '|', '\u{c}']),
        2 => prop::sample::select(vec!['ğ', 'ş', 'ı', 'İ', 'ç', 'á', 'í', 'ó', 'ú', 'ã', 'õ', 'ê', '∞']),
        2 => prop::sample::select(vec![
            'आ', 'क', 'ा', 'ै', '।', '९', '\u{904}', 'ড', '৳', 'ಡ', 'த', '௵', 'ఆ', 'ا', '؟', 'ੳ'
        ]),
        1 => prop::sample::select(vec!['þ', '®', '±', 'ÿ']),
        1 => prop::char::range('А', 'я'),
        1 => prop::sample::select(vec!['中', '😀', '🇫', '𝄞']),
    ]
}

fn any_text(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(any_char(), 0..max).prop_map(|v| v.into_iter().collect())
}

fn all_options() -> Vec<SplitOptions> {
    let mut out = Vec::new();
    for concat in [Concat::Udh8, Concat::Udh16, Concat::Sar, Concat::Payload] {
        for encoding in [
            EncodingChoice::Auto,
            EncodingChoice::Gsm7,
            EncodingChoice::Ucs2,
            EncodingChoice::Latin1,
        ] {
            for national in [vec![], NationalLanguage::ALL.to_vec()] {
                for packed in [false, true] {
                    out.push(SplitOptions {
                        encoding,
                        concat,
                        national_languages: national.clone(),
                        max_parts: 255,
                        packed_gsm7: packed,
                        reference: 0xA5C3,
                    });
                }
            }
        }
    }
    out
}

fn round_trip(text: &str, o: &SplitOptions) -> Result<(), TestCaseError> {
    let msg = match split(text, o) {
        Ok(msg) => msg,
        Err(TextError::Unrepresentable { ch, .. }) => {
            // Only a forced encoding may refuse a character.
            prop_assert!(o.encoding != EncodingChoice::Auto, "auto refused {ch:?}");
            prop_assert!(analyze(text, o).is_err());
            return Ok(());
        }
        Err(e) => return Err(TestCaseError::fail(format!("{e}"))),
    };
    prop_assert_eq!(analyze(text, o).unwrap(), (msg.encoding, msg.segments));
    let mut decoded = Vec::new();
    for p in &msg.parts {
        let esm = if p.esm_class_udhi() { 0x40 } else { 0x00 };
        let sm = p.short_message();
        if o.concat != Concat::Payload {
            let max = if o.packed_gsm7 || !msg.encoding.is_gsm7() {
                140
            } else {
                160
            };
            prop_assert!(sm.len() <= max);
        }
        let mut d = if o.packed_gsm7 {
            decode_short_message_packed(msg.data_coding, esm, &sm)
        } else {
            decode_short_message(msg.data_coding, esm, &sm)
        }
        .map_err(|e| TestCaseError::fail(format!("{e}")))?;
        prop_assert_eq!(d.encoding, msg.encoding);
        if let Some(sar) = p.sar {
            prop_assert!(d.concat.is_none());
            d.concat = Some(ConcatInfo::from(sar));
        }
        decoded.push(d);
    }
    let back = join_parts(&mut decoded).map_err(|e| TestCaseError::fail(format!("{e}")))?;
    prop_assert_eq!(back, text);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn split_decode_join_is_identity(text in any_text(400)) {
        for o in all_options() {
            // Packed GSM-7 follows TS 23.038's CR padding rule, ambiguous for a text ending
            // in CR on an octet boundary (see text::packing); keep CR out of that case.
            if o.packed_gsm7 && text.contains('\r') {
                continue;
            }
            round_trip(&text, &o)?;
        }
    }

    #[test]
    fn decode_never_panics(dc in any::<u8>(), esm in any::<u8>(), data in prop::collection::vec(any::<u8>(), 0..300)) {
        let _ = decode_short_message(dc, esm, &data);
        let _ = decode_short_message_packed(dc, esm, &data);
    }

    #[test]
    fn udh_headers_never_panic(data in prop::collection::vec(any::<u8>(), 0..40)) {
        let _ = otpgate_codec::text::parse_udh(&data);
        let _ = decode_short_message(0x00, 0x40, &data);
        let _ = decode_short_message(0x08, 0x40, &data);
    }
}

#[test]
fn packed_cr_padding_round_trips_on_seven_spare_bits() {
    let o = SplitOptions {
        packed_gsm7: true,
        ..SplitOptions::default()
    };
    for n in 1..=20 {
        let text = "b".repeat(n);
        let msg = split(&text, &o).unwrap();
        let d = decode_short_message_packed(0, 0, &msg.parts[0].short_message()).unwrap();
        assert_eq!(d.text, text);
    }
}
