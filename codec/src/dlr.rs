//! Delivery receipts: the `id:… sub:… dlvrd:… submit date:… done date:… stat:… err:… text:…`
//! text of SMPP 3.4 appendix B, the receipt TLVs (receipted_message_id, message_state,
//! network_error_code) that win over it, and message-id normalisation across SMSCs that give
//! an id in hex in one place and in decimal in another.
//!
//! How a message store uses [`message_id_variants`]: index the message_id of each submit_sm_resp
//! under its first variant (lowercase, no leading zeros); when a receipt arrives, look it up by
//! each variant of the receipt's id in turn and take the first hit. An SMSC answering `1A2B`
//! and reporting `6699` (or the reverse, or `00001a2b`) is thus matched without any per-SMSC
//! setting.

use std::borrow::Cow;

use crate::pdu::{SubmitSm, Tlv, TlvList, ESM_UDHI};

/// SMPP 3.4 5.2.12, esm_class bits 5-2 of a deliver_sm: SMSC delivery receipt.
const ESM_SMSC_DELIVERY_RECEIPT: u8 = 0x04;
/// SME delivery acknowledgement.
const ESM_SME_DELIVERY_ACK: u8 = 0x08;
/// Intermediate delivery notification.
const ESM_INTERMEDIATE_NOTIFICATION: u8 = 0x20;
const ESM_TYPE_MASK: u8 = 0x3C;

/// Ids longer than this yield only their normalised form from [`message_id_variants`].
const MAX_VARIANT_ID: usize = 64;

/// Final or intermediate state of a submitted message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReceiptState {
    Delivered,
    Expired,
    Deleted,
    Undeliverable,
    Accepted,
    Unknown,
    Rejected,
    Enroute,
}

impl ReceiptState {
    /// The `stat:` value, any case: the 7-letter codes of appendix B (`DELIVRD`, `UNDELIV`…)
    /// and the long forms some SMSCs send (`DELIVERED`, `UNDELIVERABLE`…).
    pub fn from_stat(stat: &str) -> Option<Self> {
        const NAMES: [(&str, ReceiptState); 15] = [
            ("DELIVRD", ReceiptState::Delivered),
            ("DELIVERED", ReceiptState::Delivered),
            ("EXPIRED", ReceiptState::Expired),
            ("DELETED", ReceiptState::Deleted),
            ("UNDELIV", ReceiptState::Undeliverable),
            ("UNDELIVERABLE", ReceiptState::Undeliverable),
            ("ACCEPTD", ReceiptState::Accepted),
            ("ACCEPTED", ReceiptState::Accepted),
            ("UNKNOWN", ReceiptState::Unknown),
            ("REJECTD", ReceiptState::Rejected),
            ("REJECTED", ReceiptState::Rejected),
            ("ENROUTE", ReceiptState::Enroute),
            ("EN_ROUTE", ReceiptState::Enroute),
            ("UNDELIVERED", ReceiptState::Undeliverable),
            ("ACKED", ReceiptState::Accepted),
        ];
        NAMES
            .iter()
            .find(|(name, _)| stat.eq_ignore_ascii_case(name))
            .map(|&(_, state)| state)
    }

    /// The message_state TLV value (SMPP 3.4 5.2.28): 1 ENROUTE … 8 REJECTED.
    pub fn from_message_state(state: u8) -> Option<Self> {
        Some(match state {
            1 => Self::Enroute,
            2 => Self::Delivered,
            3 => Self::Expired,
            4 => Self::Deleted,
            5 => Self::Undeliverable,
            6 => Self::Accepted,
            7 => Self::Unknown,
            8 => Self::Rejected,
            _ => return None,
        })
    }

    /// The message_state TLV value of this state.
    pub fn message_state(self) -> u8 {
        match self {
            Self::Enroute => 1,
            Self::Delivered => 2,
            Self::Expired => 3,
            Self::Deleted => 4,
            Self::Undeliverable => 5,
            Self::Accepted => 6,
            Self::Unknown => 7,
            Self::Rejected => 8,
        }
    }

    /// The appendix B `stat:` code.
    pub fn stat_str(self) -> &'static str {
        match self {
            Self::Delivered => "DELIVRD",
            Self::Expired => "EXPIRED",
            Self::Deleted => "DELETED",
            Self::Undeliverable => "UNDELIV",
            Self::Accepted => "ACCEPTD",
            Self::Unknown => "UNKNOWN",
            Self::Rejected => "REJECTD",
            Self::Enroute => "ENROUTE",
        }
    }

    /// Whether no later receipt is expected (everything but ENROUTE).
    pub fn is_final(self) -> bool {
        self != Self::Enroute
    }
}

/// One delivery receipt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Receipt {
    /// The SMSC message id, as the SMSC wrote it (see [`message_id_variants`]).
    pub id: String,
    pub sub: Option<u32>,
    pub dlvrd: Option<u32>,
    /// `YYMMDDhhmm` (some SMSCs add seconds), as written.
    pub submit_date: Option<String>,
    pub done_date: Option<String>,
    pub stat: ReceiptState,
    pub err: Option<String>,
    pub text: Option<String>,
    /// network_error_code TLV: (network type, error code).
    pub network_error: Option<(u8, u16)>,
}

/// A delivery receipt as read, its texts borrowed from the PDU where they can be: the engine
/// reads a receipt's id, state and error, and copying every field of it cost four allocations
/// per receipt. The fields are [`Receipt`]'s.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceiptRef<'a> {
    pub id: Cow<'a, str>,
    pub sub: Option<u32>,
    pub dlvrd: Option<u32>,
    pub submit_date: Option<Cow<'a, str>>,
    pub done_date: Option<Cow<'a, str>>,
    pub stat: ReceiptState,
    pub err: Option<Cow<'a, str>>,
    pub text: Option<Cow<'a, str>>,
    pub network_error: Option<(u8, u16)>,
}

impl ReceiptRef<'_> {
    /// The receipt with texts of its own.
    pub fn into_owned(self) -> Receipt {
        Receipt {
            id: self.id.into_owned(),
            sub: self.sub,
            dlvrd: self.dlvrd,
            submit_date: self.submit_date.map(Cow::into_owned),
            done_date: self.done_date.map(Cow::into_owned),
            stat: self.stat,
            err: self.err.map(Cow::into_owned),
            text: self.text.map(Cow::into_owned),
            network_error: self.network_error,
        }
    }

    /// The receipt holding its texts, free of what it was read from.
    fn detached(self) -> ReceiptRef<'static> {
        let own = |c: Cow<'_, str>| Cow::Owned(c.into_owned());
        ReceiptRef {
            id: own(self.id),
            sub: self.sub,
            dlvrd: self.dlvrd,
            submit_date: self.submit_date.map(own),
            done_date: self.done_date.map(own),
            stat: self.stat,
            err: self.err.map(own),
            text: self.text.map(own),
            network_error: self.network_error,
        }
    }
}

/// Why a receipt text could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReceiptError {
    #[error("receipt has no `{0}:` field")]
    MissingField(&'static str),
    #[error("receipt state {0:?} is not one of SMPP's")]
    UnknownStat(String),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Key {
    Id,
    Sub,
    Dlvrd,
    SubmitDate,
    DoneDate,
    Stat,
    Err,
    Text,
}

/// Keys as one or two words; two-word keys accept a space, an underscore or nothing between.
const KEYS: [(&[u8], &[u8], Key); 8] = [
    (b"id", b"", Key::Id),
    (b"sub", b"", Key::Sub),
    (b"dlvrd", b"", Key::Dlvrd),
    (b"submit", b"date", Key::SubmitDate),
    (b"done", b"date", Key::DoneDate),
    (b"stat", b"", Key::Stat),
    (b"err", b"", Key::Err),
    (b"text", b"", Key::Text),
];

fn starts_with_ci(data: &[u8], word: &[u8]) -> bool {
    data.get(..word.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(word))
}

fn skip(data: &[u8], pred: impl Fn(u8) -> bool) -> &[u8] {
    let n = data.iter().take_while(|&&b| pred(b)).count();
    data.get(n..).unwrap_or(&[])
}

/// The key at the start of `data` and what follows its colon.
fn match_key(data: &[u8]) -> Option<(Key, &[u8])> {
    // every boundary of the text is tried: the first letter rules out most keys at once
    let initial = data.first()?.to_ascii_lowercase();
    KEYS.iter().find_map(|&(first, second, key)| {
        if first.first() != Some(&initial) || !starts_with_ci(data, first) {
            return None;
        }
        let mut rest = data.get(first.len()..)?;
        if !second.is_empty() {
            rest = skip(rest, |b| b == b' ' || b == b'_' || b == b'\t');
            if !starts_with_ci(rest, second) {
                return None;
            }
            rest = rest.get(second.len()..)?;
        }
        let rest = skip(rest, |b| b == b' ' || b == b'\t');
        let (&colon, value) = rest.split_first()?;
        (colon == b':').then_some((key, value))
    })
}

fn is_boundary(b: u8) -> bool {
    b.is_ascii_whitespace() || b == b',' || b == b';'
}

/// The first whitespace-delimited token of a value.
fn token(value: &[u8]) -> Option<&[u8]> {
    let value = skip(value, |b| b.is_ascii_whitespace());
    let end = value
        .iter()
        .position(|b| b.is_ascii_whitespace())
        .unwrap_or(value.len());
    value.get(..end).filter(|tok| !tok.is_empty())
}

/// A token read as a number (`sub`, `dlvrd`), `None` when it is not one.
fn number_of(token: &[u8]) -> Option<u32> {
    std::str::from_utf8(token).ok()?.parse().ok()
}

/// `text` without its leading and trailing whitespace, borrowed when it was.
fn trimmed(text: Cow<'_, str>) -> Cow<'_, str> {
    match text {
        Cow::Borrowed(s) => Cow::Borrowed(s.trim()),
        Cow::Owned(s) if s.trim().len() == s.len() => Cow::Owned(s),
        Cow::Owned(s) => Cow::Owned(s.trim().to_owned()),
    }
}

/// `bytes` as text, invalid UTF-8 replaced (a receipt is ASCII: borrowed as it is).
fn text_of(bytes: &[u8]) -> Cow<'_, str> {
    crate::pdu::lossy(bytes)
}

/// Parses a receipt text. Keys are matched in any case and order, at the start or after
/// whitespace (or `,`/`;`); `text:` takes everything after it, colons included. A key given
/// twice keeps its first value, and the repeat still ends the value before it (so a value is
/// never itself a key: `id:sub:` has no id). Missing optional fields are `None`; `id` and
/// `stat` are required. Never panics on any input.
pub fn parse_receipt_text(data: &[u8]) -> Result<Receipt, ReceiptError> {
    parse_receipt_text_ref(data).map(ReceiptRef::into_owned)
}

/// [`parse_receipt_text`], its texts borrowed from `data`.
pub fn parse_receipt_text_ref(data: &[u8]) -> Result<ReceiptRef<'_>, ReceiptError> {
    match parse_appendix_b(data) {
        Some(receipt) => Ok(receipt),
        None => parse_any_layout(data),
    }
}

/// A receipt text laid out as SMPP 3.4 Appendix B writes it (every key in lowercase and in
/// order, one space before each, `text:` last or absent), read in one pass: most SMSCs send
/// that, and it reads as [`parse_any_layout`] reads it. `None` for anything else (another
/// order or case, other spacing, a value holding a boundary or a colon, an unknown state):
/// the general parser reads it.
fn parse_appendix_b(data: &[u8]) -> Option<ReceiptRef<'_>> {
    const FIELDS: [&[u8]; 7] = [
        b"id:",
        b" sub:",
        b" dlvrd:",
        b" submit date:",
        b" done date:",
        b" stat:",
        b" err:",
    ];
    // Checked as UTF-8 once, here, rather than once per value: every boundary below is an
    // ASCII byte, so each value is a slice of `text` on character boundaries.
    let text = std::str::from_utf8(data).ok()?;
    let mut rest = data;
    let mut values: [&str; 7] = [""; 7];
    for (value, key) in values.iter_mut().zip(FIELDS) {
        rest = rest.strip_prefix(key)?;
        let end = rest
            .iter()
            .position(|&b| is_boundary(b) || b == b':')
            .unwrap_or(rest.len());
        if end == 0 {
            return None;
        }
        let start = data.len().saturating_sub(rest.len());
        *value = text.get(start..start.saturating_add(end))?;
        rest = rest.get(end..)?;
    }
    let message = match rest {
        [] => None,
        _ => {
            let after = rest.strip_prefix(b" text:")?;
            let start = data.len().saturating_sub(after.len());
            Some(Cow::Borrowed(text.get(start..)?.trim_ascii()))
        }
    };
    let [id, sub, dlvrd, submit_date, done_date, stat, err] = values;
    Some(ReceiptRef {
        stat: ReceiptState::from_stat(stat)?,
        id: Cow::Borrowed(id),
        sub: sub.parse().ok(),
        dlvrd: dlvrd.parse().ok(),
        submit_date: Some(Cow::Borrowed(submit_date)),
        done_date: Some(Cow::Borrowed(done_date)),
        err: Some(Cow::Borrowed(err)),
        text: message,
        network_error: None,
    })
}

/// [`parse_receipt_text`] for any layout.
fn parse_any_layout(data: &[u8]) -> Result<ReceiptRef<'_>, ReceiptError> {
    // Where each key's value starts and ends (first occurrence wins): any key, repeats
    // included, ends every value still open before it.
    let mut found: [Option<(usize, usize)>; 8] = [None; 8];
    let mut at = 0usize;
    while at < data.len() {
        // `at` is the start of the text or follows a boundary (or a key's colon)
        if let Some((key, value)) = data.get(at..).and_then(match_key) {
            for (_, end) in found.iter_mut().flatten() {
                if *end == usize::MAX {
                    *end = at;
                }
            }
            let value_start = data.len().saturating_sub(value.len());
            if let Some(slot @ None) = found.get_mut(key as usize) {
                *slot = Some((value_start, usize::MAX));
            }
            if key == Key::Text {
                break;
            }
            at = value_start;
            continue;
        }
        // no key here: the next candidate follows the next boundary
        let rest = data.get(at..).unwrap_or(&[]);
        match rest.iter().position(|&b| is_boundary(b)) {
            Some(i) => at = at.saturating_add(i).saturating_add(1),
            None => break,
        }
    }
    let value_of = |key: Key| -> Option<&[u8]> {
        let (start, end) = (*found.get(key as usize)?)?;
        data.get(start..end.min(data.len()).max(start))
    };
    let id = value_of(Key::Id)
        .and_then(token)
        .ok_or(ReceiptError::MissingField("id"))?;
    let stat_token = value_of(Key::Stat)
        .and_then(token)
        .ok_or(ReceiptError::MissingField("stat"))?;
    let stat = std::str::from_utf8(stat_token)
        .ok()
        .and_then(ReceiptState::from_stat)
        .ok_or_else(|| ReceiptError::UnknownStat(text_of(stat_token).into_owned()))?;
    let number = |key| value_of(key).and_then(token).and_then(number_of);
    let string = |key| value_of(key).and_then(token).map(text_of);
    Ok(ReceiptRef {
        id: text_of(id),
        sub: number(Key::Sub),
        dlvrd: number(Key::Dlvrd),
        submit_date: string(Key::SubmitDate),
        done_date: string(Key::DoneDate),
        stat,
        err: string(Key::Err),
        text: value_of(Key::Text).map(|v| text_of(v.trim_ascii())),
        network_error: None,
    })
}

/// The receipt a deliver_sm carries, if it is one: esm_class message type SMSC delivery
/// receipt (0x04), SME delivery acknowledgement (0x08) or intermediate delivery notification
/// (0x20), or any deliver_sm with a receipted_message_id TLV. The text comes from
/// message_payload when present, else short_message (UDH skipped, UCS-2 decoded); the
/// receipted_message_id, message_state and network_error_code TLVs win over it. `None` when
/// neither text nor TLVs give both an id and a state.
pub fn receipt_from_deliver_sm(sm: &SubmitSm) -> Option<Receipt> {
    receipt_ref_from_deliver_sm(sm).map(ReceiptRef::into_owned)
}

/// [`receipt_from_deliver_sm`], its texts borrowed from `sm` where they can be.
pub fn receipt_ref_from_deliver_sm(sm: &SubmitSm) -> Option<ReceiptRef<'_>> {
    let tlvs = sm.tlvs.as_slice();
    let tlv_id = tlvs
        .receipted_message_id()
        .map(|id| trimmed(id.to_str_lossy()))
        .filter(|id| !id.is_empty());
    let is_receipt_type = matches!(
        sm.esm_class & ESM_TYPE_MASK,
        ESM_SMSC_DELIVERY_RECEIPT | ESM_SME_DELIVERY_ACK | ESM_INTERMEDIATE_NOTIFICATION
    );
    if !is_receipt_type && tlv_id.is_none() {
        return None;
    }
    let mut body: &[u8] = tlvs
        .message_payload()
        .map_or(sm.short_message.as_slice(), |p| p);
    if sm.esm_class & ESM_UDHI != 0 {
        if let Ok(udh) = crate::text::parse_udh(body) {
            body = body.get(udh.len..).unwrap_or(&[]);
        }
    }
    let parsed = if sm.data_coding == 0x08 {
        crate::text::decode_short_message(0x08, 0, body)
            .ok()
            .and_then(|d| {
                parse_receipt_text_ref(d.text.as_bytes())
                    .ok()
                    .map(ReceiptRef::detached)
            })
    } else {
        parse_receipt_text_ref(body).ok()
    };
    let tlv_state = tlvs
        .message_state()
        .and_then(ReceiptState::from_message_state);
    let network_error = tlvs.iter().find_map(|t| match *t {
        Tlv::NetworkErrorCode {
            network_type,
            error_code,
        } => Some((network_type, error_code)),
        _ => None,
    });
    let mut receipt = match parsed {
        Some(r) => r,
        None => ReceiptRef {
            id: Cow::Borrowed(""),
            sub: None,
            dlvrd: None,
            submit_date: None,
            done_date: None,
            stat: tlv_state?,
            err: None,
            text: None,
            network_error: None,
        },
    };
    if let Some(id) = tlv_id {
        receipt.id = id;
    }
    if receipt.id.is_empty() {
        return None;
    }
    if let Some(state) = tlv_state {
        receipt.stat = state;
    }
    if network_error.is_some() {
        receipt.network_error = network_error;
    }
    Some(receipt)
}

/// The appendix B layout, as an SMSC (the simulator) writes it. Missing counts are written as
/// `001` submitted and `001`/`000` delivered after the state, a missing error as `000`.
pub fn format_receipt_text(r: &Receipt) -> String {
    let delivered = u32::from(r.stat == ReceiptState::Delivered);
    format!(
        "id:{} sub:{:03} dlvrd:{:03} submit date:{} done date:{} stat:{} err:{} text:{}",
        r.id,
        r.sub.unwrap_or(1),
        r.dlvrd.unwrap_or(delivered),
        r.submit_date.as_deref().unwrap_or(""),
        r.done_date.as_deref().unwrap_or(""),
        r.stat.stat_str(),
        r.err.as_deref().unwrap_or("000"),
        r.text.as_deref().unwrap_or(""),
    )
}

/// Forms under which a message id may be known: first the id trimmed, lowercased, leading
/// zeros stripped (`0` for all zeros); then, when it reads as hex, its decimal form; then, when
/// it reads as decimal, its hex form. No duplicates; at most three; an id longer than 64
/// characters yields only the first. See the module documentation for how a store uses them.
///
/// The forms are made as they are asked for: a caller after the first form alone (an index
/// key) or that stops at the first match pays for one string, not for the number formatting.
pub fn message_id_variants(id: &str) -> MessageIdVariants<'_> {
    MessageIdVariants {
        first: Some(canonical_message_id(id).into_owned()),
        ..message_id_other_forms(id)
    }
}

/// [`message_id_variants`] after the first, for a lookup that has tried
/// [`canonical_message_id`] already: the first form is not made again.
pub fn message_id_other_forms(id: &str) -> MessageIdVariants<'_> {
    MessageIdVariants {
        first: None,
        digits: without_leading_zeros(id),
        readings: None,
        step: 0,
    }
}

/// The first of [`message_id_variants`], borrowed when the id needs no lowercasing (a decimal
/// id, or one the SMSC writes in lowercase): the key of an index that only needs that form.
pub fn canonical_message_id(id: &str) -> Cow<'_, str> {
    let digits = without_leading_zeros(id);
    if digits.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(digits.to_ascii_lowercase())
    } else {
        Cow::Borrowed(digits)
    }
}

/// `id` trimmed, leading zeros stripped (`0` for all zeros), in its own case.
fn without_leading_zeros(id: &str) -> &str {
    // An id that starts and ends with a printable ASCII character has nothing to trim: the
    // common case, checked without the Unicode whitespace tables.
    let trimmed = match id.as_bytes() {
        [first, .., last] if first.is_ascii_graphic() && last.is_ascii_graphic() => id,
        [only] if only.is_ascii_graphic() => id,
        _ => id.trim(),
    };
    let zeros = trimmed.bytes().take_while(|&b| b == b'0').count();
    let stripped = trimmed.get(zeros..).unwrap_or_default();
    if stripped.is_empty() && !trimmed.is_empty() {
        "0"
    } else {
        stripped
    }
}

/// The forms of [`message_id_variants`], in order.
#[derive(Debug)]
pub struct MessageIdVariants<'a> {
    first: Option<String>,
    /// The id trimmed and without leading zeros, in its own case: what the numeric forms read.
    digits: &'a str,
    /// The id read as hex and as decimal, when it reads so: worked out once a second form is
    /// asked for (its decimal form, then its hex form).
    readings: Option<(Option<u128>, Option<u128>)>,
    step: u8,
}

impl MessageIdVariants<'_> {
    fn readings(&mut self) -> (Option<u128>, Option<u128>) {
        let digits = self.digits;
        *self.readings.get_or_insert_with(|| {
            let numeric = digits.len() <= MAX_VARIANT_ID && !digits.is_empty();
            let parsed = |radix: u32| {
                (numeric && digits.bytes().all(|b| (b as char).is_digit(radix)))
                    .then(|| u128::from_str_radix(digits, radix).ok())
                    .flatten()
            };
            (parsed(16), parsed(10))
        })
    }
}

/// `n` in lowercase hex without leading zeros (`format!("{n:x}")` without the formatter).
fn lower_hex(n: u128) -> String {
    let full = hex::encode(n.to_be_bytes());
    match full.trim_start_matches('0') {
        "" => "0".to_owned(),
        digits => digits.to_owned(),
    }
}

impl Iterator for MessageIdVariants<'_> {
    type Item = String;

    fn next(&mut self) -> Option<String> {
        loop {
            self.step = self.step.saturating_add(1);
            match self.step {
                1 => {
                    if let Some(first) = self.first.take() {
                        return Some(first);
                    }
                }
                // the decimal form of the hex reading is the id itself when the id is decimal
                // with the same value under both readings (a single digit)
                2 => match self.readings() {
                    (Some(h), as_decimal) if as_decimal != Some(h) => {
                        return Some(itoa::Buffer::new().format(h).to_owned())
                    }
                    _ => {}
                },
                3 => {
                    let (as_hex, as_decimal) = self.readings();
                    let Some(d) = as_decimal else { continue };
                    let hex = lower_hex(d);
                    // the same as the id (a single digit) or as the second form, the decimal
                    // text of the hex reading: neither has leading zeros, so the same text is
                    // all decimal digits and reads as that number
                    let same_as_first = as_hex == Some(d);
                    let same_as_second = as_hex.is_some_and(|h| {
                        hex.bytes().all(|b| b.is_ascii_digit())
                            && hex.parse::<u128>().ok() == Some(h)
                    });
                    if !same_as_first && !same_as_second {
                        return Some(hex);
                    }
                }
                _ => return None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn an_ascii_receipt_is_read_without_copying_its_texts() {
        let text = b"id:0A1b2C sub:001 dlvrd:001 submit date:2512031200 done date:2512031201 \
                     stat:DELIVRD err:000 text:hello";
        let r = parse_receipt_text_ref(text).expect("a receipt");
        let borrowed = |c: &Option<Cow<'_, str>>| matches!(c, Some(Cow::Borrowed(_)));
        assert!(matches!(r.id, Cow::Borrowed("0A1b2C")), "{r:?}");
        assert!(borrowed(&r.submit_date) && borrowed(&r.done_date), "{r:?}");
        assert!(borrowed(&r.err) && borrowed(&r.text), "{r:?}");
        assert_eq!(
            r.clone().into_owned(),
            parse_receipt_text(text).expect("a receipt")
        );
        let odd = b"stat:DELIVRD  id:x\xff";
        let r = parse_receipt_text_ref(odd).expect("a receipt");
        assert_eq!(r.id, "x\u{fffd}", "invalid UTF-8 replaced, as before");
    }

    /// Values as SMSCs write them, and values that look like keys, states or separators.
    fn value() -> impl Strategy<Value = String> {
        prop_oneof![
            30 => "[0-9A-Fa-f]{1,20}",
            10 => "[0-9]{3}",
            1 => Just("DELIVRD".to_string()),
            1 => Just("undeliv".to_string()),
            1 => Just("sub".to_string()),
            1 => Just("submit".to_string()),
            1 => Just("date".to_string()),
            1 => Just("text".to_string()),
            1 => Just("stat:x".to_string()),
            1 => Just("a,b".to_string()),
            1 => Just("".to_string()),
            1 => "[ -~]{0,8}",
            1 => "\\PC{0,4}",
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4096))]

        /// The one-pass reading gives what the general parser gives for every text it reads.
        #[test]
        fn appendix_b_reads_as_any_layout(
            values in prop::collection::vec(value(), 7),
            text in prop::option::of("[ -~]{0,30}"),
            stat in prop_oneof![
                Just("DELIVRD".to_string()),
                Just("EXPIRED".to_string()),
                Just("UNDELIV".to_string()),
                Just("ENROUTE".to_string()),
                "[A-Za-z_]{0,9}",
            ],
            use_stat in any::<bool>(),
        ) {
            let stat = if use_stat { stat } else { values[5].clone() };
            let mut t = format!(
                "id:{} sub:{} dlvrd:{} submit date:{} done date:{} stat:{} err:{}",
                values[0], values[1], values[2], values[3], values[4], stat, values[6]
            );
            if let Some(x) = &text {
                t.push_str(" text:");
                t.push_str(x);
            }
            let fast = parse_appendix_b(t.as_bytes());
            let general = parse_any_layout(t.as_bytes());
            if let Some(fast) = fast {
                prop_assert_eq!(Ok(fast), general, "{}", t);
            }
        }
    }

    proptest! {
        /// The id trimmed of any Unicode whitespace and stripped of its leading zeros, as the
        /// general trim reads it: ASCII and other whitespace, zeros, letters, any character.
        #[test]
        fn an_id_is_trimmed_and_stripped_as_the_general_trim_reads_it(
            id in "[ \t\u{a0}\u{2003}\u{3000}0-9a-fA-F\u{e9}]{0,10}|\\PC{0,6}"
        ) {
            let trimmed = id.trim();
            let stripped = trimmed.trim_start_matches('0');
            let expected = if stripped.is_empty() && !trimmed.is_empty() { "0" } else { stripped };
            prop_assert_eq!(without_leading_zeros(&id), expected);
        }

        /// The canonical id is the first form, borrowed unless it had to be lowercased.
        #[test]
        fn the_canonical_id_is_the_first_form(id in "[ 0-9a-fA-Fx]{0,12}|\\PC{0,6}") {
            let canonical = canonical_message_id(&id);
            prop_assert_eq!(Some(canonical.to_string()), message_id_variants(&id).next());
            prop_assert_eq!(
                matches!(canonical, Cow::Owned(_)),
                id.trim().trim_start_matches('0').bytes().any(|b| b.is_ascii_uppercase())
            );
        }

        /// The other forms are the forms after the first.
        #[test]
        fn the_other_forms_follow_the_first(id in "[ 0-9a-fA-Fx]{0,12}|\\PC{0,6}") {
            let other: Vec<String> = message_id_other_forms(&id).collect();
            let all: Vec<String> = message_id_variants(&id).skip(1).collect();
            prop_assert_eq!(other, all);
        }
    }

    #[test]
    fn lower_hex_is_the_formatters() {
        for n in [
            0u128,
            1,
            9,
            10,
            15,
            16,
            255,
            4096,
            u64::MAX as u128,
            u128::MAX,
        ] {
            assert_eq!(lower_hex(n), format!("{n:x}"));
        }
    }

    #[test]
    fn the_appendix_b_layout_takes_the_one_pass_reading() {
        let t = b"id:0a1B sub:001 dlvrd:001 submit date:2612042135 done date:2612042136 stat:DELIVRD err:000 text:Your code";
        let r = parse_appendix_b(t).unwrap();
        assert_eq!(r.id, "0a1B");
        assert_eq!((r.sub, r.dlvrd), (Some(1), Some(1)));
        assert_eq!(r.stat, ReceiptState::Delivered);
        assert_eq!(r.text.as_deref(), Some("Your code"));
        assert_eq!(Ok(r), parse_any_layout(t));
        // another order, case or spacing: the general parser's
        assert!(parse_appendix_b(b"stat:DELIVRD id:1").is_none());
        assert!(parse_appendix_b(
            b"ID:1 sub:001 dlvrd:001 submit date:1 done date:1 stat:DELIVRD err:0"
        )
        .is_none());
        assert!(parse_appendix_b(
            b"id:1  sub:001 dlvrd:001 submit date:1 done date:1 stat:DELIVRD err:0"
        )
        .is_none());
    }
}
