//! SMPP load: binds straight to an SMSC and sends submit_sm as fast as a window of W allows
//! (or at a rate), measuring submit-to-resp latency; answers receipts and counts their states.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use futures::{FutureExt, SinkExt, StreamExt};
use otpgate_codec::framing::{Frame, SmppCodec};
use otpgate_codec::pdu::{
    Address, Bind, Body, DeliverSmResp, Pdu, ShortMessage, SubmitSm, TlvList,
};
use tokio::net::TcpStream;
use tokio_util::codec::Framed;

use super::report::{Recorder, Report};
use super::target::loopback_addr;
use super::{Bounds, LoadError};

/// An SMPP load run.
#[derive(Clone, Debug)]
pub struct SmppLoad {
    pub addr: SocketAddr,
    pub system_id: String,
    pub password: String,
    /// submit_sm outstanding per bind.
    pub window: usize,
    pub binds: usize,
    /// submit_sm per second in all; `None`: as fast as the window allows.
    pub rate: Option<f64>,
    pub bounds: Bounds,
    /// Ask for receipts (registered_delivery 1) and wait up to this long for them at the end.
    pub receipts: Option<Duration>,
    pub text: String,
    pub dest_prefix: String,
    pub resp_timeout: Duration,
}

#[derive(Default)]
struct BindResult {
    rec: Recorder,
    receipts: BTreeMap<String, u64>,
}

pub async fn run(cfg: SmppLoad) -> Result<Report, LoadError> {
    cfg.bounds.check()?;
    loopback_addr(cfg.addr)?;
    let binds = cfg.binds.max(1) as u64;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for b in 0..binds {
        let quota = cfg.bounds.requests / binds + u64::from(b < cfg.bounds.requests % binds);
        let cfg = cfg.clone();
        tasks.push(tokio::spawn(
            async move { one_bind(cfg, quota, binds).await },
        ));
    }
    let mut rec = Recorder::new();
    let mut extra = BTreeMap::new();
    for t in tasks {
        let r = t
            .await
            .map_err(|e| LoadError::Smpp(format!("bind task failed: {e}")))??;
        rec.merge(&r.rec);
        for (k, v) in r.receipts {
            *extra.entry(format!("receipt_{k}")).or_default() += v;
        }
    }
    let elapsed = started.elapsed();
    Ok(Report {
        mode: "smpp".into(),
        target: cfg.addr.to_string(),
        main: rec.summary(elapsed),
        verify: None,
        extra,
        smsc: None,
    })
}

async fn one_bind(cfg: SmppLoad, quota: u64, binds: u64) -> Result<BindResult, LoadError> {
    let err = |e: &dyn std::fmt::Display| LoadError::Smpp(e.to_string());
    let stream = TcpStream::connect(cfg.addr).await.map_err(|e| err(&e))?;
    let _ = stream.set_nodelay(true);
    let mut framed = Framed::new(stream, SmppCodec::default());
    let bind = Bind {
        system_id: cfg.system_id.as_str().into(),
        password: cfg.password.as_str().into(),
        interface_version: 0x34,
        ..Default::default()
    };
    framed
        .send(Pdu::new(1, Body::BindTransceiver(bind)))
        .await
        .map_err(|e| err(&e))?;
    match tokio::time::timeout(cfg.resp_timeout, framed.next()).await {
        Ok(Some(Ok(Frame::Pdu(p)))) if p.command_status.is_ok() => {}
        Ok(Some(Ok(Frame::Pdu(p)))) => {
            return Err(LoadError::Smpp(format!(
                "bind refused: {}",
                p.command_status
            )))
        }
        _ => return Err(LoadError::Smpp("no bind_transceiver_resp".into())),
    }
    let template = SubmitSm {
        source: Address {
            ton: 5,
            npi: 0,
            addr: "LoadTest".into(),
        },
        registered_delivery: u8::from(cfg.receipts.is_some()),
        short_message: ShortMessage::try_from(cfg.text.as_str()).map_err(|e| {
            LoadError::Smpp(format!("the load text does not fit short_message: {e}"))
        })?,
        ..Default::default()
    };
    let dests: Vec<Address> = (0..1000)
        .map(|i| Address {
            ton: 1,
            npi: 1,
            addr: format!("{}{i:03}", cfg.dest_prefix).into(),
        })
        .collect();
    let mut out = BindResult::default();
    let mut inflight: HashMap<u32, Instant> = HashMap::with_capacity(cfg.window);
    let window = cfg.window.max(1);
    let interval = cfg
        .rate
        .map(|r| Duration::from_secs_f64(binds as f64 / r.max(0.001)));
    let started = Instant::now();
    let deadline = started + cfg.bounds.duration;
    let mut sent = 0u64;
    let mut seq = 1u32;
    let mut receipts_expected = 0u64;
    let mut receipts_got = 0u64;
    let mut last_progress = Instant::now();
    let mut receipt_deadline: Option<Instant> = None;
    loop {
        let sending = sent < quota && Instant::now() < deadline;
        if sending && inflight.len() < window {
            while inflight.len() < window && sent < quota {
                if next_due_at(interval, started, sent).is_some_and(|d| d > Instant::now()) {
                    break;
                }
                seq = if seq >= 0x7FFF_FFFF { 2 } else { seq + 1 };
                let mut sm = template.clone();
                if let Some(d) = dests.get((sent % 1000) as usize) {
                    sm.destination = d.clone();
                }
                framed
                    .feed(Pdu::new(seq, Body::SubmitSm(sm)))
                    .await
                    .map_err(|e| err(&e))?;
                if inflight.is_empty() {
                    last_progress = Instant::now();
                }
                inflight.insert(seq, Instant::now());
                sent += 1;
            }
            SinkExt::<Pdu>::flush(&mut framed)
                .await
                .map_err(|e| err(&e))?;
        }
        let drained = !sending && inflight.is_empty();
        if drained {
            let wait = cfg.receipts.unwrap_or_default();
            let until = *receipt_deadline.get_or_insert_with(|| Instant::now() + wait);
            if receipts_got >= receipts_expected || Instant::now() >= until {
                break;
            }
        }
        let wake = if drained {
            receipt_deadline.unwrap_or_else(Instant::now)
        } else if inflight.is_empty() {
            next_due_at(interval, started, sent).unwrap_or_else(Instant::now)
        } else if sending && inflight.len() < window {
            next_due_at(interval, started, sent)
                .unwrap_or_else(Instant::now)
                .min(last_progress + cfg.resp_timeout)
        } else {
            last_progress + cfg.resp_timeout
        };
        let first = tokio::select! {
            f = framed.next() => f,
            _ = tokio::time::sleep_until(wake.into()) => {
                if !inflight.is_empty() && last_progress.elapsed() >= cfg.resp_timeout {
                    for _ in inflight.drain() {
                        out.rec.count("timeout", false);
                    }
                    break;
                }
                continue;
            }
        };
        last_progress = Instant::now();
        let mut next = Some(first);
        while let Some(f) = next {
            match f {
                Some(Ok(Frame::Pdu(p))) => {
                    let got = handle(
                        &mut framed,
                        p,
                        &mut inflight,
                        &mut out,
                        cfg.receipts.is_some(),
                    )
                    .await?;
                    receipts_expected += got.0;
                    receipts_got += got.1;
                }
                Some(Ok(Frame::Invalid(i))) => out
                    .rec
                    .count(&format!("invalid:{}", i.command_status()), false),
                Some(Err(e)) => return Err(err(&e)),
                None => return Err(LoadError::Smpp("SMSC closed the link".into())),
            }
            next = framed.next().now_or_never();
        }
        SinkExt::<Pdu>::flush(&mut framed)
            .await
            .map_err(|e| err(&e))?;
    }
    let _ = framed
        .send(Pdu::new(seq.wrapping_add(1).max(2), Body::Unbind))
        .await;
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        while let Some(Ok(Frame::Pdu(p))) = framed.next().await {
            if p.body == Body::UnbindResp {
                return;
            }
        }
    })
    .await;
    Ok(out)
}

async fn handle(
    framed: &mut Framed<TcpStream, SmppCodec>,
    p: Pdu,
    inflight: &mut HashMap<u32, Instant>,
    out: &mut BindResult,
    want_receipts: bool,
) -> Result<(u64, u64), LoadError> {
    let (mut expected, mut got) = (0, 0);
    match p.body {
        Body::SubmitSmResp(_) | Body::GenericNack => {
            if let Some(t0) = inflight.remove(&p.sequence_number) {
                let status = p.command_status;
                let label = status
                    .name()
                    .map_or_else(|| status.to_string(), str::to_owned);
                out.rec.record(t0.elapsed(), &label, status.is_ok());
                if status.is_ok() && want_receipts {
                    expected += 1;
                }
            }
        }
        Body::DeliverSm(d) => {
            got += 1;
            let state = d
                .tlvs
                .message_state()
                .map(|s| format!("state_{s}"))
                .or_else(|| {
                    let t = String::from_utf8_lossy(&d.short_message).into_owned();
                    t.split_once("stat:")
                        .map(|(_, r)| r.chars().take(7).collect::<String>())
                })
                .unwrap_or_else(|| "unknown".into());
            *out.receipts.entry(state).or_default() += 1;
            framed
                .feed(Pdu::new(
                    p.sequence_number,
                    Body::DeliverSmResp(DeliverSmResp::default()),
                ))
                .await
                .map_err(|e| LoadError::Smpp(e.to_string()))?;
        }
        Body::EnquireLink => {
            framed
                .feed(Pdu::new(p.sequence_number, Body::EnquireLinkResp))
                .await
                .map_err(|e| LoadError::Smpp(e.to_string()))?;
        }
        Body::Unbind => {
            let _ = framed
                .send(Pdu::new(p.sequence_number, Body::UnbindResp))
                .await;
            return Err(LoadError::Smpp("SMSC unbound".into()));
        }
        _ => {}
    }
    Ok((expected, got))
}

fn next_due_at(interval: Option<Duration>, started: Instant, sent: u64) -> Option<Instant> {
    interval.map(|i| started + i.mul_f64(sent as f64))
}
