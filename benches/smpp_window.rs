//! Window efficiency of one bind: with W submit_sm outstanding and a response latency L, a bind
//! can at best send W / L per second. Runs the engine against the in-process SMSC simulator
//! (20 ms latency, W = 64, so at most 3200/s) and prints the measured rate and its share of
//! that bound. Run with `cargo bench -p otpgate --bench smpp_window`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use otpgate::dispatch::{DeliverySink, DeliveryUpdate, Dispatcher, OutboundSms};
use otpgate::smpp::{EngineSettings, SmppEngine, SmscConfig};
use otpgate_loadtest::sim::{self, Latency, SimConfig};
use tokio::net::TcpListener;
use tokio::sync::Notify;

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
        match update {
            DeliveryUpdate::Submitted { .. } => self.submitted.fetch_add(1, Ordering::Relaxed),
            DeliveryUpdate::Receipt { .. } => 0,
            _ => self.other.fetch_add(1, Ordering::Relaxed),
        };
        self.notify.notify_waiters();
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
        };
        engine.try_dispatch(sms).expect("dispatch");
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    loop {
        let notified = sink.notify.notified();
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
    engine.shutdown(Duration::from_secs(5)).await;
    sim.shutdown().await;
}
