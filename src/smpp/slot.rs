//! One bind slot of an SMSC: waits for its lease, runs its binds (a transceiver, or a
//! transmitter and a receiver) while the lease holds, closes them when it is lost and waits
//! for it again, until shutdown, when the lease is given back.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::bind_task::BindTask;
use super::config::BindMode;
use super::permits::{BindPermits, Lease, SlotId};
use super::role::Role;
use super::shared::{Shared, Smsc};

pub struct SlotTask {
    pub shared: Arc<Shared>,
    pub smsc: Arc<Smsc>,
    pub slot: usize,
    pub permits: Arc<dyn BindPermits>,
    pub drain: CancellationToken,
}

impl SlotTask {
    pub async fn run(self) {
        let id = SlotId {
            smsc: self.smsc.cfg.name.clone(),
            slot: self.slot,
            slots: self.smsc.cfg.binds,
        };
        loop {
            let lease = tokio::select! {
                lease = self.permits.acquire(id.clone()) => lease,
                _ = self.drain.cancelled() => return,
            };
            // cancelled by the shutdown, or by the lease's loss
            let stop = self.drain.child_token();
            let binds = futures::future::join_all(self.binds(&lease, &stop));
            tokio::pin!(binds);
            tokio::select! {
                _ = &mut binds => {}
                _ = lease.lost() => {
                    tracing::warn!(smsc = %id.smsc, slot = id.slot, "bind lease lost: unbinding");
                    stop.cancel();
                    binds.await;
                }
            }
            if self.drain.is_cancelled() {
                self.permits.release(lease).await;
                return;
            }
        }
    }

    fn binds(
        &self,
        lease: &Lease,
        stop: &CancellationToken,
    ) -> Vec<impl std::future::Future<Output = ()>> {
        let i = self.slot;
        let roles = match self.smsc.cfg.bind_mode {
            BindMode::Transceiver => vec![(Role::Transceiver, Some(i), i.to_string())],
            BindMode::TransmitterReceiver => vec![
                (Role::Transmitter, Some(i), format!("{i}tx")),
                (Role::Receiver, None, format!("{i}rx")),
            ],
        };
        roles
            .into_iter()
            .map(|(role, slot, label)| {
                let span =
                    tracing::info_span!("smpp_bind", smsc = %self.smsc.cfg.name, bind = %label);
                BindTask {
                    shared: self.shared.clone(),
                    smsc: self.smsc.clone(),
                    role,
                    slot,
                    label,
                    drain: stop.clone(),
                    unbind_within: lease.unbind_within(),
                }
                .run()
                .instrument(span)
            })
            .collect()
    }
}
