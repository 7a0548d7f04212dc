//! Sessions flooded with malformed PDUs, on both sides of the link: each malformed frame is
//! answered with generic_nack carrying its sequence_number (or, for a header that cannot be
//! trusted, the link is closed), and another bind on the same peer keeps its traffic flowing
//! meanwhile: against the SMSC simulator (otpgate's SMSC side) and against otpgate's engine
//! (ESME side, with a scripted SMSC that floods one of two binds).

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;

use crate::support::smpp::*;
use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use otpgate::dispatch::{DeliveryUpdate, Dispatcher};
use otpgate::smpp::SmppEngine;
use otpgate_codec::framing::{Frame, SmppCodec};
use otpgate_codec::pdu::{
    encode_pdu, Address, Bind, BindResp, Body, Pdu, ShortMessage, SubmitSm, SubmitSmResp,
};
use tokio::io::AsyncWriteExt;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::codec::{Framed, FramedRead};

type Conn = Framed<TcpStream, SmppCodec>;

/// Malformed frames per flood.
const FLOOD: u32 = 20_000;

/// A small deterministic generator (xorshift64*), so a failure replays.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Requests whose body starts with a C-Octet string: a body of non-NUL octets never decodes
/// for them. (Responses are left out: the codec accepts a response's message_id without its
/// NUL, as sloppy SMSCs send it, and a peer does not answer a response.)
const STRING_FIRST: [u32; 9] = [
    0x0000_0004, // submit_sm
    0x0000_0005, // deliver_sm
    0x0000_0009, // bind_transceiver
    0x0000_0001, // bind_receiver
    0x0000_0002, // bind_transmitter
    0x0000_0003, // query_sm
    0x0000_0007, // replace_sm
    0x0000_0008, // cancel_sm
    0x0000_0103, // data_sm
];

/// Frame `i` of a flood: a sound header (length, a command id, status 0, sequence `seq`) over a
/// body that cannot decode: 1 to 300 octets none of which is NUL.
fn malformed(rng: &mut Rng, seq: u32) -> Vec<u8> {
    let command_id = STRING_FIRST[rng.below(STRING_FIRST.len() as u64) as usize];
    let body_len = 1 + rng.below(300) as usize;
    let mut out = Vec::with_capacity(16 + body_len);
    out.extend_from_slice(&((16 + body_len) as u32).to_be_bytes());
    out.extend_from_slice(&command_id.to_be_bytes());
    out.extend_from_slice(&0u32.to_be_bytes());
    out.extend_from_slice(&seq.to_be_bytes());
    out.extend((0..body_len).map(|_| 1 + rng.below(255) as u8));
    out
}

/// A header that cannot be trusted (command_length 4): the link must close.
const BAD_HEADER: [u8; 16] = [0, 0, 0, 4, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 1];

async fn next_frame(c: &mut Conn) -> Frame {
    match tokio::time::timeout(WAIT, c.next()).await {
        Ok(Some(Ok(f))) => f,
        other => panic!("expected a frame, got {other:?}"),
    }
}

/// The two halves of a bound link: PDUs read through the codec, raw octets written.
fn halves(c: Conn) -> (FramedRead<OwnedReadHalf, SmppCodec>, OwnedWriteHalf) {
    let parts = c.into_parts();
    assert!(parts.read_buf.is_empty(), "nothing pending after the bind");
    let (r, w) = parts.io.into_split();
    (FramedRead::new(r, SmppCodec::default()), w)
}

async fn write_pdu(w: &mut OwnedWriteHalf, pdu: &Pdu) -> std::io::Result<()> {
    let mut buf = bytes::BytesMut::new();
    encode_pdu(pdu, &mut buf).expect("encodable");
    w.write_all(&buf).await
}

async fn assert_closes<T, E>(c: &mut (impl futures::Stream<Item = Result<T, E>> + Unpin)) {
    let closed = tokio::time::timeout(WAIT, async {
        loop {
            match c.next().await {
                None | Some(Err(_)) => return,
                Some(Ok(_)) => {}
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "link not closed after a bad header");
}

fn submit(n: u32) -> SubmitSm {
    SubmitSm {
        source: Address {
            ton: 5,
            npi: 0,
            addr: "Verify".into(),
        },
        destination: Address {
            ton: 1,
            npi: 1,
            addr: destination(n).trim_start_matches('+').into(),
        },
        short_message: ShortMessage::try_from(format!("Your code is {n:06}").as_str()).unwrap(),
        ..SubmitSm::default()
    }
}

/// Connects to the simulator and binds as a transceiver.
async fn bind_to_sim(addr: std::net::SocketAddr) -> Conn {
    let s = TcpStream::connect(addr).await.unwrap();
    let mut c = Framed::new(s, SmppCodec::default());
    let bind = Bind {
        system_id: "test".into(),
        password: "secret".into(),
        interface_version: 0x34,
        ..Bind::default()
    };
    c.send(Pdu::new(1, Body::BindTransceiver(bind)))
        .await
        .unwrap();
    match next_frame(&mut c).await {
        Frame::Pdu(p) if p.command_status.is_ok() => c,
        other => panic!("bind refused: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulator_answers_a_malformed_flood_with_generic_nack_and_other_binds_go_on() {
    let sim = start_sim(otpgate_sim::SimConfig::default()).await;
    let mut good = bind_to_sim(sim.local_addr()).await;
    let bad = bind_to_sim(sim.local_addr()).await;

    // The flooder writes every malformed frame without reading, while its reader checks that
    // each one comes back as generic_nack with the same sequence_number, in order.
    let (mut bad_rx, mut bad_tx) = halves(bad);
    let writer = tokio::spawn(async move {
        let mut rng = Rng(0x5EED_0001);
        for seq in 0..FLOOD {
            let frame = malformed(&mut rng, 1000 + seq);
            bad_tx.write_all(&frame).await.unwrap();
        }
        bad_tx
    });
    let reader = tokio::spawn(async move {
        for seq in 0..FLOOD {
            let p = match tokio::time::timeout(WAIT, bad_rx.next()).await {
                Ok(Some(Ok(Frame::Pdu(p)))) => p,
                other => panic!("frame {seq}: expected generic_nack, got {other:?}"),
            };
            assert_eq!(p.body, Body::GenericNack, "frame {seq}");
            assert_eq!(p.sequence_number, 1000 + seq);
            assert!(!p.command_status.is_ok());
        }
        bad_rx
    });

    // Meanwhile the other bind submits in windows of 10; every submit is accepted.
    let mut accepted = 0u32;
    for round in 0..50u32 {
        for i in 0..10 {
            let seq = 10 + round * 10 + i;
            good.feed(Pdu::new(seq, Body::SubmitSm(submit(seq))))
                .await
                .unwrap();
        }
        SinkExt::<Pdu>::flush(&mut good).await.unwrap();
        for _ in 0..10 {
            match next_frame(&mut good).await {
                Frame::Pdu(Pdu {
                    command_status,
                    body: Body::SubmitSmResp(_),
                    ..
                }) if command_status.is_ok() => accepted += 1,
                other => panic!("expected submit_sm_resp OK, got {other:?}"),
            }
        }
    }
    assert_eq!(accepted, 500);

    let mut bad_tx = tokio::time::timeout(WAIT, writer).await.unwrap().unwrap();
    let mut bad_rx = tokio::time::timeout(WAIT, reader).await.unwrap().unwrap();
    assert!(sim.counters().generic_nacks >= u64::from(FLOOD));

    // A header that cannot be trusted ends that link, and only that one.
    bad_tx.write_all(&BAD_HEADER).await.unwrap();
    assert_closes(&mut bad_rx).await;
    good.send(Pdu::new(9_999, Body::SubmitSm(submit(9_999))))
        .await
        .unwrap();
    match next_frame(&mut good).await {
        Frame::Pdu(p) => {
            assert_eq!(p.sequence_number, 9_999);
            assert!(p.command_status.is_ok(), "{p:?}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(sim.counters().framing_errors, 1);
    sim.shutdown().await;
}

/// Accepts a connection and answers its bind.
async fn accept_bound(l: &TcpListener) -> Conn {
    let (s, _) = tokio::time::timeout(WAIT, l.accept())
        .await
        .unwrap()
        .unwrap();
    let mut c = Framed::new(s, SmppCodec::default());
    let Frame::Pdu(bind) = next_frame(&mut c).await else {
        panic!("expected a bind");
    };
    let resp = Pdu::new(
        bind.sequence_number,
        Body::BindTransceiverResp(BindResp {
            system_id: "scripted".into(),
            tlvs: vec![],
        }),
    );
    c.send(resp).await.unwrap();
    c
}

/// What one scripted bind saw.
#[derive(Default)]
struct BindLog {
    submits: AtomicU64,
    nacks: AtomicU64,
    wrong_answers: AtomicU64,
}

/// Serves one bind of the scripted SMSC: answers every submit_sm and enquire_link, and when
/// `flood` is set, writes that many malformed frames, interleaved with the answers, counting
/// the generic_nacks that come back. Ends when the link closes.
fn serve_bind(
    c: Conn,
    name: &'static str,
    flood: u32,
    log: Arc<BindLog>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let (mut rx, mut tx) = halves(c);
        let mut rng = Rng(0x5EED_0002);
        let mut sent_garbage = 0u32;
        let mut expect_seq = 0x4000_0000u32;
        let mut msg = 0u32;
        loop {
            // A burst of garbage before each read, until the flood is spent.
            let burst = flood.saturating_sub(sent_garbage).min(50);
            for _ in 0..burst {
                let frame = malformed(&mut rng, 0x4000_0000 + sent_garbage);
                if tx.write_all(&frame).await.is_err() {
                    return;
                }
                sent_garbage += 1;
            }
            let frame = match tokio::time::timeout(Duration::from_millis(20), rx.next()).await {
                Err(_) => continue,
                Ok(Some(Ok(f))) => f,
                Ok(_) => return,
            };
            let Frame::Pdu(p) = frame else {
                log.wrong_answers.fetch_add(1, Relaxed);
                continue;
            };
            let answer = match p.body {
                Body::SubmitSm(_) => {
                    log.submits.fetch_add(1, Relaxed);
                    msg += 1;
                    Body::SubmitSmResp(SubmitSmResp {
                        message_id: format!("{name}-{msg}").as_str().into(),
                    })
                }
                Body::EnquireLink => Body::EnquireLinkResp,
                Body::Unbind => Body::UnbindResp,
                Body::GenericNack if p.sequence_number == expect_seq => {
                    log.nacks.fetch_add(1, Relaxed);
                    expect_seq += 1;
                    continue;
                }
                _ => {
                    log.wrong_answers.fetch_add(1, Relaxed);
                    continue;
                }
            };
            if write_pdu(&mut tx, &Pdu::new(p.sequence_number, answer))
                .await
                .is_err()
            {
                return;
            }
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engine_answers_a_flooding_smsc_with_generic_nack_and_its_other_bind_goes_on() {
    const FLOOD_ESME: u32 = 5_000;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sink = sink();
    let mut cfg = smsc("scripted", listener.local_addr().unwrap());
    cfg.binds = 2;
    let engine = SmppEngine::start(vec![cfg], settings(), sink.clone()).unwrap();
    let flooded = accept_bound(&listener).await;
    let quiet = accept_bound(&listener).await;
    let (flood_log, quiet_log) = (Arc::new(BindLog::default()), Arc::new(BindLog::default()));
    let flood_task = serve_bind(flooded, "f", FLOOD_ESME, flood_log.clone());
    let quiet_task = serve_bind(quiet, "q", 0, quiet_log.clone());
    eventually("both binds up", || engine.binds_up() == 2).await;

    // Traffic while one bind is flooded: every message is submitted, none is lost.
    let n = 300u32;
    for i in 0..n {
        engine.try_dispatch(sms(i)).unwrap();
        if i % 20 == 19 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    sink.wait_final(n as usize).await;
    assert_eq!(sink.submitted().len(), n as usize, "{:#?}", sink.all());
    eventually("every malformed frame answered", || {
        flood_log.nacks.load(Relaxed) == u64::from(FLOOD_ESME)
    })
    .await;
    assert_eq!(flood_log.wrong_answers.load(Relaxed), 0);
    assert_eq!(quiet_log.wrong_answers.load(Relaxed), 0);
    assert!(
        quiet_log.submits.load(Relaxed) > 0,
        "the quiet bind took traffic"
    );
    assert_eq!(engine.binds_up(), 2, "no bind was dropped by the flood");

    // The flooding SMSC drops the link: the engine binds again and traffic keeps flowing.
    flood_task.abort();
    let _ = flood_task.await;
    let rebound = tokio::spawn(async move { accept_bound(&listener).await });
    let again = tokio::time::timeout(WAIT, rebound).await.unwrap().unwrap();
    let again_log = Arc::new(BindLog::default());
    let _again_task = serve_bind(again, "r", 0, again_log.clone());
    eventually("bind up again", || engine.binds_up() == 2).await;
    for i in n..n + 50 {
        engine.try_dispatch(sms(i)).unwrap();
    }
    sink.wait_final((n + 50) as usize).await;
    assert_eq!(
        sink.count(|u| matches!(u, DeliveryUpdate::Submitted { .. })),
        (n + 50) as usize
    );
    engine.shutdown(Duration::from_secs(2)).await;
    quiet_task.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engine_closes_a_link_on_a_bad_header_and_keeps_the_other() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sink = sink();
    let mut cfg = smsc("scripted", listener.local_addr().unwrap());
    cfg.binds = 2;
    let engine = SmppEngine::start(vec![cfg], settings(), sink.clone()).unwrap();
    let mut broken = accept_bound(&listener).await;
    let quiet = accept_bound(&listener).await;
    let quiet_log = Arc::new(BindLog::default());
    let quiet_task = serve_bind(quiet, "q", 0, quiet_log.clone());
    eventually("both binds up", || engine.binds_up() == 2).await;

    broken.get_mut().write_all(&BAD_HEADER).await.unwrap();
    assert_closes(&mut broken).await;
    for i in 0..100 {
        engine.try_dispatch(sms(i)).unwrap();
    }
    sink.wait_final(100).await;
    assert_eq!(sink.submitted().len(), 100);
    assert_eq!(
        quiet_log.submits.load(Relaxed),
        100,
        "all went through the bind left"
    );
    assert_eq!(quiet_log.wrong_answers.load(Relaxed), 0);
    engine.shutdown(Duration::from_secs(2)).await;
    quiet_task.abort();
}

/// The flood is what it claims: no frame of it decodes.
#[test]
fn flood_frames_never_decode() {
    for seed in [0x5EED_0001, 0x5EED_0002] {
        let mut rng = Rng(seed);
        for seq in 0..FLOOD {
            let f = malformed(&mut rng, seq);
            assert!(
                otpgate_codec::decode_pdu(Bytes::from(f)).is_err(),
                "frame {seq} of seed {seed:x} decodes"
            );
        }
    }
}
