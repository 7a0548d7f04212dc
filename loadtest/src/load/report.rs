//! Results of a load run: an HdrHistogram of latencies and counts per outcome, merged across
//! workers, printed as a table or JSON.

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

/// Latencies (microseconds, 1 us to 5 min, 3 significant digits) and outcomes of one kind of
/// request.
#[derive(Clone, Debug)]
pub struct Recorder {
    hist: Histogram<u64>,
    outcomes: BTreeMap<String, u64>,
    ok: u64,
    errors: u64,
}

impl Default for Recorder {
    fn default() -> Self {
        Self::new()
    }
}

impl Recorder {
    pub fn new() -> Self {
        // Constant, valid bounds: this cannot fail.
        #[allow(clippy::expect_used)]
        let hist = Histogram::new_with_bounds(1, 300_000_000, 3).expect("valid histogram bounds");
        Self {
            hist,
            outcomes: BTreeMap::new(),
            ok: 0,
            errors: 0,
        }
    }

    /// One finished request: its latency, an outcome label (`201`, `ESME_ROK`, `timeout`) and
    /// whether that counts as success.
    pub fn record(&mut self, latency: Duration, outcome: &str, ok: bool) {
        let us = u64::try_from(latency.as_micros())
            .unwrap_or(u64::MAX)
            .max(1);
        let _ = self.hist.record(us.min(self.hist.high()));
        self.count(outcome, ok);
    }

    /// An outcome without a latency (refused before sending, timed out).
    pub fn count(&mut self, outcome: &str, ok: bool) {
        match self.outcomes.get_mut(outcome) {
            Some(n) => *n += 1,
            None => {
                self.outcomes.insert(outcome.to_owned(), 1);
            }
        }
        if ok {
            self.ok += 1;
        } else {
            self.errors += 1;
        }
    }

    pub fn merge(&mut self, other: &Recorder) {
        let _ = self.hist.add(&other.hist);
        for (k, v) in &other.outcomes {
            *self.outcomes.entry(k.clone()).or_default() += v;
        }
        self.ok += other.ok;
        self.errors += other.errors;
    }

    pub fn total(&self) -> u64 {
        self.ok + self.errors
    }

    pub fn summary(&self, elapsed: Duration) -> Summary {
        let ms = |q: f64| self.hist.value_at_quantile(q) as f64 / 1000.0;
        let secs = elapsed.as_secs_f64();
        Summary {
            requests: self.total(),
            ok: self.ok,
            errors: self.errors,
            elapsed_s: secs,
            throughput_per_s: if secs > 0.0 {
                self.total() as f64 / secs
            } else {
                0.0
            },
            latency_ms: Latencies {
                p50: ms(0.5),
                p90: ms(0.9),
                p99: ms(0.99),
                p999: ms(0.999),
                max: self.hist.max() as f64 / 1000.0,
                mean: self.hist.mean() / 1000.0,
            },
            outcomes: self.outcomes.clone(),
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Latencies {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
    pub mean: f64,
}

/// One recorder's figures.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    pub requests: u64,
    pub ok: u64,
    pub errors: u64,
    pub elapsed_s: f64,
    pub throughput_per_s: f64,
    pub latency_ms: Latencies,
    pub outcomes: BTreeMap<String, u64>,
}

/// What a run prints.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub mode: String,
    pub target: String,
    pub main: Summary,
    /// Second phase when there is one (`verify` for `--verify`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verify: Option<Summary>,
    /// Mode-specific counts (e.g. receipts by state in SMPP mode).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, u64>,
    /// What the SMSC simulator saw, when its counters were watched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smsc: Option<super::simwatch::SmscSide>,
}

impl Summary {
    fn table(&self, title: &str, out: &mut String) {
        use std::fmt::Write;
        let l = &self.latency_ms;
        let _ = writeln!(out, "{title}");
        let _ = writeln!(
            out,
            "  requests {:>10}   ok {:>10}   errors {:>8}   elapsed {:>8.2} s   throughput {:>10.0} /s",
            self.requests, self.ok, self.errors, self.elapsed_s, self.throughput_per_s
        );
        let _ = writeln!(
            out,
            "  latency ms   p50 {:>8.3}   p90 {:>8.3}   p99 {:>8.3}   p99.9 {:>8.3}   max {:>8.3}   mean {:>8.3}",
            l.p50, l.p90, l.p99, l.p999, l.max, l.mean
        );
        for (k, v) in &self.outcomes {
            let _ = writeln!(out, "  {k:<24} {v:>10}");
        }
    }
}

impl Report {
    pub fn table(&self) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        let _ = writeln!(out, "mode {}  target {}", self.mode, self.target);
        self.main.table("requests", &mut out);
        if let Some(v) = &self.verify {
            v.table("verify", &mut out);
        }
        for (k, v) in &self.extra {
            let _ = writeln!(out, "  {k:<24} {v:>10}");
        }
        if let Some(s) = &self.smsc {
            let _ = writeln!(out, "smsc (simulator counters)");
            let _ = writeln!(
                out,
                "  submit_sm {:>9}   accepted {:>9}   throttled {:>7}   window violations {:>5}",
                s.submit_sm, s.parts, s.throttled, s.window_violations
            );
            let _ = writeln!(
                out,
                "  steady {:>10.0} /s   overall {:>10.0} /s   last part at {:>7.2} s   drained {}",
                s.steady_parts_per_s, s.overall_parts_per_s, s.last_part_s, s.drained
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_and_summarises() {
        let mut a = Recorder::new();
        let mut b = Recorder::new();
        for i in 1..=100u64 {
            a.record(Duration::from_millis(i), "201", true);
        }
        b.record(Duration::from_millis(1000), "503", false);
        b.count("timeout", false);
        a.merge(&b);
        let s = a.summary(Duration::from_secs(2));
        assert_eq!((s.requests, s.ok, s.errors), (102, 100, 2));
        assert!(
            (s.latency_ms.p50 - 51.0).abs() < 0.1,
            "{}",
            s.latency_ms.p50
        );
        assert!(s.latency_ms.max >= 999.0);
        assert_eq!(s.outcomes["503"], 1);
        assert!((s.throughput_per_s - 51.0).abs() < 0.01);
    }
}
