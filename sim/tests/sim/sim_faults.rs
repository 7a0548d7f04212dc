//! Simulator fault behaviour over real TCP: window, TPS, error injection, hang, disconnects,
//! latency, graceful shutdown.

use crate::common;

use std::time::Duration;

use common::{sms, start, Client, Kind};
use futures::SinkExt;
use otpgate_codec::pdu::{Body, CommandStatus, Pdu};
use otpgate_sim::{Latency, SimConfig};

#[tokio::test]
async fn window_violation_answered_msgqful_and_counted() {
    let mut config = SimConfig::default();
    config.behaviour.window = Some(2);
    config.behaviour.latency = Latency::Fixed {
        value: Duration::from_millis(300),
    };
    let sim = start(config).await;
    let mut c = Client::bound(sim.local_addr(), Kind::Trx).await;
    let s1 = c.submit(sms("447700900001", "a", 0)).await;
    let s2 = c.submit(sms("447700900001", "b", 0)).await;
    let s3 = c.submit(sms("447700900001", "c", 0)).await;
    // The third is over the window: refused at once, before the two held answers.
    let r = c.recv().await.unwrap();
    assert_eq!(
        (r.sequence_number, r.command_status),
        (s3, CommandStatus::ESME_RMSGQFUL)
    );
    let r1 = c.recv().await.unwrap();
    let r2 = c.recv().await.unwrap();
    assert_eq!((r1.sequence_number, r2.sequence_number), (s1, s2));
    assert!(r1.command_status.is_ok() && r2.command_status.is_ok());
    // With the window free again, a submit is accepted.
    c.submit(sms("447700900001", "d", 0)).await;
    assert!(c.recv().await.unwrap().command_status.is_ok());
    assert_eq!(sim.counters().window_violations, 1);
}

#[tokio::test]
async fn tps_limit_answers_throttled() {
    let sim = start(SimConfig::default()).await;
    sim.set_tps_limit(Some(5));
    let mut c = Client::bound(sim.local_addr(), Kind::Trx).await;
    for i in 0..20 {
        c.submit(sms("447700900001", &format!("{i}"), 0)).await;
    }
    let mut ok = 0;
    let mut throttled = 0;
    for _ in 0..20 {
        match c.recv().await.unwrap().command_status {
            CommandStatus::ESME_ROK => ok += 1,
            CommandStatus::ESME_RTHROTTLED => throttled += 1,
            s => panic!("unexpected {s}"),
        }
    }
    // The bucket holds one second of tokens; 20 submits cannot all fit.
    assert!(ok >= 5, "ok {ok}");
    assert!(throttled >= 1, "throttled {throttled}");
    assert_eq!(sim.counters().throttled, throttled);
    sim.set_tps_limit(None);
    c.submit(sms("447700900001", "free", 0)).await;
    assert!(c.recv().await.unwrap().command_status.is_ok());
}

#[tokio::test]
async fn error_injection_uses_configured_status() {
    let sim = start(SimConfig::default()).await;
    sim.set_error_injection(1.0, CommandStatus::ESME_RSUBMITFAIL.0);
    let mut c = Client::bound(sim.local_addr(), Kind::Trx).await;
    c.submit(sms("447700900001", "x", 0)).await;
    assert_eq!(
        c.recv().await.unwrap().command_status,
        CommandStatus::ESME_RSUBMITFAIL
    );
    sim.set_error_injection(0.0, 0);
    c.submit(sms("447700900001", "y", 0)).await;
    assert!(c.recv().await.unwrap().command_status.is_ok());
    let n = sim.counters();
    assert_eq!((n.errors_injected, n.parts), (1, 1));
}

#[tokio::test]
async fn hang_mode_stops_answering_until_cleared() {
    let sim = start(SimConfig::default()).await;
    let mut c = Client::bound(sim.local_addr(), Kind::Trx).await;
    sim.set_hang(true);
    c.send(Body::EnquireLink).await;
    c.submit(sms("447700900001", "x", 0)).await;
    assert!(c.recv_within(Duration::from_millis(300)).await.is_none());
    sim.set_hang(false);
    let seq = c.send(Body::EnquireLink).await;
    let r = c.recv().await.unwrap();
    assert_eq!((r.sequence_number, r.body), (seq, Body::EnquireLinkResp));
    assert_eq!(sim.counters().hung_pdus, 2);
}

#[tokio::test]
async fn disconnect_after_n_pdus() {
    let mut config = SimConfig::default();
    config.behaviour.disconnect_after_pdus = Some(3);
    let sim = start(config).await;
    // The bind is PDU 1, the first submit PDU 2; the second submit (PDU 3) is not answered.
    let mut c = Client::bound(sim.local_addr(), Kind::Trx).await;
    c.submit(sms("447700900001", "1", 0)).await;
    assert!(c.recv().await.unwrap().command_status.is_ok());
    c.submit(sms("447700900001", "2", 0)).await;
    assert!(c.recv().await.is_none(), "link dropped");
    assert_eq!(sim.counters().disconnects_injected, 1);
}

#[tokio::test]
async fn disconnect_every_t_and_disconnect_all() {
    let mut config = SimConfig::default();
    config.behaviour.disconnect_every = Some(Duration::from_millis(100));
    let sim = start(config).await;
    let mut c = Client::bound(sim.local_addr(), Kind::Trx).await;
    assert!(c.recv().await.is_none(), "dropped after the period");

    let sim = start(SimConfig::default()).await;
    let mut a = Client::bound(sim.local_addr(), Kind::Tx).await;
    let mut b = Client::bound(sim.local_addr(), Kind::Rx).await;
    sim.disconnect_all();
    assert!(a.recv().await.is_none());
    assert!(b.recv().await.is_none());
    assert_eq!(sim.counters().disconnects_injected, 2);
    // New binds are accepted afterwards.
    let _c = Client::bound(sim.local_addr(), Kind::Trx).await;
}

#[tokio::test]
async fn latency_holds_answers() {
    let mut config = SimConfig::default();
    config.behaviour.latency = "uniform:50ms-80ms".parse().unwrap();
    let sim = start(config).await;
    let mut c = Client::bound(sim.local_addr(), Kind::Trx).await;
    let t0 = tokio::time::Instant::now();
    c.submit(sms("447700900001", "x", 0)).await;
    assert!(c.recv().await.unwrap().command_status.is_ok());
    assert!(t0.elapsed() >= Duration::from_millis(50));
}

#[tokio::test]
async fn shutdown_unbinds_clients() {
    let sim = start(SimConfig::default()).await;
    let mut c = Client::bound(sim.local_addr(), Kind::Trx).await;
    let stop = {
        let sim = sim.clone();
        tokio::spawn(async move { sim.shutdown().await })
    };
    let r = c.recv().await.unwrap();
    assert_eq!(r.body, Body::Unbind);
    c.framed
        .send(Pdu::new(r.sequence_number, Body::UnbindResp))
        .await
        .unwrap();
    tokio::time::timeout(common::WAIT, stop)
        .await
        .unwrap()
        .unwrap();
    assert!(c.recv().await.is_none());
    assert!(tokio::net::TcpStream::connect(sim.local_addr())
        .await
        .is_err());
}
