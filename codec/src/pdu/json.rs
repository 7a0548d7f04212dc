//! A PDU as JSON, field by field with the SMPP specification's names, for `otpgate pdu decode`
//! and for logs; and the hex input side of that command ([`decode_hex_pdu`]).

use serde_json::{json, Map, Value};

use super::decode::{decode_pdu, peek_header};
use super::encode::encoded_len;
use super::error::DecodeError;
use super::message::MessageFieldsRef;
use super::tlv::{tag, Tlv};
use super::types::*;
use super::HEADER_LEN;

/// The command's name in the specification (`submit_sm`), or `None` for an unknown id.
pub fn command_name(id: u32) -> Option<&'static str> {
    use super::types::command_id::*;
    Some(match id {
        GENERIC_NACK => "generic_nack",
        BIND_RECEIVER => "bind_receiver",
        BIND_RECEIVER_RESP => "bind_receiver_resp",
        BIND_TRANSMITTER => "bind_transmitter",
        BIND_TRANSMITTER_RESP => "bind_transmitter_resp",
        QUERY_SM => "query_sm",
        QUERY_SM_RESP => "query_sm_resp",
        SUBMIT_SM => "submit_sm",
        SUBMIT_SM_RESP => "submit_sm_resp",
        DELIVER_SM => "deliver_sm",
        DELIVER_SM_RESP => "deliver_sm_resp",
        UNBIND => "unbind",
        UNBIND_RESP => "unbind_resp",
        REPLACE_SM => "replace_sm",
        REPLACE_SM_RESP => "replace_sm_resp",
        CANCEL_SM => "cancel_sm",
        CANCEL_SM_RESP => "cancel_sm_resp",
        BIND_TRANSCEIVER => "bind_transceiver",
        BIND_TRANSCEIVER_RESP => "bind_transceiver_resp",
        OUTBIND => "outbind",
        ENQUIRE_LINK => "enquire_link",
        ENQUIRE_LINK_RESP => "enquire_link_resp",
        SUBMIT_MULTI => "submit_multi",
        SUBMIT_MULTI_RESP => "submit_multi_resp",
        ALERT_NOTIFICATION => "alert_notification",
        DATA_SM => "data_sm",
        DATA_SM_RESP => "data_sm_resp",
        _ => return None,
    })
}

/// The TLV's name in the specification (`receipted_message_id`), or `None` for an unknown tag.
pub fn tag_name(t: u16) -> Option<&'static str> {
    Some(match t {
        tag::DEST_ADDR_SUBUNIT => "dest_addr_subunit",
        tag::DEST_NETWORK_TYPE => "dest_network_type",
        tag::DEST_BEARER_TYPE => "dest_bearer_type",
        tag::DEST_TELEMATICS_ID => "dest_telematics_id",
        tag::SOURCE_ADDR_SUBUNIT => "source_addr_subunit",
        tag::SOURCE_NETWORK_TYPE => "source_network_type",
        tag::SOURCE_BEARER_TYPE => "source_bearer_type",
        tag::SOURCE_TELEMATICS_ID => "source_telematics_id",
        tag::QOS_TIME_TO_LIVE => "qos_time_to_live",
        tag::PAYLOAD_TYPE => "payload_type",
        tag::ADDITIONAL_STATUS_INFO_TEXT => "additional_status_info_text",
        tag::RECEIPTED_MESSAGE_ID => "receipted_message_id",
        tag::MS_MSG_WAIT_FACILITIES => "ms_msg_wait_facilities",
        tag::PRIVACY_INDICATOR => "privacy_indicator",
        tag::SOURCE_SUBADDRESS => "source_subaddress",
        tag::DEST_SUBADDRESS => "dest_subaddress",
        tag::USER_MESSAGE_REFERENCE => "user_message_reference",
        tag::USER_RESPONSE_CODE => "user_response_code",
        tag::SOURCE_PORT => "source_port",
        tag::DESTINATION_PORT => "destination_port",
        tag::SAR_MSG_REF_NUM => "sar_msg_ref_num",
        tag::LANGUAGE_INDICATOR => "language_indicator",
        tag::SAR_TOTAL_SEGMENTS => "sar_total_segments",
        tag::SAR_SEGMENT_SEQNUM => "sar_segment_seqnum",
        tag::SC_INTERFACE_VERSION => "sc_interface_version",
        tag::CALLBACK_NUM_PRES_IND => "callback_num_pres_ind",
        tag::CALLBACK_NUM_ATAG => "callback_num_atag",
        tag::NUMBER_OF_MESSAGES => "number_of_messages",
        tag::CALLBACK_NUM => "callback_num",
        tag::DPF_RESULT => "dpf_result",
        tag::SET_DPF => "set_dpf",
        tag::MS_AVAILABILITY_STATUS => "ms_availability_status",
        tag::NETWORK_ERROR_CODE => "network_error_code",
        tag::MESSAGE_PAYLOAD => "message_payload",
        tag::DELIVERY_FAILURE_REASON => "delivery_failure_reason",
        tag::MORE_MESSAGES_TO_SEND => "more_messages_to_send",
        tag::MESSAGE_STATE => "message_state",
        tag::USSD_SERVICE_OP => "ussd_service_op",
        tag::DISPLAY_TIME => "display_time",
        tag::SMS_SIGNAL => "sms_signal",
        tag::MS_VALIDITY => "ms_validity",
        tag::ALERT_ON_MESSAGE_DELIVERY => "alert_on_message_delivery",
        tag::ITS_REPLY_TYPE => "its_reply_type",
        tag::ITS_SESSION_INFO => "its_session_info",
        tag::DLT_PE_ID => "pe_id",
        tag::DLT_TEMPLATE_ID => "template_id",
        _ => return None,
    })
}

/// Every tag [`tag_name`] names.
const NAMED_TAGS: [u16; 46] = [
    tag::DEST_ADDR_SUBUNIT,
    tag::DEST_NETWORK_TYPE,
    tag::DEST_BEARER_TYPE,
    tag::DEST_TELEMATICS_ID,
    tag::SOURCE_ADDR_SUBUNIT,
    tag::SOURCE_NETWORK_TYPE,
    tag::SOURCE_BEARER_TYPE,
    tag::SOURCE_TELEMATICS_ID,
    tag::QOS_TIME_TO_LIVE,
    tag::PAYLOAD_TYPE,
    tag::ADDITIONAL_STATUS_INFO_TEXT,
    tag::RECEIPTED_MESSAGE_ID,
    tag::MS_MSG_WAIT_FACILITIES,
    tag::PRIVACY_INDICATOR,
    tag::SOURCE_SUBADDRESS,
    tag::DEST_SUBADDRESS,
    tag::USER_MESSAGE_REFERENCE,
    tag::USER_RESPONSE_CODE,
    tag::SOURCE_PORT,
    tag::DESTINATION_PORT,
    tag::SAR_MSG_REF_NUM,
    tag::LANGUAGE_INDICATOR,
    tag::SAR_TOTAL_SEGMENTS,
    tag::SAR_SEGMENT_SEQNUM,
    tag::SC_INTERFACE_VERSION,
    tag::CALLBACK_NUM_PRES_IND,
    tag::CALLBACK_NUM_ATAG,
    tag::NUMBER_OF_MESSAGES,
    tag::CALLBACK_NUM,
    tag::DPF_RESULT,
    tag::SET_DPF,
    tag::MS_AVAILABILITY_STATUS,
    tag::NETWORK_ERROR_CODE,
    tag::MESSAGE_PAYLOAD,
    tag::DELIVERY_FAILURE_REASON,
    tag::MORE_MESSAGES_TO_SEND,
    tag::MESSAGE_STATE,
    tag::USSD_SERVICE_OP,
    tag::DISPLAY_TIME,
    tag::SMS_SIGNAL,
    tag::MS_VALIDITY,
    tag::ALERT_ON_MESSAGE_DELIVERY,
    tag::ITS_REPLY_TYPE,
    tag::ITS_SESSION_INFO,
    tag::DLT_PE_ID,
    tag::DLT_TEMPLATE_ID,
];

/// The tag [`tag_name`] names `name` (any case), e.g. `"pe_id"` is 0x1400.
pub fn tag_by_name(name: &str) -> Option<u16> {
    NAMED_TAGS
        .iter()
        .copied()
        .find(|t| tag_name(*t).is_some_and(|n| n.eq_ignore_ascii_case(name)))
}

/// Every header field, body field and TLV of `pdu`, named as in the specification.
/// `short_message` and raw TLV values are hex; C-Octet strings are text (lossy UTF-8).
pub fn pdu_to_json(pdu: &Pdu) -> Value {
    let id = pdu.command_id();
    let mut m = Map::new();
    if let Ok(len) = encoded_len(pdu) {
        m.insert("command_length".into(), json!(len));
    }
    m.insert(
        "command_id".into(),
        json!(command_name(id).unwrap_or("unknown")),
    );
    m.insert("command_id_hex".into(), json!(format!("0x{id:08X}")));
    let status = pdu.command_status;
    m.insert(
        "command_status".into(),
        json!(status.name().unwrap_or("vendor_specific")),
    );
    m.insert(
        "command_status_hex".into(),
        json!(format!("0x{:08X}", status.0)),
    );
    m.insert("sequence_number".into(), json!(pdu.sequence_number));
    body_fields(&mut m, &pdu.body);
    Value::Object(m)
}

fn s(v: &COctetString) -> Value {
    Value::String(v.to_str_lossy().into_owned())
}

fn address(m: &mut Map<String, Value>, prefix: &str, name: &str, a: &Address) {
    m.insert(format!("{prefix}_ton"), json!(a.ton));
    m.insert(format!("{prefix}_npi"), json!(a.npi));
    m.insert(name.into(), s(&a.addr));
}

fn short_message(m: &mut Map<String, Value>, sm: &[u8]) {
    m.insert("sm_length".into(), json!(sm.len()));
    m.insert("short_message".into(), json!(hex::encode(sm)));
}

fn tlvs(m: &mut Map<String, Value>, list: &[Tlv]) {
    m.insert("tlvs".into(), list.iter().map(tlv_json).collect());
}

fn tlv_json(t: &Tlv) -> Value {
    let value = match t {
        Tlv::MessagePayload(v) | Tlv::Other { value: v, .. } => json!(hex::encode(v)),
        Tlv::SarMsgRefNum(v) | Tlv::UserMessageReference(v) => json!(v),
        Tlv::SarTotalSegments(v)
        | Tlv::SarSegmentSeqnum(v)
        | Tlv::MessageState(v)
        | Tlv::ScInterfaceVersion(v)
        | Tlv::PayloadType(v)
        | Tlv::DeliveryFailureReason(v) => json!(v),
        Tlv::ReceiptedMessageId(v) | Tlv::AdditionalStatusInfoText(v) => s(v),
        Tlv::NetworkErrorCode {
            network_type,
            error_code,
        } => json!({ "network_type": network_type, "error_code": error_code }),
    };
    let t_tag = t.tag();
    let mut v = json!({
        "tag": tag_name(t_tag).unwrap_or("unknown"),
        "tag_hex": format!("0x{t_tag:04X}"),
        "value": value,
    });
    // vendor TLVs (India's DLT ids...) are mostly printable text: show it beside the hex
    if let (Tlv::Other { value, .. }, Some(obj)) = (t, v.as_object_mut()) {
        let text = value.strip_suffix(&[0]).unwrap_or(value);
        if !text.is_empty() && text.iter().all(|b| b.is_ascii_graphic() || *b == b' ') {
            obj.insert("text".into(), json!(String::from_utf8_lossy(text)));
        }
    }
    v
}

fn put(m: &mut Map<String, Value>, k: &str, v: Value) {
    m.insert(k.into(), v);
}

/// esm_class to short_message of submit_sm, deliver_sm and submit_multi.
fn message_fields(m: &mut Map<String, Value>, x: MessageFieldsRef<'_>) {
    put(m, "esm_class", json!(x.esm_class));
    put(m, "protocol_id", json!(x.protocol_id));
    put(m, "priority_flag", json!(x.priority_flag));
    put(m, "schedule_delivery_time", s(x.schedule_delivery_time));
    put(m, "validity_period", s(x.validity_period));
    put(m, "registered_delivery", json!(x.registered_delivery));
    put(
        m,
        "replace_if_present_flag",
        json!(x.replace_if_present_flag),
    );
    put(m, "data_coding", json!(x.data_coding));
    put(m, "sm_default_msg_id", json!(x.sm_default_msg_id));
    short_message(m, x.short_message);
}

fn body_fields(m: &mut Map<String, Value>, body: &Body) {
    match body {
        Body::BindTransmitter(b) | Body::BindReceiver(b) | Body::BindTransceiver(b) => {
            put(m, "system_id", s(&b.system_id));
            put(m, "password", s(&b.password));
            put(m, "system_type", s(&b.system_type));
            put(m, "interface_version", json!(b.interface_version));
            put(m, "addr_ton", json!(b.addr_ton));
            put(m, "addr_npi", json!(b.addr_npi));
            put(m, "address_range", s(&b.address_range));
        }
        Body::BindTransmitterResp(b) | Body::BindReceiverResp(b) | Body::BindTransceiverResp(b) => {
            put(m, "system_id", s(&b.system_id));
            tlvs(m, &b.tlvs);
        }
        Body::Outbind(o) => {
            put(m, "system_id", s(&o.system_id));
            put(m, "password", s(&o.password));
        }
        Body::Unbind
        | Body::UnbindResp
        | Body::EnquireLink
        | Body::EnquireLinkResp
        | Body::GenericNack
        | Body::CancelSmResp
        | Body::ReplaceSmResp => {}
        Body::SubmitSm(x) | Body::DeliverSm(x) => {
            put(m, "service_type", s(&x.service_type));
            address(m, "source_addr", "source_addr", &x.source);
            address(m, "dest_addr", "destination_addr", &x.destination);
            message_fields(m, x.message_fields());
            tlvs(m, &x.tlvs);
        }
        Body::SubmitSmResp(SubmitSmResp { message_id })
        | Body::DeliverSmResp(DeliverSmResp { message_id }) => put(m, "message_id", s(message_id)),
        Body::SubmitMulti(x) => {
            put(m, "service_type", s(&x.service_type));
            address(m, "source_addr", "source_addr", &x.source);
            put(m, "number_of_dests", json!(x.destinations.len()));
            let dests = x.destinations.iter().map(|d| match d {
                MultiDestination::Sme(a) => json!({
                    "dest_flag": 1, "dest_addr_ton": a.ton, "dest_addr_npi": a.npi,
                    "destination_addr": s(&a.addr),
                }),
                MultiDestination::DistributionList(n) => json!({ "dest_flag": 2, "dl_name": s(n) }),
            });
            put(m, "dest_address", dests.collect());
            message_fields(m, x.message_fields());
            tlvs(m, &x.tlvs);
        }
        Body::SubmitMultiResp(x) => {
            put(m, "message_id", s(&x.message_id));
            put(m, "no_unsuccess", json!(x.unsuccess_smes.len()));
            let list = x.unsuccess_smes.iter().map(|u| {
                json!({
                    "dest_addr_ton": u.address.ton, "dest_addr_npi": u.address.npi,
                    "destination_addr": s(&u.address.addr),
                    "error_status_code": u.error_status_code.name().unwrap_or("vendor_specific"),
                    "error_status_code_hex": format!("0x{:08X}", u.error_status_code.0),
                })
            });
            put(m, "unsuccess_sme", list.collect());
        }
        Body::DataSm(x) => {
            put(m, "service_type", s(&x.service_type));
            address(m, "source_addr", "source_addr", &x.source);
            address(m, "dest_addr", "destination_addr", &x.destination);
            put(m, "esm_class", json!(x.esm_class));
            put(m, "registered_delivery", json!(x.registered_delivery));
            put(m, "data_coding", json!(x.data_coding));
            tlvs(m, &x.tlvs);
        }
        Body::DataSmResp(x) => {
            put(m, "message_id", s(&x.message_id));
            tlvs(m, &x.tlvs);
        }
        Body::QuerySm(x) => {
            put(m, "message_id", s(&x.message_id));
            address(m, "source_addr", "source_addr", &x.source);
        }
        Body::QuerySmResp(x) => {
            put(m, "message_id", s(&x.message_id));
            put(m, "final_date", s(&x.final_date));
            put(m, "message_state", json!(x.message_state));
            put(m, "error_code", json!(x.error_code));
        }
        Body::CancelSm(x) => {
            put(m, "service_type", s(&x.service_type));
            put(m, "message_id", s(&x.message_id));
            address(m, "source_addr", "source_addr", &x.source);
            address(m, "dest_addr", "destination_addr", &x.destination);
        }
        Body::ReplaceSm(x) => {
            put(m, "message_id", s(&x.message_id));
            address(m, "source_addr", "source_addr", &x.source);
            put(m, "schedule_delivery_time", s(&x.schedule_delivery_time));
            put(m, "validity_period", s(&x.validity_period));
            put(m, "registered_delivery", json!(x.registered_delivery));
            put(m, "sm_default_msg_id", json!(x.sm_default_msg_id));
            short_message(m, &x.short_message);
        }
        Body::AlertNotification(x) => {
            address(m, "source_addr", "source_addr", &x.source);
            address(m, "esme_addr", "esme_addr", &x.esme);
            tlvs(m, &x.tlvs);
        }
        Body::Unknown { body, .. } => put(m, "body", json!(hex::encode(body))),
    }
}

/// Why a hex string is not one PDU.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HexDecodeError {
    #[error("character {found:?} at position {position} is not a hex digit")]
    InvalidHexDigit { position: usize, found: char },
    #[error("odd number of hex digits ({digits}): the last octet is incomplete")]
    OddLength { digits: usize },
    #[error("{len} octets given, fewer than the 16-octet PDU header")]
    TooShort { len: usize },
    #[error("command_length says {command_length} octets but {actual} were given")]
    LengthMismatch { command_length: u32, actual: usize },
    #[error("invalid PDU body ({status}): {error}", status = .error.command_status())]
    Decode { error: DecodeError },
}

/// Decodes one PDU written as hex. Whitespace is ignored, as is a leading `0x`; the octets
/// must be exactly one PDU of the length its command_length says.
pub fn decode_hex_pdu(hex: &str) -> Result<Pdu, HexDecodeError> {
    let trimmed = hex.trim_start();
    let skip = hex.len().saturating_sub(trimmed.len());
    let (body, skip) = match trimmed.strip_prefix("0x").or(trimmed.strip_prefix("0X")) {
        Some(rest) => (rest, skip.saturating_add(2)),
        None => (trimmed, skip),
    };
    let mut octets = Vec::with_capacity(body.len() / 2);
    let mut high: Option<u8> = None;
    let mut digits = 0usize;
    for (i, c) in body.char_indices() {
        if c.is_ascii_whitespace() {
            continue;
        }
        let nibble = c.to_digit(16).and_then(|d| u8::try_from(d).ok()).ok_or(
            HexDecodeError::InvalidHexDigit {
                position: i.saturating_add(skip),
                found: c,
            },
        )?;
        digits = digits.saturating_add(1);
        high = match high {
            None => Some(nibble),
            Some(h) => {
                octets.push(h.wrapping_shl(4) | nibble);
                None
            }
        };
    }
    if high.is_some() {
        return Err(HexDecodeError::OddLength { digits });
    }
    let Some((command_length, ..)) = peek_header(&octets) else {
        return Err(HexDecodeError::TooShort { len: octets.len() });
    };
    if usize::try_from(command_length).ok() != Some(octets.len()) || octets.len() < HEADER_LEN {
        return Err(HexDecodeError::LengthMismatch {
            command_length,
            actual: octets.len(),
        });
    }
    decode_pdu(octets).map_err(|error| HexDecodeError::Decode { error })
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    #[test]
    fn india_dlt_tags_are_named_and_shown_as_text() {
        assert_eq!(tag_name(0x1400), Some("pe_id"));
        assert_eq!(tag_name(0x1401), Some("template_id"));
        assert_eq!(tag_by_name("PE_ID"), Some(0x1400));
        assert_eq!(tag_by_name("sar_msg_ref_num"), Some(0x020C));
        assert_eq!(tag_by_name("nope"), None);
        let named: Vec<u16> = (0..=u16::MAX).filter(|t| tag_name(*t).is_some()).collect();
        let mut listed = NAMED_TAGS.to_vec();
        listed.sort_unstable();
        assert_eq!(named, listed, "NAMED_TAGS lists every named tag");
        let v = tlv_json(&Tlv::Other {
            tag: 0x1401,
            value: Bytes::from_static(b"1107161234567890123\0"),
        });
        assert_eq!(v["tag"], "template_id");
        assert_eq!(v["tag_hex"], "0x1401");
        assert_eq!(v["text"], "1107161234567890123");
        let binary = tlv_json(&Tlv::Other {
            tag: 0x1500,
            value: Bytes::from_static(&[1, 2]),
        });
        assert_eq!(binary["tag"], "unknown");
        assert!(binary.get("text").is_none());
    }
}
