//! Entries of an SMSC that has no bind up anywhere in the cluster would wait for it until
//! their OTPs expire. Once it has been down for `failover_after_ms` (as the engine fails
//! over its own queue), one node at a time (under a short lock in Redis) moves them to the
//! stream of the next SMSC of their route that has a bind up.

use std::sync::Arc;
use std::time::Duration;

use super::consumer::EXPIRED_BEFORE_SEND;
use super::held::{Held, Outcome};
use super::Queue;
use crate::dispatch::{DeliverySink, DeliveryUpdate, SmscHealth};
use crate::telemetry::names;

/// How often a node looks for entries to move.
const EVERY: Duration = Duration::from_secs(1);
/// Entries moved per SMSC and round at most.
const BATCH: usize = 200;
const LOCK: &str = "sendq-mover";
const LOCK_MS: u64 = 5_000;

pub async fn run(queue: Arc<Queue>) {
    let consumer = format!("{}.mover", queue.node);
    loop {
        tokio::select! {
            _ = queue.reading.cancelled() => return,
            _ = tokio::time::sleep(EVERY) => {}
        }
        let view = &queue.view;
        let stranded: Vec<String> = view
            .names()
            .iter()
            .filter(|n| !view.healthy(n) && view.depth(n) > 0)
            .cloned()
            .collect();
        let elsewhere = view.names().iter().any(|n| view.nodes_up(n) > 0);
        if stranded.is_empty() || !elsewhere {
            continue;
        }
        match queue.streams.lock(LOCK, &queue.node, LOCK_MS).await {
            Ok(true) => {}
            Ok(false) => continue,
            Err(e) => {
                tracing::debug!(error = %e, "mover lock not taken");
                continue;
            }
        }
        for from in stranded {
            move_some(&queue, &from, &consumer).await;
        }
    }
}

/// Moves up to [`BATCH`] entries of `from` (never given to a node, or left idle by one) to
/// the next SMSC of their route.
async fn move_some(queue: &Queue, from: &str, consumer: &str) {
    let (Some(engine), streams) = (queue.engine.get(), &queue.streams) else {
        return;
    };
    let reclaim_ms = u64::try_from(queue.settings.reclaim_after().as_millis()).unwrap_or(u64::MAX);
    let mut entries = match streams.claim_idle(from, consumer, reclaim_ms, BATCH).await {
        Ok(v) => v,
        Err(_) => return,
    };
    match streams.read_new(from, consumer, BATCH).await {
        Ok(v) => entries.extend(v),
        Err(_) => return,
    }
    for entry in entries {
        let settle = |otp_id: String, sealed: Vec<u8>| {
            queue.outcome(Outcome::Settle(Held {
                smsc: from.to_owned(),
                entry: entry.id.clone(),
                otp_id,
                sealed,
            }))
        };
        let Some((otp_id, sealed)) = entry.body.clone() else {
            settle(String::new(), Vec::new());
            continue;
        };
        // an entry that does not open is reported by the consumer that meets it
        let Ok(sms) = queue.sealer.open(&otp_id, &sealed) else {
            continue;
        };
        if sms.expires_at <= queue.wall.now() {
            metrics::counter!(names::SENDQ_EXPIRED, "smsc" => from.to_owned()).increment(1);
            queue.sink.on_update(DeliveryUpdate::Failed {
                otp_id: otp_id.clone(),
                reason: EXPIRED_BEFORE_SEND.into(),
            });
            settle(otp_id, sealed);
            continue;
        }
        // left pending here otherwise: taken over by whoever can send it once idle
        let Some(to) = engine.route_by(&sms, &*queue.view, Some(from), true) else {
            continue;
        };
        match streams
            .append(&to, queue.settings.queue_capacity, &otp_id, &sealed)
            .await
        {
            Ok(Some(_)) => {
                metrics::counter!(names::SENDQ_MOVED, "from" => from.to_owned(), "to" => to.clone())
                    .increment(1);
                tracing::info!(otp_id = %otp_id, from = %from, to = %to, "queued SMS moved to the next SMSC of its route");
                settle(otp_id, sealed);
                queue.wake(&to);
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(from = %from, to = %to, error = %e, "queued SMS not moved"),
        }
    }
}
