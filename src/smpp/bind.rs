//! One bind's life: connect, bind (bind_transceiver / bind_transmitter / bind_receiver,
//! interface_version 0x34), run the session, and on any loss reconnect with exponential
//! backoff and full jitter (longer after a refusal for bad credentials), until shutdown.

use std::time::Duration;

use otpgate_codec::framing::Frame;
use otpgate_codec::pdu::{Bind, Body, CommandStatus, Pdu, SMPP_VERSION_34};
use tokio::time::Instant;

use super::backoff::Backoff;
use super::bind_task::BindTask;
use super::config::ms;
use super::control::BindState;
use super::metrics;
use super::session::{Session, SessionEnd};
use super::transport::{Link, LinkError};
use super::window::Sequencer;

#[derive(Debug, thiserror::Error)]
pub enum BindError {
    #[error(transparent)]
    Link(#[from] LinkError),
    #[error("bind refused for its credentials: {0}")]
    Credentials(CommandStatus),
    #[error("bind refused: {0}")]
    Refused(CommandStatus),
    #[error("no bind response within {0:?}")]
    Timeout(Duration),
}

impl BindError {
    pub fn reason(&self) -> &'static str {
        match self {
            BindError::Link(e) => e.reason(),
            BindError::Credentials(_) => "credentials",
            BindError::Refused(_) => "refused",
            BindError::Timeout(_) => "bind_timeout",
        }
    }
}

impl BindTask {
    pub async fn run(self) {
        let s = &self.shared.settings;
        let mut backoff = Backoff::new(ms(s.reconnect_min_ms), ms(s.reconnect_max_ms));
        let mut auth_backoff = Backoff::new(ms(s.auth_failure_min_ms), ms(s.auth_failure_max_ms));
        let name = self.smsc.cfg.name.as_str();
        metrics::bind_up(name, &self.label, false);
        if self.role.submits() {
            // an empty window of the configured size until the first bind: panels see 0
            metrics::window(name, &self.label, 0, self.smsc.cfg.window);
        }
        let cell = self.cell();
        let publish = |state: BindState| {
            if let Some(c) = &cell {
                c.set_state(state);
            }
        };
        let mut first = true;
        while !self.drain.is_cancelled() {
            if !self.wait_while_stopped().await {
                break;
            }
            if !std::mem::take(&mut first) {
                metrics::reconnect(name);
            }
            publish(BindState::Binding);
            let mut stopped = self.smsc.control.watch();
            let attempt = tokio::select! {
                r = self.connect_and_bind() => r,
                _ = self.drain.cancelled() => break,
                // stopped while binding: give up this attempt
                _ = stopped.wait_for(|s| *s) => continue,
            };
            let delay = match attempt {
                Ok((link, seq)) => {
                    backoff.reset();
                    auth_backoff.reset();
                    tracing::info!(smsc = name, bind = %self.label, role = self.role.name(), "bind up");
                    self.set_up(true);
                    let drain = self.session_drain();
                    let end = Session::new(&self, link, seq)
                        .draining_on(drain.clone())
                        .run()
                        .await;
                    drain.cancel();
                    self.set_up(false);
                    if let Some(c) = &cell {
                        c.unbound();
                    }
                    match end {
                        SessionEnd::Unbound if self.drain.is_cancelled() => {
                            tracing::info!(smsc = name, bind = %self.label, "bind closed by unbind");
                            break;
                        }
                        SessionEnd::Unbound => {
                            tracing::info!(smsc = name, bind = %self.label, "bind unbound: SMSC stopped");
                            continue;
                        }
                        SessionEnd::Lost(reason, detail) => {
                            tracing::warn!(smsc = name, bind = %self.label, reason, %detail, "bind down");
                            metrics::bind_failure(name, reason);
                            if let Some(c) = &cell {
                                c.failed(format!("{reason}: {detail}"));
                            }
                        }
                    }
                    backoff.next_delay()
                }
                Err(e @ BindError::Credentials(_)) => {
                    metrics::bind_failure(name, e.reason());
                    if let Some(c) = &cell {
                        c.failed(e.to_string());
                    }
                    let d = auth_backoff.next_delay();
                    tracing::error!(smsc = name, bind = %self.label, error = %e, retry_in = ?d, "bind refused: check system_id and password");
                    d
                }
                Err(e) => {
                    metrics::bind_failure(name, e.reason());
                    if let Some(c) = &cell {
                        c.failed(e.to_string());
                    }
                    let d = backoff.next_delay();
                    tracing::warn!(smsc = name, bind = %self.label, error = %e, retry_in = ?d, "bind failed");
                    d
                }
            };
            publish(BindState::BackingOff);
            let mut stopped = self.smsc.control.watch();
            tokio::select! {
                _ = tokio::time::sleep(delay) => {}
                _ = self.drain.cancelled() => break,
                _ = stopped.wait_for(|s| *s) => {}
            }
        }
        publish(BindState::Stopped);
        metrics::bind_up(name, &self.label, false);
    }

    fn set_up(&self, up: bool) {
        if let Some(slot) = self.slot {
            self.smsc.health.set_up(slot, up, Instant::now());
        }
        metrics::bind_up(&self.smsc.cfg.name, &self.label, up);
        // Binds waiting for work look again (their queue may have been failed over).
        self.smsc.queue.wake();
    }

    async fn connect_and_bind(&self) -> Result<(Link, Sequencer), BindError> {
        let s = &self.shared.settings;
        let cfg = &self.smsc.cfg;
        let mut link = Link::connect(
            cfg,
            ms(s.connect_timeout_ms),
            ms(s.write_timeout_ms),
            s.max_pdu_len,
        )
        .await?;
        let mut seq = Sequencer::default();
        let bind_seq = seq.next_sequence();
        let bind = Bind {
            system_id: cfg.system_id.as_str().into(),
            password: cfg.password.as_str().into(),
            system_type: cfg.system_type.as_str().into(),
            interface_version: SMPP_VERSION_34,
            addr_ton: 0,
            addr_npi: 0,
            address_range: cfg.address_range.as_str().into(),
        };
        link.send(Pdu::new(bind_seq, self.role.request(bind)))
            .await?;
        let timeout = ms(s.bind_timeout_ms);
        let resp = tokio::time::timeout(timeout, async {
            loop {
                match link.recv().await? {
                    Frame::Pdu(p) if p.sequence_number == bind_seq => return Ok(p),
                    Frame::Pdu(p) if matches!(p.body, Body::EnquireLink) => {
                        link.send(Pdu::new(p.sequence_number, Body::EnquireLinkResp))
                            .await?;
                    }
                    _ => {}
                }
            }
        })
        .await
        .map_err(|_| BindError::Timeout(timeout))?
        .map_err(BindError::Link)?;
        let status = resp.command_status;
        if status == CommandStatus::ESME_RINVPASWD || status == CommandStatus::ESME_RINVSYSID {
            return Err(BindError::Credentials(status));
        }
        if !status.is_ok() {
            return Err(BindError::Refused(status));
        }
        if !self.role.is_response(&resp.body) {
            return Err(BindError::Refused(CommandStatus::ESME_RINVCMDID));
        }
        Ok((link, seq))
    }
}
