//! A new `[[smsc]]` list applied to the running engine (a configuration reload): an entry
//! whose connection is unchanged keeps its binds (the same SMPP sessions); a changed entry
//! drains its binds and binds again with the new settings; a removed one drains and its
//! queue goes to the next SMSC of each message's route; a new one binds. The router is
//! rebuilt with the set and both are swapped at once. SMSCs are named by slot: an SMSC keeps
//! its slot while it is configured, so that what refers to it (queued and delayed messages,
//! receipts) stays valid across the swap.
//!
//! Applied live, without a rebind: `routes`, `priority`, `weight` (the router holds them).
//! Any other key of an entry is a connection setting: its change rebinds the entry.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tokio::time::Instant;

use super::config::{ms, SmscConfig};
use super::engine::{EngineError, EngineHandle, SlotBinds};
use super::message::Work;
use super::router::MAX_SMSCS;
use super::shared::{Shared, Smsc, SmscSet};
use super::validate::validate;

/// What [`EngineHandle::apply_smscs`] did, by SMSC name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SmscChanges {
    /// Unchanged connection: the same binds stay up (routes may have changed).
    pub kept: Vec<String>,
    /// Drained and bound again with the new settings.
    pub changed: Vec<String>,
    pub added: Vec<String>,
    /// Drained; their queued messages went to the next SMSC of their route.
    pub removed: Vec<String>,
}

/// Whether `new` can keep the binds of `old`: equal but for what the router holds.
pub fn same_connection(old: &SmscConfig, new: &SmscConfig) -> bool {
    let mut routed = old.clone();
    routed.routes.clone_from(&new.routes);
    routed.priority = new.priority;
    routed.weight = new.weight;
    routed == *new
}

/// An SMSC leaving the set, and the one taking its slot when it was only changed.
struct Leaving {
    old: Arc<Smsc>,
    successor: Option<Arc<Smsc>>,
}

impl EngineHandle {
    /// Applies `smscs` (checked as the configuration loader checks them) to the running
    /// engine; see the module documentation. Returns once the new set is in force: the
    /// drains of changed and removed entries go on in the background (the engine's shutdown
    /// waits for them).
    pub async fn apply_smscs(&self, smscs: Vec<SmscConfig>) -> Result<SmscChanges, EngineError> {
        let shared = &self.inner.shared;
        validate(&smscs, &shared.settings)?;
        let _one_at_a_time = self.inner.applying.lock().await;
        let runtime = self.inner.runtime.clone();
        let old = shared.set();
        let mut slots = old.slots.clone();
        let mut changes = SmscChanges::default();
        let mut leaving = Vec::new();
        let mut starting = Vec::new();
        for s in old.iter() {
            if !smscs.iter().any(|c| c.name == s.cfg.name) {
                changes.removed.push(s.cfg.name.clone());
                leaving.push(Leaving {
                    old: s.clone(),
                    successor: None,
                });
                if let Some(slot) = slots.get_mut(s.index) {
                    *slot = None;
                }
            }
        }
        for cfg in &smscs {
            match old.slot_of(&cfg.name).and_then(|i| old.get(i)) {
                Some(cur) if same_connection(&cur.cfg, cfg) => {
                    changes.kept.push(cfg.name.clone());
                }
                Some(cur) => {
                    changes.changed.push(cfg.name.clone());
                    let mut next =
                        Smsc::new(cur.index, cfg.clone(), &shared.depth, &shared.settings);
                    if cur.cfg.query_after_s == cfg.query_after_s {
                        next.watch = cur.watch.clone();
                    }
                    // an operator's stop outlives new settings
                    next.control.set_stopped(cur.control.is_stopped());
                    let next = Arc::new(next);
                    if let Some(slot) = slots.get_mut(cur.index) {
                        *slot = Some(next.clone());
                    }
                    leaving.push(Leaving {
                        old: cur.clone(),
                        successor: Some(next.clone()),
                    });
                    starting.push(next);
                }
                None => {
                    let index = free_slot(&old, &slots);
                    changes.added.push(cfg.name.clone());
                    crate::telemetry::register_smsc(&cfg.name);
                    let next = Arc::new(Smsc::new(
                        index,
                        cfg.clone(),
                        &shared.depth,
                        &shared.settings,
                    ));
                    while slots.len() <= index {
                        slots.push(None);
                    }
                    if let Some(slot) = slots.get_mut(index) {
                        *slot = Some(next.clone());
                    }
                    starting.push(next);
                }
            }
        }
        let routing: Vec<Option<&SmscConfig>> = slots
            .iter()
            .map(|s| {
                s.as_ref()
                    .and_then(|s| smscs.iter().find(|c| c.name == s.cfg.name))
            })
            .collect();
        let set = SmscSet::new(slots.clone(), &routing);
        let mut tasks = self.inner.tasks.lock().unwrap_or_else(|e| e.into_inner());
        let Some(tasks) = tasks.as_mut() else {
            // shut down meanwhile: nothing to bind any more
            return Ok(SmscChanges::default());
        };
        shared.replace_set(set);
        for l in leaving {
            if let Some(binds) = tasks.binds.remove(&l.old.index) {
                tasks
                    .retiring
                    .push(runtime.spawn(retire(shared.clone(), l, binds)));
            }
        }
        for smsc in starting {
            let binds = SlotBinds::spawn(
                &runtime,
                shared,
                &smsc,
                &self.inner.drain,
                &self.inner.permits,
            );
            tasks.binds.insert(smsc.index, binds);
        }
        tasks.retiring.retain(|t| !t.is_finished());
        tracing::info!(
            kept = changes.kept.len(),
            changed = ?changes.changed,
            added = ?changes.added,
            removed = ?changes.removed,
            "SMSC set applied"
        );
        Ok(changes)
    }
}

/// A slot for a new SMSC: one never used in this process while there is room (a freed slot
/// may still be named by a message of the SMSC that left it), else the first free one.
fn free_slot(old: &SmscSet, slots: &[Option<Arc<Smsc>>]) -> usize {
    if slots.len() < MAX_SMSCS {
        return slots.len().max(old.slots.len());
    }
    slots
        .iter()
        .position(Option::is_none)
        .unwrap_or(slots.len())
}

/// Drains the binds of an SMSC that left the set (in flight answered, or given back to its
/// queue), then hands its queue over: to its successor in the same slot, else to the next
/// SMSC of each message's route (or fails it as a message without a route).
async fn retire(shared: Arc<Shared>, leaving: Leaving, binds: SlotBinds) {
    let name = leaving.old.cfg.name.clone();
    binds.drain.cancel();
    leaving.old.queue.wake();
    // a session drains its window within a bind timeout, then unbinds within another
    let bound = ms(shared.settings.bind_timeout_ms) * 3 + Duration::from_secs(1);
    let aborts: Vec<_> = binds.tasks.iter().map(|t| t.abort_handle()).collect();
    if tokio::time::timeout(bound, futures::future::join_all(binds.tasks))
        .await
        .is_err()
    {
        tracing::warn!(smsc = %name, "binds did not close in time after a reload");
        aborts.iter().for_each(|a| a.abort());
    }
    let now = Instant::now();
    let mut handed = 0usize;
    for work in leaving.old.queue.drain() {
        if work.msg.is_finished() {
            continue;
        }
        handed += 1;
        match &leaving.successor {
            Some(next) => {
                // prepared again with the new settings, sent whole
                work.msg.move_to(next.index);
                next.queue.push(Work::fresh(work.msg));
            }
            None => shared.rehome(work.msg, leaving.old.index, now),
        }
    }
    tracing::info!(smsc = %name, handed_over = handed, "binds of the previous settings closed");
}
