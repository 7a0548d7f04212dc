//! Names of the mandatory PDU fields, their SMPP v3.4 maximum sizes, and the command_status a
//! bad value in each one earns. Shared by the encoder and the decoder so both speak of fields
//! the same way.

use std::fmt;

use super::types::CommandStatus;

/// Maximum sizes of the C-Octet string fields, NUL included (SMPP v3.4 section 4).
pub mod max_len {
    pub const SYSTEM_ID: usize = 16;
    pub const PASSWORD: usize = 9;
    pub const SYSTEM_TYPE: usize = 13;
    pub const ADDRESS_RANGE: usize = 41;
    pub const SERVICE_TYPE: usize = 6;
    /// source_addr / destination_addr of submit_sm, deliver_sm, submit_multi, query_sm,
    /// cancel_sm, replace_sm; dl_name.
    pub const ADDR: usize = 21;
    /// source_addr / destination_addr of data_sm, source_addr / esme_addr of
    /// alert_notification.
    pub const ADDR_65: usize = 65;
    pub const DATE: usize = 17;
    pub const MESSAGE_ID: usize = 65;
    /// receipted_message_id TLV.
    pub const RECEIPTED_MESSAGE_ID: usize = 65;
    /// additional_status_info_text TLV.
    pub const ADDITIONAL_STATUS_INFO_TEXT: usize = 256;
    /// short_message (sm_length is one octet, 0 to 254).
    pub const SHORT_MESSAGE: usize = 254;
    /// number_of_dests of submit_multi.
    pub const DESTINATIONS: usize = 254;
}

/// A field of the header or of a PDU body, named as in the SMPP v3.4 specification.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum Field {
    CommandLength,
    CommandId,
    CommandStatus,
    SequenceNumber,
    SystemId,
    Password,
    SystemType,
    InterfaceVersion,
    AddrTon,
    AddrNpi,
    AddressRange,
    ServiceType,
    SourceAddrTon,
    SourceAddrNpi,
    SourceAddr,
    DestAddrTon,
    DestAddrNpi,
    DestinationAddr,
    EsmeAddrTon,
    EsmeAddrNpi,
    EsmeAddr,
    EsmClass,
    ProtocolId,
    PriorityFlag,
    ScheduleDeliveryTime,
    ValidityPeriod,
    RegisteredDelivery,
    ReplaceIfPresentFlag,
    DataCoding,
    SmDefaultMsgId,
    SmLength,
    ShortMessage,
    MessageId,
    FinalDate,
    MessageState,
    ErrorCode,
    NumberOfDests,
    DestFlag,
    DlName,
    NoUnsuccess,
    ErrorStatusCode,
    /// The value of a TLV (see the tag in the error).
    TlvValue,
}

impl Field {
    /// The field's name in the SMPP specification.
    pub fn name(self) -> &'static str {
        match self {
            Field::CommandLength => "command_length",
            Field::CommandId => "command_id",
            Field::CommandStatus => "command_status",
            Field::SequenceNumber => "sequence_number",
            Field::SystemId => "system_id",
            Field::Password => "password",
            Field::SystemType => "system_type",
            Field::InterfaceVersion => "interface_version",
            Field::AddrTon => "addr_ton",
            Field::AddrNpi => "addr_npi",
            Field::AddressRange => "address_range",
            Field::ServiceType => "service_type",
            Field::SourceAddrTon => "source_addr_ton",
            Field::SourceAddrNpi => "source_addr_npi",
            Field::SourceAddr => "source_addr",
            Field::DestAddrTon => "dest_addr_ton",
            Field::DestAddrNpi => "dest_addr_npi",
            Field::DestinationAddr => "destination_addr",
            Field::EsmeAddrTon => "esme_addr_ton",
            Field::EsmeAddrNpi => "esme_addr_npi",
            Field::EsmeAddr => "esme_addr",
            Field::EsmClass => "esm_class",
            Field::ProtocolId => "protocol_id",
            Field::PriorityFlag => "priority_flag",
            Field::ScheduleDeliveryTime => "schedule_delivery_time",
            Field::ValidityPeriod => "validity_period",
            Field::RegisteredDelivery => "registered_delivery",
            Field::ReplaceIfPresentFlag => "replace_if_present_flag",
            Field::DataCoding => "data_coding",
            Field::SmDefaultMsgId => "sm_default_msg_id",
            Field::SmLength => "sm_length",
            Field::ShortMessage => "short_message",
            Field::MessageId => "message_id",
            Field::FinalDate => "final_date",
            Field::MessageState => "message_state",
            Field::ErrorCode => "error_code",
            Field::NumberOfDests => "number_of_dests",
            Field::DestFlag => "dest_flag",
            Field::DlName => "dl_name",
            Field::NoUnsuccess => "no_unsuccess",
            Field::ErrorStatusCode => "error_status_code",
            Field::TlvValue => "tlv_value",
        }
    }

    /// The command_status that answers a malformed value of this field (for example a
    /// source_addr without its NUL within 21 octets is ESME_RINVSRCADR).
    pub fn invalid_status(self) -> CommandStatus {
        match self {
            Field::SystemId => CommandStatus::ESME_RINVSYSID,
            Field::Password => CommandStatus::ESME_RINVPASWD,
            Field::SystemType => CommandStatus::ESME_RINVSYSTYP,
            Field::ServiceType => CommandStatus::ESME_RINVSERTYP,
            Field::SourceAddr => CommandStatus::ESME_RINVSRCADR,
            Field::DestinationAddr => CommandStatus::ESME_RINVDSTADR,
            Field::ScheduleDeliveryTime => CommandStatus::ESME_RINVSCHED,
            Field::ValidityPeriod => CommandStatus::ESME_RINVEXPIRY,
            Field::MessageId => CommandStatus::ESME_RINVMSGID,
            Field::DlName => CommandStatus::ESME_RINVDLNAME,
            Field::ShortMessage | Field::SmLength => CommandStatus::ESME_RINVMSGLEN,
            Field::NumberOfDests => CommandStatus::ESME_RINVNUMDESTS,
            Field::DestFlag => CommandStatus::ESME_RINVDESTFLAG,
            Field::CommandLength => CommandStatus::ESME_RINVCMDLEN,
            Field::CommandId => CommandStatus::ESME_RINVCMDID,
            _ => CommandStatus::ESME_RINVPARLEN,
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
