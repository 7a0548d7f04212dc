//! Differential checks against an independent implementation, rusmpp 0.4 (`extra`).
//!
//! - GSM-7: the septets of our parts, joined, equal rusmpp's `Gsm7BitUnpacked` encoding of the
//!   text. Part counts are not compared: rusmpp sizes unpacked GSM-7 parts in octets of a
//!   140-octet short_message (140 single, 134 per part) where otpgate uses the septet sizes of
//!   the air interface (160 / 153), and rusmpp's extension table lacks the form feed.
//! - UCS-2 and Latin-1 (140 / 134 octets in both): same part count and the very same
//!   short_message bytes, UDH included, for BMP text (rusmpp refuses surrogate pairs).

use otpgate_codec::text::{split, Concat, Encoding, EncodingChoice, SplitOptions};
use proptest::prelude::*;
use rusmpp::extra::concatenation::SubmitSmMultipartExt;
use rusmpp::extra::encoding::gsm7bit::Gsm7BitUnpacked;
use rusmpp::pdus::SubmitSm;

const GSM_CHARS: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà^{}\\[~]|€";

fn rusmpp_parts(text: &str, encoding: EncodingChoice, reference: u8) -> Vec<Vec<u8>> {
    let builder = SubmitSm::builder()
        .build()
        .multipart(text)
        .reference_u8(reference);
    let sms = match encoding {
        EncodingChoice::Ucs2 => builder.ucs2().build().unwrap(),
        EncodingChoice::Latin1 => builder.latin1().build().unwrap(),
        _ => builder.gsm7bit_unpacked().build().unwrap(),
    };
    sms.iter()
        .map(|sm| sm.short_message().as_ref().to_vec())
        .collect()
}

fn ours(text: &str, encoding: EncodingChoice, reference: u8) -> Vec<Vec<u8>> {
    let o = SplitOptions {
        encoding,
        concat: Concat::Udh8,
        max_parts: 255,
        reference: u16::from(reference),
        ..SplitOptions::default()
    };
    let msg = split(text, &o).unwrap();
    msg.parts
        .iter()
        .map(|p| p.short_message().to_vec())
        .collect()
}

fn gsm_text() -> impl Strategy<Value = String> {
    let chars: Vec<char> = GSM_CHARS.chars().collect();
    prop::collection::vec(prop::sample::select(chars), 0..500).prop_map(|v| v.into_iter().collect())
}

fn bmp_text() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            prop::char::range('a', 'z'),
            prop::char::range('А', 'я'),
            prop::sample::select(vec!['中', '€', 'é', ' ']),
        ],
        0..400,
    )
    .prop_map(|v| v.into_iter().collect())
}

fn latin1_text() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::char::range(' ', 'ÿ'), 0..400).prop_map(|v| v.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn gsm7_septets_match(text in gsm_text()) {
        let o = SplitOptions { max_parts: 255, ..SplitOptions::default() };
        let msg = split(&text, &o).unwrap();
        prop_assert_eq!(msg.encoding, Encoding::Gsm7);
        let joined: Vec<u8> = msg.parts.iter().flat_map(|p| p.payload.to_vec()).collect();
        let theirs = Gsm7BitUnpacked::new().encode_to_vec(&text).unwrap();
        prop_assert_eq!(joined, theirs);
    }

    #[test]
    fn ucs2_parts_match(text in bmp_text(), reference in any::<u8>()) {
        prop_assume!(text.chars().count() > 0);
        prop_assert_eq!(
            ours(&text, EncodingChoice::Ucs2, reference),
            rusmpp_parts(&text, EncodingChoice::Ucs2, reference)
        );
    }

    #[test]
    fn latin1_parts_match(text in latin1_text(), reference in any::<u8>()) {
        prop_assume!(!text.is_empty());
        prop_assert_eq!(
            ours(&text, EncodingChoice::Latin1, reference),
            rusmpp_parts(&text, EncodingChoice::Latin1, reference)
        );
    }
}

#[test]
fn gsm7_same_as_rusmpp_where_both_count_octets() {
    // Up to 140 septets both send one part; the bytes are the same.
    let text = "Your code is 123456. Valid 10 minutes {ref: A-7}";
    assert_eq!(
        ours(text, EncodingChoice::Gsm7, 7),
        rusmpp_parts(text, EncodingChoice::Gsm7, 7)
    );
}
