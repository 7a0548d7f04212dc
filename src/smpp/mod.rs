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
//! - `bind`: one bind's connect / bind / reconnect loop; `session`: a bound link (window,
//!   throttle, enquire_link, timeouts, drain and unbind); `inbound`: PDUs from the SMSC.
//! - `window`: the W-permit semaphore, pending requests, sequence numbers.
//! - `throttle`: token bucket counting segments, AIMD on ESME_RTHROTTLED.
//! - `submit`: an `OutboundSms` to the submit_sm of its parts; `address`: TON/NPI, validity
//!   period, masking.
//! - `receipts`: deliver_sm receipts and MO; `status`: command_status classes.
//! - `backoff`: exponential backoff with jitter; `metrics`: metric names and helpers.
//! - `transport`, `tls`: TCP / TLS links framed by the codec.

mod address;
mod backoff;
mod bind;
pub mod config;
pub mod engine;
mod fate;
mod health;
mod inbound;
mod message;
pub mod metrics;
mod queue;
mod receipts;
mod router;
mod session;
mod shared;
mod status;
mod submit;
mod supervisor;
mod throttle;
mod tls;
mod transport;
mod window;

pub use config::{
    BindMode, ConcatMethod, EngineSettings, SmscConfig, TextEncoding, TimeoutPolicy, TlsConfig,
    TonNpiConfig, ValidityFormat,
};
pub use engine::{EngineError, EngineHandle, SmppEngine};
