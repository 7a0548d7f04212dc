//! The Indian national language tables (TS 23.038 identifiers 4 to 13) through the public API:
//! every character of every table encoded, split and decoded back, part sizes with both shift
//! IEs in the header, a Hindi OTP, and the fall back to UCS-2 for a character the tables lack.
//! The characters come from the AOSP fixture that the codec's own unit test checks the
//! tables against entry by entry.

use otpgate_codec::text::{
    analyze, decode_short_message, decode_short_message_packed, join_parts, split, Concat,
    DecodedText, Encoding, EncodingChoice, NationalLanguage, SplitMessage, SplitOptions, TextError,
};

const FIXTURE: &str = include_str!("../fixtures/national_tables_aosp.txt");

/// (language, locking?, septet, character) for every entry of the fixture.
fn fixture_entries() -> Vec<(NationalLanguage, bool, u8, char)> {
    let mut out = Vec::new();
    for line in FIXTURE
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let words: Vec<&str> = line.split_whitespace().collect();
        let locking = words[0] == "locking";
        let lang = NationalLanguage::from_id(words[1].parse().unwrap()).unwrap();
        let row = u8::from_str_radix(words[2].trim_end_matches(':'), 16).unwrap();
        for (septet, cell) in (row..).zip(&words[3..]) {
            if *cell != "-" {
                let ch = char::from_u32(u32::from_str_radix(cell, 16).unwrap()).unwrap();
                out.push((lang, locking, septet, ch));
            }
        }
    }
    out
}

fn indian() -> Vec<NationalLanguage> {
    (4..=13)
        .map(|id| NationalLanguage::from_id(id).unwrap())
        .collect()
}

fn with(languages: &[NationalLanguage], concat: Concat, packed: bool) -> SplitOptions {
    SplitOptions {
        encoding: EncodingChoice::Auto,
        concat,
        national_languages: languages.to_vec(),
        max_parts: 255,
        packed_gsm7: packed,
        reference: 0x42,
    }
}

/// Every part decoded (as an SMSC would hand it to a handset) and joined.
fn decode_all(msg: &SplitMessage, packed: bool) -> String {
    let mut parts: Vec<DecodedText> = msg
        .parts
        .iter()
        .map(|p| {
            let esm = if p.esm_class_udhi() { 0x40 } else { 0 };
            let sm = p.short_message();
            let decoded = if packed {
                decode_short_message_packed(msg.data_coding, esm, &sm)
            } else {
                decode_short_message(msg.data_coding, esm, &sm)
            };
            let decoded = decoded.unwrap();
            assert_eq!(decoded.encoding, msg.encoding);
            decoded
        })
        .collect();
    join_parts(&mut parts).unwrap()
}

fn hindi_both() -> Encoding {
    Encoding::Gsm7National {
        language: NationalLanguage::Hindi,
        single_shift: true,
        locking_shift: true,
    }
}

#[test]
fn identifiers_4_to_13() {
    let names: Vec<&str> = indian().iter().map(|l| l.name()).collect();
    assert_eq!(
        names,
        [
            "bengali",
            "gujarati",
            "hindi",
            "kannada",
            "malayalam",
            "oriya",
            "punjabi",
            "tamil",
            "telugu",
            "urdu"
        ]
    );
    assert!(indian().iter().all(|l| l.has_locking_shift()));
}

#[test]
fn every_character_round_trips_alone() {
    let entries = fixture_entries();
    assert_eq!(entries.len(), 1967);
    let (mut at_locking, mut at_single) = (0, 0);
    for &(lang, locking, septet, ch) in &entries {
        if is_kannada_dda(lang, ch) {
            continue; // never written: see kannada_dda_is_read_at_0x24_but_sent_as_ucs2
        }
        let text = ch.to_string();
        let msg = split(&text, &with(&[lang], Concat::Udh8, false)).unwrap();
        assert_eq!(decode_all(&msg, false), text, "{lang} {ch:?}");
        assert_eq!(msg.segments, 1);
        // Outside the default alphabet and its extension, the character is written at its
        // own position: one septet in the locking table, or escape + septet in the single
        // shift table. (The doubled entries, '*' and '¡', are in the default alphabet.)
        if let Encoding::Gsm7National {
            single_shift,
            locking_shift,
            ..
        } = msg.encoding
        {
            let payload = &msg.parts[0].payload[..];
            if locking && !single_shift {
                assert!(locking_shift);
                assert_eq!(payload, [septet], "{lang} {ch:?}");
                at_locking += 1;
            } else if !locking && !locking_shift {
                assert_eq!(payload, [0x1B, septet], "{lang} {ch:?}");
                at_single += 1;
            }
        }
    }
    // Script letters and signs, checked at their septet (the rest is default alphabet).
    assert_eq!((at_locking, at_single), (705, 211));
}

#[test]
fn every_table_round_trips_whole() {
    let entries = fixture_entries();
    for lang in indian() {
        for locking in [true, false] {
            let text: String = entries
                .iter()
                .filter(|e| e.0 == lang && e.1 == locking && !is_kannada_dda(e.0, e.3))
                .map(|e| e.3)
                .collect();
            for concat in [Concat::Udh8, Concat::Udh16, Concat::Sar, Concat::Payload] {
                for packed in [false, true] {
                    let o = with(&[lang], concat, packed);
                    let msg = split(&text, &o).unwrap();
                    assert!(msg.encoding.is_gsm7(), "{lang} {locking}");
                    assert_eq!(analyze(&text, &o).unwrap(), (msg.encoding, msg.segments));
                    if concat == Concat::Sar {
                        continue; // SAR parts carry their order in TLVs, not in the UDH.
                    }
                    assert_eq!(decode_all(&msg, packed), text, "{lang} {concat:?} {packed}");
                }
            }
        }
    }
}

#[test]
fn both_shift_ies_shrink_part_capacity() {
    let hi = [NationalLanguage::Hindi];
    // 'O' is only in the Hindi single shift table (2 septets), क only in its locking table.
    let text = |septets: usize| format!("O{}", "क".repeat(septets - 2));

    // One part: UDH 06 24 01 06 25 01 06 = 7 octets = 8 septets, 152 left.
    let msg = split(&text(152), &with(&hi, Concat::Udh8, false)).unwrap();
    assert_eq!(msg.encoding, hindi_both());
    assert_eq!(msg.parts.len(), 1);
    assert_eq!(msg.parts[0].units, 152);
    assert_eq!(
        &msg.parts[0].udh.as_ref().unwrap()[..],
        &[0x06, 0x24, 0x01, 0x06, 0x25, 0x01, 0x06]
    );
    assert!(msg.parts[0].short_message().len() <= 160);

    // 153 septets: concatenated. UDH 0B 00 03 ref total seq 24 01 06 25 01 06 = 12 octets =
    // 14 septets: 146 per part.
    let msg = split(&text(153), &with(&hi, Concat::Udh8, false)).unwrap();
    let units: Vec<usize> = msg.parts.iter().map(|p| p.units).collect();
    assert_eq!(units, [146, 7]);
    assert_eq!(
        &msg.parts[1].udh.as_ref().unwrap()[..],
        &[0x0B, 0x00, 0x03, 0x42, 0x02, 0x02, 0x24, 0x01, 0x06, 0x25, 0x01, 0x06]
    );
    let msg = split(&text(292), &with(&hi, Concat::Udh8, false)).unwrap();
    assert_eq!(msg.parts.len(), 2);
    let msg = split(&text(293), &with(&hi, Concat::Udh8, false)).unwrap();
    assert_eq!(msg.parts.len(), 3);

    // 16-bit reference: 13 octets = 15 septets, 145 per part.
    let msg = split(&text(290), &with(&hi, Concat::Udh16, false)).unwrap();
    let units: Vec<usize> = msg.parts.iter().map(|p| p.units).collect();
    assert_eq!(units, [145, 145]);
    let msg = split(&text(291), &with(&hi, Concat::Udh16, false)).unwrap();
    assert_eq!(msg.parts.len(), 3);

    // Packed, every part fits 140 octets.
    let msg = split(&text(293), &with(&hi, Concat::Udh8, true)).unwrap();
    assert!(msg.parts.iter().all(|p| p.short_message().len() <= 140));
    assert_eq!(decode_all(&msg, true), text(293));

    // An escape pair never straddles two parts: 'O' at septets 146-147 opens part 2.
    let straddle = format!("{}O{}", "क".repeat(145), "क".repeat(10));
    let msg = split(&straddle, &with(&hi, Concat::Udh8, false)).unwrap();
    let units: Vec<usize> = msg.parts.iter().map(|p| p.units).collect();
    assert_eq!(units, [145, 12]);
    assert_eq!(msg.parts[1].payload[..2], [0x1B, 0x4F]);
    assert_eq!(decode_all(&msg, false), straddle);
}

#[test]
fn hindi_otp_in_the_hindi_tables() {
    let otp = "आपका OTP 482913 है";
    let o = with(&[NationalLanguage::Hindi], Concat::Udh8, false);
    let msg = split(otp, &o).unwrap();
    assert_eq!(msg.encoding, hindi_both());
    assert_eq!(msg.data_coding, 0x00);
    assert_eq!(msg.segments, 1);
    // आ प क ा, space, escaped O T P, space, six digits, space, ह ै: 21 septets.
    assert_eq!(msg.parts[0].units, 21);
    assert_eq!(
        &msg.parts[0].payload[..],
        &[
            0x04, 0x3D, 0x15, 0x50, 0x20, 0x1B, 0x4F, 0x1B, 0x54, 0x1B, 0x50, 0x20, 0x34, 0x38,
            0x32, 0x39, 0x31, 0x33, 0x20, 0x4D, 0x5A
        ]
    );
    assert_eq!(decode_all(&msg, false), otp);
    // Without the tables: UCS-2, one part too at this length.
    let ucs2 = split(otp, &with(&[], Concat::Udh8, false)).unwrap();
    assert_eq!((ucs2.encoding, ucs2.segments), (Encoding::Ucs2, 1));

    // A longer Hindi message: 2 parts in UCS-2, 1 with the Hindi tables.
    let long = "आपका OTP 482913 है। यह कोड 10 मिनट तक मान्य है। इसे किसी के साथ साझा न करें।";
    assert!(long.chars().count() > 70);
    let (enc, parts) = analyze(long, &o).unwrap();
    assert_eq!((enc, parts), (hindi_both(), 1));
    let (enc, parts) = analyze(long, &with(&[], Concat::Udh8, false)).unwrap();
    assert_eq!((enc, parts), (Encoding::Ucs2, 2));
    let msg = split(long, &o).unwrap();
    assert_eq!(decode_all(&msg, false), long);

    // Among several allowed languages the Hindi tables are still the ones chosen.
    let all = with(&NationalLanguage::ALL, Concat::Udh8, false);
    assert_eq!(split(otp, &all).unwrap().encoding, hindi_both());
}

#[test]
fn a_character_the_tables_lack_falls_back_to_ucs2() {
    let o = with(&[NationalLanguage::Hindi], Concat::Udh8, false);
    // U+0904 DEVANAGARI LETTER SHORT A is in neither Hindi table; nor is an emoji, nor Tamil.
    for odd in ['\u{904}', '🙂', 'க'] {
        let text = format!("आपका OTP 482913 है {odd}");
        let msg = split(&text, &o).unwrap();
        assert_eq!(msg.encoding, Encoding::Ucs2, "{odd:?}");
        assert_eq!(decode_all(&msg, false), text);
        // GSM-7 only: an error, never a substitute.
        let gsm_only = SplitOptions {
            encoding: EncodingChoice::Gsm7,
            ..o.clone()
        };
        assert!(matches!(
            split(&text, &gsm_only),
            Err(TextError::Unrepresentable {
                encoding: "GSM7",
                ..
            })
        ));
    }
}

/// The spec prints a second PA at Kannada 0x24 where AOSP (and the row's Unicode order) has
/// DDA: a handset may show either, so DDA is read there but never sent there.
fn is_kannada_dda(lang: NationalLanguage, ch: char) -> bool {
    lang == NationalLanguage::Kannada && ch == '\u{ca1}'
}

#[test]
fn kannada_dda_is_read_at_0x24_but_sent_as_ucs2() {
    let kn = with(&[NationalLanguage::Kannada], Concat::Udh8, false);
    let msg = split("ಡ", &kn).unwrap();
    assert!(!msg.encoding.is_gsm7(), "{:?}", msg.encoding);
    assert_eq!(decode_all(&msg, false), "ಡ");
    let msg = split("ಪ", &kn).unwrap();
    assert_eq!(&msg.parts[0].payload[..], &[0x3D]);
    // what a handset following AOSP sends at 0x24 reads as DDA
    let mut sent = split("ಪ", &kn).unwrap();
    sent.parts[0].payload = vec![0x24].into();
    assert_eq!(decode_all(&sent, false), "ಡ");
}
