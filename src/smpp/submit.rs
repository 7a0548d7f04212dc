//! From an `OutboundSms` to the submit_sm of each of its parts, as one SMSC wants them: the
//! codec's split (encoding, concatenation method, national tables), TON/NPI from the
//! addresses, a delivery receipt requested, and a concatenation reference per destination.

use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU16, Ordering};

use otpgate_codec::pdu::{
    COctetString, ShortMessage, ShortMessageTooLong, SubmitSm, Tlv, ESM_UDHI,
};
use otpgate_codec::text::{self, Concat, SplitOptions};

use super::address::{destination_address, source_address};
use super::config::SmscConfig;
use super::message::Prepared;
use super::tlv_lists::tlvs_for;
use crate::dispatch::OutboundSms;

/// registered_delivery: SMSC delivery receipt on final outcome (success or failure).
const RECEIPT_ON_FINAL: u8 = 0x01;

#[derive(Debug, thiserror::Error)]
pub enum PrepareError {
    #[error("text cannot be sent: {0}")]
    Text(#[from] text::TextError),
    #[error("a part does not fit short_message: {0}")]
    ShortMessage(#[from] ShortMessageTooLong),
    #[error("optional TLVs: {0}")]
    Tlv(String),
}

/// Concatenation references, one counter per bucket of destinations: consecutive long
/// messages to one number get different references, in bounded memory.
pub struct References {
    counters: Vec<AtomicU16>,
    hasher: foldhash::fast::RandomState,
}

const REFERENCE_BUCKETS: usize = 4096;

impl Default for References {
    fn default() -> Self {
        let start: u16 = rand::random();
        Self {
            counters: (0..REFERENCE_BUCKETS)
                .map(|i| AtomicU16::new(start.wrapping_add(i as u16)))
                .collect(),
            hasher: Default::default(),
        }
    }
}

impl References {
    pub fn next(&self, destination: &str) -> u16 {
        let i = (self.hasher.hash_one(destination) as usize) % REFERENCE_BUCKETS;
        self.counters
            .get(i)
            .map(|c| c.fetch_add(1, Ordering::Relaxed))
            .unwrap_or(0)
    }
}

pub(super) fn split_options(cfg: &SmscConfig, reference: u16) -> SplitOptions {
    SplitOptions {
        encoding: cfg.encoding.into(),
        concat: cfg.concat.into(),
        national_languages: cfg.national_languages.clone(),
        max_parts: cfg.max_parts,
        packed_gsm7: cfg.packed_gsm7,
        reference,
    }
}

/// The submit_sm of every part, validity_period left empty (written at each send).
pub fn prepare(
    sms: &OutboundSms,
    cfg: &SmscConfig,
    smsc: usize,
    reference: u16,
) -> Result<Prepared, PrepareError> {
    let opts = split_options(cfg, reference);
    let split = text::split(&sms.text, &opts)?;
    let data_coding = if split.encoding.is_gsm7() {
        cfg.gsm7_data_coding
    } else {
        split.data_coding
    };
    let source = source_address(&sms.sender, &cfg.ton_npi);
    let destination = destination_address(
        &sms.destination,
        cfg.destination_ton_npi.unwrap_or(cfg.ton_npi.international),
    );
    let service_type = COctetString::from(cfg.service_type.as_str());
    // the operator's TLVs go on every part: an SMSC checks each submit_sm on its own
    let extra_tlvs = tlvs_for(cfg, &sms.destination, &sms.tlv_values).map_err(PrepareError::Tlv)?;
    let parts = split
        .parts
        .iter()
        .map(|part| {
            let mut tlvs = Vec::new();
            let mut short_message = ShortMessage::new();
            if opts.concat == Concat::Payload {
                tlvs.push(Tlv::MessagePayload(part.short_message()));
            } else {
                short_message = ShortMessage::try_from(part.short_message())?;
            }
            if let Some(sar) = part.sar {
                tlvs.push(Tlv::SarMsgRefNum(sar.reference));
                tlvs.push(Tlv::SarTotalSegments(sar.total));
                tlvs.push(Tlv::SarSegmentSeqnum(sar.seqnum));
            }
            tlvs.extend(extra_tlvs.iter().cloned());
            Ok(SubmitSm {
                service_type: service_type.clone(),
                source: source.clone(),
                destination: destination.clone(),
                esm_class: if part.esm_class_udhi() { ESM_UDHI } else { 0 },
                registered_delivery: RECEIPT_ON_FINAL,
                data_coding,
                short_message,
                tlvs,
                ..SubmitSm::default()
            })
        })
        .collect::<Result<_, PrepareError>>()?;
    Ok(Prepared {
        smsc,
        encoding: split.encoding.name(),
        parts,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::smpp::config::ConcatMethod;
    use crate::smpp::message::test_sms;
    use otpgate_codec::text::NationalLanguage;

    #[test]
    fn one_part_gsm7_with_receipt() {
        let p = prepare(&test_sms(1), &SmscConfig::default(), 0, 7).unwrap();
        assert_eq!(p.encoding, "GSM7");
        assert_eq!(p.parts.len(), 1);
        let sm = &p.parts[0];
        assert_eq!(sm.registered_delivery, 1);
        assert_eq!((sm.source.ton, sm.source.npi), (5, 0));
        assert_eq!((sm.destination.ton, sm.destination.npi), (1, 1));
        assert_eq!(sm.destination.addr.to_string(), "441234567890");
        assert_eq!(sm.esm_class, 0);
        assert_eq!(sm.data_coding, 0);
        assert_eq!(&sm.short_message[..], b"Your code is 123456");
    }

    #[test]
    fn long_ucs2_with_udh_and_sar() {
        let mut sms = test_sms(1);
        sms.text = "Ваш код 123456. ".repeat(8);
        let p = prepare(&sms, &SmscConfig::default(), 0, 0x1234).unwrap();
        assert_eq!(p.encoding, "UCS2");
        assert!(p.parts.len() >= 2);
        for sm in &p.parts {
            assert_eq!(sm.esm_class, 0x40);
            assert_eq!(sm.data_coding, 8);
            assert_eq!(sm.short_message[..3], [5, 0, 3]);
            assert_eq!(sm.short_message[3], 0x34);
        }
        let cfg = SmscConfig {
            concat: ConcatMethod::Sar,
            ..SmscConfig::default()
        };
        let p = prepare(&sms, &cfg, 0, 0x1234).unwrap();
        assert_eq!(p.parts[1].esm_class, 0);
        assert!(p.parts[1].tlvs.contains(&Tlv::SarMsgRefNum(0x1234)));
        assert!(p.parts[1].tlvs.contains(&Tlv::SarSegmentSeqnum(2)));
        let cfg = SmscConfig {
            concat: ConcatMethod::Payload,
            ..SmscConfig::default()
        };
        let p = prepare(&sms, &cfg, 0, 1).unwrap();
        assert_eq!(p.parts.len(), 1);
        assert!(p.parts[0].short_message.is_empty());
        assert!(matches!(p.parts[0].tlvs[0], Tlv::MessagePayload(_)));
    }

    #[test]
    fn hindi_tables_when_the_smsc_allows_them() {
        let mut sms = test_sms(1);
        sms.text = "आपका OTP 482913 है".into();
        // Without national tables: UCS-2.
        let p = prepare(&sms, &SmscConfig::default(), 0, 0).unwrap();
        assert_eq!(p.encoding, "UCS2");
        assert_eq!(p.parts[0].data_coding, 8);
        // With them: GSM-7, Hindi locking and single shift IEs, decoding back exactly.
        let cfg = SmscConfig {
            national_languages: vec![NationalLanguage::Turkish, NationalLanguage::Hindi],
            ..SmscConfig::default()
        };
        let p = prepare(&sms, &cfg, 0, 0).unwrap();
        assert_eq!(p.encoding, "GSM7");
        assert_eq!(p.parts.len(), 1);
        let sm = &p.parts[0];
        assert_eq!((sm.esm_class, sm.data_coding), (0x40, 0));
        assert_eq!(sm.short_message[..7], [6, 0x24, 1, 6, 0x25, 1, 6]);
        let decoded = text::decode_short_message(0, sm.esm_class, &sm.short_message).unwrap();
        assert_eq!(decoded.text, sms.text);
    }

    #[test]
    fn the_operator_tlvs_go_on_every_part() {
        let cfg: SmscConfig = toml::from_str(
            "concat = \"sar\"\ntlv_names = { pe_id = 0x1400, template_id = 0x1401 }\n",
        )
        .unwrap();
        let mut sms = test_sms(1);
        sms.destination = "+919812345678".into();
        sms.text = "Your code is 123456. ".repeat(10);
        sms.tlv_values = [("pe_id", "1101"), ("template_id", "1107")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let p = prepare(&sms, &cfg, 0, 9).unwrap();
        assert!(p.parts.len() >= 2);
        for sm in &p.parts {
            let pe = sm.tlvs.iter().find(|t| t.tag() == 0x1400);
            let tpl = sm.tlvs.iter().find(|t| t.tag() == 0x1401);
            assert!(matches!(pe, Some(Tlv::Other { value, .. }) if &value[..] == b"1101"));
            assert!(matches!(tpl, Some(Tlv::Other { value, .. }) if &value[..] == b"1107"));
            assert!(sm.tlvs.contains(&Tlv::SarMsgRefNum(9)));
        }
    }

    #[test]
    fn references_differ_for_consecutive_messages() {
        let r = References::default();
        let a = r.next("+447700900123");
        let b = r.next("+447700900123");
        assert_ne!(a, b);
    }
}
