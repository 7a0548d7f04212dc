//! The OTP core: PIN generation and keyed hashing, the compact OTP record, the `Store` trait
//! with its sharded in-memory and its Redis implementations, expiry, abuse limits, languages, the create /
//! verify / cancel logic, and the delivery sink the SMPP engine reports to.

pub mod abuse;
pub mod clock;
mod create;
pub mod credit;
pub mod delivery;
mod delivery_apply;
mod delivery_counters;
mod delivery_lanes;
pub mod guard;
pub mod idempotency;
pub mod identity;
pub mod language;
pub mod memory;
pub mod model;
pub mod phone;
pub mod pin;
pub mod redis;
pub mod request;
pub mod resend;
pub mod sender;
pub mod sender_rules;
pub mod service;
mod service_rules;
pub mod settings;
pub mod store;
mod store_error;
pub mod tenant;
pub mod text;
pub mod tlv_values;
pub mod token_index;
pub mod usage;
mod view_json;
pub mod window;

pub use clock::Clock;
pub use delivery::StoreSink;
pub use memory::MemoryStore;
pub use model::{DeliveryStatus, OtpId, OtpStatus, OtpView, Record};
pub use redis::RedisStore;
pub use request::CreateRequest;
pub use service::{OtpError, OtpService};
pub use settings::OtpConfig;
pub use store::{IdempotencyStore, NumberLimitStore, OtpStore, Store};
