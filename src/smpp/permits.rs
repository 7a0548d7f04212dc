//! Which bind slots this node may open. Alone (the memory store) it may open every slot of
//! every SMSC, at no cost. In a cluster the `binds` of an SMSC account are shared by all
//! nodes: a slot's binds open only while this node holds the slot's [`Lease`], and close
//! (drain, unbind) as soon as the lease is lost. The Redis implementation lives outside the
//! engine (`cluster::leases`).

use std::time::Duration;

use futures::future::BoxFuture;
use tokio_util::sync::CancellationToken;

/// One bind slot: slot `slot` of the `slots` binds of SMSC `smsc` (a transceiver, or the
/// transmitter and receiver of a pair).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SlotId {
    pub smsc: String,
    pub slot: usize,
    pub slots: usize,
}

/// The right to keep a slot's binds open.
#[derive(Debug)]
pub struct Lease {
    pub id: SlotId,
    lost: CancellationToken,
    unbind_within: Option<Duration>,
}

impl Lease {
    /// A lease that `lost` revokes; once it fires the binds finish their window and unbind
    /// within `unbind_within`.
    pub fn new(id: SlotId, lost: CancellationToken, unbind_within: Duration) -> Self {
        Self {
            id,
            lost,
            unbind_within: Some(unbind_within),
        }
    }

    /// A lease never lost (a single node).
    pub fn forever(id: SlotId) -> Self {
        Self {
            id,
            lost: CancellationToken::new(),
            unbind_within: None,
        }
    }

    /// Completes when the lease is lost (never for [`Lease::forever`]).
    pub async fn lost(&self) {
        self.lost.cancelled().await
    }

    /// How long the binds have, once the lease is lost, to drain and unbind; `None` = the
    /// usual `bind_timeout_ms`.
    pub fn unbind_within(&self) -> Option<Duration> {
        self.unbind_within
    }
}

/// Grants the leases of bind slots.
pub trait BindPermits: Send + Sync {
    /// Waits until this node may open the binds of `id`.
    fn acquire(&self, id: SlotId) -> BoxFuture<'_, Lease>;

    /// Gives a lease back at once (the binds are closed): another node may take the slot
    /// without waiting for its expiry. Called at shutdown; a stopped SMSC will call it too.
    fn release(&self, lease: Lease) -> BoxFuture<'_, ()>;
}

/// Every slot, always: one node alone with its SMSC accounts.
#[derive(Debug, Default, Clone, Copy)]
pub struct AlwaysPermit;

impl BindPermits for AlwaysPermit {
    fn acquire(&self, id: SlotId) -> BoxFuture<'_, Lease> {
        Box::pin(std::future::ready(Lease::forever(id)))
    }

    fn release(&self, _: Lease) -> BoxFuture<'_, ()> {
        Box::pin(std::future::ready(()))
    }
}
