//! The SMSC side of a load run: samples the simulator's `GET /counters` every 100 ms while the
//! load runs and until the SMSC stops receiving (bounded by a drain time), then reports what
//! arrived there and at what steady rate, with the throttled and window-violation answers.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Limited};
use hyper::Uri;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde::Serialize;
use tokio::sync::watch;

use super::target::loopback_url;
use super::LoadError;
use otpgate_sim::CountersSnapshot;

/// Time between two samples.
const INTERVAL: Duration = Duration::from_millis(100);
/// The SMSC counts as drained once its part count has not moved for this long.
const QUIET: Duration = Duration::from_secs(1);
/// Largest counters document read.
const MAX_BODY: usize = 4 << 20;

/// What the SMSC saw during a run (differences from the first sample).
#[derive(Clone, Debug, Default, Serialize)]
pub struct SmscSide {
    /// submit_sm received (every answer).
    pub submit_sm: u64,
    /// submit_sm answered ESME_ROK.
    pub parts: u64,
    /// submit_sm answered ESME_RTHROTTLED.
    pub throttled: u64,
    /// submit_sm beyond the simulator's window (ESME_RMSGQFUL).
    pub window_violations: u64,
    /// Accepted parts per second between 20 % and 90 % of them (start-up and tail left out).
    pub steady_parts_per_s: f64,
    /// Accepted parts over the time from the start of the run to the last one.
    pub overall_parts_per_s: f64,
    /// Seconds from the start of the run to the last accepted part.
    pub last_part_s: f64,
    /// Whether the SMSC stopped receiving before the drain time ran out.
    pub drained: bool,
}

#[derive(Clone, Copy, Debug)]
struct Sample {
    at: Instant,
    submit_sm: u64,
    parts: u64,
    throttled: u64,
    window_violations: u64,
}

impl Sample {
    fn of(at: Instant, c: &CountersSnapshot) -> Self {
        Self {
            at,
            submit_sm: c.submit_sm,
            parts: c.parts,
            throttled: c.throttled,
            window_violations: c.window_violations,
        }
    }
}

/// Watches one simulator; `done` turns true when the load has finished sending.
pub struct SimWatch {
    uri: Uri,
    drain: Duration,
}

impl SimWatch {
    /// `base` is the simulator's HTTP address, e.g. `http://127.0.0.1:8081` (loopback only).
    pub async fn new(base: &str, drain: Duration) -> Result<Self, LoadError> {
        let base = base.trim_end_matches('/');
        loopback_url(base).await?;
        let uri = format!("{base}/counters")
            .parse()
            .map_err(|_| super::target::TargetError::BadUrl(base.to_owned()))?;
        Ok(Self { uri, drain })
    }

    /// Samples until `done` is true and the SMSC has been quiet for a second (or the drain
    /// time has passed). `started` is when the load began.
    pub async fn run(
        self,
        started: Instant,
        mut done: watch::Receiver<bool>,
    ) -> Result<SmscSide, LoadError> {
        let client = Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();
        let fetch = |at: Instant| {
            let client = client.clone();
            let uri = self.uri.clone();
            async move {
                let resp = client
                    .get(uri)
                    .await
                    .map_err(|e| LoadError::Smpp(format!("simulator counters: {e}")))?;
                let body = Limited::new(resp.into_body(), MAX_BODY)
                    .collect()
                    .await
                    .map_err(|e| LoadError::Smpp(format!("simulator counters: {e}")))?
                    .to_bytes();
                let c: CountersSnapshot = serde_json::from_slice(&body)
                    .map_err(|e| LoadError::Smpp(format!("simulator counters: {e}")))?;
                Ok::<_, LoadError>(Sample::of(at, &c))
            }
        };
        let mut samples = vec![fetch(started).await?];
        let mut ended: Option<Instant> = None;
        let mut ticker = tokio::time::interval(INTERVAL);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let drained = loop {
            tokio::select! {
                _ = ticker.tick() => {}
                r = done.changed(), if ended.is_none() => {
                    if r.is_err() || *done.borrow() {
                        ended = Some(Instant::now());
                    }
                    continue;
                }
            }
            let s = fetch(Instant::now()).await?;
            samples.push(s);
            if let Some(end) = ended {
                let last_change = samples
                    .iter()
                    .rev()
                    .find(|x| x.parts != s.parts)
                    .map_or(started, |x| x.at);
                if s.at.saturating_duration_since(last_change) >= QUIET {
                    break true;
                }
                if s.at.saturating_duration_since(end) >= self.drain {
                    break false;
                }
            }
        };
        Ok(summarise(started, &samples, drained))
    }
}

fn summarise(started: Instant, samples: &[Sample], drained: bool) -> SmscSide {
    let (Some(first), Some(last)) = (samples.first(), samples.last()) else {
        return SmscSide::default();
    };
    let parts = last.parts.saturating_sub(first.parts);
    // The first sample holding the final count is when the last part arrived (to 100 ms).
    let last_at = samples
        .iter()
        .find(|s| s.parts == last.parts)
        .map_or(last.at, |s| s.at);
    let at_share = |share: f64| {
        let want = first.parts as f64 + share * parts as f64;
        samples.iter().find(|s| s.parts as f64 >= want)
    };
    let rate = |a: &Sample, b: &Sample| {
        let secs = b.at.saturating_duration_since(a.at).as_secs_f64();
        if secs > 0.0 {
            b.parts.saturating_sub(a.parts) as f64 / secs
        } else {
            0.0
        }
    };
    let steady = match (at_share(0.2), at_share(0.9)) {
        (Some(a), Some(b)) => rate(a, b),
        _ => 0.0,
    };
    let last_part_s = last_at.saturating_duration_since(started).as_secs_f64();
    SmscSide {
        submit_sm: last.submit_sm.saturating_sub(first.submit_sm),
        parts,
        throttled: last.throttled.saturating_sub(first.throttled),
        window_violations: last
            .window_violations
            .saturating_sub(first.window_violations),
        steady_parts_per_s: steady,
        overall_parts_per_s: if last_part_s > 0.0 {
            parts as f64 / last_part_s
        } else {
            0.0
        },
        last_part_s,
        drained,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steady_rate_leaves_out_start_and_tail() {
        let t0 = Instant::now();
        let s = |ms: u64, parts: u64| Sample {
            at: t0 + Duration::from_millis(ms),
            submit_sm: parts + 3,
            parts,
            throttled: 3,
            window_violations: 0,
        };
        // A burst of 100 at the start, then 100 per 100 ms, then nothing.
        let mut v = vec![s(0, 0), s(100, 100)];
        for i in 2..=11u64 {
            v.push(s(i * 100, 100 * i));
        }
        v.push(s(1200, 1100));
        v.push(s(1300, 1100));
        let r = summarise(t0, &v, true);
        assert_eq!((r.parts, r.submit_sm, r.throttled), (1100, 1100, 0));
        assert!(
            (r.steady_parts_per_s - 1000.0).abs() < 1e-6,
            "{}",
            r.steady_parts_per_s
        );
        assert!((r.last_part_s - 1.1).abs() < 1e-9);
        assert!((r.overall_parts_per_s - 1000.0).abs() < 1e-6);
    }

    #[test]
    fn nothing_received_is_zero() {
        let t0 = Instant::now();
        let s = Sample {
            at: t0,
            submit_sm: 5,
            parts: 5,
            throttled: 0,
            window_violations: 0,
        };
        let r = summarise(t0, &[s, s], false);
        assert_eq!(r.parts, 0);
        assert_eq!(r.steady_parts_per_s, 0.0);
        assert!(!r.drained);
    }
}
