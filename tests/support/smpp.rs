//! Shared pieces of the SMPP engine tests: a recording `DeliverySink`, a simulator on
//! `127.0.0.1:0`, a scripted SMSC on the codec's framing, short engine timings and bounded
//! waits.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use futures::StreamExt;
use otpgate::dispatch::{DeliverySink, DeliveryUpdate, Dispatcher, OutboundSms};
use otpgate::smpp::{EngineSettings, SmscConfig};
use otpgate_codec::framing::{Frame, SmppCodec};
use otpgate_codec::pdu::{Address, BindResp, Body, DeliverSm, Pdu, ShortMessage};
use otpgate_sim::{self as sim, SimConfig, SimHandle};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio_util::codec::Framed;

/// Upper bound of every wait in these tests.
pub const WAIT: Duration = Duration::from_secs(20);

#[derive(Default)]
pub struct RecordingSink {
    updates: Mutex<Vec<DeliveryUpdate>>,
    /// The `Charged` reports, apart: they precede each fate and would get in the way of the
    /// tests that look at fates.
    charges: Mutex<Vec<DeliveryUpdate>>,
    notify: Notify,
}

impl DeliverySink for RecordingSink {
    fn on_update(&self, update: DeliveryUpdate) {
        if matches!(update, DeliveryUpdate::Charged { .. }) {
            self.charges.lock().unwrap().push(update);
            return;
        }
        self.updates.lock().unwrap().push(update);
        self.notify.notify_waiters();
    }
}

impl RecordingSink {
    /// The `Charged` reports so far: (otp id, SMSC, parts, price per part).
    pub fn charges(&self) -> Vec<(String, Option<String>, u32, Option<u64>)> {
        self.charges
            .lock()
            .unwrap()
            .iter()
            .filter_map(|u| match u {
                DeliveryUpdate::Charged {
                    otp_id,
                    smsc,
                    parts,
                    price_per_part,
                    ..
                } => Some((otp_id.clone(), smsc.clone(), *parts, *price_per_part)),
                _ => None,
            })
            .collect()
    }

    pub fn all(&self) -> Vec<DeliveryUpdate> {
        self.updates.lock().unwrap().clone()
    }

    pub fn count(&self, f: impl Fn(&DeliveryUpdate) -> bool) -> usize {
        self.updates.lock().unwrap().iter().filter(|u| f(u)).count()
    }

    /// Waits (at most `WAIT`) until `f` holds over the updates; panics with `what` if not.
    pub async fn wait_until(&self, what: &str, f: impl Fn(&[DeliveryUpdate]) -> bool) {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if f(&self.updates.lock().unwrap()) {
                return;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                panic!("timed out waiting for {what}; updates: {:#?}", self.all());
            }
        }
    }

    /// Waits until `n` messages have a final report (Submitted, Rejected or Failed).
    pub async fn wait_final(&self, n: usize) {
        self.wait_until(&format!("{n} final reports"), |u| {
            u.iter().filter(|u| is_final(u)).count() >= n
        })
        .await;
    }

    pub fn submitted(&self) -> Vec<(String, String, Vec<String>)> {
        self.all()
            .into_iter()
            .filter_map(|u| match u {
                DeliveryUpdate::Submitted {
                    otp_id,
                    smsc,
                    message_ids,
                } => Some((otp_id, smsc, message_ids)),
                _ => None,
            })
            .collect()
    }
}

pub fn is_final(u: &DeliveryUpdate) -> bool {
    matches!(
        u,
        DeliveryUpdate::Submitted { .. }
            | DeliveryUpdate::Rejected { .. }
            | DeliveryUpdate::Failed { .. }
    )
}

pub async fn start_sim(config: SimConfig) -> SimHandle {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    sim::spawn(listener, config).await.unwrap()
}

/// An address where nothing listens (a port bound and released).
pub async fn dead_addr() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let a = l.local_addr().unwrap();
    drop(l);
    a
}

pub fn smsc(name: &str, addr: SocketAddr) -> SmscConfig {
    SmscConfig {
        name: name.into(),
        host: addr.ip().to_string(),
        port: addr.port(),
        system_id: "test".into(),
        password: "secret".into(),
        ..SmscConfig::default()
    }
}

/// Timings short enough for tests.
pub fn settings() -> EngineSettings {
    EngineSettings {
        connect_timeout_ms: 1_000,
        bind_timeout_ms: 1_000,
        response_timeout_ms: 2_000,
        enquire_link_interval_ms: 5_000,
        enquire_link_timeout_ms: 2_000,
        reconnect_min_ms: 50,
        reconnect_max_ms: 500,
        auth_failure_min_ms: 300,
        auth_failure_max_ms: 1_000,
        throttle_pause_ms: 100,
        queue_full_pause_ms: 200,
        retry_min_ms: 50,
        retry_max_ms: 200,
        failover_after_ms: 500,
        ..EngineSettings::default()
    }
}

/// An OTP SMS to a destination unique to `n`.
pub fn sms(n: u32) -> OutboundSms {
    OutboundSms {
        otp_id: format!("otp-{n}"),
        tenant: "demo".into(),
        destination: destination(n),
        sender: "Verify".into(),
        text: format!("Your verification code is {:06}", n % 1_000_000),
        expires_at: SystemTime::now() + Duration::from_secs(600),
        tlv_values: Default::default(),
        smscs: None,
    }
}

/// Hands `sms(0)`..`sms(n - 1)` to the engine; each must be queued.
pub fn dispatch_n(engine: &dyn Dispatcher, n: u32) {
    for i in 0..n {
        if let Err(e) = engine.try_dispatch(sms(i)) {
            panic!("message {i} refused: {e}");
        }
    }
}

/// Sends `n` messages and waits until every one of them is submitted.
pub async fn send_all_submitted(engine: &dyn Dispatcher, sink: &RecordingSink, n: u32) {
    dispatch_n(engine, n);
    sink.wait_final(n as usize).await;
    assert_eq!(sink.submitted().len(), n as usize, "{:?}", sink.all());
}

pub fn destination(n: u32) -> String {
    format!("+4477009{n:05}")
}

/// Polls `f` every 10 ms until it holds, at most `WAIT`.
pub async fn eventually(what: &str, f: impl Fn() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < WAIT, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

pub fn sink() -> Arc<RecordingSink> {
    Arc::new(RecordingSink::default())
}

/// One link of a scripted SMSC, PDU by PDU.
pub type ScriptedLink = Framed<TcpStream, SmppCodec>;

/// The next PDU on `link` (at most `WAIT`); anything else fails the test.
pub async fn scripted_next(link: &mut ScriptedLink) -> Pdu {
    match tokio::time::timeout(WAIT, link.next()).await {
        Ok(Some(Ok(Frame::Pdu(p)))) => p,
        other => panic!("expected a PDU, got {other:?}"),
    }
}

/// Accepts one connection on `listener` and answers its bind (transceiver) with ESME_ROK.
pub async fn scripted_accept(listener: &TcpListener) -> ScriptedLink {
    let (s, _) = tokio::time::timeout(WAIT, listener.accept())
        .await
        .expect("a connection in time")
        .expect("accepted");
    let mut link = Framed::new(s, SmppCodec::default());
    let bind = scripted_next(&mut link).await;
    let resp = Pdu::new(
        bind.sequence_number,
        Body::BindTransceiverResp(BindResp {
            system_id: "scripted".into(),
            tlvs: vec![],
        }),
    );
    futures::SinkExt::send(&mut link, resp)
        .await
        .expect("bind_resp sent");
    link
}

/// A final DELIVRD receipt for `message_id`, as SMSCs write it in short_message.
pub fn receipt_for(message_id: &str) -> DeliverSm {
    let text = format!(
        "id:{message_id} sub:001 dlvrd:001 submit date:2401011200 done date:2401011201 \
         stat:DELIVRD err:000 text:"
    );
    DeliverSm {
        source: Address {
            ton: 1,
            npi: 1,
            addr: "447700900001".into(),
        },
        esm_class: 0x04,
        short_message: ShortMessage::try_from(text.as_str()).expect("a short receipt"),
        ..DeliverSm::default()
    }
}
