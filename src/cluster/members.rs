//! The SMSCs the shared queue serves on this node follow its engine's, which a reload
//! changes: an SMSC added gets its place in the view and a consumer of its stream (the
//! stream and its group come with the first append or read) within a second; one removed
//! has its consumer stopped and is retired from the view, so that the mover sends its
//! entries to the next SMSC of their route at once, as the engine does with its own queue.

use std::sync::Arc;
use std::time::Duration;

use tracing::Instrument;

use super::{consumer, lock, Queue};
use crate::dispatch::Dispatcher;

/// How often the engine's SMSCs are compared with the consumers.
const EVERY: Duration = Duration::from_secs(1);

pub async fn run(queue: Arc<Queue>) {
    loop {
        tokio::select! {
            _ = queue.reading.cancelled() => return,
            _ = tokio::time::sleep(EVERY) => {}
        }
        if let Some(engine) = queue.engine.get() {
            let (added, removed) = follow(&queue, &**engine);
            for smsc in added {
                tracing::info!(smsc = %smsc, "SMSC added: its shared queue is read here");
            }
            for smsc in removed {
                tracing::info!(smsc = %smsc, "SMSC removed: its queued SMS move to the next SMSC of their route");
            }
        }
    }
}

/// Starts a consumer for each SMSC of `engine` without one and stops those of SMSCs it no
/// longer has: the names added and removed.
pub fn follow(queue: &Arc<Queue>, engine: &dyn Dispatcher) -> (Vec<String>, Vec<String>) {
    if queue.reading.is_cancelled() {
        return (Vec::new(), Vec::new());
    }
    let wanted = engine.smsc_windows();
    let mut consumers = lock(&queue.consumers);
    let mut removed = Vec::new();
    consumers.retain(|(name, stop, _)| {
        let keep = wanted.iter().any(|(n, _)| n == name);
        if !keep {
            stop.cancel();
            queue.view.retire(name);
            removed.push(name.clone());
        }
        keep
    });
    let added: Vec<(String, usize)> = wanted
        .into_iter()
        .filter(|(n, _)| !consumers.iter().any(|(c, _, _)| c == n))
        .collect();
    let names: Vec<String> = added.iter().map(|(n, _)| n.clone()).collect();
    if !names.is_empty() {
        crate::telemetry::register_sendq(&names);
    }
    for (smsc, in_flight) in added {
        // twice what its binds have in flight: the next ones are ready when a window frees
        let prefetch = match queue.settings.prefetch {
            0 => in_flight.saturating_mul(2),
            p => p,
        }
        .max(1);
        queue.view.add(&smsc);
        let stop = queue.reading.child_token();
        let task = tokio::spawn(
            consumer::run(queue.clone(), smsc.clone(), prefetch, stop.clone())
                .instrument(tracing::info_span!("sendq_consumer", smsc = %smsc)),
        );
        consumers.push((smsc, stop, task));
    }
    (names, removed)
}
