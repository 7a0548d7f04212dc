//! What a session sends: the next message (or the parts of one still to send) taken from
//! its SMSC's queue and prepared for it, then each part as a submit_sm with its validity
//! period written at the moment it goes, a window permit and a throttle token spent.

use std::sync::Arc;

use otpgate_codec::pdu::{Body, Pdu};
use tokio::time::Instant;

use super::address::validity_period;
use super::message::PartSel;
use super::session::{Current, PartsLeft, Session, SessionEnd};
use super::submit::prepare;
use super::window::Pending;

impl Session {
    /// The next message (or parts of one) from the queue that still needs sending here.
    pub(super) fn take_work(&mut self, now: Instant) -> Option<Current> {
        let me = self.smsc.index;
        while let Some(work) = self.smsc.queue.pop() {
            let msg = work.msg;
            if msg.is_expired(self.shared.wall.at(now)) {
                self.shared
                    .report_failed(&msg, "expired before it could be sent");
                continue;
            }
            let mut st = msg.state();
            if st.finished {
                continue;
            }
            if st.smsc != me {
                // Moved elsewhere while queued here.
                continue;
            }
            let fresh = matches!(work.sel, PartSel::Fresh)
                || st.prepared.as_ref().is_none_or(|p| p.smsc != me);
            if fresh {
                let reference = self.shared.references.next(&msg.sms.destination);
                match prepare(&msg.sms, &self.smsc.cfg, me, reference) {
                    Ok(p) => {
                        self.metrics.sms_parts(p.encoding, p.parts.len());
                        st.generation = st.generation.wrapping_add(1);
                        st.ids = vec![None; p.parts.len()];
                        st.prepared = Some(Arc::new(p));
                    }
                    Err(e) => {
                        drop(st);
                        self.shared.report_failed(&msg, &e.to_string());
                        continue;
                    }
                }
            }
            let Some(prepared) = st.prepared.clone() else {
                continue;
            };
            let remaining = match &work.sel {
                PartSel::Parts { generation, parts } if !fresh => {
                    if *generation != st.generation {
                        continue;
                    }
                    let open = |i: &u16| st.ids.get(usize::from(*i)).is_some_and(Option::is_none);
                    PartsLeft::Listed(parts.iter().copied().filter(open).collect())
                }
                // prepared just now: every part is still to send
                _ => PartsLeft::All(0..u16::try_from(st.ids.len()).unwrap_or(u16::MAX)),
            };
            if remaining.is_empty() {
                continue;
            }
            st.first_sent.get_or_insert(now);
            let generation = st.generation;
            drop(st);
            return Some(Current {
                msg,
                generation,
                prepared,
                remaining,
            });
        }
        None
    }

    pub(super) async fn send_next_part(&mut self, now: Instant) -> Result<(), SessionEnd> {
        let Some(cur) = self.current.as_mut() else {
            return Ok(());
        };
        let Some(part) = cur.remaining.pop_front() else {
            self.current = None;
            return Ok(());
        };
        let msg = cur.msg.clone();
        let generation = cur.generation;
        let template = cur.prepared.parts.get(usize::from(part)).cloned();
        if cur.remaining.is_empty() {
            self.current = None;
        }
        let Some(mut sm) = template else {
            return Ok(());
        };
        let Some(validity) = validity_period(
            self.smsc.cfg.validity,
            msg.sms.expires_at,
            self.shared.wall.at(now),
        ) else {
            self.shared
                .report_failed(&msg, "expired before it could be sent");
            self.current = None;
            return Ok(());
        };
        sm.validity_period = validity.as_str().into();
        let Some(permit) = self.permit.take() else {
            return Ok(());
        };
        let sequence = self.seq.next_sequence();
        self.throttle.take(now);
        self.window.insert(
            sequence,
            Pending {
                msg,
                generation,
                part,
                sent_at: now,
                deadline: now + self.response_timeout,
                permit,
            },
        );
        self.metrics.window_in_use(self.window.in_use());
        if let Some(c) = &self.cell {
            c.publish_rate(self.throttle.rate());
        }
        self.link
            .feed(Pdu::new(sequence, Body::SubmitSm(sm)))
            .await?;
        Ok(())
    }
}
