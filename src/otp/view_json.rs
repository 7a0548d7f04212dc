//! The OTP object as JSON, written straight into a buffer: every create, read and resend
//! answers with one, and serde's general serializer spent about 9,000 instructions on it (each
//! key escaped, each value through the `Serializer` calls). The bytes are serde_json's for the
//! same view (`the_same_bytes_as_serde_json` compares them on generated views).

use std::cell::Cell;

use super::model::{OtpView, Timestamp};

/// Whether `s` can be written between quotes as it is (serde_json escapes nothing else).
fn plain(s: &str) -> bool {
    !s.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\')
}

fn string(out: &mut Vec<u8>, s: &str) {
    if plain(s) {
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else if serde_json::to_writer(&mut *out, s).is_err() {
        // writing into a Vec cannot fail; a string is never left half written regardless
        out.extend_from_slice(b"null");
    }
}

/// One of the API's own names (a status, an encoding): nothing in them needs escaping.
fn name(out: &mut Vec<u8>, s: &'static str) {
    debug_assert!(plain(s), "{s}");
    out.push(b'"');
    out.extend_from_slice(s.as_bytes());
    out.push(b'"');
}

fn optional(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => string(out, s),
        None => out.extend_from_slice(b"null"),
    }
}

fn number(out: &mut Vec<u8>, n: impl itoa::Integer) {
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

/// A date and its text.
type Written = Option<(Timestamp, [u8; 20])>;

thread_local! {
    /// The two dates this thread wrote last: a new OTP's creation and its expiry, which the
    /// next views written in the same second have too.
    static WRITTEN: Cell<[Written; 2]> = const { Cell::new([None; 2]) };
}

/// `t` as text, from the thread's last two dates when it is one of them (a new OTP's
/// creation, status and delivery status dates are the same second, and the next views of
/// that second have them too).
fn date(out: &mut Vec<u8>, t: Timestamp) {
    let mut written = WRITTEN.get();
    let text = match written.iter().flatten().find(|(seen, _)| *seen == t) {
        Some((_, text)) => *text,
        None => {
            let mut text = [0; 20];
            t.write(&mut text);
            // the older of the two makes room
            written[1] = written[0];
            written[0] = Some((t, text));
            WRITTEN.set(written);
            text
        }
    };
    out.push(b'"');
    out.extend_from_slice(&text);
    out.push(b'"');
}

fn optional_date(out: &mut Vec<u8>, t: Option<Timestamp>) {
    match t {
        Some(t) => date(out, t),
        None => out.extend_from_slice(b"null"),
    }
}

impl OtpView {
    /// The view as the API's JSON object (serde_json's bytes for it).
    pub fn to_json(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(640);
        out.extend_from_slice(b"{\"otpId\":");
        string(&mut out, &self.otp_id);
        out.extend_from_slice(b",\"trackId\":");
        optional(&mut out, self.track_id.as_deref());
        out.extend_from_slice(b",\"phoneNumber\":");
        string(&mut out, &self.phone_number);
        out.extend_from_slice(b",\"countryIso\":");
        string(&mut out, &self.country_iso);
        out.extend_from_slice(b",\"status\":");
        name(&mut out, self.status.as_str());
        out.extend_from_slice(b",\"cost\":");
        // serde_json's own float form (and `null` for what JSON cannot hold)
        if serde_json::to_writer(&mut out, &self.cost).is_err() {
            out.extend_from_slice(b"null");
        }
        out.extend_from_slice(b",\"parts\":");
        number(&mut out, self.parts);
        out.extend_from_slice(b",\"maxAttempts\":");
        number(&mut out, self.max_attempts);
        out.extend_from_slice(b",\"attempts\":");
        number(&mut out, self.attempts);
        out.extend_from_slice(b",\"ttl\":");
        number(&mut out, self.ttl);
        out.extend_from_slice(b",\"otpCallbackUrl\":");
        optional(&mut out, self.otp_callback_url.as_deref());
        out.extend_from_slice(b",\"dateCreated\":");
        date(&mut out, self.date_created);
        out.extend_from_slice(b",\"dateExpires\":");
        date(&mut out, self.date_expires);
        out.extend_from_slice(b",\"language\":");
        optional(&mut out, self.language.as_deref());
        out.extend_from_slice(b",\"encoding\":");
        name(&mut out, self.encoding);
        out.extend_from_slice(b",\"deliveryStatus\":");
        name(&mut out, self.delivery_status.as_str());
        out.extend_from_slice(b",\"dateStatusChanged\":");
        date(&mut out, self.date_status_changed);
        out.extend_from_slice(b",\"dateDeliveryStatusChanged\":");
        date(&mut out, self.date_delivery_status_changed);
        out.extend_from_slice(b",\"smppError\":");
        optional(&mut out, self.smpp_error.as_deref());
        out.extend_from_slice(b",\"dateVerified\":");
        optional_date(&mut out, self.date_verified);
        out.extend_from_slice(b",\"dateCancelled\":");
        optional_date(&mut out, self.date_cancelled);
        out.extend_from_slice(b",\"dateSent\":");
        optional_date(&mut out, self.date_sent);
        out.extend_from_slice(b",\"dateDelivered\":");
        optional_date(&mut out, self.date_delivered);
        out.extend_from_slice(b",\"resends\":");
        number(&mut out, self.resends);
        out.extend_from_slice(b",\"from\":");
        string(&mut out, &self.from);
        if !self.warnings.is_empty() {
            out.extend_from_slice(b",\"warnings\":[");
            for (i, w) in self.warnings.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                string(&mut out, w);
            }
            out.push(b']');
        }
        out.push(b'}');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::otp::{DeliveryStatus, OtpStatus};
    use proptest::prelude::*;

    fn status(i: u8) -> OtpStatus {
        [
            OtpStatus::Pending,
            OtpStatus::Verified,
            OtpStatus::Expired,
            OtpStatus::Cancelled,
            OtpStatus::Failed,
        ][usize::from(i % 5)]
    }

    fn delivery(i: u8) -> DeliveryStatus {
        [
            DeliveryStatus::Queued,
            DeliveryStatus::Sent,
            DeliveryStatus::Delivered,
            DeliveryStatus::Undelivered,
            DeliveryStatus::Rejected,
            DeliveryStatus::Failed,
        ][usize::from(i % 6)]
    }

    /// Text with what JSON must escape: quotes, backslashes, control characters, and
    /// characters beyond ASCII.
    fn text() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-zA-Z0-9+:/._-]{0,40}",
            "\\PC{0,20}",
            prop::collection::vec(any::<char>(), 0..12).prop_map(|c| c.into_iter().collect()),
            Just("say \"hi\"\\\n\t\u{1}\u{7f}\u{2028}é🔐".to_string()),
        ]
    }

    proptest! {
        #[test]
        fn the_same_bytes_as_serde_json(
            strings in prop::collection::vec(text(), 4),
            optional_text in prop::collection::vec(prop::option::of(text()), 4),
            small in prop::collection::vec(any::<u8>(), 6),
            ttl in any::<u16>(),
            // a few seconds apart or any: a view repeats some of its dates, in any order
            times in prop::collection::vec(prop_oneof![any::<u32>(), 1_700_000_000u32..1_700_000_003], 4),
            optional_times in prop::collection::vec(
                prop::option::of(prop_oneof![any::<u32>(), 1_700_000_000u32..1_700_000_003]), 4),
            cost in prop_oneof![
                any::<f64>(),
                Just(0.0),
                Just(0.035),
                Just(1e-7),
                Just(f64::NAN),
                (0u64..10_000_000_000).prop_map(|m| m as f64 / 1e6),
            ],
            warnings in prop::collection::vec(text(), 0..3),
        ) {
            let view = OtpView {
                otp_id: strings[0].clone(),
                track_id: optional_text[0].clone(),
                phone_number: strings[1].clone(),
                country_iso: strings[2].clone(),
                status: status(small[0]),
                cost,
                parts: small[1],
                max_attempts: small[2],
                attempts: small[3],
                ttl,
                otp_callback_url: optional_text[1].clone(),
                date_created: Timestamp(times[0]),
                date_expires: Timestamp(times[1]),
                language: optional_text[2].clone(),
                encoding: ["GSM7", "UCS2", "LATIN1"][usize::from(small[4] % 3)],
                delivery_status: delivery(small[5]),
                date_status_changed: Timestamp(times[2]),
                date_delivery_status_changed: Timestamp(times[3]),
                smpp_error: optional_text[3].clone(),
                date_verified: optional_times[0].map(Timestamp),
                date_cancelled: optional_times[1].map(Timestamp),
                date_sent: optional_times[2].map(Timestamp),
                date_delivered: optional_times[3].map(Timestamp),
                resends: small[0].wrapping_mul(7),
                from: strings[3].clone(),
                warnings,
            };
            let ours = view.to_json();
            let theirs = serde_json::to_vec(&view).unwrap();
            prop_assert_eq!(String::from_utf8_lossy(&ours), String::from_utf8_lossy(&theirs));
        }
    }
}
