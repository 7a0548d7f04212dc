//! One bind and its reconnects: the [`BindTask`] that names its SMSC, role, health slot and
//! metric label, and follows an operator's stop. `bind` runs it; `session` works with it.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::control::{BindCell, BindState};
use super::role::Role;
use super::shared::{Shared, Smsc};

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

impl BindTask {
    /// This bind's status cell.
    pub(super) fn cell(&self) -> Option<Arc<BindCell>> {
        self.smsc.control.cell(&self.label)
    }

    /// While an operator keeps this SMSC stopped, the bind stays down. Returns false when the
    /// engine drains meanwhile (the bind task ends).
    pub(super) async fn wait_while_stopped(&self) -> bool {
        let mut stopped = self.smsc.control.watch();
        if !*stopped.borrow_and_update() {
            return !self.drain.is_cancelled();
        }
        // A lease this node holds on the bind (Redis bind leases) is released here: the stop
        // holds for the whole cluster, no other node is to take the bind over.
        if let Some(cell) = self.cell() {
            cell.set_state(BindState::Stopped);
        }
        tracing::info!(smsc = %self.smsc.cfg.name, bind = %self.label, "bind stopped by an operator");
        let started = tokio::select! {
            r = stopped.wait_for(|s| !*s) => r.is_ok(),
            _ = self.drain.cancelled() => false,
        };
        if started {
            if let Some(cell) = self.cell() {
                cell.set_state(BindState::Binding);
            }
            tracing::info!(smsc = %self.smsc.cfg.name, bind = %self.label, "bind started by an operator");
        }
        started
    }

    /// The drain signal of one session: the engine's shutdown, or this SMSC being stopped (the
    /// session then drains its window and unbinds). Cancel it once the session is over.
    pub(super) fn session_drain(&self) -> CancellationToken {
        let token = self.drain.child_token();
        let mut stopped = self.smsc.control.watch();
        let cell = self.cell();
        let session = token.clone();
        tokio::spawn(async move {
            tokio::select! {
                _ = stopped.wait_for(|s| *s) => {
                    if let Some(cell) = cell {
                        cell.set_state(BindState::Draining);
                    }
                    session.cancel();
                }
                _ = session.cancelled() => {}
            }
        });
        token
    }
}
