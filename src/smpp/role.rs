//! Who a bind is: its role (transceiver, transmitter or receiver) and the [`BindTask`] that
//! names its SMSC, health slot and metric label. `bind` runs it; `session` works with it.

use std::sync::Arc;
use std::time::Duration;

use otpgate_codec::pdu::{Bind, Body};
use tokio_util::sync::CancellationToken;

use super::shared::{Shared, Smsc};

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

/// A bind and its reconnects.
pub struct BindTask {
    pub shared: Arc<Shared>,
    pub smsc: Arc<Smsc>,
    pub role: Role,
    /// The health slot of a submit-capable bind.
    pub slot: Option<usize>,
    /// The `bind` metric label: "0", "1"... or "0tx"/"0rx" for a pair.
    pub label: String,
    pub drain: CancellationToken,
    /// Once `drain` fires outside a shutdown (the slot's lease lost), the time left to
    /// finish the window and unbind; `None` = `bind_timeout_ms`.
    pub unbind_within: Option<Duration>,
}
