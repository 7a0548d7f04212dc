//! `echo-server`: a bare hyper HTTP/1.1 server that parses each request body as JSON and answers
//! it back (200, `application/json`); 400 for a body that is not JSON, 413 beyond the body limit.
//! It is the ceiling of the HTTP layer in the benchmark: what hyper plus serde_json alone do on
//! this machine, with no routing, auth, OTP logic or SMPP. Prints `listening on ADDR` once bound.

use std::convert::Infallible;
use std::io::Write;
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use bytes::Bytes;
use clap::Parser;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{header, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;

#[derive(Parser, Debug)]
#[command(name = "echo-server", version, about = "Bare hyper JSON echo server")]
struct Args {
    /// Listen address (loopback only); port 0 picks a free port.
    #[arg(long, env = "ECHO_SERVER_LISTEN", default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Largest request body accepted, in bytes.
    #[arg(long, default_value_t = 16384)]
    body_limit: usize,
}

fn reply(status: StatusCode, body: Bytes) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(body));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    r
}

async fn echo(req: Request<Incoming>, limit: usize) -> Response<Full<Bytes>> {
    let body = match Limited::new(req.into_body(), limit).collect().await {
        Ok(c) => c.to_bytes(),
        Err(_) => {
            return reply(
                StatusCode::PAYLOAD_TOO_LARGE,
                Bytes::from_static(br#"{"error":"body too large"}"#),
            )
        }
    };
    match serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| serde_json::to_vec(&v).ok())
    {
        Some(out) => reply(StatusCode::OK, Bytes::from(out)),
        None => reply(
            StatusCode::BAD_REQUEST,
            Bytes::from_static(br#"{"error":"body is not JSON"}"#),
        ),
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    if !args.listen.ip().is_loopback() {
        bail!("{} is not a loopback address", args.listen);
    }
    let listener = TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    let addr = listener.local_addr()?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on {addr}")?;
        out.flush()?;
    }
    let limit = args.body_limit;
    loop {
        let stream = tokio::select! {
            _ = tokio::signal::ctrl_c() => return Ok(()),
            a = listener.accept() => match a {
                Ok((s, _)) => s,
                Err(e) => {
                    eprintln!("echo-server: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            let service =
                service_fn(move |req| async move { Ok::<_, Infallible>(echo(req, limit).await) });
            let _ = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(Duration::from_secs(10))
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
