//! The wire form of TLVs: the optional-parameter list at the end of a body (decode) and one
//! TLV through an encoder sink (encode). A named tag is typed only when its value has the
//! length the specification gives it; anything else stays `Tlv::Other`, byte for byte.

use bytes::Bytes;

use super::c_octet::COctetString;
use super::error::{DecodeError, EncodeError};
use super::field::{max_len, Field};
use super::reader::Reader;
use super::sink::Sink;
use super::tlv::{tag, Tlv};

/// Every TLV up to the end of the body.
pub(crate) fn decode_tlvs(r: &mut Reader) -> Result<Vec<Tlv>, DecodeError> {
    // Exactly one allocation when there are TLVs, none when the body has no optional part.
    let mut tlvs = Vec::with_capacity(count_tlvs(r.peek_rest()));
    while !r.is_empty() {
        let offset = r.pos();
        let available = r.remaining();
        if available < 4 {
            return Err(DecodeError::TlvTruncated { offset, available });
        }
        let tag = r.u16(Field::TlvValue)?;
        let length = r.u16(Field::TlvValue)?;
        let value = r
            .slice(usize::from(length))
            .ok_or(DecodeError::TlvOverrun {
                tag,
                offset,
                length,
                available: r.remaining(),
            })?;
        tlvs.push(typed(tag, value));
    }
    Ok(tlvs)
}

/// How many TLV headers the walk over `body` meets (an upper bound on the TLVs decoded: a
/// TLV that overruns is counted, then fails). Bounded by a quarter of the body.
#[inline]
fn count_tlvs(mut body: &[u8]) -> usize {
    let mut n = 0usize;
    while let Some((&[_, _, a, b], rest)) = body.split_first_chunk::<4>() {
        n = n.saturating_add(1);
        body = rest
            .get(usize::from(u16::from_be_bytes([a, b]))..)
            .unwrap_or_default();
    }
    n
}

/// The typed TLV for `tag` if `v` has the shape the specification gives it. Values of
/// variable length are copied (message_payload and unknown TLVs into a `Bytes` of their
/// own).
fn typed(tag: u16, v: &[u8]) -> Tlv {
    let typed = match (tag, v) {
        (tag::MESSAGE_PAYLOAD, _) => return Tlv::MessagePayload(Bytes::copy_from_slice(v)),
        (tag::SAR_MSG_REF_NUM, &[a, b]) => Some(Tlv::SarMsgRefNum(u16::from_be_bytes([a, b]))),
        (tag::SAR_TOTAL_SEGMENTS, &[a]) => Some(Tlv::SarTotalSegments(a)),
        (tag::SAR_SEGMENT_SEQNUM, &[a]) => Some(Tlv::SarSegmentSeqnum(a)),
        (tag::MESSAGE_STATE, &[a]) => Some(Tlv::MessageState(a)),
        (tag::NETWORK_ERROR_CODE, &[network_type, a, b]) => Some(Tlv::NetworkErrorCode {
            network_type,
            error_code: u16::from_be_bytes([a, b]),
        }),
        (tag::USER_MESSAGE_REFERENCE, &[a, b]) => {
            Some(Tlv::UserMessageReference(u16::from_be_bytes([a, b])))
        }
        (tag::SC_INTERFACE_VERSION, &[a]) => Some(Tlv::ScInterfaceVersion(a)),
        (tag::PAYLOAD_TYPE, &[a]) => Some(Tlv::PayloadType(a)),
        (tag::DELIVERY_FAILURE_REASON, &[a]) => Some(Tlv::DeliveryFailureReason(a)),
        (tag::RECEIPTED_MESSAGE_ID, _) => {
            tlv_cstr(v, max_len::RECEIPTED_MESSAGE_ID).map(Tlv::ReceiptedMessageId)
        }
        (tag::ADDITIONAL_STATUS_INFO_TEXT, _) => {
            tlv_cstr(v, max_len::ADDITIONAL_STATUS_INFO_TEXT).map(Tlv::AdditionalStatusInfoText)
        }
        _ => None,
    };
    typed.unwrap_or_else(|| Tlv::Other {
        tag,
        value: Bytes::copy_from_slice(v),
    })
}

/// A C-Octet string TLV value: at most `max` octets with its NUL as the last one, or, as many
/// SMSCs send receipted_message_id, at most `max - 1` octets with no NUL at all.
fn tlv_cstr(value: &[u8], max: usize) -> Option<COctetString> {
    if value.is_empty() || value.len() > max {
        return None;
    }
    match memchr::memchr(0, value) {
        Some(nul) if nul.saturating_add(1) == value.len() => {
            Some(COctetString::copy_from_slice(value.get(..nul)?))
        }
        Some(_) => None,
        None if value.len() < max => Some(COctetString::copy_from_slice(value)),
        None => None,
    }
}

/// Writes one TLV (tag, length, value) to `s`.
#[inline]
pub(crate) fn encode_tlv<S: Sink>(s: &mut S, tlv: &Tlv) -> Result<(), EncodeError> {
    let tag = tlv.tag();
    match tlv {
        Tlv::MessagePayload(v) | Tlv::Other { value: v, .. } => {
            s.tlv_header(tag, v.len())?;
            s.octets(v);
        }
        Tlv::SarMsgRefNum(v) | Tlv::UserMessageReference(v) => {
            s.tlv_header(tag, 2)?;
            s.u16(*v);
        }
        Tlv::SarTotalSegments(v)
        | Tlv::SarSegmentSeqnum(v)
        | Tlv::MessageState(v)
        | Tlv::ScInterfaceVersion(v)
        | Tlv::PayloadType(v)
        | Tlv::DeliveryFailureReason(v) => {
            s.tlv_header(tag, 1)?;
            s.u8(*v);
        }
        Tlv::NetworkErrorCode {
            network_type,
            error_code,
        } => {
            s.tlv_header(tag, 3)?;
            s.u8(*network_type);
            s.u16(*error_code);
        }
        Tlv::ReceiptedMessageId(v) => {
            s.tlv_header(tag, v.len().saturating_add(1))?;
            s.cstr(Field::TlvValue, max_len::RECEIPTED_MESSAGE_ID, v)?;
        }
        Tlv::AdditionalStatusInfoText(v) => {
            s.tlv_header(tag, v.len().saturating_add(1))?;
            s.cstr(Field::TlvValue, max_len::ADDITIONAL_STATUS_INFO_TEXT, v)?;
        }
    }
    Ok(())
}
