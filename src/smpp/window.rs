//! The window of one bind: a `Semaphore` of W permits, each travelling with a pending
//! submit_sm until its response or its timeout; the pending requests by sequence number, with
//! their deadlines in sending order; and the session's sequence numbers (1..=0x7FFFFFFF,
//! wrapping).

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use tokio::time::Instant;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::message::Message;

const MAX_SEQUENCE: u32 = 0x7FFF_FFFF;

/// Sequence numbers of one session: 1, 2, ... 0x7FFFFFFF, then 1 again.
#[derive(Debug)]
pub struct Sequencer {
    next: u32,
}

impl Default for Sequencer {
    fn default() -> Self {
        Self { next: 1 }
    }
}

impl Sequencer {
    #[cfg(test)]
    pub fn starting_at(next: u32) -> Self {
        Self {
            next: next.clamp(1, MAX_SEQUENCE),
        }
    }
    pub fn next_sequence(&mut self) -> u32 {
        let s = self.next;
        self.next = if s >= MAX_SEQUENCE { 1 } else { s + 1 };
        s
    }
}

/// One submit_sm waiting for its response.
#[derive(Debug)]
pub struct Pending {
    pub msg: Arc<Message>,
    pub generation: u32,
    pub part: u16,
    pub sent_at: Instant,
    pub deadline: Instant,
    /// Returned to the window when this is dropped.
    pub permit: OwnedSemaphorePermit,
}

#[derive(Debug)]
pub struct Window {
    semaphore: Arc<Semaphore>,
    size: usize,
    /// By foldhash: the keys are sequence numbers this session chose (a response to another
    /// is only looked up), so a keyed hash buys nothing on the path of every submit_sm.
    pending: HashMap<u32, Pending, foldhash::fast::RandomState>,
    deadlines: VecDeque<(Instant, u32)>,
}

impl Window {
    /// `size` as validated with the settings (1 to 10000).
    pub fn new(size: usize) -> Self {
        Self {
            semaphore: Arc::new(Semaphore::new(size)),
            size,
            pending: HashMap::with_capacity_and_hasher(size, Default::default()),
            deadlines: VecDeque::with_capacity(size),
        }
    }

    pub fn semaphore(&self) -> Arc<Semaphore> {
        self.semaphore.clone()
    }

    pub fn size(&self) -> usize {
        self.size
    }

    /// Permits taken: pending requests plus any permit held for the next send.
    pub fn in_use(&self) -> usize {
        self.size.saturating_sub(self.semaphore.available_permits())
    }

    pub fn pending_len(&self) -> usize {
        self.pending.len()
    }

    pub fn is_pending(&self, sequence: u32) -> bool {
        self.pending.contains_key(&sequence)
    }

    pub fn insert(&mut self, sequence: u32, p: Pending) {
        self.deadlines.push_back((p.deadline, sequence));
        self.pending.insert(sequence, p);
    }

    /// The response to `sequence` came: its request, if it was pending.
    pub fn complete(&mut self, sequence: u32) -> Option<Pending> {
        let p = self.pending.remove(&sequence)?;
        // Keep the deadline list short: drop answered entries from its front.
        while let Some((_, s)) = self.deadlines.front() {
            if self.pending.contains_key(s) {
                break;
            }
            self.deadlines.pop_front();
        }
        Some(p)
    }

    /// The earliest deadline of a pending request.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.deadlines
            .iter()
            .find(|(_, s)| self.pending.contains_key(s))
            .map(|(d, _)| *d)
    }

    /// Requests whose deadline passed, oldest first.
    pub fn take_expired(&mut self, now: Instant) -> Vec<(u32, Pending)> {
        let mut out = Vec::new();
        while let Some(&(deadline, seq)) = self.deadlines.front() {
            if deadline > now {
                if self.pending.contains_key(&seq) {
                    break;
                }
                self.deadlines.pop_front();
                continue;
            }
            self.deadlines.pop_front();
            if let Some(p) = self.pending.remove(&seq) {
                out.push((seq, p));
            }
        }
        out
    }

    /// Everything pending, in sending order.
    pub fn drain(&mut self) -> Vec<Pending> {
        let mut out = Vec::with_capacity(self.pending.len());
        for (_, seq) in self.deadlines.drain(..) {
            if let Some(p) = self.pending.remove(&seq) {
                out.push(p);
            }
        }
        out.extend(self.pending.drain().map(|(_, p)| p));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::smpp::message::test_sms;
    use std::time::Duration;

    #[test]
    fn sequence_numbers_wrap_to_one() {
        let mut s = Sequencer::starting_at(MAX_SEQUENCE - 1);
        assert_eq!(s.next_sequence(), MAX_SEQUENCE - 1);
        assert_eq!(s.next_sequence(), MAX_SEQUENCE);
        assert_eq!(s.next_sequence(), 1);
        assert_eq!(Sequencer::starting_at(0).next_sequence(), 1);
    }

    #[test]
    fn permits_travel_with_pending_requests() {
        let mut w = Window::new(2);
        let msg = Arc::new(Message::new(1, test_sms(1), 0));
        let now = Instant::now();
        let send = |w: &mut Window, seq, after_ms| {
            let permit = w.semaphore().try_acquire_owned().ok()?;
            w.insert(
                seq,
                Pending {
                    msg: msg.clone(),
                    generation: 0,
                    part: 0,
                    sent_at: now,
                    deadline: now + Duration::from_millis(after_ms),
                    permit,
                },
            );
            Some(())
        };
        assert!(send(&mut w, 1, 100).is_some());
        assert!(send(&mut w, 2, 200).is_some());
        assert!(send(&mut w, 3, 300).is_none(), "window of 2 exceeded");
        assert_eq!(w.in_use(), 2);
        assert!(w.complete(2).is_some());
        assert!(w.complete(2).is_none());
        assert_eq!(w.in_use(), 1);
        assert_eq!(w.next_deadline(), Some(now + Duration::from_millis(100)));
        assert!(send(&mut w, 4, 400).is_some());
        let expired = w.take_expired(now + Duration::from_millis(150));
        assert_eq!(expired.iter().map(|(s, _)| *s).collect::<Vec<_>>(), vec![1]);
        drop(expired);
        assert_eq!(w.in_use(), 1);
        assert_eq!(w.drain().len(), 1);
        assert_eq!(w.in_use(), 0);
    }
}
