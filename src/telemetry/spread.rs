//! Counters and histograms that both HTTP workers move at every request, kept by each thread
//! in cells of its own and handed to the recorder when the metrics are read (a scrape) or
//! kept up (every second).
//!
//! A request counted through the recorder's handles wrote the same counter, the same
//! histogram's sample list and their generation counts from both workers: each write moved a
//! cache line from one core to the other, about 1.3 % of the CPU of a create. A series kept
//! here must be moved only through here: its recorder counter is set to the cells' sum, which
//! would hide what another writer added.

use std::collections::HashMap;
use std::sync::atomic::{AtomicIsize, Ordering};
use std::sync::{Arc, LazyLock, Mutex, PoisonError};

use metrics::{Counter, Histogram, Label};
use thread_local::ThreadLocal;

/// Samples a thread keeps before it hands them to the recorder itself: the bound when no
/// upkeep runs (an embedding program that never calls [`fold`]).
const MOST_KEPT: usize = 4096;

/// A count that each thread keeps in a cell of its own, summed when read: for a count changed
/// by several threads at every OTP and read only now and then (a gauge, a scrape).
#[derive(Default)]
pub struct SpreadCount {
    cells: ThreadLocal<AtomicIsize>,
}

impl SpreadCount {
    /// Adds `n` (below zero: takes) in this thread's cell: a load and a store, no
    /// read-modify-write, since no other thread writes it.
    pub fn add(&self, n: isize) {
        let cell = self.cells.get_or_default();
        cell.store(
            cell.load(Ordering::Relaxed).wrapping_add(n),
            Ordering::Relaxed,
        );
    }

    /// The sum of every thread's cell (a thread's own may be below zero: it took what
    /// another added), never below zero.
    pub fn get(&self) -> usize {
        let sum = self
            .cells
            .iter()
            .fold(0isize, |sum, c| sum.wrapping_add(c.load(Ordering::Relaxed)));
        usize::try_from(sum).unwrap_or(0)
    }
}

impl std::fmt::Debug for SpreadCount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("SpreadCount").field(&self.get()).finish()
    }
}

/// A counter of per-thread cells, whose sum the recorder's counter takes at each [`fold`].
pub struct SpreadCounter {
    count: SpreadCount,
    target: Counter,
}

impl std::fmt::Debug for SpreadCounter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpreadCounter").finish_non_exhaustive()
    }
}

impl SpreadCounter {
    pub fn increment(&self, n: u64) {
        self.count.add(isize::try_from(n).unwrap_or(isize::MAX));
    }

    fn fold(&self) {
        // the recorder keeps the larger: a fold never takes a count back
        self.target.absolute(self.count.get() as u64);
    }
}

/// A histogram whose samples each thread keeps until a [`fold`] records them.
pub struct SpreadHistogram {
    cells: ThreadLocal<Mutex<Vec<f64>>>,
    target: Histogram,
}

impl SpreadHistogram {
    /// Keeps `value` in this thread's list (its lock is another thread's only at a fold).
    pub fn record(&self, value: f64) {
        let mut kept = self
            .cells
            .get_or_default()
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        kept.push(value);
        if kept.len() >= MOST_KEPT {
            self.hand_over(&mut kept);
        }
    }

    fn hand_over(&self, kept: &mut Vec<f64>) {
        for value in kept.drain(..) {
            self.target.record(value);
        }
    }

    fn fold(&self) {
        for cell in self.cells.iter() {
            let mut kept =
                std::mem::take(&mut *cell.lock().unwrap_or_else(PoisonError::into_inner));
            self.hand_over(&mut kept);
        }
    }
}

/// Every series kept here, by name and labels: the same series is the same cells wherever it
/// is moved from, and stays so when its handles are taken again (a reload).
#[derive(Default)]
struct Kept {
    counters: HashMap<String, Arc<SpreadCounter>>,
    histograms: HashMap<String, Arc<SpreadHistogram>>,
}

static KEPT: LazyLock<Mutex<Kept>> = LazyLock::new(Mutex::default);

fn key(name: &str, labels: &[(&'static str, &str)]) -> String {
    let mut key = name.to_owned();
    for (k, v) in labels {
        key.push('\u{1}');
        key.push_str(k);
        key.push('\u{2}');
        key.push_str(v);
    }
    key
}

fn labels_of(labels: &[(&'static str, &str)]) -> Vec<Label> {
    labels
        .iter()
        .map(|(k, v)| Label::new(*k, v.to_string()))
        .collect()
}

/// The series `name{labels}` of the list `list` picks, made by `make` the first time.
fn kept<T>(
    list: impl FnOnce(&mut Kept) -> &mut HashMap<String, Arc<T>>,
    name: &str,
    labels: &[(&'static str, &str)],
    make: impl FnOnce(Vec<Label>) -> T,
) -> Arc<T> {
    let mut kept = KEPT.lock().unwrap_or_else(PoisonError::into_inner);
    list(&mut kept)
        .entry(key(name, labels))
        .or_insert_with(|| Arc::new(make(labels_of(labels))))
        .clone()
}

/// The counter `name{labels}`, kept per thread; exported (at 0) from the first call on.
pub fn counter(name: &'static str, labels: &[(&'static str, &str)]) -> Arc<SpreadCounter> {
    kept(
        |k| &mut k.counters,
        name,
        labels,
        |labels| {
            let target = metrics::counter!(name, labels);
            target.increment(0);
            SpreadCounter {
                count: SpreadCount::default(),
                target,
            }
        },
    )
}

/// The histogram `name{labels}`, its samples kept per thread until a fold.
pub fn histogram(name: &'static str, labels: &[(&'static str, &str)]) -> Arc<SpreadHistogram> {
    kept(
        |k| &mut k.histograms,
        name,
        labels,
        |labels| SpreadHistogram {
            cells: ThreadLocal::new(),
            target: metrics::histogram!(name, labels),
        },
    )
}

/// Hands every kept count and sample to the recorder: before each render and upkeep.
pub fn fold() {
    let (counters, histograms): (Vec<_>, Vec<_>) = {
        let kept = KEPT.lock().unwrap_or_else(PoisonError::into_inner);
        (
            kept.counters.values().cloned().collect(),
            kept.histograms.values().cloned().collect(),
        )
    };
    counters.iter().for_each(|c| c.fold());
    histograms.iter().for_each(|h| h.fold());
}

#[cfg(test)]
mod tests {
    use super::*;
    use metrics_util::debugging::{DebugValue, DebuggingRecorder};

    #[test]
    fn threads_add_and_take_what_others_added() {
        let count = Arc::new(SpreadCount::default());
        let adders: Vec<_> = (0..4)
            .map(|_| {
                let count = count.clone();
                std::thread::spawn(move || (0..1000).for_each(|_| count.add(1)))
            })
            .collect();
        adders.into_iter().for_each(|t| t.join().unwrap());
        assert_eq!(count.get(), 4000);
        let taker = {
            let count = count.clone();
            std::thread::spawn(move || (0..1500).for_each(|_| count.add(-1)))
        };
        taker.join().unwrap();
        assert_eq!(count.get(), 2500);
        count.add(-2500);
        assert_eq!(count.get(), 0);
    }

    #[test]
    fn counts_and_samples_of_every_thread_reach_the_recorder_at_a_fold() {
        let recorder = DebuggingRecorder::new();
        let snapshotter = recorder.snapshotter();
        metrics::with_local_recorder(&recorder, || {
            let c = counter("spread_test_total", &[("route", "/x")]);
            let h = histogram("spread_test_seconds", &[("route", "/x")]);
            // the same series, wherever its handle is taken
            assert!(Arc::ptr_eq(
                &c,
                &counter("spread_test_total", &[("route", "/x")])
            ));
            let threads: Vec<_> = (0..3)
                .map(|i| {
                    let (c, h) = (c.clone(), h.clone());
                    std::thread::spawn(move || {
                        for _ in 0..100 {
                            c.increment(2);
                            h.record(f64::from(i));
                        }
                    })
                })
                .collect();
            threads.into_iter().for_each(|t| t.join().unwrap());
            c.increment(1);
            fold();
            // folding again adds nothing
            fold();
        });
        let snapshot = snapshotter.snapshot().into_vec();
        let value = |name: &str| {
            snapshot
                .iter()
                .find(|(k, ..)| k.key().name() == name)
                .map(|(.., v)| v)
        };
        assert!(matches!(
            value("spread_test_total"),
            Some(DebugValue::Counter(601))
        ));
        match value("spread_test_seconds") {
            Some(DebugValue::Histogram(samples)) => assert_eq!(samples.len(), 300),
            other => panic!("{other:?}"),
        }
    }
}
