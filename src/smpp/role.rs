//! A bind's role: transceiver, transmitter or receiver, and the bind PDUs of each.

use otpgate_codec::pdu::{Bind, Body};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Transceiver,
    Transmitter,
    Receiver,
}

impl Role {
    pub fn submits(self) -> bool {
        matches!(self, Role::Transceiver | Role::Transmitter)
    }
    pub fn name(self) -> &'static str {
        match self {
            Role::Transceiver => "transceiver",
            Role::Transmitter => "transmitter",
            Role::Receiver => "receiver",
        }
    }
    pub(super) fn request(self, bind: Bind) -> Body {
        match self {
            Role::Transceiver => Body::BindTransceiver(bind),
            Role::Transmitter => Body::BindTransmitter(bind),
            Role::Receiver => Body::BindReceiver(bind),
        }
    }
    pub(super) fn is_response(self, body: &Body) -> bool {
        matches!(
            (self, body),
            (Role::Transceiver, Body::BindTransceiverResp(_))
                | (Role::Transmitter, Body::BindTransmitterResp(_))
                | (Role::Receiver, Body::BindReceiverResp(_))
        )
    }
}
