//! How a session answers each command: binds with credential checks, submit_sm through window,
//! TPS and error injection to submit_sm_resp (and a scheduled receipt), query_sm (in `query`),
//! the rest.

use std::sync::atomic::Ordering::Relaxed;

use futures::SinkExt;
use otpgate_codec::framing::Frame;
use otpgate_codec::pdu::{
    Bind, BindResp, Body, COctetString, CommandStatus, Pdu, SubmitSm, SubmitSmResp, Tlv,
    SMPP_VERSION_34,
};
use rand::Rng;
use tokio::time::Instant;

use std::time::Duration;

use otpgate_codec::pdu::DeliverSm;

use super::config::{MessageIdFormat, QuerySmMode, ReceiptStat};
use super::counters::Counters;
use super::ids::{decimal_id, hex_id, receipt_date_now};
use super::messages::{Part, ReceivedTlv};
use super::receipts;
use super::session::{BindKind, Delayed, Flow, Session};
use super::state::{Outbound, ScheduledReceipt};

/// How long a transmitter's answer waits behind a receipt handed to a receiver session.
const ANSWER_AFTER_RECEIPT: Duration = Duration::from_millis(20);
use super::text::decode_part;

/// The TLVs an operator adds (vendor tags and the others the codec keeps raw), value in hex.
fn operator_tlvs(sm: &SubmitSm) -> Vec<ReceivedTlv> {
    sm.tlvs
        .iter()
        .filter_map(|t| match t {
            Tlv::Other { tag, value } => Some(ReceivedTlv {
                tag: *tag,
                value: hex::encode(value),
            }),
            _ => None,
        })
        .collect()
}

fn answer(sequence_number: u32, status: CommandStatus, body: Body) -> Pdu {
    Pdu {
        command_status: status,
        sequence_number,
        body,
    }
}

impl Session {
    /// Handles one frame; answers are fed, not flushed.
    pub(super) async fn on_frame(&mut self, frame: Frame) -> Flow {
        self.pdus += 1;
        self.refresh();
        if self.bound.is_some() {
            if let Some(n) = self.behaviour.disconnect_after_pdus {
                if self.pdus >= n {
                    Counters::inc(&self.shared.counters.disconnects_injected);
                    return Flow::Drop;
                }
            }
        }
        if let (Some(capture), Frame::Pdu(pdu)) = (&self.shared.capture, &frame) {
            let system_id = self.account.as_ref().map(|a| a.system_id.as_str());
            capture.pdu(self.id, system_id, pdu).await;
        }
        if self.shared.hang.load(Relaxed) {
            Counters::inc(&self.shared.counters.hung_pdus);
            return Flow::Continue;
        }
        let pdu = match frame {
            Frame::Pdu(pdu) => pdu,
            Frame::Invalid(invalid) => {
                Counters::inc(&self.shared.counters.generic_nacks);
                return self.write(invalid.generic_nack()).await;
            }
        };
        let seq = pdu.sequence_number;
        match pdu.body {
            Body::BindTransmitter(b) => self.bind(seq, BindKind::Transmitter, b).await,
            Body::BindReceiver(b) => self.bind(seq, BindKind::Receiver, b).await,
            Body::BindTransceiver(b) => self.bind(seq, BindKind::Transceiver, b).await,
            Body::SubmitSm(sm) => self.submit(seq, sm).await,
            Body::QuerySm(q) => self.query(seq, q).await,
            Body::EnquireLink => {
                Counters::inc(&self.shared.counters.enquire_links);
                self.write(Pdu::new(seq, Body::EnquireLinkResp)).await
            }
            Body::Unbind => {
                Counters::inc(&self.shared.counters.unbinds);
                let flow = self.write(Pdu::new(seq, Body::UnbindResp)).await;
                if flow == Flow::Continue {
                    Flow::Close
                } else {
                    flow
                }
            }
            Body::DeliverSmResp(_) => {
                Counters::inc(&self.shared.counters.receipts_acked);
                Flow::Continue
            }
            Body::EnquireLinkResp | Body::GenericNack | Body::UnbindResp => Flow::Continue,
            _ => {
                Counters::inc(&self.shared.counters.generic_nacks);
                let nack = answer(seq, CommandStatus::ESME_RINVCMDID, Body::GenericNack);
                self.write(nack).await
            }
        }
    }

    pub(super) async fn write(&mut self, pdu: Pdu) -> Flow {
        match self.framed.feed(pdu).await {
            Ok(()) => Flow::Continue,
            Err(_) => Flow::Drop,
        }
    }

    async fn bind(&mut self, seq: u32, kind: BindKind, bind: Bind) -> Flow {
        let status = self.check_bind(kind, &bind);
        let body = BindResp {
            system_id: COctetString::from(self.shared.config.system_id.as_str()),
            tlvs: vec![Tlv::ScInterfaceVersion(SMPP_VERSION_34)],
        };
        let body = match kind {
            BindKind::Transmitter => Body::BindTransmitterResp(body),
            BindKind::Receiver => Body::BindReceiverResp(body),
            BindKind::Transceiver => Body::BindTransceiverResp(body),
        };
        if !status.is_ok() {
            Counters::inc(&self.shared.counters.bind_failures);
            tracing::debug!(session = self.id, system_id = %bind.system_id, %status, "bind refused");
        }
        self.write(answer(seq, status, body)).await
    }

    fn check_bind(&mut self, kind: BindKind, bind: &Bind) -> CommandStatus {
        if self.bound.is_some() {
            return CommandStatus::ESME_RALYBND;
        }
        let system_id = bind.system_id.to_str_lossy();
        let Some(account) = self.shared.account(&system_id) else {
            return CommandStatus::ESME_RINVSYSID;
        };
        if account.password.as_bytes() != bind.password.as_bytes() {
            return CommandStatus::ESME_RINVPASWD;
        }
        {
            let mut counts = self
                .shared
                .bind_counts
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            let n = counts.entry(account.system_id.clone()).or_default();
            if account.max_binds.is_some_and(|max| *n >= max) {
                return CommandStatus::ESME_RBINDFAIL;
            }
            *n += 1;
        }
        let c = &self.shared.counters;
        Counters::inc(match kind {
            BindKind::Transmitter => &c.binds_transmitter,
            BindKind::Receiver => &c.binds_receiver,
            BindKind::Transceiver => &c.binds_transceiver,
        });
        if kind.can_receive() {
            self.shared
                .registry
                .add(&account.system_id, self.id, self.outbound_tx.clone());
        }
        let now = Instant::now();
        self.behaviour = account.behaviour.clone();
        self.disconnect_at = self.behaviour.disconnect_every.map(|d| now + d);
        self.enquire_at = self.shared.config.enquire_interval.map(|d| now + d);
        self.account = Some(account);
        self.bound = Some(kind);
        tracing::debug!(session = self.id, %system_id, ?kind, "bound");
        CommandStatus::ESME_ROK
    }

    async fn submit(&mut self, seq: u32, sm: SubmitSm) -> Flow {
        let c = &self.shared.counters;
        Counters::inc(&c.submit_sm);
        let refuse = |status| answer(seq, status, Body::SubmitSmResp(SubmitSmResp::default()));
        let account = match (&self.bound, &self.account) {
            (Some(kind), Some(account)) if kind.can_submit() => account.clone(),
            _ => {
                Counters::inc(&c.invalid_bind_state);
                return self.write(refuse(CommandStatus::ESME_RINVBNDSTS)).await;
            }
        };
        let b = self.behaviour.clone();
        if b.window.is_some_and(|w| self.outstanding >= w) {
            Counters::inc(&c.window_violations);
            return self.write(refuse(CommandStatus::ESME_RMSGQFUL)).await;
        }
        if !account.take_token() {
            Counters::inc(&c.throttled);
            return self.write(refuse(CommandStatus::ESME_RTHROTTLED)).await;
        }
        if b.error_rate > 0.0 && self.rng.random::<f64>() < b.error_rate {
            Counters::inc(&c.errors_injected);
            let pdu = refuse(CommandStatus(b.error_status));
            return self.respond(pdu, true).await;
        }
        let n = self.shared.ids.next();
        let message_id = match b.message_id {
            MessageIdFormat::Decimal => decimal_id(n),
            MessageIdFormat::Hex | MessageIdFormat::Mixed => hex_id(n),
        };
        Counters::inc(&c.parts);
        let mut answer_later = false;
        let receipt = b.receipts.enabled && sm.registered_delivery & 0x03 != 0;
        let answers_queries = b.query_sm == QuerySmMode::Answer;
        // One outcome per part: its receipt's and its query_sm answer's.
        let stat = (receipt || answers_queries).then(|| b.receipts.mix.sample(&mut self.rng));
        if let (Some(stat), true) = (stat, answers_queries) {
            let source = sm.source.addr.to_str_lossy().into_owned();
            self.shared.states.insert(n, stat, source);
        }
        if let (Some(stat), true) = (stat, receipt) {
            if receipts::wanted(sm.registered_delivery, stat) {
                let mut stats = Vec::with_capacity(3);
                let final_stat = !matches!(stat, ReceiptStat::ENROUTE | ReceiptStat::ACCEPTD);
                if b.receipts.intermediate && final_stat {
                    stats.extend([ReceiptStat::ENROUTE, ReceiptStat::ACCEPTD]);
                }
                stats.push(stat);
                let date = receipt_date_now();
                let delivers: Vec<DeliverSm> = stats
                    .into_iter()
                    .map(|s| receipts::build(&sm, n, s, b.message_id, b.receipts.carrier, &date))
                    .collect();
                if b.receipts.before_response {
                    match self.receipts_now(&account.system_id, delivers).await {
                        Ok(elsewhere) => answer_later = elsewhere,
                        Err(flow) => return flow,
                    }
                } else {
                    let delay =
                        b.latency.sample(&mut self.rng) + b.receipts.delay.sample(&mut self.rng);
                    // one due time: the scheduler keeps their order
                    for deliver in delivers {
                        let r = ScheduledReceipt {
                            due: Instant::now() + delay,
                            system_id: account.system_id.clone(),
                            deliver,
                        };
                        let _ = self.shared.receipts.send(r).await;
                    }
                }
            }
        }
        if self.shared.config.record_messages {
            self.record(&account.system_id, &sm, &message_id).await;
        }
        let resp = answer(
            seq,
            CommandStatus::ESME_ROK,
            Body::SubmitSmResp(SubmitSmResp {
                message_id: COctetString::from_bytes(message_id),
            }),
        );
        if answer_later {
            return self.respond_after(resp, ANSWER_AFTER_RECEIPT);
        }
        self.respond(resp, true).await
    }

    /// Sends receipts before the submit_sm_resp: on this session when it can receive (true
    /// order on the wire), else handed to a receiving session of the account now (and
    /// `Ok(true)`: the answer then waits a moment, so that the receipt most likely leads).
    async fn receipts_now(
        &mut self,
        system_id: &str,
        delivers: Vec<DeliverSm>,
    ) -> Result<bool, Flow> {
        if self.bound.is_some_and(|k| k.can_receive()) {
            for d in delivers {
                let seq = self.next_sequence();
                if self.write(Pdu::new(seq, Body::DeliverSm(d))).await == Flow::Drop {
                    return Err(Flow::Drop);
                }
                Counters::inc(&self.shared.counters.receipts_sent);
            }
            return Ok(false);
        }
        for d in delivers {
            if let Err(Outbound::Receipt(d)) = self
                .shared
                .registry
                .offer(system_id, Outbound::Receipt(Box::new(d)))
            {
                // no receiver can take it now: the scheduler offers it again
                let r = ScheduledReceipt {
                    due: Instant::now(),
                    system_id: system_id.to_owned(),
                    deliver: *d,
                };
                let _ = self.shared.receipts.send(r).await;
            }
        }
        Ok(true)
    }

    /// Answers after `delay`, whatever the configured latency.
    fn respond_after(&mut self, pdu: Pdu, delay: Duration) -> Flow {
        self.delayed_order += 1;
        self.outstanding += 1;
        self.delayed.push(Delayed {
            due: Instant::now() + delay,
            order: self.delayed_order,
            is_submit: true,
            pdu,
        });
        Flow::Continue
    }

    /// Reassembles the part into the message log.
    async fn record(&self, system_id: &str, sm: &SubmitSm, message_id: &[u8]) {
        let part = Part {
            system_id: system_id.to_owned(),
            source: sm.source.addr.to_str_lossy().into_owned(),
            source_ton: sm.source.ton,
            source_npi: sm.source.npi,
            tlvs: operator_tlvs(sm),
            destination: sm.destination.addr.to_str_lossy().into_owned(),
            destination_ton: sm.destination.ton,
            data_coding: sm.data_coding,
            message_id: String::from_utf8_lossy(message_id).into_owned(),
            text: decode_part(sm),
        };
        if let Some(msg) = self.shared.messages.add_part(part) {
            let c = &self.shared.counters;
            Counters::inc(&c.messages);
            if msg.duplicate {
                Counters::inc(&c.duplicates);
            }
            if let Some(capture) = &self.shared.capture {
                capture.message(&msg).await;
            }
        }
    }

    /// Answers now, or after the configured latency.
    async fn respond(&mut self, pdu: Pdu, is_submit: bool) -> Flow {
        if self.behaviour.latency.is_none() {
            return self.write(pdu).await;
        }
        let delay = self.behaviour.latency.sample(&mut self.rng);
        self.delayed_order += 1;
        if is_submit {
            self.outstanding += 1;
        }
        self.delayed.push(Delayed {
            due: Instant::now() + delay,
            order: self.delayed_order,
            is_submit,
            pdu,
        });
        Flow::Continue
    }
}
