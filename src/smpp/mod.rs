//! The SMPP client engine (ESME): binds to SMSCs, windows, throttles, routing, receipts.
//!
//! Layout (one job per module):
//! - [`config`]: `[[smsc]]` entries ([`SmscConfig`]) and `[engine]` settings
//!   ([`EngineSettings`]).
//! - [`engine`]: [`SmppEngine::start`] and [`EngineHandle`] (the `Dispatcher`, shutdown).
//! - `shared`: state shared by the tasks; `fate`: reports to the sink and retries.
//! - `router`: destination prefix to an ordered list of SMSCs; `health`: which binds are up.
//! - `queue`: per-SMSC queue in dispatch order; `message`: a message and its parts' state.
//! - `supervisor`: delayed retries, failover of a down SMSC's queue, expiry.
//! - [`permits`]: which bind slots this node may open (all, or those whose cluster lease it
//!   holds); `slot`: a slot's lease and the binds it runs.
//! - `role`: who a bind is (role, SMSC, health slot, label); `bind`: its connect / bind /
//!   reconnect loop; `session`: a bound link (window, throttle, enquire_link, timeouts, drain
//!   and unbind); `outbound`: what it sends; `inbound`: PDUs from the SMSC.
//! - `window`: the W-permit semaphore, pending requests, sequence numbers.
//! - `throttle`: token bucket counting segments, AIMD on ESME_RTHROTTLED.
//! - `submit`: an `OutboundSms` to the submit_sm of its parts; `address`: TON/NPI, validity
//!   period, masking; [`tlv_config`]: the operator's optional TLVs (static, per route prefix,
//!   named with per-tenant values) and [`tlv_checks`], their checks at load; [`pricing`]: the
//!   price table per destination prefix and how the SMSC would encode and split a text.
//! - `receipts`: deliver_sm receipts and MO; `receipt_clock`: submit-to-receipt delay;
//!   `receipt_watch`: parts still without a final receipt; `query`: query_sm for them (`queries`: those outstanding per bind);
//!   `status`: command_status classes.
//! - `control`: an operator's stop switch per SMSC and the status cell of each bind;
//!   [`status_report`]: the snapshot the admin API shows, and stop / start.
//! - `backoff`: exponential backoff with jitter; `metrics`: metric names and helpers.
//! - `transport`, `tls`: TCP / TLS links framed by the codec.
//!
//! Behaviour worth knowing:
//! - Delivery is at-least-once: a submit_sm in flight when its link dies, or unanswered
//!   within `response_timeout_ms` (with `timeout_policy = "retry"`), is sent again, so the
//!   SMSC may see it twice. Everything else is sent once.
//! - Queues are ordered by dispatch order: a message sent back (throttled, queue full, lost
//!   link) goes ahead of newer ones; the parts of one message go out in order on one bind.
//! - validity_period is relative (`...R`) by default, computed at each send from the OTP's
//!   expiry, so clock skew with the SMSC does not matter; `validity = "absolute"` writes UTC.
//! - Routing: the longest prefix matching the destination, over the `routes` of every SMSC,
//!   names the SMSCs that may carry it (ordered by `priority`, shared by `weight`).
//!   `try_dispatch` answers `NoRoute` when no prefix matches or when none of those SMSCs has
//!   had a bind up within `no_route_after_ms` (the engine start counts as "up", so messages
//!   are taken while the first binds come up). A queued message moves to the next SMSC of
//!   its route when its SMSC has had no usable bind for `failover_after_ms`, or after
//!   `failover_after_attempts` transient failures there; it ends `Failed` when it expires
//!   first.
//! - A message moved to another SMSC is prepared again for it and sent whole; parts still in
//!   flight at the old one no longer count.

mod address;
mod backoff;
mod bind;
mod bind_task;
pub mod config;
mod control;
pub mod engine;
mod fate;
mod health;
mod inbound;
mod message;
pub mod metrics;
mod outbound;
pub mod permits;
pub mod pricing;
mod queries;
mod query;
mod queue;
mod receipt_clock;
mod receipt_watch;
mod receipts;
mod receipts_in_flight;
pub mod reconfigure;
mod role;
mod router;
mod session;
mod shared;
mod slot;
mod status;
pub mod status_report;
mod submit;
mod supervisor;
pub mod thread;
mod throttle;
mod tls;
pub mod tlv_checks;
pub mod tlv_config;
pub mod tlv_lists;
mod transport;
mod validate;
mod window;

pub use config::{
    BindMode, ConcatMethod, EngineSettings, SettingError, SmscConfig, TextEncoding, TimeoutPolicy,
    TlsConfig, TonNpiConfig, ValidityFormat,
};
pub use engine::{EngineError, EngineHandle, SmppEngine};
pub use permits::{AlwaysPermit, BindPermits, Lease, SlotId};
pub use reconfigure::SmscChanges;
pub use status_report::{BindStatus, EngineStatus, SmscStatus, UnknownSmsc};
pub use validate::validate;
