//! The state of each accepted part (the outcome its receipt has or would have) and the source
//! address it was submitted with, kept in a bounded map for query_sm.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use super::config::ReceiptStat;

#[derive(Default)]
struct Inner {
    states: HashMap<u64, (ReceiptStat, String)>,
    order: VecDeque<u64>,
}

/// Message number to its outcome and the source address it was submitted with; at most
/// `capacity`, the oldest forgotten first.
pub struct MessageStates {
    capacity: usize,
    inner: Mutex<Inner>,
}

impl MessageStates {
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            inner: Mutex::new(Inner::default()),
        }
    }

    pub fn insert(&self, n: u64, stat: ReceiptStat, source: String) {
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        while g.order.len() >= self.capacity {
            match g.order.pop_front() {
                Some(old) => {
                    g.states.remove(&old);
                }
                None => break,
            }
        }
        g.states.insert(n, (stat, source));
        g.order.push_back(n);
    }

    pub(crate) fn get(&self, n: u64) -> Option<(ReceiptStat, String)> {
        let g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        g.states.get(&n).cloned()
    }
}
