//! Segmentation at every boundary of the part sizes, encoding choice and national tables.

use otpgate_codec::text::{
    analyze, decode_short_message, split, split_to_json, Concat, Encoding, EncodingChoice,
    NationalLanguage, SplitMessage, SplitOptions, TextError,
};

fn opts(concat: Concat) -> SplitOptions {
    SplitOptions {
        concat,
        max_parts: 255,
        reference: 0x1234,
        ..SplitOptions::default()
    }
}

fn units(msg: &SplitMessage) -> Vec<usize> {
    msg.parts.iter().map(|p| p.units).collect()
}

/// split and analyze agree, and every part fits in 140 octets.
fn checked(text: &str, o: &SplitOptions) -> SplitMessage {
    let msg = split(text, o).unwrap();
    assert_eq!(analyze(text, o).unwrap(), (msg.encoding, msg.segments));
    if o.concat != Concat::Payload {
        assert_eq!(msg.segments, msg.parts.len());
        for p in &msg.parts {
            assert!(
                p.short_message().len() <= 160,
                "{}",
                p.short_message().len()
            );
            if !msg.encoding.is_gsm7() || o.packed_gsm7 {
                assert!(p.short_message().len() <= 140);
            }
        }
    }
    msg
}

#[test]
fn gsm_single_part_limit_is_160() {
    let o = opts(Concat::Udh8);
    let msg = checked(&"a".repeat(160), &o);
    assert_eq!(msg.encoding, Encoding::Gsm7);
    assert_eq!(msg.data_coding, 0x00);
    assert_eq!(units(&msg), [160]);
    assert!(msg.parts[0].udh.is_none());
    assert!(!msg.parts[0].esm_class_udhi());
    assert_eq!(msg.parts[0].payload.len(), 160);

    let msg = checked(&"a".repeat(161), &o);
    assert_eq!(units(&msg), [153, 8]);
    let udh = msg.parts[1].udh.as_ref().unwrap();
    assert_eq!(&udh[..], &[0x05, 0x00, 0x03, 0x34, 0x02, 0x02]);
    assert!(msg.parts[1].esm_class_udhi());
}

#[test]
fn gsm_multiples_of_153() {
    let o = opts(Concat::Udh8);
    for k in 2..=6 {
        let msg = checked(&"x".repeat(153 * k), &o);
        assert_eq!(msg.parts.len(), k);
        assert!(units(&msg).iter().all(|&u| u == 153));
        let msg = checked(&"x".repeat(153 * k + 1), &o);
        assert_eq!(msg.parts.len(), k + 1);
        assert_eq!(*units(&msg).last().unwrap(), 1);
    }
}

#[test]
fn escape_pair_is_never_split() {
    let o = opts(Concat::Udh8);
    // '€' would take septets 153 and 154: it moves whole to part 2.
    let text = format!("{}€{}", "a".repeat(152), "b".repeat(20));
    let msg = checked(&text, &o);
    assert_eq!(units(&msg), [152, 22]);
    assert_eq!(msg.parts[1].payload[..2], [0x1B, 0x65]);
    // One septet earlier it fits exactly.
    let text = format!("{}€{}", "a".repeat(151), "b".repeat(20));
    assert_eq!(units(&checked(&text, &o)), [153, 20]);
    // Escapes count two septets toward the single-part limit.
    assert_eq!(checked(&"{".repeat(80), &o).parts.len(), 1);
    assert_eq!(units(&checked(&"{".repeat(81), &o)), [152, 10]);
    assert_eq!(checked("\u{c}", &o).parts[0].payload[..], [0x1B, 0x0A]);
}

#[test]
fn ucs2_limits_70_and_67() {
    let o = opts(Concat::Udh8);
    let msg = checked(&"Ж".repeat(70), &o);
    assert_eq!(msg.encoding, Encoding::Ucs2);
    assert_eq!(msg.data_coding, 0x08);
    assert_eq!(units(&msg), [70]);
    assert_eq!(msg.parts[0].payload.len(), 140);
    assert_eq!(units(&checked(&"Ж".repeat(71), &o)), [67, 4]);
    for k in 2..=5 {
        assert_eq!(checked(&"Ж".repeat(67 * k), &o).parts.len(), k);
        assert_eq!(checked(&"Ж".repeat(67 * k + 1), &o).parts.len(), k + 1);
    }
}

#[test]
fn surrogate_pair_is_never_split() {
    let o = opts(Concat::Udh8);
    let text = format!("{}😀{}", "Ж".repeat(66), "Ж".repeat(10));
    let msg = checked(&text, &o);
    assert_eq!(units(&msg), [66, 12]);
    assert_eq!(msg.parts[1].payload[..4], [0xD8, 0x3D, 0xDE, 0x00]);
    // 69 units + one pair = 71 > 70: two parts.
    let msg = checked(&format!("{}😀", "Ж".repeat(69)), &o);
    assert_eq!(units(&msg), [67, 4]);
    assert_eq!(units(&checked(&format!("{}😀", "Ж".repeat(68)), &o)), [70]);
}

#[test]
fn udh16_capacities() {
    let o = opts(Concat::Udh16);
    let msg = checked(&"a".repeat(161), &o);
    assert_eq!(units(&msg), [152, 9]);
    assert_eq!(
        &msg.parts[0].udh.as_ref().unwrap()[..],
        &[0x06, 0x08, 0x04, 0x12, 0x34, 0x02, 0x01]
    );
    assert_eq!(units(&checked(&"Ж".repeat(71), &o)), [66, 5]);
    let latin = SplitOptions {
        encoding: EncodingChoice::Latin1,
        ..o.clone()
    };
    let msg = checked(&"é".repeat(141), &latin);
    assert_eq!(msg.data_coding, 0x03);
    assert_eq!(units(&msg), [133, 8]);
    assert_eq!(units(&checked(&"é".repeat(140), &latin)), [140]);
}

#[test]
fn sar_parts_carry_tlv_info_and_no_udh() {
    let o = opts(Concat::Sar);
    let msg = checked(&"a".repeat(307), &o);
    assert_eq!(units(&msg), [153, 153, 1]);
    for (i, p) in msg.parts.iter().enumerate() {
        assert!(p.udh.is_none());
        let sar = p.sar.unwrap();
        assert_eq!(
            (sar.reference, sar.total, sar.seqnum),
            (0x1234, 3, i as u8 + 1)
        );
    }
    // One part: no SAR.
    assert!(checked("hello", &o).parts[0].sar.is_none());
}

#[test]
fn payload_is_one_part_counted_as_segments() {
    let o = opts(Concat::Payload);
    let msg = checked(&"a".repeat(459), &o);
    assert_eq!(msg.parts.len(), 1);
    assert_eq!(msg.segments, 3);
    assert_eq!(msg.parts[0].units, 459);
    assert!(msg.parts[0].udh.is_none() && msg.parts[0].sar.is_none());
    let limited = SplitOptions { max_parts: 2, ..o };
    assert_eq!(
        split(&"a".repeat(459), &limited),
        Err(TextError::TooManyParts { parts: 3, max: 2 })
    );
}

#[test]
fn too_many_parts_is_an_error_not_a_truncation() {
    let o = SplitOptions::default(); // max 6
    assert_eq!(checked(&"a".repeat(153 * 6), &o).parts.len(), 6);
    assert_eq!(
        split(&"a".repeat(153 * 6 + 1), &o),
        Err(TextError::TooManyParts { parts: 7, max: 6 })
    );
    assert_eq!(
        analyze(&"a".repeat(153 * 6 + 1), &o),
        Err(TextError::TooManyParts { parts: 7, max: 6 })
    );
}

#[test]
fn forced_encodings_refuse_what_they_cannot_write() {
    let gsm = SplitOptions {
        encoding: EncodingChoice::Gsm7,
        ..SplitOptions::default()
    };
    assert_eq!(
        split("Code 1234 — ok", &gsm),
        Err(TextError::Unrepresentable {
            ch: '—',
            position: 10,
            encoding: "GSM7"
        })
    );
    let latin = SplitOptions {
        encoding: EncodingChoice::Latin1,
        ..SplitOptions::default()
    };
    assert!(matches!(
        split("prix 5€", &latin),
        Err(TextError::Unrepresentable {
            ch: '€',
            position: 6,
            ..
        })
    ));
    let ucs2 = SplitOptions {
        encoding: EncodingChoice::Ucs2,
        ..SplitOptions::default()
    };
    assert_eq!(split("abc", &ucs2).unwrap().encoding, Encoding::Ucs2);
}

#[test]
fn turkish_with_and_without_its_tables() {
    let text = "Doğrulama kodunuz: 482913. Şifrenizi kimseyle paylaşmayın.";
    let plain = SplitOptions::default();
    let msg = checked(text, &plain);
    assert_eq!(msg.encoding, Encoding::Ucs2);

    let tr = SplitOptions {
        national_languages: vec![NationalLanguage::Spanish, NationalLanguage::Turkish],
        ..SplitOptions::default()
    };
    let msg = checked(text, &tr);
    let Encoding::Gsm7National { language, .. } = msg.encoding else {
        panic!("{:?}", msg.encoding)
    };
    assert_eq!(language, NationalLanguage::Turkish);
    assert_eq!(msg.encoding.name(), "GSM7");
    assert_eq!(msg.data_coding, 0x00);
    // A single part still needs the UDH that names the table, and UDHI.
    let p = &msg.parts[0];
    assert!(p.esm_class_udhi());
    let back = decode_short_message(msg.data_coding, 0x40, &p.short_message()).unwrap();
    assert_eq!(back.text, text);
    assert_eq!(back.encoding, msg.encoding);
}

#[test]
fn national_ies_shrink_part_capacity() {
    let es = SplitOptions {
        national_languages: vec![NationalLanguage::Spanish],
        max_parts: 255,
        ..SplitOptions::default()
    };
    // Single shift only: 4-octet UDH (03 24 03 02) = 5 septets: 155 left, 'á' costs 2.
    let msg = checked(&format!("á{}", "a".repeat(153)), &es);
    assert_eq!(units(&msg), [155]);
    assert_eq!(
        &msg.parts[0].udh.as_ref().unwrap()[..],
        &[0x03, 0x24, 0x01, 0x02]
    );
    // 156 septets: concatenated, UDH 9 octets = 11 septets: 149 per part.
    let msg = checked(&format!("á{}", "a".repeat(154)), &es);
    assert_eq!(units(&msg), [149, 7]);
    assert_eq!(
        &msg.parts[0].udh.as_ref().unwrap()[..],
        &[0x08, 0x00, 0x03, 0x00, 0x02, 0x01, 0x24, 0x01, 0x02]
    );
}

#[test]
fn locking_shift_chosen_when_it_saves_parts() {
    // Turkish letters everywhere: as escapes they cost 2 septets, in the locking table 1.
    let text = "ğş".repeat(100);
    let tr = SplitOptions {
        national_languages: vec![NationalLanguage::Turkish],
        max_parts: 255,
        ..SplitOptions::default()
    };
    let msg = checked(&text, &tr);
    assert_eq!(
        msg.encoding,
        Encoding::Gsm7National {
            language: NationalLanguage::Turkish,
            single_shift: false,
            locking_shift: true
        }
    );
    assert_eq!(msg.parts.len(), 2);
    let udh = msg.parts[0].udh.as_ref().unwrap();
    assert_eq!(&udh[6..], &[0x25, 0x01, 0x01]);
}

#[test]
fn packed_gsm7_fills_140_octets() {
    let o = SplitOptions {
        packed_gsm7: true,
        ..opts(Concat::Udh8)
    };
    let msg = checked(&"a".repeat(160), &o);
    assert_eq!(msg.parts[0].payload.len(), 140);
    let msg = checked(&"a".repeat(306), &o);
    assert_eq!(units(&msg), [153, 153]);
    assert!(msg.parts.iter().all(|p| p.short_message().len() == 140));
}

#[test]
fn empty_text_is_one_empty_part() {
    let msg = checked("", &SplitOptions::default());
    assert_eq!(msg.parts.len(), 1);
    assert!(msg.parts[0].payload.is_empty());
}

#[test]
fn json_view() {
    let msg = checked(&"a".repeat(161), &opts(Concat::Udh8));
    let v = split_to_json(&msg);
    assert_eq!(v["encoding"], "GSM7");
    assert_eq!(v["data_coding"], 0);
    assert_eq!(v["segments"], 2);
    assert_eq!(v["parts"][0]["udh"], "050003340201");
    assert_eq!(v["parts"][0]["length"], 153);
    assert_eq!(v["parts"][1]["payload"], "6161616161616161");
    assert_eq!(v["parts"][1]["octets"], 14);
}
