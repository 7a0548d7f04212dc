//! One task per SMSC on every node: while this node has a bind of the SMSC up, it takes
//! entries of the SMSC's stream (at most `prefetch` held at once) and hands them to its
//! engine, preferring that SMSC. It also renews the entries it holds, and takes over those
//! another node left idle for `reclaim_after`.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::held::{Held, Outcome};
use super::stream::Entry;
use super::Queue;
use crate::dispatch::{DeliverySink, DeliveryUpdate, OutboundSms, SmscChoice};
use crate::otp::model::{DeliveryStatus, OtpId};
use crate::telemetry::names;

/// The FAILED reason of an SMS whose OTP expired while it waited in the shared queue.
pub const EXPIRED_BEFORE_SEND: &str = "expired before send";

/// What became of one entry.
enum Handled {
    /// Handed to the engine, or settled without sending.
    Done,
    /// The engine cannot take it now: kept for the next round.
    Refused,
}

/// An entry, and whether it was taken over (it may have been sent already).
type Taken = (Entry, bool);

/// Until `stop` (this SMSC left the engine) or the node stops reading.
pub async fn run(queue: Arc<Queue>, smsc: String, prefetch: usize, stop: CancellationToken) {
    let settings = &queue.settings;
    let reclaim_after = settings.reclaim_after();
    let reclaim_ms = u64::try_from(reclaim_after.as_millis()).unwrap_or(u64::MAX);
    // a node renews well within the time after which the others take its entries
    let renew_every = (reclaim_after / 4).max(Duration::from_millis(250));
    let claim_every = renew_every;
    let consumer = queue.node.clone();
    let mut deferred: VecDeque<Taken> = VecDeque::new();
    let mut own_read = false;
    let mut last_renew = Instant::now();
    let mut last_claim = Instant::now() - claim_every;
    let mut quiet = false;
    let wake = queue.waker(&smsc);
    loop {
        if quiet {
            tokio::select! {
                _ = stop.cancelled() => break,
                _ = wake.notified() => {}
                _ = tokio::time::sleep(settings.poll()) => {}
            }
        }
        if stop.is_cancelled() {
            break;
        }
        quiet = true;
        if last_renew.elapsed() >= renew_every {
            let mut ids = queue.held.entries_of(&smsc);
            ids.extend(deferred.iter().map(|(e, _)| e.id.clone()));
            for chunk in ids.chunks(500) {
                if let Err(e) = queue.streams.renew(&smsc, &consumer, chunk).await {
                    metrics::counter!(names::SENDQ_REDIS_ERRORS, "op" => "renew").increment(1);
                    tracing::warn!(smsc = %smsc, error = %e, "held entries not renewed");
                }
            }
            last_renew = Instant::now();
        }
        let Some(engine) = queue.engine.get() else {
            continue;
        };
        if engine.smsc_binds_up(&smsc) == 0 {
            continue;
        }
        while let Some(taken) = deferred.pop_front() {
            if let Handled::Refused = handle(&queue, &smsc, taken.clone()).await {
                deferred.push_front(taken);
                break;
            }
        }
        let held = queue.held.count(&smsc) + deferred.len();
        metrics::gauge!(names::SENDQ_DEPTH, "smsc" => smsc.clone(), "scope" => "local")
            .set(held as f64);
        let room = prefetch.saturating_sub(held);
        if room == 0 || !deferred.is_empty() {
            continue;
        }
        let taken = if !own_read {
            // what this node id held before a restart is sent at once, not after reclaim_after
            own_read = true;
            queue
                .streams
                .read_own(&smsc, &consumer, room)
                .await
                .map(|v| (v, true))
        } else if last_claim.elapsed() >= claim_every {
            last_claim = Instant::now();
            queue
                .streams
                .claim_idle(&smsc, &consumer, reclaim_ms, room)
                .await
                .map(|v| (v, true))
        } else {
            queue
                .streams
                .read_new(&smsc, &consumer, room)
                .await
                .map(|v| (v, false))
        };
        let (entries, reclaimed) = match taken {
            Ok(t) => t,
            Err(e) => {
                metrics::counter!(names::SENDQ_REDIS_ERRORS, "op" => "read").increment(1);
                tracing::warn!(smsc = %smsc, error = %e, "shared send queue not read");
                continue;
            }
        };
        if !entries.is_empty() {
            quiet = false;
        }
        if reclaimed {
            let bodies = entries.iter().filter(|e| e.body.is_some()).count();
            if bodies > 0 {
                metrics::counter!(names::SENDQ_RECLAIMED, "smsc" => smsc.clone())
                    .increment(bodies as u64);
                tracing::info!(smsc = %smsc, entries = bodies, "send-queue entries taken over");
            }
        }
        for entry in entries {
            let taken = (entry, reclaimed);
            if let Handled::Refused = handle(&queue, &smsc, taken.clone()).await {
                deferred.push_back(taken);
            }
        }
    }
    // what is deferred stays pending under this node's id: taken over once idle
}

/// Sends one entry through the engine, or settles it without sending.
async fn handle(queue: &Queue, smsc: &str, (entry, reclaimed): Taken) -> Handled {
    let Some((otp_id, sealed)) = entry.body else {
        // deleted while pending: nothing to send
        settle(queue, smsc, entry.id, String::new(), Vec::new());
        return Handled::Done;
    };
    let sms = match queue.sealer.open(&otp_id, &sealed) {
        Ok(sms) => sms,
        Err(e) => {
            metrics::counter!(names::SENDQ_UNREADABLE).increment(1);
            tracing::error!(otp_id = %otp_id, smsc = %smsc, error = %e, "send-queue entry does not open: not sent");
            queue.sink.on_update(DeliveryUpdate::Failed {
                otp_id: otp_id.clone(),
                reason: "send queue entry unreadable".into(),
            });
            settle(queue, smsc, entry.id, otp_id, sealed);
            return Handled::Done;
        }
    };
    if reclaimed {
        match settled_already(queue, &otp_id).await {
            Some(true) => {
                metrics::counter!(names::SENDQ_ALREADY_SETTLED, "smsc" => smsc.to_owned())
                    .increment(1);
                settle(queue, smsc, entry.id, otp_id, sealed);
                return Handled::Done;
            }
            Some(false) => {}
            // the store cannot tell: try again later rather than risk a second send
            None => return Handled::Refused,
        }
    }
    let Some(engine) = queue.engine.get() else {
        return Handled::Refused;
    };
    if sms.expires_at <= queue.wall.now() {
        metrics::counter!(names::SENDQ_EXPIRED, "smsc" => smsc.to_owned()).increment(1);
        tracing::warn!(otp_id = %otp_id, smsc = %smsc, "OTP expired in the shared send queue: not sent");
        queue.sink.on_update(DeliveryUpdate::Failed {
            otp_id: otp_id.clone(),
            reason: EXPIRED_BEFORE_SEND.into(),
        });
        settle(queue, smsc, entry.id, otp_id, sealed);
        return Handled::Done;
    }
    let held = Held {
        smsc: smsc.to_owned(),
        entry: entry.id.clone(),
        otp_id: otp_id.clone(),
        sealed,
    };
    // held before the engine has it: its fate may be reported before try_dispatch returns
    queue.held.insert(held);
    match engine.try_dispatch(preferring(sms, smsc)) {
        Ok(()) => {
            if reclaimed {
                metrics::counter!(names::SENDQ_DUPLICATES, "smsc" => smsc.to_owned()).increment(1);
            }
            Handled::Done
        }
        Err(e) => {
            queue.held.remove(&otp_id, &entry.id);
            tracing::debug!(smsc = %smsc, error = %e, "engine cannot take a queued SMS yet");
            Handled::Refused
        }
    }
}

/// Whether the OTP of a taken-over entry already had its send settled (or is gone); `None`
/// when the store does not answer.
async fn settled_already(queue: &Queue, otp_id: &str) -> Option<bool> {
    let Some(id) = OtpId::parse(otp_id) else {
        return Some(true);
    };
    match queue.store.get(&id).await {
        Ok(None) => Some(true),
        Ok(Some(r)) => Some(r.delivery != DeliveryStatus::Queued),
        Err(e) => {
            tracing::warn!(otp_id = %otp_id, error = %e, "cannot tell whether a taken-over entry was sent");
            None
        }
    }
}

fn settle(queue: &Queue, smsc: &str, entry: String, otp_id: String, sealed: Vec<u8>) {
    queue.outcome(Outcome::Settle(Held {
        smsc: smsc.to_owned(),
        entry,
        otp_id,
        sealed,
    }));
}

/// `sms` with `smsc` tried first (the tenant's own preference after it).
fn preferring(mut sms: OutboundSms, smsc: &str) -> OutboundSms {
    let mut choice: SmscChoice = sms.smscs.as_deref().cloned().unwrap_or_default();
    choice.preference.retain(|p| p != smsc);
    choice.preference.insert(0, smsc.to_owned());
    sms.smscs = Some(Arc::new(choice));
    sms
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    #[test]
    fn the_streams_smsc_is_tried_first_within_the_tenants_choice() {
        let sms = OutboundSms {
            otp_id: "x".into(),
            tenant: "t".into(),
            destination: "+447700900123".into(),
            sender: "S".into(),
            text: "code".into(),
            expires_at: UNIX_EPOCH,
            tlv_values: Default::default(),
            smscs: Some(Arc::new(SmscChoice {
                allowed: vec!["a".into(), "b".into()],
                preference: vec!["a".into(), "b".into()],
            })),
        };
        let c = preferring(sms, "b").smscs.unwrap();
        assert_eq!(c.allowed, vec!["a".to_owned(), "b".to_owned()]);
        assert_eq!(c.preference, vec!["b".to_owned(), "a".to_owned()]);
    }
}
