//! Optional parameters (TLVs): typed where SMPP v3.4 names them and otpgate uses them, raw bytes
//! for everything else so that an unknown TLV re-encodes unchanged.

use bytes::Bytes;

use super::c_octet::COctetString;

/// TLV tags of SMPP v3.4 section 5.3.2.
pub mod tag {
    pub const DEST_ADDR_SUBUNIT: u16 = 0x0005;
    pub const DEST_NETWORK_TYPE: u16 = 0x0006;
    pub const DEST_BEARER_TYPE: u16 = 0x0007;
    pub const DEST_TELEMATICS_ID: u16 = 0x0008;
    pub const SOURCE_ADDR_SUBUNIT: u16 = 0x000D;
    pub const SOURCE_NETWORK_TYPE: u16 = 0x000E;
    pub const SOURCE_BEARER_TYPE: u16 = 0x000F;
    pub const SOURCE_TELEMATICS_ID: u16 = 0x0010;
    pub const QOS_TIME_TO_LIVE: u16 = 0x0017;
    pub const PAYLOAD_TYPE: u16 = 0x0019;
    pub const ADDITIONAL_STATUS_INFO_TEXT: u16 = 0x001D;
    pub const RECEIPTED_MESSAGE_ID: u16 = 0x001E;
    pub const MS_MSG_WAIT_FACILITIES: u16 = 0x0030;
    pub const PRIVACY_INDICATOR: u16 = 0x0201;
    pub const SOURCE_SUBADDRESS: u16 = 0x0202;
    pub const DEST_SUBADDRESS: u16 = 0x0203;
    pub const USER_MESSAGE_REFERENCE: u16 = 0x0204;
    pub const USER_RESPONSE_CODE: u16 = 0x0205;
    pub const SOURCE_PORT: u16 = 0x020A;
    pub const DESTINATION_PORT: u16 = 0x020B;
    pub const SAR_MSG_REF_NUM: u16 = 0x020C;
    pub const LANGUAGE_INDICATOR: u16 = 0x020D;
    pub const SAR_TOTAL_SEGMENTS: u16 = 0x020E;
    pub const SAR_SEGMENT_SEQNUM: u16 = 0x020F;
    pub const SC_INTERFACE_VERSION: u16 = 0x0210;
    pub const CALLBACK_NUM_PRES_IND: u16 = 0x0302;
    pub const CALLBACK_NUM_ATAG: u16 = 0x0303;
    pub const NUMBER_OF_MESSAGES: u16 = 0x0304;
    pub const CALLBACK_NUM: u16 = 0x0381;
    pub const DPF_RESULT: u16 = 0x0420;
    pub const SET_DPF: u16 = 0x0421;
    pub const MS_AVAILABILITY_STATUS: u16 = 0x0422;
    pub const NETWORK_ERROR_CODE: u16 = 0x0423;
    pub const MESSAGE_PAYLOAD: u16 = 0x0424;
    pub const DELIVERY_FAILURE_REASON: u16 = 0x0425;
    pub const MORE_MESSAGES_TO_SEND: u16 = 0x0426;
    pub const MESSAGE_STATE: u16 = 0x0427;
    pub const USSD_SERVICE_OP: u16 = 0x0501;
    pub const DISPLAY_TIME: u16 = 0x1201;
    pub const SMS_SIGNAL: u16 = 0x1203;
    pub const MS_VALIDITY: u16 = 0x1204;
    pub const ALERT_ON_MESSAGE_DELIVERY: u16 = 0x130C;
    pub const ITS_REPLY_TYPE: u16 = 0x1380;
    pub const ITS_SESSION_INFO: u16 = 0x1383;
    /// India's DLT (TRAI TCCCPR 2018): the principal entity (the registered sender business)
    /// id, in the vendor-specific range, as most Indian SMSCs take it.
    pub const DLT_PE_ID: u16 = 0x1400;
    /// India's DLT: the id of the registered content template the text follows.
    pub const DLT_TEMPLATE_ID: u16 = 0x1401;
}

/// One TLV. Typed variants are decoded only when their value has the length the spec gives;
/// anything else is `Other`, kept byte for byte.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tlv {
    /// 0x0424: the whole message text when it does not fit short_message.
    MessagePayload(Bytes),
    /// 0x020C: reference shared by every segment of one concatenated message.
    SarMsgRefNum(u16),
    /// 0x020E
    SarTotalSegments(u8),
    /// 0x020F: 1-based.
    SarSegmentSeqnum(u8),
    /// 0x001E: the SMSC message id a delivery receipt refers to (a C-Octet string).
    ReceiptedMessageId(COctetString),
    /// 0x0427: message state of a receipt (1 ENROUTE, 2 DELIVERED, 3 EXPIRED, 4 DELETED,
    /// 5 UNDELIVERABLE, 6 ACCEPTED, 7 UNKNOWN, 8 REJECTED).
    MessageState(u8),
    /// 0x0423: network type (1 ANSI-136, 2 IS-95, 3 GSM, ...) and its error code.
    NetworkErrorCode { network_type: u8, error_code: u16 },
    /// 0x0204
    UserMessageReference(u16),
    /// 0x0210: the SMSC's SMPP version in bind_*_resp.
    ScInterfaceVersion(u8),
    /// 0x0019
    PayloadType(u8),
    /// 0x0425
    DeliveryFailureReason(u8),
    /// 0x001D
    AdditionalStatusInfoText(COctetString),
    /// Any other tag, or a named tag whose value length is off: kept as it came.
    Other { tag: u16, value: Bytes },
}

impl Tlv {
    pub fn tag(&self) -> u16 {
        match self {
            Tlv::MessagePayload(_) => tag::MESSAGE_PAYLOAD,
            Tlv::SarMsgRefNum(_) => tag::SAR_MSG_REF_NUM,
            Tlv::SarTotalSegments(_) => tag::SAR_TOTAL_SEGMENTS,
            Tlv::SarSegmentSeqnum(_) => tag::SAR_SEGMENT_SEQNUM,
            Tlv::ReceiptedMessageId(_) => tag::RECEIPTED_MESSAGE_ID,
            Tlv::MessageState(_) => tag::MESSAGE_STATE,
            Tlv::NetworkErrorCode { .. } => tag::NETWORK_ERROR_CODE,
            Tlv::UserMessageReference(_) => tag::USER_MESSAGE_REFERENCE,
            Tlv::ScInterfaceVersion(_) => tag::SC_INTERFACE_VERSION,
            Tlv::PayloadType(_) => tag::PAYLOAD_TYPE,
            Tlv::DeliveryFailureReason(_) => tag::DELIVERY_FAILURE_REASON,
            Tlv::AdditionalStatusInfoText(_) => tag::ADDITIONAL_STATUS_INFO_TEXT,
            Tlv::Other { tag, .. } => *tag,
        }
    }
}

/// Lookups over a PDU's TLV list.
pub trait TlvList {
    fn find_tlv(&self, tag: u16) -> Option<&Tlv>;
    fn message_payload(&self) -> Option<&Bytes>;
    fn receipted_message_id(&self) -> Option<&COctetString>;
    fn message_state(&self) -> Option<u8>;
}

impl TlvList for [Tlv] {
    fn find_tlv(&self, tag: u16) -> Option<&Tlv> {
        self.iter().find(|t| t.tag() == tag)
    }
    fn message_payload(&self) -> Option<&Bytes> {
        self.iter().find_map(|t| match t {
            Tlv::MessagePayload(b) => Some(b),
            _ => None,
        })
    }
    fn receipted_message_id(&self) -> Option<&COctetString> {
        self.iter().find_map(|t| match t {
            Tlv::ReceiptedMessageId(s) => Some(s),
            _ => None,
        })
    }
    fn message_state(&self) -> Option<u8> {
        self.iter().find_map(|t| match t {
            Tlv::MessageState(s) => Some(*s),
            _ => None,
        })
    }
}
