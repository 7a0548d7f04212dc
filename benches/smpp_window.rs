//! Window efficiency of one bind: with W submit_sm outstanding and a response latency L, a bind
//! can at best send W / L per second. Runs the engine against the in-process SMSC simulator
//! (20 ms latency, W = 64, so at most 3200/s) and prints the measured rate and its share of
//! that bound. Run with `cargo bench -p otpgate --bench smpp_window`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use futures::{SinkExt, StreamExt};
use otpgate::dispatch::{DeliverySink, DeliveryUpdate, Dispatcher, OutboundSms};
use otpgate::smpp::{EngineSettings, SmppEngine, SmscConfig};
use otpgate_codec::framing::{Frame, SmppCodec};
use otpgate_codec::pdu::{Address, Bind, Body, Pdu, SubmitSm};
use otpgate_sim::{self as sim, Latency, SimConfig};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio_util::codec::Framed;

const WINDOW: usize = 64;
const LATENCY: Duration = Duration::from_millis(20);
const MESSAGES: u32 = 16_000;

#[derive(Default)]
struct Counting {
    submitted: AtomicUsize,
    other: AtomicUsize,
    notify: Notify,
}

impl DeliverySink for Counting {
    fn on_update(&self, update: DeliveryUpdate) {
        let done = match update {
            DeliveryUpdate::Submitted { .. } => self.submitted.fetch_add(1, Ordering::Relaxed),
            DeliveryUpdate::Receipt { .. } => return,
            _ => self.other.fetch_add(1, Ordering::Relaxed),
        };
        // Wake the waiting bench only at the end, not once per message.
        if done + 1 >= MESSAGES as usize
            || self.submitted.load(Ordering::Relaxed) + self.other.load(Ordering::Relaxed)
                >= MESSAGES as usize
        {
            self.notify.notify_waiters();
        }
    }
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(run());
}

async fn run() {
    let mut sim_cfg = SimConfig::default();
    sim_cfg.behaviour.latency = Latency::Fixed { value: LATENCY };
    sim_cfg.behaviour.receipts.enabled = false;
    sim_cfg.record_messages = false;
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let sim = sim::spawn(listener, sim_cfg).await.expect("simulator");
    let addr = sim.local_addr();
    let baseline = raw_client(addr).await;
    let smsc = SmscConfig {
        name: "bench".into(),
        host: addr.ip().to_string(),
        port: addr.port(),
        window: WINDOW,
        ..SmscConfig::default()
    };
    let settings = EngineSettings {
        queue_capacity: MESSAGES as usize + 1,
        ..EngineSettings::default()
    };
    let sink = Arc::new(Counting::default());
    let engine = SmppEngine::start(vec![smsc], settings, sink.clone()).expect("engine");
    let up = Instant::now();
    while engine.binds_up() == 0 {
        assert!(up.elapsed() < Duration::from_secs(10), "bind never came up");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let expires_at = SystemTime::now() + Duration::from_secs(3_600);
    let start = Instant::now();
    for n in 0..MESSAGES {
        let sms = OutboundSms {
            otp_id: format!("otp-{n}"),
            tenant: "bench".into(),
            destination: format!("+44770{n:07}"),
            sender: "Verify".into(),
            text: format!("Your verification code is {:06}", n),
            expires_at,
            tlv_values: Default::default(),
            smscs: None,
        };
        engine.try_dispatch(sms).expect("dispatch");
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    loop {
        let notified = sink.notify.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let done = sink.submitted.load(Ordering::Relaxed) + sink.other.load(Ordering::Relaxed);
        if done >= MESSAGES as usize {
            break;
        }
        if tokio::time::timeout_at(deadline, notified).await.is_err() {
            panic!("only {done} of {MESSAGES} done");
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    let rate = f64::from(MESSAGES) / elapsed;
    let bound = WINDOW as f64 / LATENCY.as_secs_f64();
    let c = sim.counters();
    println!(
        "smpp_window: {MESSAGES} submit_sm in {elapsed:.3} s = {rate:.0}/s; W/L = {bound:.0}/s; \
         efficiency {:.1} %; failed {}; window violations {}",
        100.0 * rate / bound,
        sink.other.load(Ordering::Relaxed),
        c.window_violations
    );
    println!(
        "smpp_window: a bare client keeping {WINDOW} submit_sm outstanding on the same simulator: \
         {baseline:.0}/s ({:.1} % of W/L); the engine reaches {:.1} % of that",
        100.0 * baseline / bound,
        100.0 * rate / baseline
    );
    engine.shutdown(Duration::from_secs(5)).await;
    sim.shutdown().await;
}

/// What the simulator allows at best: a bare client on the codec keeping exactly `WINDOW`
/// submit_sm outstanding, no queue, no throttle, no bookkeeping.
async fn raw_client(addr: std::net::SocketAddr) -> f64 {
    let stream = TcpStream::connect(addr).await.expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    let mut c = Framed::new(stream, SmppCodec::default());
    let bind = Bind {
        system_id: "test".into(),
        password: "secret".into(),
        interface_version: 0x34,
        ..Bind::default()
    };
    c.send(Pdu::new(1, Body::BindTransceiver(bind)))
        .await
        .expect("bind");
    let _ = c.next().await;
    let submit = |seq: u32| {
        Pdu::new(
            seq,
            Body::SubmitSm(SubmitSm {
                source: Address {
                    ton: 5,
                    npi: 0,
                    addr: "Verify".into(),
                },
                destination: Address {
                    ton: 1,
                    npi: 1,
                    addr: format!("44770{seq:07}").into(),
                },
                short_message: otpgate_codec::pdu::ShortMessage::from_static(
                    b"Your verification code is 123456",
                ),
                ..SubmitSm::default()
            }),
        )
    };
    let start = Instant::now();
    let mut seq = 1u32;
    for _ in 0..WINDOW {
        seq += 1;
        c.feed(submit(seq)).await.expect("send");
    }
    SinkExt::<Pdu>::flush(&mut c).await.expect("flush");
    let mut answered = 0u32;
    while answered < MESSAGES {
        match c.next().await {
            Some(Ok(Frame::Pdu(p))) if matches!(p.body, Body::SubmitSmResp(_)) => {
                answered += 1;
                if seq - 1 < MESSAGES {
                    seq += 1;
                    c.send(submit(seq)).await.expect("send");
                }
            }
            Some(Ok(_)) => {}
            other => panic!("bare client: {other:?}"),
        }
    }
    let rate = f64::from(MESSAGES) / start.elapsed().as_secs_f64();
    let _ = c.send(Pdu::new(seq + 1, Body::Unbind)).await;
    rate
}
