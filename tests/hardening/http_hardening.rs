//! Hostile clients of the HTTP front, over real TCP on loopback: clients that pipeline
//! requests and never read the answers, too many connections from one address, connections
//! that never go idle, headers that never end, `/metrics` behind its token; and callback URLs
//! (which may carry a receiver's token) kept out of the logs.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::support::logs::{install_log_capture, Buffer};
use crate::support::server::{test_config, Server, TOKEN};
use otpgate::config::{Config, HttpConfig};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// `[http]` from TOML, the way an operator writes it.
fn http(toml_text: &str) -> HttpConfig {
    toml::from_str(toml_text).unwrap_or_else(|e| panic!("[http] not accepted: {e}"))
}

/// A config whose `[http]` is `toml_text`.
fn config_with_http(toml_text: &str) -> Config {
    let mut c = test_config();
    c.http = http(toml_text);
    c
}

/// A TCP connection to `server` from the loopback address `from`.
async fn connect_from(from: [u8; 4], server: &str) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::new(IpAddr::from(from), 0)).unwrap();
    socket.connect(server.parse().unwrap()).await.unwrap()
}

fn addr_of(s: &Server) -> String {
    s.base.trim_start_matches("http://").to_owned()
}

/// Reads one HTTP/1.1 response (head, and a body of `content-length` bytes). `None` when the
/// server closes the connection (or fails it) before a whole response.
async fn read_response(s: &mut TcpStream) -> Option<(String, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        if buf.len() > 64 * 1024 || s.read(&mut byte).await.ok()? == 0 {
            return None;
        }
        buf.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&buf).to_ascii_lowercase();
    let len = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    s.read_exact(&mut body).await.ok()?;
    Some((head, body))
}

/// Whether the server closes `s` (EOF or reset) within `bound`, reading and discarding what
/// it sent before.
async fn closed_within(s: &mut TcpStream, bound: Duration) -> bool {
    let mut buf = vec![0u8; 64 * 1024];
    tokio::time::timeout(bound, async {
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => continue,
            }
        }
    })
    .await
    .is_ok()
}

/// `GET /healthz` on a fresh connection (no pooling), its latency; `None` when not answered
/// within `bound`.
async fn fresh_healthz(client: &reqwest::Client, base: &str, bound: Duration) -> Option<Duration> {
    let t = Instant::now();
    let res = tokio::time::timeout(bound, client.get(format!("{base}/healthz")).send()).await;
    match res {
        Ok(Ok(r)) if r.status() == 200 => Some(t.elapsed()),
        Ok(Ok(r)) => {
            println!("/healthz answered {}", r.status());
            None
        }
        Ok(Err(e)) => {
            let mut chain = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                chain.push_str(&format!(": {s}"));
                source = s.source();
            }
            println!("/healthz failed after {:?}: {chain}", t.elapsed());
            None
        }
        Err(_) => None,
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

const STALLED: usize = 6;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipelining_clients_that_never_read_do_not_hold_the_connection_slots() {
    install_log_capture();
    let c = config_with_http(&format!(
        "max_connections = {STALLED}\nidle_timeout_ms = 1500\nrequest_timeout_ms = 1000\n\
         header_read_timeout_ms = 1500\n"
    ));
    let s = Server::start(c).await;
    let addr = addr_of(&s);
    let fresh = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let mut before = Vec::new();
    for _ in 0..5 {
        let d = fresh_healthz(&fresh, &s.base, Duration::from_secs(10)).await;
        before.push(d.expect("answered before the attack"));
    }
    let baseline = median(before);

    // Each attacker pipelines requests for the largest reply the server has and never reads:
    // the server's writes fill the socket buffers and block. The client's small receive
    // buffer makes that happen sooner.
    // Enough of them to fill every buffer on the way (the server's send buffer grows to 4 MiB
    // on Linux): 32 MiB of answers per client.
    let doc = s.client.get(s.url("/openapi.json")).send().await.unwrap();
    let doc_len = doc.bytes().await.unwrap().len().max(1);
    let count = (32 << 20) / doc_len;
    println!("{count} pipelined requests of {doc_len}-byte answers per client");
    let req = b"GET /openapi.json HTTP/1.1\r\nHost: x\r\n\r\n".repeat(count);
    let mut readers = Vec::new();
    let mut writers = Vec::new();
    for _ in 0..STALLED {
        let socket = TcpSocket::new_v4().unwrap();
        socket.set_recv_buffer_size(4096).unwrap();
        let stream = socket.connect(addr.parse().unwrap()).await.unwrap();
        let (rd, mut wr) = stream.into_split();
        let req = req.clone();
        // Writes until the server stops reading; bounded by the request count.
        writers.push(tokio::spawn(async move {
            let _ = wr.write_all(&req).await;
            wr
        }));
        readers.push(rd);
    }
    // Every slot is now held by a client the server cannot write to: a fresh request waits.
    // Without write timeouts it waits for ever (the client gives up at the bound below).
    let during = fresh_healthz(&fresh, &s.base, Duration::from_secs(15)).await;
    assert!(
        during.is_some(),
        "a fresh /healthz was not answered while {STALLED} non-reading clients held the slots"
    );
    // The stalled connections were closed by the server: each reads to its end.
    for mut rd in readers {
        let drained = tokio::time::timeout(Duration::from_secs(15), async {
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                match rd.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) => continue,
                }
            }
        })
        .await;
        assert!(
            drained.is_ok(),
            "a non-reading client's connection stayed open"
        );
    }
    for w in writers {
        w.abort();
    }
    let mut after = Vec::new();
    for _ in 0..5 {
        let d = fresh_healthz(&fresh, &s.base, Duration::from_secs(10)).await;
        after.push(d.expect("answered after the attack"));
    }
    let after = median(after);
    println!("fresh /healthz: {baseline:?} before, {during:?} during, {after:?} after");
    assert!(
        after <= baseline.max(Duration::from_millis(5)) * 20,
        "fresh /healthz takes {after:?} after the attack, {baseline:?} before"
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_beyond_the_per_address_cap_are_refused_other_addresses_are_served() {
    install_log_capture();
    let s = Server::start(config_with_http(
        "max_connections_per_ip = 3\nheader_read_timeout_ms = 30000\n",
    ))
    .await;
    let addr = addr_of(&s);
    let request = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";

    // Three connections from 127.0.0.2 are served (and kept open).
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut c = connect_from([127, 0, 0, 2], &addr).await;
        c.write_all(request).await.unwrap();
        let (head, _) = read_response(&mut c).await.expect("served");
        assert!(head.starts_with("http/1.1 200"), "{head}");
        held.push(c);
    }
    // The fourth from the same address is closed without an answer.
    let mut extra = connect_from([127, 0, 0, 2], &addr).await;
    let _ = extra.write_all(request).await;
    let answer = tokio::time::timeout(Duration::from_secs(10), read_response(&mut extra))
        .await
        .expect("the extra connection neither answered nor closed");
    assert!(
        answer.is_none(),
        "a fourth connection from 127.0.0.2 was served: {answer:?}"
    );
    // Another address is served meanwhile.
    let mut other = connect_from([127, 0, 0, 3], &addr).await;
    other.write_all(request).await.unwrap();
    let (head, _) = read_response(&mut other).await.expect("127.0.0.3 served");
    assert!(head.starts_with("http/1.1 200"), "{head}");

    // Once one of 127.0.0.2's connections closes, it may open another (polled: the server
    // notices the close asynchronously).
    drop(held.pop());
    let mut served = false;
    for _ in 0..50 {
        let mut c = connect_from([127, 0, 0, 2], &addr).await;
        let _ = c.write_all(request).await;
        if let Some((head, _)) = read_response(&mut c).await {
            served = head.starts_with("http/1.1 200");
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        served,
        "127.0.0.2 stayed refused after closing a connection"
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_keep_alive_connection_is_closed_once_it_reaches_its_max_age() {
    install_log_capture();
    let s = Server::start(config_with_http("max_connection_age_ms = 1000\n")).await;
    let mut c = TcpStream::connect(addr_of(&s)).await.unwrap();
    // One request every 100 ms: only the age limit can close it (between two requests it is
    // closed at once, during one after its answer, which then says `connection: close`). Up
    // to 5 s (the bug: it stays open for ever).
    let started = Instant::now();
    let mut requests = 0;
    let mut closed = false;
    while started.elapsed() < Duration::from_secs(5) {
        let sent = c
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            .await;
        let answer = match sent {
            Ok(()) => read_response(&mut c).await,
            Err(_) => None,
        };
        let Some((head, _)) = answer else {
            closed = true;
            break;
        };
        requests += 1;
        if head.contains("connection: close") {
            closed = closed_within(&mut c, Duration::from_secs(5)).await;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        requests > 1,
        "the connection was closed before it was old: {requests} requests"
    );
    assert!(
        closed,
        "a connection 1 s old answered {requests} requests over {:?} without closing",
        started.elapsed()
    );
    s.stop().await;
}

/// Sends the start of a request header, then a header line every 200 ms for up to `for_at_most`
/// (never the end of the header): how long until the server closed the connection, `None`
/// when it did not within that.
async fn trickle_header(c: &mut TcpStream, for_at_most: Duration) -> Option<Duration> {
    let started = Instant::now();
    if c.write_all(b"POST /otp HTTP/1.1\r\nHost: x\r\n")
        .await
        .is_err()
    {
        return Some(started.elapsed());
    }
    let mut n = 0u32;
    while started.elapsed() < for_at_most {
        if closed_within(c, Duration::from_millis(200)).await {
            return Some(started.elapsed());
        }
        n += 1;
        if c.write_all(format!("X-Trickle-{n}: 1\r\n").as_bytes())
            .await
            .is_err()
        {
            return Some(started.elapsed());
        }
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_header_that_never_ends_is_closed_after_the_header_timeout() {
    install_log_capture();
    let s = Server::start(config_with_http("header_read_timeout_ms = 1000\n")).await;
    // the timeout runs from the connection's start, or from the end of its last request
    // (keep-alive): told to close between 1 s and a quarter more, cut a quarter later as its
    // header never ends (1.25-1.5 s), with slack for a loaded machine; not long before (each
    // line written is progress a read timeout would count)
    let mut fresh = TcpStream::connect(addr_of(&s)).await.unwrap();
    let closed = trickle_header(&mut fresh, Duration::from_secs(6)).await;
    println!("a trickled header on a new connection: closed after {closed:?}");
    assert!(
        closed.is_some_and(|d| d >= Duration::from_millis(900)),
        "a trickled header on a new connection: closed after {closed:?}"
    );
    let mut kept = TcpStream::connect(addr_of(&s)).await.unwrap();
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    assert!(read_response(&mut kept).await.is_some(), "healthz answered");
    let closed = trickle_header(&mut kept, Duration::from_secs(6)).await;
    println!("a trickled header after a keep-alive request: closed after {closed:?}");
    assert!(
        closed.is_some_and(|d| d >= Duration::from_millis(900)),
        "a trickled header after a keep-alive request: closed after {closed:?}"
    );
    s.stop().await;
}

const METRICS_TOKEN: &str = "metrics-scrape-token-0001";

#[tokio::test]
async fn metrics_needs_its_token_when_one_is_set() {
    install_log_capture();
    let s = Server::start(config_with_http(&format!(
        "metrics_token = \"{METRICS_TOKEN}\"\n"
    )))
    .await;
    let get = |token: Option<&str>| {
        let req = s.client.get(s.url("/metrics"));
        match token {
            Some(t) => req.bearer_auth(t),
            None => req,
        }
    };
    for (label, token) in [
        ("no token", None),
        ("a tenant's token", Some(TOKEN)),
        ("a wrong token", Some("metrics-scrape-token-0002")),
    ] {
        let res = get(token).send().await.unwrap();
        assert_eq!(res.status(), 401, "/metrics with {label}");
        let body: Value = res.json().await.unwrap();
        let (kind, _) = crate::support::server::error_of(&body);
        assert!(!kind.is_empty(), "{body}");
    }
    let res = get(Some(METRICS_TOKEN)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("otpgate_"));
    // The rest of the API is not affected.
    let res = s.client.get(s.url("/healthz")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    s.stop().await;
}

/// Runs the front (no metrics token) on `listener` until it has logged that it listens, then
/// stops it; returns the status of a `GET /metrics` without a token meanwhile.
async fn metrics_status_on(listener: tokio::net::TcpListener) -> u16 {
    let port = listener.local_addr().unwrap().port();
    let config = test_config();
    let prepared = otpgate::app::prepare(&config);
    let dispatcher: Arc<dyn otpgate::dispatch::Dispatcher> =
        Arc::new(crate::support::server::RecordingDispatcher::default());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        otpgate::serve::run_front(&config, listener, prepared, dispatcher, async move {
            let _ = rx.await;
        })
        .await
        .unwrap();
    });
    let res = reqwest::get(format!("http://127.0.0.1:{port}/metrics"))
        .await
        .unwrap();
    let _ = tx.send(());
    server.await.unwrap();
    res.status().as_u16()
}

#[tokio::test]
async fn an_open_metrics_endpoint_on_a_public_address_is_warned_about() {
    install_log_capture();
    let public = Buffer::default();
    {
        let _guard = public.capture();
        let listener = tokio::net::TcpListener::bind("0.0.0.0:0").await.unwrap();
        assert_eq!(metrics_status_on(listener).await, 200);
    }
    let loopback = Buffer::default();
    {
        let _guard = loopback.capture();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        // The quick start: loopback, no token, /metrics open and no warning.
        assert_eq!(metrics_status_on(listener).await, 200);
    }
    let (public, loopback) = (public.text(), loopback.text());
    assert!(public.contains("HTTP API listening"), "{public}");
    assert!(
        public.contains("metrics_token"),
        "no warning about an open /metrics on 0.0.0.0: {public}"
    );
    assert!(loopback.contains("HTTP API listening"), "{loopback}");
    assert!(!loopback.contains("metrics_token"), "{loopback}");
}

#[tokio::test]
async fn a_failing_callback_logs_its_host_never_its_path_or_query() {
    install_log_capture();
    let logs = Buffer::default();
    let _guard = logs.capture();
    // A port nothing listens on: every attempt fails to connect.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let mut c = test_config();
    c.callbacks.max_retries = 1;
    c.callbacks.retry_base_ms = 10;
    c.callbacks.retry_max_ms = 20;
    let s = Server::start(c).await;
    let url = format!("http://127.0.0.1:{port}/hook?token=SECRET123");
    let (status, body) = s
        .create(json!({"phoneNumber": "+33612340077", "otpCallbackUrl": url}))
        .await;
    assert_eq!(status, 201, "{body}");
    let id = body["otpId"].as_str().unwrap().to_owned();
    assert_eq!(s.cancel(&id).await, 200);
    let mut dropped = false;
    for _ in 0..200 {
        if logs.text().contains("callback dropped after its retries") {
            dropped = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    s.stop().await;
    let text = logs.text();
    assert!(dropped, "the callback was not given up: {text}");
    assert!(text.contains("callback failed; retrying"), "{text}");
    for line in text.lines().filter(|l| l.contains("callback")) {
        assert!(!line.contains("SECRET123"), "callback query logged: {line}");
        assert!(!line.contains("/hook"), "callback path logged: {line}");
    }
    assert!(!text.contains("SECRET123"), "callback query logged");
    // The cause is still there.
    assert!(text.contains("Connection refused"), "{text}");
}
