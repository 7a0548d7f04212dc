//! JSON view of a split message, for `otpgate sms split` and the API's debugging endpoints.

use serde_json::{json, Value};

use super::{Encoding, SplitMessage};

/// `{"encoding", "data_coding", "national_language", "segments", "parts": [{"udh", "payload",
/// "short_message", "length", "octets", "sar"}]}`; bytes as lowercase hex, `length` in
/// septets, octets or UTF-16 units, `octets` the short_message size.
pub fn split_to_json(msg: &SplitMessage) -> Value {
    let national = match msg.encoding {
        Encoding::Gsm7National {
            language,
            single_shift,
            locking_shift,
        } => json!({
            "language": language.name(),
            "single_shift": single_shift,
            "locking_shift": locking_shift,
        }),
        _ => Value::Null,
    };
    let parts: Vec<Value> = msg
        .parts
        .iter()
        .map(|p| {
            let sm = p.short_message();
            json!({
                "udh": p.udh.as_ref().map(hex::encode),
                "payload": hex::encode(&p.payload),
                "short_message": hex::encode(&sm),
                "length": p.units,
                "octets": sm.len(),
                "sar": p.sar.map(|s| json!({
                    "reference": s.reference,
                    "total": s.total,
                    "seqnum": s.seqnum,
                })),
            })
        })
        .collect();
    json!({
        "encoding": msg.encoding.name(),
        "data_coding": msg.data_coding,
        "national_language": national,
        "segments": msg.segments,
        "parts": parts,
    })
}
