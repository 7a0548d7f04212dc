//! Typed PDUs to wire bytes: [`encode_pdu`] appends one PDU to a `BytesMut`.
//!
//! The layout of every body is written once, generic over a [`Sink`]. It runs twice: a
//! [`Sizer`] pass checks every value against the specification and counts octets, then the
//! buffer is grown once to the PDU's length and a [`Writer`] pass stores the octets into that
//! region as a plain slice (no per-field capacity check), header first with the length
//! already known. Short C-Octet strings go as one fixed-size copy of their inline buffer.
//! Nothing is allocated besides the buffer, and on error the buffer is left as it was.

use bytes::BytesMut;

pub use super::error::EncodeError;
use super::field::{max_len, Field};
use super::message::MessageFieldsRef;
use super::sink::Sink;
use super::tlv::Tlv;
use super::tlv_wire::encode_tlv;
use super::types::*;
use super::HEADER_LEN;

/// Appends the wire form of `pdu` to `dst`. On error `dst` is left as it was.
pub fn encode_pdu(pdu: &Pdu, dst: &mut BytesMut) -> Result<(), EncodeError> {
    let len = encoded_len(pdu)?;
    let command_length = u32::try_from(len).map_err(|_| EncodeError::PduTooLong { len })?;
    let start = dst.len();
    // One reservation, then plain stores into the PDU's own octets.
    dst.resize(start.saturating_add(len), 0);
    let mut w = Writer {
        rest: dst.get_mut(start..).unwrap_or_default(),
        overrun: false,
    };
    w.u32(command_length);
    w.u32(pdu.body.command_id());
    w.u32(pdu.command_status.0);
    w.u32(pdu.sequence_number);
    let written = write_body(&mut w, &pdu.body).and_then(|()| w.finish(len));
    if written.is_err() {
        dst.truncate(start);
    }
    written
}

/// The octets `pdu` takes on the wire, header included (after the same checks as
/// [`encode_pdu`]).
#[inline]
pub fn encoded_len(pdu: &Pdu) -> Result<usize, EncodeError> {
    let mut sizer = Sizer { len: HEADER_LEN };
    write_body(&mut sizer, &pdu.body)?;
    Ok(sizer.len)
}

/// Counts octets and checks every value.
pub(crate) struct Sizer {
    len: usize,
}

impl Sizer {
    #[inline(always)]
    fn add(&mut self, n: usize) {
        self.len = self.len.saturating_add(n);
    }
}

impl Sink for Sizer {
    #[inline(always)]
    fn u8(&mut self, _: u8) {
        self.add(1);
    }
    #[inline(always)]
    fn u16(&mut self, _: u16) {
        self.add(2);
    }
    #[inline(always)]
    fn u32(&mut self, _: u32) {
        self.add(4);
    }
    #[inline(always)]
    fn octets(&mut self, v: &[u8]) {
        self.add(v.len());
    }
    #[inline(always)]
    fn cstr(&mut self, field: Field, max: usize, v: &COctetString) -> Result<(), EncodeError> {
        let len = v.len();
        if len >= max {
            return Err(EncodeError::CStringTooLong { field, len, max });
        }
        if v.contains_nul() {
            return Err(EncodeError::CStringContainsNul { field });
        }
        self.add(len.saturating_add(1));
        Ok(())
    }
    #[inline(always)]
    fn tlv_header(&mut self, tag: u16, len: usize) -> Result<(), EncodeError> {
        if len > usize::from(u16::MAX) {
            return Err(EncodeError::TlvTooLong { tag, len });
        }
        self.add(4);
        Ok(())
    }
}

/// Writes octets into the PDU's own region of the buffer, sized by a [`Sizer`] pass that
/// also checked the values. Running past the region cannot happen (both passes walk the same
/// layout); if it ever did, the writer stops writing and [`Writer::finish`] reports it.
pub(crate) struct Writer<'a> {
    /// The part of the region not written yet.
    rest: &'a mut [u8],
    overrun: bool,
}

impl Writer<'_> {
    #[inline(always)]
    fn put<const N: usize>(&mut self, v: [u8; N]) {
        let rest = std::mem::take(&mut self.rest);
        match rest.split_first_chunk_mut::<N>() {
            Some((head, tail)) => {
                *head = v;
                self.rest = tail;
            }
            None => self.overrun = true,
        }
    }

    #[inline(always)]
    fn put_slice(&mut self, v: &[u8]) {
        let rest = std::mem::take(&mut self.rest);
        match rest.split_at_mut_checked(v.len()) {
            Some((head, tail)) => {
                head.copy_from_slice(v);
                self.rest = tail;
            }
            None => self.overrun = true,
        }
    }

    /// Ok if the layout filled the region exactly.
    fn finish(&self, len: usize) -> Result<(), EncodeError> {
        if self.overrun || !self.rest.is_empty() {
            return Err(EncodeError::SizeMismatch { len });
        }
        Ok(())
    }
}

impl Sink for Writer<'_> {
    #[inline(always)]
    fn u8(&mut self, v: u8) {
        self.put([v]);
    }
    #[inline(always)]
    fn u16(&mut self, v: u16) {
        self.put(v.to_be_bytes());
    }
    #[inline(always)]
    fn u32(&mut self, v: u32) {
        self.put(v.to_be_bytes());
    }
    #[inline(always)]
    fn octets(&mut self, v: &[u8]) {
        self.put_slice(v);
    }
    #[inline(always)]
    fn cstr(&mut self, _: Field, _: usize, v: &COctetString) -> Result<(), EncodeError> {
        // An inline string goes as one fixed-size copy of its whole buffer when the region
        // has room for it; the fields after it overwrite the octets past its NUL.
        const CAP: usize = COctetString::INLINE_CAP;
        if let Some((window, len)) = v.inline_window() {
            if self.rest.len() > CAP {
                let rest = std::mem::take(&mut self.rest);
                if let Some(head) = rest.first_chunk_mut::<CAP>() {
                    *head = *window;
                }
                if let Some(nul) = rest.get_mut(len) {
                    *nul = 0;
                }
                self.rest = rest.get_mut(len.saturating_add(1)..).unwrap_or_default();
                return Ok(());
            }
        }
        self.put_slice(v.as_bytes());
        self.put([0]);
        Ok(())
    }
    #[inline(always)]
    fn tlv_header(&mut self, tag: u16, len: usize) -> Result<(), EncodeError> {
        let len = u16::try_from(len).map_err(|_| EncodeError::TlvTooLong { tag, len })?;
        self.put(tag.to_be_bytes());
        self.put(len.to_be_bytes());
        Ok(())
    }
}

#[inline]
fn address<S: Sink>(s: &mut S, a: &Address, field: Field, max: usize) -> Result<(), EncodeError> {
    s.u8(a.ton);
    s.u8(a.npi);
    s.cstr(field, max, &a.addr)
}

#[inline]
fn short_message<S: Sink>(s: &mut S, sm: &[u8]) -> Result<(), EncodeError> {
    let sm_length = u8::try_from(sm.len())
        .ok()
        .filter(|&n| usize::from(n) <= max_len::SHORT_MESSAGE)
        .ok_or(EncodeError::ShortMessageTooLong { len: sm.len() })?;
    s.u8(sm_length);
    s.octets(sm);
    Ok(())
}

#[inline]
fn tlvs<S: Sink>(s: &mut S, tlvs: &[Tlv]) -> Result<(), EncodeError> {
    tlvs.iter().try_for_each(|t| encode_tlv(s, t))
}

fn write_body<S: Sink>(s: &mut S, body: &Body) -> Result<(), EncodeError> {
    match body {
        Body::BindTransmitter(b) | Body::BindReceiver(b) | Body::BindTransceiver(b) => bind(s, b),
        Body::BindTransmitterResp(b) | Body::BindReceiverResp(b) | Body::BindTransceiverResp(b) => {
            s.cstr(Field::SystemId, max_len::SYSTEM_ID, &b.system_id)?;
            tlvs(s, &b.tlvs)
        }
        Body::Outbind(o) => {
            s.cstr(Field::SystemId, max_len::SYSTEM_ID, &o.system_id)?;
            s.cstr(Field::Password, max_len::PASSWORD, &o.password)
        }
        Body::Unbind
        | Body::UnbindResp
        | Body::EnquireLink
        | Body::EnquireLinkResp
        | Body::GenericNack
        | Body::CancelSmResp
        | Body::ReplaceSmResp => Ok(()),
        Body::SubmitSm(m) | Body::DeliverSm(m) => submit_sm(s, m),
        Body::SubmitSmResp(SubmitSmResp { message_id })
        | Body::DeliverSmResp(DeliverSmResp { message_id }) => {
            s.cstr(Field::MessageId, max_len::MESSAGE_ID, message_id)
        }
        Body::SubmitMulti(m) => submit_multi(s, m),
        Body::SubmitMultiResp(m) => {
            s.cstr(Field::MessageId, max_len::MESSAGE_ID, &m.message_id)?;
            let count = m.unsuccess_smes.len();
            let n = u8::try_from(count).map_err(|_| EncodeError::TooManyUnsuccessSmes { count })?;
            s.u8(n);
            for u in &m.unsuccess_smes {
                address(s, &u.address, Field::DestinationAddr, max_len::ADDR)?;
                s.u32(u.error_status_code.0);
            }
            Ok(())
        }
        Body::DataSm(m) => {
            s.cstr(Field::ServiceType, max_len::SERVICE_TYPE, &m.service_type)?;
            address(s, &m.source, Field::SourceAddr, max_len::ADDR_65)?;
            address(s, &m.destination, Field::DestinationAddr, max_len::ADDR_65)?;
            s.u8(m.esm_class);
            s.u8(m.registered_delivery);
            s.u8(m.data_coding);
            tlvs(s, &m.tlvs)
        }
        Body::DataSmResp(m) => {
            s.cstr(Field::MessageId, max_len::MESSAGE_ID, &m.message_id)?;
            tlvs(s, &m.tlvs)
        }
        Body::QuerySm(m) => {
            s.cstr(Field::MessageId, max_len::MESSAGE_ID, &m.message_id)?;
            address(s, &m.source, Field::SourceAddr, max_len::ADDR)
        }
        Body::QuerySmResp(m) => {
            s.cstr(Field::MessageId, max_len::MESSAGE_ID, &m.message_id)?;
            s.cstr(Field::FinalDate, max_len::DATE, &m.final_date)?;
            s.u8(m.message_state);
            s.u8(m.error_code);
            Ok(())
        }
        Body::CancelSm(m) => {
            s.cstr(Field::ServiceType, max_len::SERVICE_TYPE, &m.service_type)?;
            s.cstr(Field::MessageId, max_len::MESSAGE_ID, &m.message_id)?;
            address(s, &m.source, Field::SourceAddr, max_len::ADDR)?;
            address(s, &m.destination, Field::DestinationAddr, max_len::ADDR)
        }
        Body::ReplaceSm(m) => {
            s.cstr(Field::MessageId, max_len::MESSAGE_ID, &m.message_id)?;
            address(s, &m.source, Field::SourceAddr, max_len::ADDR)?;
            s.cstr(
                Field::ScheduleDeliveryTime,
                max_len::DATE,
                &m.schedule_delivery_time,
            )?;
            s.cstr(Field::ValidityPeriod, max_len::DATE, &m.validity_period)?;
            s.u8(m.registered_delivery);
            s.u8(m.sm_default_msg_id);
            short_message(s, &m.short_message)
        }
        Body::AlertNotification(m) => {
            address(s, &m.source, Field::SourceAddr, max_len::ADDR_65)?;
            address(s, &m.esme, Field::EsmeAddr, max_len::ADDR_65)?;
            tlvs(s, &m.tlvs)
        }
        Body::Unknown { body, .. } => {
            s.octets(body);
            Ok(())
        }
    }
}

fn bind<S: Sink>(s: &mut S, b: &Bind) -> Result<(), EncodeError> {
    s.cstr(Field::SystemId, max_len::SYSTEM_ID, &b.system_id)?;
    s.cstr(Field::Password, max_len::PASSWORD, &b.password)?;
    s.cstr(Field::SystemType, max_len::SYSTEM_TYPE, &b.system_type)?;
    s.u8(b.interface_version);
    s.u8(b.addr_ton);
    s.u8(b.addr_npi);
    s.cstr(
        Field::AddressRange,
        max_len::ADDRESS_RANGE,
        &b.address_range,
    )
}

/// esm_class to short_message, the fields submit_sm, deliver_sm and submit_multi share
/// after their destination(s).
#[inline]
fn message_fields<S: Sink>(s: &mut S, m: MessageFieldsRef<'_>) -> Result<(), EncodeError> {
    s.u8(m.esm_class);
    s.u8(m.protocol_id);
    s.u8(m.priority_flag);
    s.cstr(
        Field::ScheduleDeliveryTime,
        max_len::DATE,
        m.schedule_delivery_time,
    )?;
    s.cstr(Field::ValidityPeriod, max_len::DATE, m.validity_period)?;
    // The four one-octet fields in a row go as one 4-octet store.
    s.octets(&[
        m.registered_delivery,
        m.replace_if_present_flag,
        m.data_coding,
        m.sm_default_msg_id,
    ]);
    short_message(s, m.short_message)
}

#[inline]
fn submit_sm<S: Sink>(s: &mut S, m: &SubmitSm) -> Result<(), EncodeError> {
    s.cstr(Field::ServiceType, max_len::SERVICE_TYPE, &m.service_type)?;
    address(s, &m.source, Field::SourceAddr, max_len::ADDR)?;
    address(s, &m.destination, Field::DestinationAddr, max_len::ADDR)?;
    message_fields(s, m.message_fields())?;
    tlvs(s, &m.tlvs)
}

fn submit_multi<S: Sink>(s: &mut S, m: &SubmitMulti) -> Result<(), EncodeError> {
    s.cstr(Field::ServiceType, max_len::SERVICE_TYPE, &m.service_type)?;
    address(s, &m.source, Field::SourceAddr, max_len::ADDR)?;
    let count = m.destinations.len();
    let n = u8::try_from(count)
        .ok()
        .filter(|&n| usize::from(n) <= max_len::DESTINATIONS)
        .ok_or(EncodeError::TooManyDestinations { count })?;
    s.u8(n);
    for d in &m.destinations {
        match d {
            MultiDestination::Sme(a) => {
                s.u8(1);
                address(s, a, Field::DestinationAddr, max_len::ADDR)?;
            }
            MultiDestination::DistributionList(name) => {
                s.u8(2);
                s.cstr(Field::DlName, max_len::ADDR, name)?;
            }
        }
    }
    message_fields(s, m.message_fields())?;
    tlvs(s, &m.tlvs)
}
