//! The seam between the OTP core and the SMPP engine: what the core hands over to be sent, and
//! what the engine reports back. Neither side knows how the other works: the HTTP front and the
//! OTP core never see a PDU, the engine never sees a PIN hash or an HTTP request.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use futures::future::BoxFuture;

/// One OTP SMS to send. `text` holds the rendered message, PIN included: it must never be
/// logged, put into a metric or returned anywhere.
#[derive(Clone)]
pub struct OutboundSms {
    /// The OTP this SMS belongs to (lowercase UUID text).
    pub otp_id: String,
    /// The tenant that created it (for metrics labels and routing policy).
    pub tenant: String,
    /// Destination in E.164, with the leading `+`.
    pub destination: String,
    /// Sender ID as the client gave it (alphanumeric, short code or long number).
    pub sender: String,
    /// Rendered message text, PIN included.
    pub text: String,
    /// When the OTP expires: the SMS's validity_period, and the deadline for routing it.
    pub expires_at: SystemTime,
    /// Values of named TLVs (`pe_id`, `template_id`), from the tenant and the template; each
    /// SMSC writes those its `tlv_names` declare.
    pub tlv_values: BTreeMap<String, String>,
    /// The SMSCs the tenant's messages may use and the order it prefers; `None` = any, in the
    /// routes' own order. Shared by all the tenant's messages.
    pub smscs: Option<Arc<SmscChoice>>,
}

/// A tenant's SMSCs (`[[tenants]] smscs`, `route_preference`), by `[[smsc]]` name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SmscChoice {
    /// The SMSCs allowed; empty = every SMSC.
    pub allowed: Vec<String>,
    /// Tried first, in this order, among the SMSCs of the destination's route.
    pub preference: Vec<String>,
}

impl SmscChoice {
    pub fn allows(&self, smsc: &str) -> bool {
        self.allowed.is_empty() || self.allowed.iter().any(|a| a == smsc)
    }
}

impl std::fmt::Debug for OutboundSms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutboundSms")
            .field("otp_id", &self.otp_id)
            .field("tenant", &self.tenant)
            .field("sender", &self.sender)
            .field("text", &"<redacted>")
            .finish_non_exhaustive()
    }
}

/// Wall-clock time as the engine reads it (validity periods, expiry before sending). The OTP
/// core's clock implements it, so that tests that pause or advance that clock move the
/// engine's wall time too.
pub trait WallClock: Send + Sync + 'static {
    fn now(&self) -> SystemTime;
    /// The wall time at `instant` of the runtime's clock, read a moment ago: what a caller
    /// that already holds the instant passes, sparing a read of the clock. The default reads
    /// the clock.
    fn at(&self, instant: tokio::time::Instant) -> SystemTime {
        let _ = instant;
        self.now()
    }
}

/// The operating system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl WallClock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// Why the engine could not take an SMS right now. The HTTP front answers 503 with
/// `Retry-After: retry_after` for both.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DispatchError {
    #[error("the send queue is full")]
    QueueFull { retry_after: Duration },
    #[error("no SMSC can take a message to this destination now")]
    NoRoute { retry_after: Duration },
    #[error("the engine is shutting down")]
    ShuttingDown { retry_after: Duration },
    /// The shared send queue (Redis) did not answer: the SMS is not queued.
    #[error("the shared send queue is unavailable")]
    StoreUnavailable { retry_after: Duration },
}

impl DispatchError {
    /// A stable name for the error body's `reason`.
    pub fn cause(&self) -> &'static str {
        match self {
            DispatchError::QueueFull { .. } => "queue_full",
            DispatchError::NoRoute { .. } => "no_route",
            DispatchError::ShuttingDown { .. } => "shutting_down",
            DispatchError::StoreUnavailable { .. } => "store_unavailable",
        }
    }

    pub fn retry_after(&self) -> Duration {
        match self {
            DispatchError::QueueFull { retry_after }
            | DispatchError::NoRoute { retry_after }
            | DispatchError::ShuttingDown { retry_after }
            | DispatchError::StoreUnavailable { retry_after } => *retry_after,
        }
    }
}

/// Which SMSCs can take traffic, as seen from somewhere other than the engine's own binds
/// (the binds of every node of a cluster).
pub trait SmscHealth {
    /// `smsc` has a bind up, or lost its last one less than `failover_after_ms` ago.
    fn healthy(&self, smsc: &str) -> bool;
    /// `smsc` had a bind up within `no_route_after_ms` (a node that just started counts it
    /// as up), so it may still queue messages.
    fn recently_up(&self, smsc: &str) -> bool;
}

/// Takes SMS for sending. Implemented by the SMPP engine; `try_dispatch` never waits: the
/// message is either queued (the engine then owns it and reports its fate through a
/// [`DeliverySink`]) or refused at once.
pub trait Dispatcher: Send + Sync + 'static {
    fn try_dispatch(&self, sms: OutboundSms) -> Result<(), DispatchError>;
    /// Takes `sms` like `try_dispatch`, resolving once it is queued: a dispatcher whose queue
    /// is across the network (the cluster's send queue) answers once the queue holds it.
    fn dispatch(&self, sms: OutboundSms) -> BoxFuture<'_, Result<(), DispatchError>> {
        Box::pin(std::future::ready(self.try_dispatch(sms)))
    }
    /// What `dispatch` resolves to, at once, when queueing needs no waiting (the engine's
    /// queue in this process): a create spares the boxed future of the call. Else `sms` is
    /// given back (boxed: the way that waits pays for it), for `dispatch`. `pick`: what the
    /// estimate of this SMS picked, taken again while it holds.
    fn dispatch_now(
        &self,
        sms: OutboundSms,
        pick: Option<SmscPick>,
    ) -> Result<Result<(), DispatchError>, Box<OutboundSms>> {
        let _ = pick;
        Err(Box::new(sms))
    }
    /// Why any new SMS would be refused now, whatever it is, when that is known at once (the
    /// send queue is full, the engine is shutting down): the HTTP front then refuses a create
    /// before doing any of its work. `None` when an SMS may be taken (`try_dispatch` and
    /// `dispatch` still decide).
    fn refuses_any(&self) -> Option<DispatchError> {
        None
    }
    /// At least one bind is up and the queue is not full (for `/readyz`).
    fn readiness(&self) -> Readiness;
    /// How `sms` would go out on the SMSC that would be tried first for it: `None` when no
    /// SMSC would take it (or the dispatcher cannot tell).
    fn estimate(&self, _sms: &OutboundSms) -> Option<SendEstimate> {
        None
    }
    /// Whether some SMSC of `smscs` (any SMSC when `None`) has a route to `destination` by
    /// the routing configuration, up or down: when none has, no message to it can ever go.
    fn covers(&self, destination: &str, smscs: Option<&SmscChoice>) -> bool {
        let _ = (destination, smscs);
        true
    }
    /// The SMSC the routing would pick for `sms` if `health` told which SMSCs are up, other
    /// than `exclude`; only a healthy one when `require_healthy`. `None` when no SMSC would
    /// take it (or the dispatcher cannot tell).
    fn route_by(
        &self,
        sms: &OutboundSms,
        health: &dyn SmscHealth,
        exclude: Option<&str>,
        require_healthy: bool,
    ) -> Option<String> {
        let _ = (sms, health, exclude, require_healthy);
        None
    }
    /// [`Dispatcher::estimate`] on the SMSC called `smsc`, whether its binds are up or not.
    fn estimate_on(&self, sms: &OutboundSms, smsc: &str) -> Option<SendEstimate> {
        let _ = (sms, smsc);
        None
    }
    /// Submit-capable binds of the SMSC called `smsc` up here.
    fn smsc_binds_up(&self, smsc: &str) -> usize {
        let _ = smsc;
        0
    }
    /// Each SMSC in force: its name and what its binds have in flight at most (`window` x
    /// `binds`).
    fn smsc_windows(&self) -> Vec<(String, usize)> {
        Vec::new()
    }
    /// Every route of the routing configuration in force (empty when the dispatcher cannot
    /// tell).
    fn routes(&self) -> Vec<RouteSmscs> {
        Vec::new()
    }
}

/// One route: a destination prefix (`+` for every destination) and the SMSCs that serve
/// it, best first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteSmscs {
    pub prefix: String,
    pub smscs: Vec<String>,
}

/// The SMSC an estimate picked: opaque to all but the dispatcher that made it, which takes it
/// again only while it still holds (the same SMSCs in force, that one healthy).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SmscPick(pub u64);

/// The encoding (`GSM7`, `UCS2`, `LATIN1`) and the number of parts of an SMS as one SMSC
/// split it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SentAs {
    pub encoding: &'static str,
    pub parts: u32,
}

/// An SMS as the SMSC that would be tried first would send it: the parts and encoding under
/// its settings, and its price per part for the destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendEstimate {
    pub smsc: String,
    /// The SMSC picked, for the dispatch of this SMS to take again (`Dispatcher::dispatch_now`)
    /// rather than choose anew; `None` when the dispatcher does not say.
    pub pick: Option<SmscPick>,
    /// `GSM7`, `UCS2` or `LATIN1`.
    pub encoding: &'static str,
    pub parts: usize,
    /// Micro-units of the deployment's currency; `None` when the SMSC has no price for the
    /// destination (the OTP core's fallback price applies).
    pub price_per_part: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Readiness {
    pub ready: bool,
    pub binds_up: usize,
    pub queue_depth: usize,
    pub queue_capacity: usize,
    /// Why not ready, for the `/readyz` body; empty when ready.
    pub reasons: Vec<String>,
    /// The routes (prefixes) no SMSC of which has a bind up (in the cluster, with the shared
    /// queue): messages to them cannot go out now.
    pub uncovered_routes: Vec<String>,
}

/// Final state of a delivery receipt, as the OTP's deliveryStatus understands it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReceiptOutcome {
    Delivered,
    Undelivered,
    Expired,
    Rejected,
    /// ENROUTE / ACCEPTED / UNKNOWN: not final; the deliveryStatus stays as it is.
    Pending,
}

/// What the engine reports about an SMS. `on_update` never waits; a receipt goes through
/// `record`, which resolves once it is recorded, so the engine acknowledges a deliver_sm only
/// after that (the store may be across the network).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryUpdate {
    /// Every part was accepted by an SMSC (deliveryStatus SENT). `message_ids` are the ids of
    /// the parts as the SMSC returned them in submit_sm_resp, raw.
    Submitted {
        otp_id: String,
        smsc: String,
        message_ids: Vec<String>,
    },
    /// An SMSC refused it permanently (deliveryStatus REJECTED).
    Rejected {
        otp_id: String,
        smsc: String,
        command_status: u32,
        reason: String,
    },
    /// It could not be sent before its deadline, or the engine gave up (deliveryStatus FAILED).
    Failed { otp_id: String, reason: String },
    /// What the SMSCs accepted of one send of an SMS, reported once, just before its
    /// `Submitted`, `Rejected` or `Failed`: `parts` accepted by `smsc` (0 when none was, the
    /// SMSC then `None`), each at `price_per_part` micro-units (`None`: the SMSC has no price
    /// for the destination). Parts sent again only because delivery is at-least-once are not
    /// in `parts`.
    Charged {
        otp_id: String,
        smsc: Option<String>,
        parts: u32,
        price_per_part: Option<u64>,
        /// How the SMSC that took it split the SMS, when one did: after a failover, the SMSC
        /// it moved to, whose settings may differ from the estimate's.
        sent_as: Option<SentAs>,
    },
    /// A delivery receipt for one part, matched by the SMSC whose bind received it and the
    /// message id (raw, as the receipt carried it; the receiver tries hex/decimal variants, see
    /// `otpgate_codec::dlr::message_id_variants`). It may come before the `Submitted` that
    /// tells the id (an SMSC that answers after delivering, or a receiver bind faster than its
    /// transmitter): the receiver then holds it for a while.
    Receipt {
        smsc: String,
        message_id: String,
        outcome: ReceiptOutcome,
        /// The receipt's `err:` field or network_error_code, when not zero.
        error: Option<String>,
    },
}

/// An update that could not be recorded (the store stayed unavailable): for a receipt, the
/// SMSC should deliver it again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the delivery update could not be recorded")]
pub struct NotRecorded;

/// Receives the engine's reports. Implemented by the OTP core.
pub trait DeliverySink: Send + Sync + 'static {
    /// Takes `update` without waiting; updates are recorded in the order they are given.
    fn on_update(&self, update: DeliveryUpdate);
    /// Takes a send's `Charged` and the fate it comes just before (`Submitted`, `Rejected` or
    /// `Failed`), without waiting: together, so that a store can record a charge and its
    /// `Submitted` in one step. The default takes them one after the other.
    fn on_fate(&self, charged: DeliveryUpdate, fate: DeliveryUpdate) {
        self.on_update(charged);
        self.on_update(fate);
    }
    /// Takes `update` and resolves once it is recorded (after every update given before it),
    /// or with [`NotRecorded`] when it could not be. The default records through `on_update`,
    /// which is enough for an in-process sink.
    fn record(&self, update: DeliveryUpdate) -> BoxFuture<'_, Result<(), NotRecorded>> {
        self.on_update(update);
        Box::pin(std::future::ready(Ok(())))
    }
    /// Records `update` now when that needs no waiting (an in-process store), with what
    /// `record` would have resolved to; else gives it back, for `record`. The default gives
    /// every update back.
    fn record_now(
        &self,
        update: DeliveryUpdate,
    ) -> Result<Result<(), NotRecorded>, DeliveryUpdate> {
        Err(update)
    }
}
