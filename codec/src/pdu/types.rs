//! The typed SMPP v3.4 PDUs: what a PDU says, without how it is laid out on the wire.
//!
//! Derived fields (command_length, command_id, sm_length, TLV lengths) do not appear here: the
//! encoder computes them, so a value of these types cannot be inconsistent.

use bytes::Bytes;
use std::fmt;

pub use super::c_octet::COctetString;
use super::tlv::Tlv;

/// short_message: at most [`ShortMessage::MAX`] (254) octets, as sm_length is one octet and
/// SMPP v3.4 stops at 254. Longer content goes in the message_payload TLV.
///
/// Decoding copies the octets out of the read buffer into an allocation of their own, so a
/// PDU never keeps a connection's read buffer alive. (Storing up to 254 octets in the value
/// itself was measured slower: moving a PDU of more than 500 octets from the decoder to its
/// user cost more than the allocation.) A constructor never truncates: more than 254
/// octets is a [`ShortMessageTooLong`].
#[derive(Clone)]
pub struct ShortMessage(Bytes);

/// A short_message of more than 254 octets was asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("short_message of {len} octets exceeds 254 (use the message_payload TLV)")]
pub struct ShortMessageTooLong {
    pub len: usize,
}

impl ShortMessage {
    /// The most octets a short_message holds.
    pub const MAX: usize = 254;

    /// The empty short_message.
    pub const fn new() -> Self {
        Self(Bytes::new())
    }

    /// A copy of `s`, or an error if it is longer than [`Self::MAX`].
    #[inline]
    pub fn from_slice(s: &[u8]) -> Result<Self, ShortMessageTooLong> {
        if s.len() > Self::MAX {
            return Err(ShortMessageTooLong { len: s.len() });
        }
        Ok(Self(Bytes::copy_from_slice(s)))
    }

    /// `s` as a short_message, for literals known to fit: more than 254 octets is a
    /// programming error that panics (at compile time in a `const`). Anything that comes
    /// from outside goes through [`Self::from_slice`].
    pub const fn from_static(s: &'static [u8]) -> Self {
        assert!(s.len() <= Self::MAX, "short_message exceeds 254 octets");
        Self(Bytes::from_static(s))
    }

    #[inline]
    pub fn as_slice(&self) -> &[u8] {
        &self.0
    }

    /// The octets as a `Bytes`.
    pub fn to_bytes(&self) -> Bytes {
        self.0.clone()
    }
}

impl Default for ShortMessage {
    fn default() -> Self {
        Self::new()
    }
}
impl std::ops::Deref for ShortMessage {
    type Target = [u8];
    #[inline]
    fn deref(&self) -> &[u8] {
        self.as_slice()
    }
}
impl AsRef<[u8]> for ShortMessage {
    fn as_ref(&self) -> &[u8] {
        self.as_slice()
    }
}
impl PartialEq for ShortMessage {
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}
impl Eq for ShortMessage {}
impl PartialEq<[u8]> for ShortMessage {
    fn eq(&self, other: &[u8]) -> bool {
        self.as_slice() == other
    }
}
impl<const N: usize> PartialEq<[u8; N]> for ShortMessage {
    fn eq(&self, other: &[u8; N]) -> bool {
        self.as_slice() == other
    }
}
impl std::hash::Hash for ShortMessage {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_slice().hash(state);
    }
}
impl TryFrom<&[u8]> for ShortMessage {
    type Error = ShortMessageTooLong;
    fn try_from(s: &[u8]) -> Result<Self, ShortMessageTooLong> {
        Self::from_slice(s)
    }
}
impl<const N: usize> TryFrom<&[u8; N]> for ShortMessage {
    type Error = ShortMessageTooLong;
    fn try_from(s: &[u8; N]) -> Result<Self, ShortMessageTooLong> {
        Self::from_slice(s)
    }
}
impl TryFrom<&str> for ShortMessage {
    type Error = ShortMessageTooLong;
    fn try_from(s: &str) -> Result<Self, ShortMessageTooLong> {
        Self::from_slice(s.as_bytes())
    }
}
impl TryFrom<&Bytes> for ShortMessage {
    type Error = ShortMessageTooLong;
    fn try_from(s: &Bytes) -> Result<Self, ShortMessageTooLong> {
        Self::from_slice(s)
    }
}
impl TryFrom<Bytes> for ShortMessage {
    type Error = ShortMessageTooLong;
    fn try_from(s: Bytes) -> Result<Self, ShortMessageTooLong> {
        Self::from_slice(&s)
    }
}
impl TryFrom<Vec<u8>> for ShortMessage {
    type Error = ShortMessageTooLong;
    fn try_from(s: Vec<u8>) -> Result<Self, ShortMessageTooLong> {
        Self::from_slice(&s)
    }
}
impl fmt::Debug for ShortMessage {
    /// As a byte string literal, like `Bytes`: `b"code 123\x00"`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("b\"")?;
        for &b in self.as_slice() {
            fmt::Display::fmt(&b.escape_ascii(), f)?;
        }
        f.write_str("\"")
    }
}

/// command_status. An open set: any u32 decodes and re-encodes unchanged.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CommandStatus(pub u32);

impl CommandStatus {
    pub const ESME_ROK: Self = Self(0x0000_0000);
    pub const ESME_RINVMSGLEN: Self = Self(0x0000_0001);
    pub const ESME_RINVCMDLEN: Self = Self(0x0000_0002);
    pub const ESME_RINVCMDID: Self = Self(0x0000_0003);
    pub const ESME_RINVBNDSTS: Self = Self(0x0000_0004);
    pub const ESME_RALYBND: Self = Self(0x0000_0005);
    pub const ESME_RINVPRTFLG: Self = Self(0x0000_0006);
    pub const ESME_RINVREGDLVFLG: Self = Self(0x0000_0007);
    pub const ESME_RSYSERR: Self = Self(0x0000_0008);
    pub const ESME_RINVSRCADR: Self = Self(0x0000_000A);
    pub const ESME_RINVDSTADR: Self = Self(0x0000_000B);
    pub const ESME_RINVMSGID: Self = Self(0x0000_000C);
    pub const ESME_RBINDFAIL: Self = Self(0x0000_000D);
    pub const ESME_RINVPASWD: Self = Self(0x0000_000E);
    pub const ESME_RINVSYSID: Self = Self(0x0000_000F);
    pub const ESME_RCANCELFAIL: Self = Self(0x0000_0011);
    pub const ESME_RREPLACEFAIL: Self = Self(0x0000_0013);
    pub const ESME_RMSGQFUL: Self = Self(0x0000_0014);
    pub const ESME_RINVSERTYP: Self = Self(0x0000_0015);
    pub const ESME_RINVNUMDESTS: Self = Self(0x0000_0033);
    pub const ESME_RINVDLNAME: Self = Self(0x0000_0034);
    pub const ESME_RINVDESTFLAG: Self = Self(0x0000_0040);
    pub const ESME_RINVSUBREP: Self = Self(0x0000_0042);
    pub const ESME_RINVESMCLASS: Self = Self(0x0000_0043);
    pub const ESME_RCNTSUBDL: Self = Self(0x0000_0044);
    pub const ESME_RSUBMITFAIL: Self = Self(0x0000_0045);
    pub const ESME_RINVSRCTON: Self = Self(0x0000_0048);
    pub const ESME_RINVSRCNPI: Self = Self(0x0000_0049);
    pub const ESME_RINVDSTTON: Self = Self(0x0000_0050);
    pub const ESME_RINVDSTNPI: Self = Self(0x0000_0051);
    pub const ESME_RINVSYSTYP: Self = Self(0x0000_0053);
    pub const ESME_RINVREPFLAG: Self = Self(0x0000_0054);
    pub const ESME_RINVNUMMSGS: Self = Self(0x0000_0055);
    pub const ESME_RTHROTTLED: Self = Self(0x0000_0058);
    pub const ESME_RINVSCHED: Self = Self(0x0000_0061);
    pub const ESME_RINVEXPIRY: Self = Self(0x0000_0062);
    pub const ESME_RINVDFTMSGID: Self = Self(0x0000_0063);
    pub const ESME_RX_T_APPN: Self = Self(0x0000_0064);
    pub const ESME_RX_P_APPN: Self = Self(0x0000_0065);
    pub const ESME_RX_R_APPN: Self = Self(0x0000_0066);
    pub const ESME_RQUERYFAIL: Self = Self(0x0000_0067);
    pub const ESME_RINVOPTPARSTREAM: Self = Self(0x0000_00C0);
    pub const ESME_ROPTPARNOTALLWD: Self = Self(0x0000_00C1);
    pub const ESME_RINVPARLEN: Self = Self(0x0000_00C2);
    pub const ESME_RMISSINGOPTPARAM: Self = Self(0x0000_00C3);
    pub const ESME_RINVOPTPARAMVAL: Self = Self(0x0000_00C4);
    pub const ESME_RDELIVERYFAILURE: Self = Self(0x0000_00FE);
    pub const ESME_RUNKNOWNERR: Self = Self(0x0000_00FF);

    pub fn is_ok(self) -> bool {
        self == Self::ESME_ROK
    }

    /// The spec's name (`ESME_RTHROTTLED`), or `None` for a vendor-specific value.
    pub fn name(self) -> Option<&'static str> {
        Some(match self {
            Self::ESME_ROK => "ESME_ROK",
            Self::ESME_RINVMSGLEN => "ESME_RINVMSGLEN",
            Self::ESME_RINVCMDLEN => "ESME_RINVCMDLEN",
            Self::ESME_RINVCMDID => "ESME_RINVCMDID",
            Self::ESME_RINVBNDSTS => "ESME_RINVBNDSTS",
            Self::ESME_RALYBND => "ESME_RALYBND",
            Self::ESME_RINVPRTFLG => "ESME_RINVPRTFLG",
            Self::ESME_RINVREGDLVFLG => "ESME_RINVREGDLVFLG",
            Self::ESME_RSYSERR => "ESME_RSYSERR",
            Self::ESME_RINVSRCADR => "ESME_RINVSRCADR",
            Self::ESME_RINVDSTADR => "ESME_RINVDSTADR",
            Self::ESME_RINVMSGID => "ESME_RINVMSGID",
            Self::ESME_RBINDFAIL => "ESME_RBINDFAIL",
            Self::ESME_RINVPASWD => "ESME_RINVPASWD",
            Self::ESME_RINVSYSID => "ESME_RINVSYSID",
            Self::ESME_RCANCELFAIL => "ESME_RCANCELFAIL",
            Self::ESME_RREPLACEFAIL => "ESME_RREPLACEFAIL",
            Self::ESME_RMSGQFUL => "ESME_RMSGQFUL",
            Self::ESME_RINVSERTYP => "ESME_RINVSERTYP",
            Self::ESME_RINVNUMDESTS => "ESME_RINVNUMDESTS",
            Self::ESME_RINVDLNAME => "ESME_RINVDLNAME",
            Self::ESME_RINVDESTFLAG => "ESME_RINVDESTFLAG",
            Self::ESME_RINVSUBREP => "ESME_RINVSUBREP",
            Self::ESME_RINVESMCLASS => "ESME_RINVESMCLASS",
            Self::ESME_RCNTSUBDL => "ESME_RCNTSUBDL",
            Self::ESME_RSUBMITFAIL => "ESME_RSUBMITFAIL",
            Self::ESME_RINVSRCTON => "ESME_RINVSRCTON",
            Self::ESME_RINVSRCNPI => "ESME_RINVSRCNPI",
            Self::ESME_RINVDSTTON => "ESME_RINVDSTTON",
            Self::ESME_RINVDSTNPI => "ESME_RINVDSTNPI",
            Self::ESME_RINVSYSTYP => "ESME_RINVSYSTYP",
            Self::ESME_RINVREPFLAG => "ESME_RINVREPFLAG",
            Self::ESME_RINVNUMMSGS => "ESME_RINVNUMMSGS",
            Self::ESME_RTHROTTLED => "ESME_RTHROTTLED",
            Self::ESME_RINVSCHED => "ESME_RINVSCHED",
            Self::ESME_RINVEXPIRY => "ESME_RINVEXPIRY",
            Self::ESME_RINVDFTMSGID => "ESME_RINVDFTMSGID",
            Self::ESME_RX_T_APPN => "ESME_RX_T_APPN",
            Self::ESME_RX_P_APPN => "ESME_RX_P_APPN",
            Self::ESME_RX_R_APPN => "ESME_RX_R_APPN",
            Self::ESME_RQUERYFAIL => "ESME_RQUERYFAIL",
            Self::ESME_RINVOPTPARSTREAM => "ESME_RINVOPTPARSTREAM",
            Self::ESME_ROPTPARNOTALLWD => "ESME_ROPTPARNOTALLWD",
            Self::ESME_RINVPARLEN => "ESME_RINVPARLEN",
            Self::ESME_RMISSINGOPTPARAM => "ESME_RMISSINGOPTPARAM",
            Self::ESME_RINVOPTPARAMVAL => "ESME_RINVOPTPARAMVAL",
            Self::ESME_RDELIVERYFAILURE => "ESME_RDELIVERYFAILURE",
            Self::ESME_RUNKNOWNERR => "ESME_RUNKNOWNERR",
            _ => return None,
        })
    }
}

impl fmt::Debug for CommandStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{name}(0x{:08X})", self.0),
            None => write!(f, "0x{:08X}", self.0),
        }
    }
}
impl fmt::Display for CommandStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// command_id values of SMPP v3.4.
pub mod command_id {
    pub const GENERIC_NACK: u32 = 0x8000_0000;
    pub const BIND_RECEIVER: u32 = 0x0000_0001;
    pub const BIND_RECEIVER_RESP: u32 = 0x8000_0001;
    pub const BIND_TRANSMITTER: u32 = 0x0000_0002;
    pub const BIND_TRANSMITTER_RESP: u32 = 0x8000_0002;
    pub const QUERY_SM: u32 = 0x0000_0003;
    pub const QUERY_SM_RESP: u32 = 0x8000_0003;
    pub const SUBMIT_SM: u32 = 0x0000_0004;
    pub const SUBMIT_SM_RESP: u32 = 0x8000_0004;
    pub const DELIVER_SM: u32 = 0x0000_0005;
    pub const DELIVER_SM_RESP: u32 = 0x8000_0005;
    pub const UNBIND: u32 = 0x0000_0006;
    pub const UNBIND_RESP: u32 = 0x8000_0006;
    pub const REPLACE_SM: u32 = 0x0000_0007;
    pub const REPLACE_SM_RESP: u32 = 0x8000_0007;
    pub const CANCEL_SM: u32 = 0x0000_0008;
    pub const CANCEL_SM_RESP: u32 = 0x8000_0008;
    pub const BIND_TRANSCEIVER: u32 = 0x0000_0009;
    pub const BIND_TRANSCEIVER_RESP: u32 = 0x8000_0009;
    pub const OUTBIND: u32 = 0x0000_000B;
    pub const ENQUIRE_LINK: u32 = 0x0000_0015;
    pub const ENQUIRE_LINK_RESP: u32 = 0x8000_0015;
    pub const SUBMIT_MULTI: u32 = 0x0000_0021;
    pub const SUBMIT_MULTI_RESP: u32 = 0x8000_0021;
    pub const ALERT_NOTIFICATION: u32 = 0x0000_0102;
    pub const DATA_SM: u32 = 0x0000_0103;
    pub const DATA_SM_RESP: u32 = 0x8000_0103;

    /// Bit set in the command_id of every response.
    pub const RESPONSE_BIT: u32 = 0x8000_0000;
}

/// One PDU: the 16-byte header's sequence_number and command_status, and the body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pdu {
    pub command_status: CommandStatus,
    pub sequence_number: u32,
    pub body: Body,
}

impl Pdu {
    /// A request or a successful response.
    pub fn new(sequence_number: u32, body: Body) -> Self {
        Self {
            command_status: CommandStatus::ESME_ROK,
            sequence_number,
            body,
        }
    }
    pub fn command_id(&self) -> u32 {
        self.body.command_id()
    }
}

/// The body of a PDU, one variant per command. `Unknown` keeps a command we do not know,
/// whole, so it can be answered with generic_nack ESME_RINVCMDID or passed through.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Body {
    BindTransmitter(Bind),
    BindTransmitterResp(BindResp),
    BindReceiver(Bind),
    BindReceiverResp(BindResp),
    BindTransceiver(Bind),
    BindTransceiverResp(BindResp),
    Outbind(Outbind),
    Unbind,
    UnbindResp,
    EnquireLink,
    EnquireLinkResp,
    GenericNack,
    SubmitSm(SubmitSm),
    SubmitSmResp(SubmitSmResp),
    SubmitMulti(SubmitMulti),
    SubmitMultiResp(SubmitMultiResp),
    DeliverSm(DeliverSm),
    DeliverSmResp(DeliverSmResp),
    DataSm(DataSm),
    DataSmResp(DataSmResp),
    QuerySm(QuerySm),
    QuerySmResp(QuerySmResp),
    CancelSm(CancelSm),
    CancelSmResp,
    ReplaceSm(ReplaceSm),
    ReplaceSmResp,
    AlertNotification(AlertNotification),
    Unknown { command_id: u32, body: Bytes },
}

impl Body {
    pub fn command_id(&self) -> u32 {
        use command_id::*;
        match self {
            Body::BindTransmitter(_) => BIND_TRANSMITTER,
            Body::BindTransmitterResp(_) => BIND_TRANSMITTER_RESP,
            Body::BindReceiver(_) => BIND_RECEIVER,
            Body::BindReceiverResp(_) => BIND_RECEIVER_RESP,
            Body::BindTransceiver(_) => BIND_TRANSCEIVER,
            Body::BindTransceiverResp(_) => BIND_TRANSCEIVER_RESP,
            Body::Outbind(_) => OUTBIND,
            Body::Unbind => UNBIND,
            Body::UnbindResp => UNBIND_RESP,
            Body::EnquireLink => ENQUIRE_LINK,
            Body::EnquireLinkResp => ENQUIRE_LINK_RESP,
            Body::GenericNack => GENERIC_NACK,
            Body::SubmitSm(_) => SUBMIT_SM,
            Body::SubmitSmResp(_) => SUBMIT_SM_RESP,
            Body::SubmitMulti(_) => SUBMIT_MULTI,
            Body::SubmitMultiResp(_) => SUBMIT_MULTI_RESP,
            Body::DeliverSm(_) => DELIVER_SM,
            Body::DeliverSmResp(_) => DELIVER_SM_RESP,
            Body::DataSm(_) => DATA_SM,
            Body::DataSmResp(_) => DATA_SM_RESP,
            Body::QuerySm(_) => QUERY_SM,
            Body::QuerySmResp(_) => QUERY_SM_RESP,
            Body::CancelSm(_) => CANCEL_SM,
            Body::CancelSmResp => CANCEL_SM_RESP,
            Body::ReplaceSm(_) => REPLACE_SM,
            Body::ReplaceSmResp => REPLACE_SM_RESP,
            Body::AlertNotification(_) => ALERT_NOTIFICATION,
            Body::Unknown { command_id, .. } => *command_id,
        }
    }
    pub fn is_response(&self) -> bool {
        self.command_id() & command_id::RESPONSE_BIT != 0
    }
}

/// An SME address as three fields (TON, NPI, digits or alphanumeric text).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Address {
    pub ton: u8,
    pub npi: u8,
    pub addr: COctetString,
}

/// bind_transmitter / bind_receiver / bind_transceiver.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Bind {
    pub system_id: COctetString,
    pub password: COctetString,
    pub system_type: COctetString,
    pub interface_version: u8,
    pub addr_ton: u8,
    pub addr_npi: u8,
    pub address_range: COctetString,
}

/// bind_*_resp. The body may be absent on an error response; it then decodes as empty.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BindResp {
    pub system_id: COctetString,
    pub tlvs: Vec<Tlv>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outbind {
    pub system_id: COctetString,
    pub password: COctetString,
}

/// esm_class UDHI indicator (bit 6, SMPP v3.4 section 5.2.12): short_message begins with a
/// User Data Header (concatenation, national language shift).
pub const ESM_UDHI: u8 = 0x40;

/// submit_sm and deliver_sm share one layout (SMPP 3.4 sections 4.4.1 and 4.6.1).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SubmitSm {
    pub service_type: COctetString,
    pub source: Address,
    pub destination: Address,
    pub esm_class: u8,
    pub protocol_id: u8,
    pub priority_flag: u8,
    pub schedule_delivery_time: COctetString,
    pub validity_period: COctetString,
    pub registered_delivery: u8,
    pub replace_if_present_flag: u8,
    pub data_coding: u8,
    pub sm_default_msg_id: u8,
    /// At most 254 octets (sm_length is one octet); longer text goes in the
    /// message_payload TLV.
    pub short_message: ShortMessage,
    pub tlvs: Vec<Tlv>,
}

pub type DeliverSm = SubmitSm;

/// submit_sm_resp. Real SMSCs send it with no body, or an empty message_id, on errors.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SubmitSmResp {
    pub message_id: COctetString,
}

/// deliver_sm_resp: message_id is unused and set to NULL by the ESME.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeliverSmResp {
    pub message_id: COctetString,
}

/// One destination of submit_multi: an SME address or a distribution list name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MultiDestination {
    Sme(Address),
    DistributionList(COctetString),
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SubmitMulti {
    pub service_type: COctetString,
    pub source: Address,
    pub destinations: Vec<MultiDestination>,
    pub esm_class: u8,
    pub protocol_id: u8,
    pub priority_flag: u8,
    pub schedule_delivery_time: COctetString,
    pub validity_period: COctetString,
    pub registered_delivery: u8,
    pub replace_if_present_flag: u8,
    pub data_coding: u8,
    pub sm_default_msg_id: u8,
    pub short_message: ShortMessage,
    pub tlvs: Vec<Tlv>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnsuccessfulSme {
    pub address: Address,
    pub error_status_code: CommandStatus,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SubmitMultiResp {
    pub message_id: COctetString,
    pub unsuccess_smes: Vec<UnsuccessfulSme>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DataSm {
    pub service_type: COctetString,
    pub source: Address,
    pub destination: Address,
    pub esm_class: u8,
    pub registered_delivery: u8,
    pub data_coding: u8,
    pub tlvs: Vec<Tlv>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DataSmResp {
    pub message_id: COctetString,
    pub tlvs: Vec<Tlv>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QuerySm {
    pub message_id: COctetString,
    pub source: Address,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QuerySmResp {
    pub message_id: COctetString,
    pub final_date: COctetString,
    pub message_state: u8,
    pub error_code: u8,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CancelSm {
    pub service_type: COctetString,
    pub message_id: COctetString,
    pub source: Address,
    pub destination: Address,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReplaceSm {
    pub message_id: COctetString,
    pub source: Address,
    pub schedule_delivery_time: COctetString,
    pub validity_period: COctetString,
    pub registered_delivery: u8,
    pub sm_default_msg_id: u8,
    pub short_message: ShortMessage,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AlertNotification {
    pub source: Address,
    pub esme: Address,
    pub tlvs: Vec<Tlv>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_message_refuses_rather_than_cuts() {
        let full = [b'a'; ShortMessage::MAX];
        let sm = ShortMessage::from_slice(&full).expect("254 octets fit");
        assert_eq!(sm.len(), 254);
        assert_eq!(sm, full);
        assert_eq!(
            ShortMessage::from_slice(&[b'a'; 255]),
            Err(ShortMessageTooLong { len: 255 })
        );
        assert_eq!(
            ShortMessage::try_from("x".repeat(300).as_str()),
            Err(ShortMessageTooLong { len: 300 })
        );
        let code = ShortMessage::try_from("code 1\0").expect("fits");
        assert_eq!(code, ShortMessage::from_static(b"code 1\0"));
        assert_eq!(format!("{code:?}"), "b\"code 1\\x00\"");
        assert!(ShortMessage::default().is_empty());
    }
}
