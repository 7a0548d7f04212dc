//! A message the engine owns from `try_dispatch` until its fate is reported: its parts as
//! prepared for one SMSC, the message ids collected so far, its attempts, and `Work`, the unit
//! that waits in a queue (a whole message, or the parts of it that must be sent again).

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::SystemTime;

use otpgate_codec::pdu::SubmitSm;
use tokio::time::Instant;

use crate::dispatch::OutboundSms;

/// The submit_sm of every part of one message, as prepared for one SMSC.
#[derive(Debug)]
pub struct Prepared {
    pub smsc: usize,
    /// `GSM7` / `UCS2` / ..., for the `otpgate_sms_parts_total{encoding}` label.
    pub encoding: &'static str,
    /// validity_period is left empty: it is written at each send.
    pub parts: Vec<SubmitSm>,
}

#[derive(Debug, Default)]
pub struct MessageState {
    pub finished: bool,
    /// Bumped whenever the message moves to another SMSC: responses and retries of an older
    /// generation are ignored.
    pub generation: u32,
    /// The SMSC the message is assigned to.
    pub smsc: usize,
    pub prepared: Option<Arc<Prepared>>,
    /// Message id of each part of `prepared`, once accepted.
    pub ids: Vec<Option<String>>,
    /// Transient failures and timeouts, in total and on the current SMSC.
    pub attempts: u32,
    pub attempts_here: u32,
    /// When the first part went out (for the submit duration).
    pub first_sent: Option<Instant>,
}

pub struct Message {
    /// Dispatch order: queues are sorted by it, so a retried message goes back ahead of newer
    /// ones.
    pub order: u64,
    pub sms: OutboundSms,
    state: Mutex<MessageState>,
}

impl std::fmt::Debug for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Message")
            .field("order", &self.order)
            .field("otp_id", &self.sms.otp_id)
            .finish_non_exhaustive()
    }
}

impl Message {
    pub fn new(order: u64, sms: OutboundSms, smsc: usize) -> Self {
        Self {
            order,
            sms,
            state: Mutex::new(MessageState {
                smsc,
                ..MessageState::default()
            }),
        }
    }

    /// The state; never held across an await.
    pub fn state(&self) -> MutexGuard<'_, MessageState> {
        // A panic while holding this lock leaves plain data behind; keep using it.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn is_expired(&self, now: SystemTime) -> bool {
        now >= self.sms.expires_at
    }

    /// Marks the message finished; true for the first caller only (who reports its fate).
    pub fn finish(&self) -> bool {
        let mut s = self.state();
        !std::mem::replace(&mut s.finished, true)
    }

    pub fn is_finished(&self) -> bool {
        self.state().finished
    }

    /// Reassigns the message to another SMSC: its parts are prepared again there and whatever
    /// is still in flight at the old one no longer counts.
    pub fn move_to(&self, smsc: usize) {
        let mut s = self.state();
        s.smsc = smsc;
        s.generation = s.generation.wrapping_add(1);
        s.prepared = None;
        s.ids.clear();
        s.attempts_here = 0;
    }
}

/// Which parts a queued `Work` stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PartSel {
    /// Every part, prepared afresh for the SMSC whose queue it is taken from.
    Fresh,
    /// These parts (indices into `prepared.parts`) of this generation.
    Parts { generation: u32, parts: Vec<u16> },
}

/// One entry of a queue.
#[derive(Debug, Clone)]
pub struct Work {
    pub msg: Arc<Message>,
    pub sel: PartSel,
}

impl Work {
    pub fn fresh(msg: Arc<Message>) -> Self {
        Self {
            msg,
            sel: PartSel::Fresh,
        }
    }

    pub fn parts(msg: Arc<Message>, generation: u32, mut parts: Vec<u16>) -> Self {
        parts.sort_unstable();
        parts.dedup();
        Self {
            msg,
            sel: PartSel::Parts { generation, parts },
        }
    }

    /// Folds `other` (same message) into `self` when they can travel together.
    pub fn merge(&mut self, other: Work) -> Result<(), Work> {
        if !Arc::ptr_eq(&self.msg, &other.msg) {
            return Err(other);
        }
        match (&mut self.sel, other.sel) {
            (PartSel::Fresh, _) => Ok(()),
            (sel @ PartSel::Parts { .. }, PartSel::Fresh) => {
                *sel = PartSel::Fresh;
                Ok(())
            }
            (
                PartSel::Parts { generation, parts },
                PartSel::Parts {
                    generation: g2,
                    parts: p2,
                },
            ) if *generation == g2 => {
                parts.extend(p2);
                parts.sort_unstable();
                parts.dedup();
                Ok(())
            }
            (_, sel) => Err(Work {
                msg: other.msg,
                sel,
            }),
        }
    }
}

#[cfg(test)]
pub(crate) fn test_sms(n: u32) -> OutboundSms {
    OutboundSms {
        otp_id: format!("otp-{n}"),
        tenant: "t".into(),
        destination: "+441234567890".into(),
        sender: "Verify".into(),
        text: "Your code is 123456".into(),
        expires_at: SystemTime::now() + std::time::Duration::from_secs(600),
        tlv_values: Default::default(),
        smscs: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finish_reports_once() {
        let m = Message::new(1, test_sms(1), 0);
        assert!(m.finish());
        assert!(!m.finish());
    }

    #[test]
    fn parts_of_one_generation_merge_in_order() {
        let m = Arc::new(Message::new(1, test_sms(1), 0));
        let mut a = Work::parts(m.clone(), 3, vec![2]);
        a.merge(Work::parts(m.clone(), 3, vec![0, 2])).unwrap();
        assert_eq!(
            a.sel,
            PartSel::Parts {
                generation: 3,
                parts: vec![0, 2]
            }
        );
        assert!(a.merge(Work::parts(m.clone(), 4, vec![1])).is_err());
        a.merge(Work::fresh(m.clone())).unwrap();
        assert_eq!(a.sel, PartSel::Fresh);
        let other = Arc::new(Message::new(2, test_sms(2), 0));
        assert!(a.merge(Work::fresh(other)).is_err());
    }

    #[test]
    fn moving_bumps_the_generation() {
        let m = Message::new(1, test_sms(1), 0);
        m.state().ids = vec![Some("a".into())];
        m.move_to(1);
        let s = m.state();
        assert_eq!((s.smsc, s.generation, s.ids.len()), (1, 1, 0));
    }
}
