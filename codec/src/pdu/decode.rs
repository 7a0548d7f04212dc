//! Wire bytes to typed PDUs: [`decode_pdu`] over one whole frame. The result owns its data:
//! short_message and short strings are copied into the PDU itself, variable-length values
//! into a `Bytes` of their own.
//!
//! Strict where the specification is: every C-Octet string has its NUL within its maximum
//! size, sm_length fits the body, TLVs do not run past the end, requests without optional
//! parameters carry nothing after their last field. Forgiving where real SMSCs are sloppy:
//! a response with an empty body (error statuses) decodes as the empty response, a response
//! message_id may lack its NUL at the very end of the body, responses without a TLV list
//! ignore trailing octets (SMPP v5 TLVs), and empty-bodied PDUs ignore trailing garbage.

pub use super::error::DecodeError;
use super::field::{max_len, Field};
use super::message::{MessageFields, OwnedMessageFields};
use super::reader::Reader;
use super::tlv_wire::decode_tlvs;
use super::types::*;
use super::HEADER_LEN;

const SOURCE: (Field, Field, Field) = (
    Field::SourceAddrTon,
    Field::SourceAddrNpi,
    Field::SourceAddr,
);
const DEST: (Field, Field, Field) = (
    Field::DestAddrTon,
    Field::DestAddrNpi,
    Field::DestinationAddr,
);
const ESME: (Field, Field, Field) = (Field::EsmeAddrTon, Field::EsmeAddrNpi, Field::EsmeAddr);

/// The four header fields, read from the first 16 octets of `frame` (which may be incomplete
/// beyond them). `None` if fewer than 16 octets are given.
pub fn peek_header(frame: &[u8]) -> Option<(u32, u32, u32, u32)> {
    let word = |i: usize| -> Option<u32> {
        let end = i.checked_add(4)?;
        let b: [u8; 4] = frame.get(i..end)?.try_into().ok()?;
        Some(u32::from_be_bytes(b))
    };
    Some((word(0)?, word(4)?, word(8)?, word(12)?))
}

/// Decodes one whole PDU, header included; `frame` must be exactly command_length octets.
/// Nothing in the result refers to `frame` (see [`decode_pdu_slice`]).
#[inline]
pub fn decode_pdu(frame: impl AsRef<[u8]>) -> Result<Pdu, DecodeError> {
    decode_pdu_slice(frame.as_ref())
}

/// Decodes one whole PDU from `frame`, exactly command_length octets. Short fields are
/// copied into the PDU itself and variable-length ones (message_payload, unknown TLVs, long
/// strings) into a `Bytes` of their own, so the caller's buffer is free again at once.
#[inline]
pub fn decode_pdu_slice(frame: &[u8]) -> Result<Pdu, DecodeError> {
    decode_parts(&mut Reader::new(frame), frame.len())
}

/// Header and body; submit_sm and deliver_sm, the bulk of the traffic, are decoded right
/// here.
#[inline(always)]
fn decode_parts(r: &mut Reader, frame_len: usize) -> Result<Pdu, DecodeError> {
    use super::types::command_id as id;
    let (command_id, command_status, sequence_number) = header(r, frame_len)?;
    Ok(Pdu {
        command_status,
        sequence_number,
        body: match command_id {
            id::SUBMIT_SM => Body::SubmitSm(submit_sm(r)?),
            id::DELIVER_SM => Body::DeliverSm(submit_sm(r)?),
            _ => decode_body(command_id, r)?,
        },
    })
}

/// The header: checks command_length against the frame, returns command_id, command_status
/// and sequence_number.
#[inline(always)]
fn header(r: &mut Reader, frame_len: usize) -> Result<(u32, CommandStatus, u32), DecodeError> {
    if frame_len < HEADER_LEN {
        return Err(DecodeError::FrameTooShort { len: frame_len });
    }
    let command_length = r.u32(Field::CommandLength)?;
    if usize::try_from(command_length).ok() != Some(frame_len) {
        return Err(DecodeError::LengthMismatch {
            command_length,
            frame_len,
        });
    }
    let command_id = r.u32(Field::CommandId)?;
    let command_status = CommandStatus(r.u32(Field::CommandStatus)?);
    let sequence_number = r.u32(Field::SequenceNumber)?;
    Ok((command_id, command_status, sequence_number))
}

fn decode_body(command_id: u32, r: &mut Reader) -> Result<Body, DecodeError> {
    use super::types::command_id as id;
    let is_response = command_id & id::RESPONSE_BIT != 0;
    // Sloppy SMSCs answer errors with a bare header: take the empty response.
    if is_response && r.is_empty() {
        if let Some(body) = empty_response(command_id) {
            return Ok(body);
        }
    }
    let body = match command_id {
        id::BIND_TRANSMITTER => strict(command_id, Body::BindTransmitter(bind(r)?), r)?,
        id::BIND_RECEIVER => strict(command_id, Body::BindReceiver(bind(r)?), r)?,
        id::BIND_TRANSCEIVER => strict(command_id, Body::BindTransceiver(bind(r)?), r)?,
        id::BIND_TRANSMITTER_RESP => Body::BindTransmitterResp(bind_resp(r)?),
        id::BIND_RECEIVER_RESP => Body::BindReceiverResp(bind_resp(r)?),
        id::BIND_TRANSCEIVER_RESP => Body::BindTransceiverResp(bind_resp(r)?),
        id::OUTBIND => {
            let outbind = Outbind {
                system_id: r.cstr(Field::SystemId, max_len::SYSTEM_ID)?,
                password: r.cstr(Field::Password, max_len::PASSWORD)?,
            };
            strict(command_id, Body::Outbind(outbind), r)?
        }
        // Empty bodies: anything after the header is ignored.
        id::UNBIND => Body::Unbind,
        id::UNBIND_RESP => Body::UnbindResp,
        id::ENQUIRE_LINK => Body::EnquireLink,
        id::ENQUIRE_LINK_RESP => Body::EnquireLinkResp,
        id::GENERIC_NACK => Body::GenericNack,
        id::CANCEL_SM_RESP => Body::CancelSmResp,
        id::REPLACE_SM_RESP => Body::ReplaceSmResp,
        id::SUBMIT_SM => Body::SubmitSm(submit_sm(r)?),
        id::DELIVER_SM => Body::DeliverSm(submit_sm(r)?),
        id::SUBMIT_SM_RESP => Body::SubmitSmResp(SubmitSmResp {
            message_id: r.cstr_lenient(Field::MessageId, max_len::MESSAGE_ID)?,
        }),
        id::DELIVER_SM_RESP => Body::DeliverSmResp(DeliverSmResp {
            message_id: r.cstr_lenient(Field::MessageId, max_len::MESSAGE_ID)?,
        }),
        id::SUBMIT_MULTI => Body::SubmitMulti(submit_multi(r)?),
        id::SUBMIT_MULTI_RESP => Body::SubmitMultiResp(submit_multi_resp(r)?),
        id::DATA_SM => Body::DataSm(DataSm {
            service_type: r.cstr(Field::ServiceType, max_len::SERVICE_TYPE)?,
            source: r.address(SOURCE, max_len::ADDR_65)?,
            destination: r.address(DEST, max_len::ADDR_65)?,
            esm_class: r.u8(Field::EsmClass)?,
            registered_delivery: r.u8(Field::RegisteredDelivery)?,
            data_coding: r.u8(Field::DataCoding)?,
            tlvs: decode_tlvs(r)?,
        }),
        id::DATA_SM_RESP => Body::DataSmResp(DataSmResp {
            message_id: r.cstr_lenient(Field::MessageId, max_len::MESSAGE_ID)?,
            tlvs: decode_tlvs(r)?,
        }),
        id::QUERY_SM => {
            let query = QuerySm {
                message_id: r.cstr(Field::MessageId, max_len::MESSAGE_ID)?,
                source: r.address(SOURCE, max_len::ADDR)?,
            };
            strict(command_id, Body::QuerySm(query), r)?
        }
        id::QUERY_SM_RESP => Body::QuerySmResp(QuerySmResp {
            message_id: r.cstr(Field::MessageId, max_len::MESSAGE_ID)?,
            final_date: r.cstr(Field::FinalDate, max_len::DATE)?,
            message_state: r.u8(Field::MessageState)?,
            error_code: r.u8(Field::ErrorCode)?,
        }),
        id::CANCEL_SM => {
            let cancel = CancelSm {
                service_type: r.cstr(Field::ServiceType, max_len::SERVICE_TYPE)?,
                message_id: r.cstr(Field::MessageId, max_len::MESSAGE_ID)?,
                source: r.address(SOURCE, max_len::ADDR)?,
                destination: r.address(DEST, max_len::ADDR)?,
            };
            strict(command_id, Body::CancelSm(cancel), r)?
        }
        id::REPLACE_SM => strict(command_id, Body::ReplaceSm(replace_sm(r)?), r)?,
        id::ALERT_NOTIFICATION => Body::AlertNotification(AlertNotification {
            source: r.address(SOURCE, max_len::ADDR_65)?,
            esme: r.address(ESME, max_len::ADDR_65)?,
            tlvs: decode_tlvs(r)?,
        }),
        _ => Body::Unknown {
            command_id,
            body: r.rest(),
        },
    };
    Ok(body)
}

/// The response a bare header stands for, for the responses that have a body.
fn empty_response(command_id: u32) -> Option<Body> {
    use super::types::command_id as id;
    Some(match command_id {
        id::BIND_TRANSMITTER_RESP => Body::BindTransmitterResp(BindResp::default()),
        id::BIND_RECEIVER_RESP => Body::BindReceiverResp(BindResp::default()),
        id::BIND_TRANSCEIVER_RESP => Body::BindTransceiverResp(BindResp::default()),
        id::SUBMIT_SM_RESP => Body::SubmitSmResp(SubmitSmResp::default()),
        id::DELIVER_SM_RESP => Body::DeliverSmResp(DeliverSmResp::default()),
        id::SUBMIT_MULTI_RESP => Body::SubmitMultiResp(SubmitMultiResp::default()),
        id::DATA_SM_RESP => Body::DataSmResp(DataSmResp::default()),
        id::QUERY_SM_RESP => Body::QuerySmResp(QuerySmResp::default()),
        _ => return None,
    })
}

/// Requests without optional parameters must end with their last mandatory field.
fn strict(command_id: u32, body: Body, r: &Reader) -> Result<Body, DecodeError> {
    if r.is_empty() {
        Ok(body)
    } else {
        Err(DecodeError::TrailingBytes {
            command_id,
            offset: r.pos(),
            count: r.remaining(),
        })
    }
}

fn bind(r: &mut Reader) -> Result<Bind, DecodeError> {
    Ok(Bind {
        system_id: r.cstr(Field::SystemId, max_len::SYSTEM_ID)?,
        password: r.cstr(Field::Password, max_len::PASSWORD)?,
        system_type: r.cstr(Field::SystemType, max_len::SYSTEM_TYPE)?,
        interface_version: r.u8(Field::InterfaceVersion)?,
        addr_ton: r.u8(Field::AddrTon)?,
        addr_npi: r.u8(Field::AddrNpi)?,
        address_range: r.cstr(Field::AddressRange, max_len::ADDRESS_RANGE)?,
    })
}

fn bind_resp(r: &mut Reader) -> Result<BindResp, DecodeError> {
    Ok(BindResp {
        system_id: r.cstr_lenient(Field::SystemId, max_len::SYSTEM_ID)?,
        tlvs: decode_tlvs(r)?,
    })
}

/// sm_length and short_message (copied: see [`ShortMessage`]).
#[inline(always)]
fn short_message(r: &mut Reader) -> Result<ShortMessage, DecodeError> {
    let offset = r.pos();
    let sm_length = r.u8(Field::SmLength)?;
    if usize::from(sm_length) > max_len::SHORT_MESSAGE {
        return Err(DecodeError::InvalidSmLength { sm_length, offset });
    }
    let available = r.remaining();
    r.slice(usize::from(sm_length))
        .and_then(|s| ShortMessage::from_slice(s).ok())
        .ok_or(DecodeError::ShortMessageOverrun {
            sm_length,
            offset,
            available,
        })
}

/// submit_sm / deliver_sm.
#[inline(always)]
fn submit_sm(r: &mut Reader) -> Result<SubmitSm, DecodeError> {
    let service_type = r.cstr(Field::ServiceType, max_len::SERVICE_TYPE)?;
    let source = r.address(SOURCE, max_len::ADDR)?;
    let destination = r.address(DEST, max_len::ADDR)?;
    let fields = message_fields(r)?;
    Ok(SubmitSm::from_message_fields(
        service_type,
        source,
        destination,
        fields,
        decode_tlvs(r)?,
    ))
}

fn submit_multi(r: &mut Reader) -> Result<SubmitMulti, DecodeError> {
    let service_type = r.cstr(Field::ServiceType, max_len::SERVICE_TYPE)?;
    let source = r.address(SOURCE, max_len::ADDR)?;
    let offset = r.pos();
    let number_of_dests = r.u8(Field::NumberOfDests)?;
    if usize::from(number_of_dests) > max_len::DESTINATIONS {
        return Err(DecodeError::InvalidNumberOfDests {
            number_of_dests,
            offset,
        });
    }
    // Bounded by 254 and by the frame: each destination takes at least 2 octets.
    let mut destinations = Vec::with_capacity(usize::from(number_of_dests).min(r.remaining() / 2));
    for _ in 0..number_of_dests {
        let offset = r.pos();
        let dest_flag = r.u8(Field::DestFlag)?;
        destinations.push(match dest_flag {
            1 => MultiDestination::Sme(r.address(DEST, max_len::ADDR)?),
            2 => MultiDestination::DistributionList(r.cstr(Field::DlName, max_len::ADDR)?),
            _ => return Err(DecodeError::InvalidDestFlag { dest_flag, offset }),
        });
    }
    let fields = message_fields(r)?;
    Ok(SubmitMulti::from_message_fields(
        service_type,
        source,
        destinations,
        fields,
        decode_tlvs(r)?,
    ))
}

/// esm_class to short_message, the fields submit_sm, deliver_sm and submit_multi share
/// after their destination(s).
#[inline(always)]
fn message_fields(r: &mut Reader) -> Result<OwnedMessageFields, DecodeError> {
    Ok(MessageFields {
        esm_class: r.u8(Field::EsmClass)?,
        protocol_id: r.u8(Field::ProtocolId)?,
        priority_flag: r.u8(Field::PriorityFlag)?,
        schedule_delivery_time: r.cstr(Field::ScheduleDeliveryTime, max_len::DATE)?,
        validity_period: r.cstr(Field::ValidityPeriod, max_len::DATE)?,
        registered_delivery: r.u8(Field::RegisteredDelivery)?,
        replace_if_present_flag: r.u8(Field::ReplaceIfPresentFlag)?,
        data_coding: r.u8(Field::DataCoding)?,
        sm_default_msg_id: r.u8(Field::SmDefaultMsgId)?,
        short_message: short_message(r)?,
    })
}

fn submit_multi_resp(r: &mut Reader) -> Result<SubmitMultiResp, DecodeError> {
    let message_id = r.cstr_lenient(Field::MessageId, max_len::MESSAGE_ID)?;
    // An absent no_unsuccess (sloppy error responses) means none.
    if r.is_empty() {
        return Ok(SubmitMultiResp {
            message_id,
            unsuccess_smes: Vec::new(),
        });
    }
    let no_unsuccess = r.u8(Field::NoUnsuccess)?;
    // Each entry takes at least 7 octets.
    let mut unsuccess_smes = Vec::with_capacity(usize::from(no_unsuccess).min(r.remaining() / 7));
    for _ in 0..no_unsuccess {
        unsuccess_smes.push(UnsuccessfulSme {
            address: r.address(DEST, max_len::ADDR)?,
            error_status_code: CommandStatus(r.u32(Field::ErrorStatusCode)?),
        });
    }
    Ok(SubmitMultiResp {
        message_id,
        unsuccess_smes,
    })
}

fn replace_sm(r: &mut Reader) -> Result<ReplaceSm, DecodeError> {
    Ok(ReplaceSm {
        message_id: r.cstr(Field::MessageId, max_len::MESSAGE_ID)?,
        source: r.address(SOURCE, max_len::ADDR)?,
        schedule_delivery_time: r.cstr(Field::ScheduleDeliveryTime, max_len::DATE)?,
        validity_period: r.cstr(Field::ValidityPeriod, max_len::DATE)?,
        registered_delivery: r.u8(Field::RegisteredDelivery)?,
        sm_default_msg_id: r.u8(Field::SmDefaultMsgId)?,
        short_message: short_message(r)?,
    })
}
