//! [`MessageFields`]: the run of fields submit_sm, deliver_sm and submit_multi share after
//! their destination(s), esm_class to short_message, so that the encoder, the decoder and
//! the JSON view each walk it once instead of once per PDU. (data_sm and replace_sm carry
//! other subsets of these fields, in other places, so they keep their own walks.)
//!
//! The public PDU structs keep their flat fields (`submit.esm_class`): the gateway, the load
//! tester, the tests and the benchmarks use them in many places. This is a view onto them,
//! borrowed to encode or show a PDU (references and small integers) and owned while decoding
//! one; it lives only inside a function and allocates nothing.

use super::c_octet::COctetString;
use super::tlv::Tlv;
use super::types::{Address, MultiDestination, ShortMessage, SubmitMulti, SubmitSm};

/// esm_class, protocol_id, priority_flag, schedule_delivery_time, validity_period,
/// registered_delivery, replace_if_present_flag, data_coding, sm_default_msg_id and
/// short_message, in wire order. `Str` and `Sm` are `COctetString` and `ShortMessage` when
/// decoded ([`OwnedMessageFields`]), references to them when borrowed from a PDU
/// ([`MessageFieldsRef`]).
pub(crate) struct MessageFields<Str, Sm> {
    pub(crate) esm_class: u8,
    pub(crate) protocol_id: u8,
    pub(crate) priority_flag: u8,
    pub(crate) schedule_delivery_time: Str,
    pub(crate) validity_period: Str,
    pub(crate) registered_delivery: u8,
    pub(crate) replace_if_present_flag: u8,
    pub(crate) data_coding: u8,
    pub(crate) sm_default_msg_id: u8,
    pub(crate) short_message: Sm,
}

/// The fields as the decoder reads them, to be moved into a PDU.
pub(crate) type OwnedMessageFields = MessageFields<COctetString, ShortMessage>;
/// The fields of a PDU, borrowed to encode it or show it.
pub(crate) type MessageFieldsRef<'a> = MessageFields<&'a COctetString, &'a ShortMessage>;

/// The two ends of the view for a PDU struct with the flat message fields: borrow them
/// ([`MessageFieldsRef`]), or build the PDU from the decoded ones. A macro so that the field
/// list is written once for both PDUs; destructuring with field shorthand means a field cannot
/// be taken for another of the same type.
macro_rules! message_fields_of {
    ($pdu:ident, $dest:ident: $dest_ty:ty) => {
        impl $pdu {
            /// esm_class to short_message, borrowed.
            #[inline(always)]
            pub(crate) fn message_fields(&self) -> MessageFieldsRef<'_> {
                let $pdu {
                    esm_class,
                    protocol_id,
                    priority_flag,
                    ref schedule_delivery_time,
                    ref validity_period,
                    registered_delivery,
                    replace_if_present_flag,
                    data_coding,
                    sm_default_msg_id,
                    ref short_message,
                    ..
                } = *self;
                MessageFields {
                    esm_class,
                    protocol_id,
                    priority_flag,
                    schedule_delivery_time,
                    validity_period,
                    registered_delivery,
                    replace_if_present_flag,
                    data_coding,
                    sm_default_msg_id,
                    short_message,
                }
            }

            /// The PDU from its fields in wire order, the message fields decoded as one.
            #[inline(always)]
            pub(crate) fn from_message_fields(
                service_type: COctetString,
                source: Address,
                $dest: $dest_ty,
                fields: OwnedMessageFields,
                tlvs: Vec<Tlv>,
            ) -> Self {
                let MessageFields {
                    esm_class,
                    protocol_id,
                    priority_flag,
                    schedule_delivery_time,
                    validity_period,
                    registered_delivery,
                    replace_if_present_flag,
                    data_coding,
                    sm_default_msg_id,
                    short_message,
                } = fields;
                $pdu {
                    service_type,
                    source,
                    $dest,
                    esm_class,
                    protocol_id,
                    priority_flag,
                    schedule_delivery_time,
                    validity_period,
                    registered_delivery,
                    replace_if_present_flag,
                    data_coding,
                    sm_default_msg_id,
                    short_message,
                    tlvs,
                }
            }
        }
    };
}

// submit_sm's layout is deliver_sm's too (`DeliverSm` is the same struct).
message_fields_of!(SubmitSm, destination: Address);
message_fields_of!(SubmitMulti, destinations: Vec<MultiDestination>);
