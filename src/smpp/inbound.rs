//! What a session does with each PDU from the SMSC: submit_sm_resp and generic_nack matched to
//! the window (or to a query_sm: see `query`), enquire_link answered, deliver_sm answered once
//! its receipt is recorded, unbind answered, malformed PDUs answered with generic_nack.

use otpgate_codec::framing::Frame;
use otpgate_codec::pdu::{Body, CommandStatus, DeliverSm, DeliverSmResp, Pdu};

use super::config::ms;
use super::metrics;
use super::receipts::receipt_update;
use super::session::{Session, SessionEnd};
use super::status::{classify, StatusClass};
use super::window::Pending;
use crate::dispatch::NotRecorded;

/// Receipt answers written together at most.
const MAX_ANSWERS_AT_ONCE: usize = 64;

impl Session {
    pub(super) async fn on_frame(&mut self, frame: Frame) -> Result<(), SessionEnd> {
        let pdu = match frame {
            Frame::Pdu(pdu) => pdu,
            Frame::Invalid(invalid) => {
                tracing::warn!(
                    smsc = self.name(),
                    bind = %self.label,
                    command_id = format_args!("0x{:08X}", invalid.command_id),
                    error = %invalid.error,
                    "malformed PDU from the SMSC"
                );
                self.link.send(invalid.generic_nack()).await?;
                return Ok(());
            }
        };
        let seq = pdu.sequence_number;
        match pdu.body {
            Body::SubmitSmResp(resp) => {
                let id = resp.message_id.to_str_lossy().into_owned();
                self.on_submit_resp(seq, pdu.command_status, id);
            }
            Body::GenericNack => {
                if self.window.is_pending(seq) {
                    let status = if pdu.command_status.is_ok() {
                        CommandStatus::ESME_RUNKNOWNERR
                    } else {
                        pdu.command_status
                    };
                    self.on_submit_resp(seq, status, String::new());
                } else if self.enquire.is_some_and(|(s, _)| s == seq) {
                    // The SMSC answered, if not the way it should: the link is alive.
                    self.enquire = None;
                } else if !self.on_query_nack(seq) {
                    tracing::warn!(smsc = self.name(), bind = %self.label, status = %pdu.command_status, "generic_nack");
                }
            }
            // Answers are fed, not flushed: the session flushes once before it waits again, so
            // a burst of receipts is acknowledged in one write.
            Body::EnquireLink => {
                self.link.feed(Pdu::new(seq, Body::EnquireLinkResp)).await?;
            }
            Body::QuerySmResp(r) => self.on_query_resp(seq, pdu.command_status, r).await,
            Body::EnquireLinkResp => {
                if self.enquire.is_some_and(|(s, _)| s == seq) {
                    self.enquire = None;
                }
            }
            Body::DeliverSm(sm) => {
                let resp = Body::DeliverSmResp(DeliverSmResp::default());
                self.take_receipt(seq, sm, resp).await?;
            }
            Body::DataSm(d) => {
                // Some SMSCs carry receipts in data_sm (TLVs only): same handling.
                let as_deliver = DeliverSm {
                    service_type: d.service_type,
                    source: d.source,
                    destination: d.destination,
                    esm_class: d.esm_class,
                    registered_delivery: d.registered_delivery,
                    data_coding: d.data_coding,
                    tlvs: d.tlvs,
                    ..DeliverSm::default()
                };
                let resp = Body::DataSmResp(Default::default());
                self.take_receipt(seq, as_deliver, resp).await?;
            }
            Body::Unbind => {
                tracing::info!(smsc = self.name(), bind = %self.label, "SMSC unbinds");
                let _ = self.link.send(Pdu::new(seq, Body::UnbindResp)).await;
                return Err(SessionEnd::Lost(
                    "smsc_unbind",
                    "unbind from the SMSC".into(),
                ));
            }
            Body::AlertNotification(_) | Body::UnbindResp => {}
            body if body.is_response() => {
                tracing::debug!(smsc = self.name(), bind = %self.label, command_id = body.command_id(), "unexpected response");
            }
            _ => {
                let nack = Pdu {
                    command_status: CommandStatus::ESME_RINVCMDID,
                    sequence_number: seq,
                    body: Body::GenericNack,
                };
                self.link.send(nack).await?;
            }
        }
        Ok(())
    }

    /// Recorded first, acknowledged after: a receipt is never lost to a crash between the
    /// two. An in-process store records it here and the answer joins the bind's next write;
    /// a shared one records it while the bind reads further PDUs (see `receipts_in_flight`).
    async fn take_receipt(
        &mut self,
        seq: u32,
        sm: DeliverSm,
        resp: Body,
    ) -> Result<(), SessionEnd> {
        let received = self.last_rx;
        let Some(update) =
            receipt_update(&self.shared, &self.smsc, &mut self.metrics, &sm, received)
        else {
            return self
                .link
                .feed(answer(seq, CommandStatus::ESME_ROK, resp))
                .await
                .map_err(Into::into);
        };
        let update = match self.shared.sink.record_now(update) {
            Ok(recorded) => {
                let status = answer_status(recorded, self.name(), &self.label);
                self.link.feed(answer(seq, status, resp)).await?;
                return Ok(());
            }
            Err(update) => update,
        };
        let (shared, smsc, label) = (self.shared.clone(), self.smsc.clone(), self.label.clone());
        let pending = Box::pin(async move {
            let recorded = shared.sink.record(update).await;
            answer(seq, answer_status(recorded, &smsc.cfg.name, &label), resp)
        });
        match self.receipts.start(pending) {
            Some(pdu) => self.link.feed(pdu).await?,
            None => metrics::receipts_in_flight(self.name(), &self.label, self.receipts.len()),
        }
        Ok(())
    }

    /// Answers a receipt recorded (or given up) while the bind read on, with the others
    /// recorded by now: in one write.
    pub(super) async fn answer_receipts(&mut self, first: Pdu) -> Result<(), SessionEnd> {
        self.link.feed(first).await?;
        for _ in 1..MAX_ANSWERS_AT_ONCE {
            let Some(pdu) = self.receipts.ready_answer() else {
                break;
            };
            self.link.feed(pdu).await?;
        }
        self.link.flush().await?;
        metrics::receipts_in_flight(self.name(), &self.label, self.receipts.len());
        Ok(())
    }

    fn on_submit_resp(&mut self, seq: u32, status: CommandStatus, message_id: String) {
        let Some(p) = self.window.complete(seq) else {
            tracing::debug!(smsc = self.name(), bind = %self.label, seq, "response to no pending submit_sm");
            if status.is_ok() {
                // a late answer to a copy that timed out and was sent again: the SMSC took it
                metrics::parts_not_charged(self.name(), 1);
            }
            return;
        };
        // when the bind read this response (its batch): a read of the clock fewer per answer
        let now = self.last_rx;
        let Pending {
            msg,
            generation,
            part,
            sent_at,
            permit,
            ..
        } = p;
        drop(permit);
        self.consecutive_timeouts = 0;
        // the SMSC's Arc, not a copy of its name: no allocation per response
        let smsc = self.smsc.clone();
        let name = smsc.cfg.name.as_str();
        let took = now.saturating_duration_since(sent_at).as_secs_f64();
        self.metrics.submit(status, took);
        self.metrics.window_in_use(self.window.in_use());
        let me = self.smsc.index;
        let settings = &self.shared.settings;
        match classify(status) {
            StatusClass::Ok => {
                self.throttle.accepted(now);
                let (done, source) = {
                    let mut st = msg.state();
                    let duplicate = st.finished
                        || st.generation != generation
                        || st.ids.get(usize::from(part)).is_some_and(|id| id.is_some());
                    if duplicate {
                        // a copy of a part already accepted (or of a send given up): not charged
                        drop(st);
                        metrics::parts_not_charged(name, 1);
                        return;
                    }
                    if let Some(slot) = st.ids.get_mut(usize::from(part)) {
                        *slot = Some(message_id.clone());
                    }
                    let source = st
                        .prepared
                        .as_ref()
                        .and_then(|p| p.parts.get(usize::from(part)).map(|sm| sm.source.clone()));
                    let done = if st.ids.iter().all(|i| i.is_some()) {
                        Some(st.ids.iter().flatten().cloned().collect::<Vec<_>>())
                    } else {
                        None
                    };
                    (done, source)
                };
                self.shared.receipt_clock.record(&message_id, me, now);
                if let Some(source) = source {
                    let dropped = self.smsc.watch.record(&message_id, &source, now);
                    if dropped > 0 {
                        metrics::receipt_watch_dropped(name, dropped);
                    }
                }
                if let Some(ids) = done {
                    self.shared.report_submitted(&msg, me, ids);
                }
            }
            StatusClass::Throttled | StatusClass::QueueFull => {
                let throttled = classify(status) == StatusClass::Throttled;
                let pause = if throttled {
                    metrics::throttled(name);
                    metrics::retry(name, "throttled");
                    self.throttle.decrease(now);
                    ms(settings.throttle_pause_ms)
                } else {
                    metrics::queue_full(name);
                    metrics::retry(name, "queue_full");
                    ms(settings.queue_full_pause_ms)
                };
                let until = now + pause;
                if self.paused_until.is_none_or(|p| p < until) {
                    if self.paused_until.is_none() {
                        tracing::info!(smsc = %name, bind = %self.label, %status, pause = ?pause, "bind paused");
                    }
                    self.paused_until = Some(until);
                    // Whatever this bind was about to send waits behind the paused message,
                    // in dispatch order.
                    self.return_current();
                    if let Some(slot) = self.slot {
                        self.smsc.health.pause(slot, until);
                    }
                }
                if !msg.is_finished() && msg.state().generation == generation {
                    self.smsc
                        .queue
                        .push(super::message::Work::parts(msg, generation, vec![part]));
                }
            }
            StatusClass::Transient => {
                tracing::warn!(smsc = %name, bind = %self.label, %status, "transient submit error");
                self.shared.retry_later(
                    msg,
                    generation,
                    part,
                    me,
                    "transient",
                    &status.to_string(),
                );
            }
            StatusClass::Permanent => {
                if msg.state().generation == generation {
                    self.shared.report_rejected(&msg, me, status);
                }
            }
        }
    }
}

/// The command_status answering a receipt: ESME_ROK once recorded, ESME_RX_T_APPN (the SMSC
/// delivers it again later) when the sink gave it up.
fn answer_status(recorded: Result<(), NotRecorded>, smsc: &str, bind: &str) -> CommandStatus {
    match recorded {
        Ok(()) => CommandStatus::ESME_ROK,
        Err(NotRecorded) => {
            metrics::receipt_deferred(smsc);
            // The receipt's text stays out of the log: it may carry the message.
            tracing::warn!(
                smsc,
                bind,
                "receipt not recorded: answered ESME_RX_T_APPN for the SMSC to deliver it again"
            );
            CommandStatus::ESME_RX_T_APPN
        }
    }
}

fn answer(sequence_number: u32, command_status: CommandStatus, body: Body) -> Pdu {
    Pdu {
        command_status,
        sequence_number,
        body,
    }
}
