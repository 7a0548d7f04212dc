//! `bare-gateway`: the least an HTTP-to-SMPP gateway can do for a message, as a floor for the
//! benchmark. Each `POST` body is parsed as JSON and answered back (as `echo-server` does) once
//! a `submit_sm` to its `phoneNumber` is queued for the one transceiver bind; the bind sends
//! them with a window, answers receipts and enquire_links. No routing, authentication, PIN,
//! store, validation, text encoding or metrics: what hyper, tokio and the SMPP codec alone cost
//! for the wire exchange otpgate makes per OTP. Answers 503 when its queue (10 000) is full, 400
//! for a body that is not JSON or has no `phoneNumber`. Prints `listening on ADDR` once bound.

use std::collections::HashSet;
use std::convert::Infallible;
use std::io::Write;
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use bytes::Bytes;
use clap::Parser;
use futures::{FutureExt, SinkExt, StreamExt};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{header, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use otpgate_codec::framing::{Frame, SmppCodec};
use otpgate_codec::pdu::{Address, Bind, Body, DeliverSmResp, Pdu, ShortMessage, SubmitSm};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_util::codec::Framed;

#[derive(Parser, Debug, Clone)]
#[command(
    name = "bare-gateway",
    version,
    about = "Bare HTTP-to-SMPP gateway: the benchmark's floor"
)]
struct Args {
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// The SMSC (loopback only).
    #[arg(long)]
    smsc: SocketAddr,
    #[arg(long, default_value = "test")]
    system_id: String,
    #[arg(long, default_value = "secret")]
    password: String,
    #[arg(long, default_value_t = 64)]
    window: usize,
    #[arg(long, default_value_t = 16384)]
    body_limit: usize,
    /// Run the bind on a thread of its own (as otpgate's engine) instead of the HTTP runtime.
    #[arg(long)]
    bind_thread: bool,
}

/// Messages waiting for the bind, at most this many.
const QUEUE: usize = 10_000;
/// The text of every message: an OTP's length.
const TEXT: &str = "Your code is 123456. It expires in 5 minutes.";

fn reply(status: StatusCode, body: Bytes) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(body));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    r
}

async fn accept(
    req: Request<Incoming>,
    limit: usize,
    queue: mpsc::Sender<String>,
) -> Response<Full<Bytes>> {
    let Ok(body) = Limited::new(req.into_body(), limit).collect().await else {
        return reply(
            StatusCode::PAYLOAD_TOO_LARGE,
            Bytes::from_static(br#"{"error":"body too large"}"#),
        );
    };
    let body = body.to_bytes();
    let parsed = serde_json::from_slice::<serde_json::Value>(&body).ok();
    let phone = parsed
        .as_ref()
        .and_then(|v| v.get("phoneNumber"))
        .and_then(|p| p.as_str())
        .map(|p| p.trim_start_matches('+').to_owned());
    let (Some(value), Some(phone)) = (parsed, phone) else {
        return reply(
            StatusCode::BAD_REQUEST,
            Bytes::from_static(br#"{"error":"no phoneNumber"}"#),
        );
    };
    if queue.try_send(phone).is_err() {
        return reply(
            StatusCode::SERVICE_UNAVAILABLE,
            Bytes::from_static(br#"{"error":"queue full"}"#),
        );
    }
    match serde_json::to_vec(&value) {
        Ok(out) => reply(StatusCode::CREATED, Bytes::from(out)),
        Err(_) => reply(StatusCode::INTERNAL_SERVER_ERROR, Bytes::new()),
    }
}

/// One transceiver bind: sends what the queue holds within the window, one flush per pass.
async fn bind(args: &Args, mut queue: mpsc::Receiver<String>) -> Result<()> {
    let stream = TcpStream::connect(args.smsc)
        .await
        .with_context(|| format!("connecting to {}", args.smsc))?;
    let _ = stream.set_nodelay(true);
    let mut framed = Framed::new(stream, SmppCodec::default());
    let request = Bind {
        system_id: args.system_id.as_str().into(),
        password: args.password.as_str().into(),
        interface_version: 0x34,
        ..Default::default()
    };
    framed
        .send(Pdu::new(1, Body::BindTransceiver(request)))
        .await?;
    match tokio::time::timeout(Duration::from_secs(5), framed.next()).await {
        Ok(Some(Ok(Frame::Pdu(p)))) if p.command_status.is_ok() => {}
        _ => bail!("the SMSC refused or did not answer the bind"),
    }
    let template = SubmitSm {
        source: Address {
            ton: 5,
            npi: 0,
            addr: "Bare".into(),
        },
        registered_delivery: 1,
        short_message: ShortMessage::try_from(TEXT)?,
        ..Default::default()
    };
    let window = args.window.max(1);
    let mut inflight: HashSet<u32> = HashSet::with_capacity(window);
    let mut seq = 1u32;
    let mut open = true;
    loop {
        tokio::select! {
            phone = queue.recv(), if open && inflight.len() < window => {
                let mut next = phone;
                while let Some(phone) = next {
                    seq = if seq >= 0x7FFF_FFFF { 2 } else { seq + 1 };
                    let mut sm = template.clone();
                    sm.destination = Address { ton: 1, npi: 1, addr: phone.as_str().into() };
                    framed.feed(Pdu::new(seq, Body::SubmitSm(sm))).await?;
                    inflight.insert(seq);
                    next = if inflight.len() < window { queue.try_recv().ok() } else { None };
                }
                if queue.is_closed() && queue.is_empty() {
                    open = false;
                }
            }
            frame = framed.next() => {
                let mut next = Some(frame);
                while let Some(frame) = next {
                    match frame {
                        Some(Ok(Frame::Pdu(p))) => answer(&mut framed, p, &mut inflight).await?,
                        Some(Ok(Frame::Invalid(i))) => eprintln!("bare-gateway: invalid PDU {}", i.command_status()),
                        Some(Err(e)) => return Err(e.into()),
                        None => bail!("the SMSC closed the bind"),
                    }
                    next = framed.next().now_or_never();
                }
            }
        }
        SinkExt::<Pdu>::flush(&mut framed).await?;
    }
}

async fn answer(
    framed: &mut Framed<TcpStream, SmppCodec>,
    p: Pdu,
    inflight: &mut HashSet<u32>,
) -> Result<()> {
    match p.body {
        Body::SubmitSmResp(_) | Body::GenericNack => {
            inflight.remove(&p.sequence_number);
        }
        Body::DeliverSm(_) => {
            let resp = Body::DeliverSmResp(DeliverSmResp::default());
            framed.feed(Pdu::new(p.sequence_number, resp)).await?;
        }
        Body::EnquireLink => {
            framed
                .feed(Pdu::new(p.sequence_number, Body::EnquireLinkResp))
                .await?;
        }
        Body::Unbind => bail!("the SMSC unbound"),
        _ => {}
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    if !args.listen.ip().is_loopback() || !args.smsc.ip().is_loopback() {
        bail!("bare-gateway runs on loopback only");
    }
    let (tx, rx) = mpsc::channel(QUEUE);
    let listener = TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    let addr = listener.local_addr()?;
    let limit = args.body_limit;
    let bind_task = {
        let args = args.clone();
        if args.bind_thread {
            let (done, ended) = tokio::sync::oneshot::channel();
            std::thread::Builder::new()
                .name("bare-bind".into())
                .spawn(move || {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build();
                    let result = match runtime {
                        Ok(rt) => rt.block_on(bind(&args, rx)),
                        Err(e) => Err(e.into()),
                    };
                    let _ = done.send(result);
                })?;
            tokio::spawn(async move {
                ended
                    .await
                    .unwrap_or_else(|_| bail!("the bind thread ended"))
            })
        } else {
            tokio::spawn(async move { bind(&args, rx).await })
        }
    };
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on {addr}")?;
        out.flush()?;
    }
    tokio::pin!(bind_task);
    loop {
        let stream = tokio::select! {
            _ = tokio::signal::ctrl_c() => return Ok(()),
            ended = &mut bind_task => {
                return match ended {
                    Ok(r) => r.context("the bind ended"),
                    Err(e) => Err(e.into()),
                };
            }
            a = listener.accept() => match a {
                Ok((s, _)) => s,
                Err(e) => {
                    eprintln!("bare-gateway: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let queue = tx.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| {
                let queue = queue.clone();
                async move { Ok::<_, Infallible>(accept(req, limit, queue).await) }
            });
            let _ = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(Duration::from_secs(10))
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
