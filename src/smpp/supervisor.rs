//! The engine's housekeeping task: puts retries back in their queue when their backoff is
//! over, hands the queue of an SMSC that is down (or paused past the bound) to the next SMSC
//! of each message's route, fails messages that expired while waiting, and publishes the
//! queue depth.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::metrics;
use super::shared::Shared;

/// How often failover and expiry are looked at when nothing else wakes the task.
const TICK: Duration = Duration::from_millis(100);
const SWEEP_EVERY: Duration = Duration::from_secs(1);

pub struct Supervisor {
    pub shared: Arc<Shared>,
    pub stop: CancellationToken,
}

impl Supervisor {
    pub async fn run(self) {
        let mut last_sweep = Instant::now();
        metrics::queue(self.shared.depth.get(), self.shared.depth.capacity());
        loop {
            let now = Instant::now();
            for (smsc, work) in self.shared.delayed.take_due(now) {
                self.shared.requeue_due(smsc, work, now);
            }
            if !self.shared.is_shutting_down() {
                self.failover(now);
            }
            if now.saturating_duration_since(last_sweep) >= SWEEP_EVERY {
                self.expire();
                metrics::queue(self.shared.depth.get(), self.shared.depth.capacity());
                last_sweep = now;
            }
            let next = self
                .shared
                .delayed
                .next_due()
                .map_or(now + TICK, |d| d.min(now + TICK));
            tokio::select! {
                _ = self.stop.cancelled() => return,
                _ = tokio::time::sleep_until(next) => {}
                _ = self.shared.delayed.notify.notified() => {}
            }
        }
    }

    fn failover(&self, now: Instant) {
        for smsc in &self.shared.smscs() {
            if smsc.queue.is_empty() || self.shared.healthy(smsc.index, now) {
                continue;
            }
            let mut kept = 0usize;
            let mut moved = 0usize;
            for work in smsc.queue.drain() {
                if work.msg.is_finished() {
                    continue;
                }
                match self.shared.other_for(&work.msg, smsc.index, now) {
                    Some(next) => {
                        self.shared.move_to(work.msg, next, "SMSC down");
                        moved += 1;
                    }
                    None => {
                        smsc.queue.push(work);
                        kept += 1;
                    }
                }
            }
            if moved > 0 {
                tracing::warn!(smsc = %smsc.cfg.name, moved, kept, "SMSC down: queue failed over");
            }
        }
    }

    fn expire(&self) {
        let now = self.shared.wall.now();
        for smsc in &self.shared.smscs() {
            for work in smsc.queue.take_expired(now) {
                self.shared
                    .report_failed(&work.msg, "expired before it could be sent");
            }
        }
    }
}
