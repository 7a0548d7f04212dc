//! What the nodes sharing one Redis agree on: who this node is ([`ClusterSettings`]) and
//! which node holds which bind of each SMSC account ([`leases`]), so that `binds` and `tps`
//! of an `[[smsc]]` hold for the whole cluster. Above `smpp` and `otp`: it implements the
//! engine's [`BindPermits`](crate::smpp::BindPermits) with the store's Redis connection type.

pub mod leases;
pub mod settings;

pub use leases::{LeaseOptions, RedisLeases};
pub use settings::ClusterSettings;
