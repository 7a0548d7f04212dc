//! Hostile clients of HTTP/2 and of TLS, bounded like slow HTTP/1.1 clients: streams beyond
//! `http2_max_concurrent_streams` are refused, an HTTP/2 connection that never completes a
//! request is closed after `header_read_timeout_ms` (even one that keeps pinging), a TLS
//! client that never finishes its handshake is closed at `tls_handshake_timeout_ms` and holds
//! its connection slot no longer. Raw frames over real TCP, so that the client does not
//! politely keep to the limits.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use crate::support::server::{test_config, Server, TOKEN};
use crate::support::tls::TestPki;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
const DATA: u8 = 0x0;
const HEADERS: u8 = 0x1;
const RST_STREAM: u8 = 0x3;
const SETTINGS: u8 = 0x4;
const PING: u8 = 0x6;
const GOAWAY: u8 = 0x7;
const END_STREAM: u8 = 0x1;
const ACK: u8 = 0x1;
const END_HEADERS: u8 = 0x4;
const SETTINGS_MAX_CONCURRENT_STREAMS: u16 = 0x3;
const REFUSED_STREAM: u32 = 0x7;
const CANCEL: u32 = 0x8;
/// Far above every timeout these tests configure: only a hang guard.
const GUARD: Duration = Duration::from_secs(20);

fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let len = u32::try_from(payload.len()).unwrap().to_be_bytes();
    let mut f = vec![len[1], len[2], len[3], kind, flags];
    f.extend_from_slice(&stream.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// A header block (HPACK, literals without Huffman coding) of `method` (`POST` or `GET`) on
/// `path`, with the test tenant's token.
fn request_block(method: &str, path: &str) -> Vec<u8> {
    let mut b = vec![if method == "POST" { 0x83 } else { 0x82 }, 0x86];
    let mut literal = |index: &[u8], value: &str| {
        b.extend_from_slice(index);
        b.push(u8::try_from(value.len()).unwrap());
        b.extend_from_slice(value.as_bytes());
    };
    literal(&[0x04], path);
    literal(&[0x01], "x");
    literal(&[0x0f, 0x10], "application/json");
    literal(&[0x0f, 0x08], &format!("Bearer {TOKEN}"));
    b
}

struct Frame {
    kind: u8,
    flags: u8,
    stream: u32,
    payload: Vec<u8>,
}

/// The next frame; `None` when the connection ends (or nothing comes within the guard).
async fn read_frame(s: &mut TcpStream) -> Option<Frame> {
    let mut head = [0u8; 9];
    tokio::time::timeout(GUARD, s.read_exact(&mut head))
        .await
        .ok()?
        .ok()?;
    let len = usize::from(head[0]) << 16 | usize::from(head[1]) << 8 | usize::from(head[2]);
    let mut payload = vec![0u8; len];
    s.read_exact(&mut payload).await.ok()?;
    let stream = u32::from_be_bytes([head[5], head[6], head[7], head[8]]) & 0x7fff_ffff;
    Some(Frame {
        kind: head[3],
        flags: head[4],
        stream,
        payload,
    })
}

/// Connects with prior knowledge and exchanges SETTINGS; returns the connection and the
/// server's advertised stream limit.
async fn h2c(addr: &str) -> (TcpStream, Option<u32>) {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(PREFACE).await.unwrap();
    s.write_all(&frame(SETTINGS, 0, 0, &[])).await.unwrap();
    loop {
        let f = read_frame(&mut s).await.expect("the server's SETTINGS");
        if f.kind == SETTINGS && f.flags & ACK == 0 {
            let limit = f.payload.chunks_exact(6).find_map(|p| {
                (u16::from_be_bytes([p[0], p[1]]) == SETTINGS_MAX_CONCURRENT_STREAMS)
                    .then(|| u32::from_be_bytes([p[2], p[3], p[4], p[5]]))
            });
            s.write_all(&frame(SETTINGS, ACK, 0, &[])).await.unwrap();
            return (s, limit);
        }
    }
}

fn addr_of(s: &Server) -> String {
    s.base
        .trim_start_matches("http://")
        .trim_start_matches("https://")
        .to_owned()
}

fn config(http: &str) -> otpgate::config::Config {
    let mut c = test_config();
    c.http = toml::from_str(http).unwrap();
    c
}

#[tokio::test]
async fn http2_streams_beyond_the_limit_are_refused_and_freed_ones_serve_again() {
    let s = Server::start(config(
        "http2_max_concurrent_streams = 4\nrequest_timeout_ms = 10000\nidle_timeout_ms = 30000\n",
    ))
    .await;
    let (mut conn, limit) = h2c(&addr_of(&s)).await;
    assert_eq!(limit, Some(4));
    // Six creates whose bodies never come: each holds its stream open.
    let streams = [1u32, 3, 5, 7, 9, 11];
    for id in streams {
        let block = request_block("POST", "/otp");
        conn.write_all(&frame(HEADERS, END_HEADERS, id, &block))
            .await
            .unwrap();
    }
    let mut refused = Vec::new();
    while refused.len() < 2 {
        let f = read_frame(&mut conn)
            .await
            .expect("refusals before the end");
        assert_ne!(f.kind, GOAWAY, "the connection was given up instead");
        if f.kind == RST_STREAM {
            let code = u32::from_be_bytes(f.payload[..4].try_into().unwrap());
            assert_eq!(code, REFUSED_STREAM, "stream {}", f.stream);
            refused.push(f.stream);
        }
        assert!(
            f.kind != HEADERS,
            "answered stream {} before its body",
            f.stream
        );
    }
    assert_eq!(refused, vec![9, 11]);

    // Cancelled, the four held streams make room: a new request is answered.
    for id in &streams[..4] {
        conn.write_all(&frame(RST_STREAM, 0, *id, &CANCEL.to_be_bytes()))
            .await
            .unwrap();
    }
    let block = request_block("GET", "/healthz");
    conn.write_all(&frame(HEADERS, END_HEADERS | END_STREAM, 13, &block))
        .await
        .unwrap();
    loop {
        let f = read_frame(&mut conn).await.expect("an answer on stream 13");
        if f.kind == HEADERS && f.stream == 13 {
            // `:status: 200` is entry 8 of the HPACK static table.
            assert_eq!(f.payload.first(), Some(&0x88));
            break;
        }
        assert!(f.kind != RST_STREAM || f.stream != 13, "stream 13 refused");
    }
    s.stop().await;
}

#[tokio::test]
async fn an_http2_connection_without_a_request_is_closed_even_when_it_pings() {
    let s = Server::start(config(
        "header_read_timeout_ms = 1000\nrequest_timeout_ms = 5000\nidle_timeout_ms = 60000\n",
    ))
    .await;
    let addr = addr_of(&s);
    // A busy connection: a request every 200 ms for three header timeouts stays open.
    let (mut busy, _) = h2c(&addr).await;
    let mut id = 1u32;
    for _ in 0..15 {
        let block = request_block("GET", "/healthz");
        busy.write_all(&frame(HEADERS, END_HEADERS | END_STREAM, id, &block))
            .await
            .unwrap();
        loop {
            let f = read_frame(&mut busy)
                .await
                .expect("the busy connection open");
            assert_ne!(f.kind, GOAWAY, "a busy connection was closed");
            if f.stream == id && f.flags & END_STREAM != 0 && (f.kind == DATA || f.kind == HEADERS)
            {
                break;
            }
        }
        id += 2;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // An idle one that keeps the socket alive with pings (progress for `idle_timeout_ms`).
    let (conn, _) = h2c(&addr).await;
    let (mut rx, mut tx) = conn.into_split();
    let pinger = tokio::spawn(async move {
        for _ in 0..200 {
            if tx.write_all(&frame(PING, 0, 0, &[0u8; 8])).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    let mut buf = vec![0u8; 16 * 1024];
    let closed = tokio::time::timeout(GUARD, async {
        loop {
            match rx.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
    pinger.abort();
    assert!(
        closed.is_ok(),
        "a pinging connection without requests stayed open"
    );
    s.stop().await;
}

fn tls_config(pki: &TestPki) -> otpgate::config::Config {
    let mut c = config(
        "tls_handshake_timeout_ms = 1000\nheader_read_timeout_ms = 30000\n\
         request_timeout_ms = 10000\nidle_timeout_ms = 60000\nmax_connections_per_ip = 1\n",
    );
    c.http.tls_cert = Some(pki.cert.clone());
    c.http.tls_key = Some(pki.key.clone());
    c
}

/// Whether the server ends `s` within the guard, reading and discarding what it sends.
async fn closed(s: &mut tokio::net::tcp::OwnedReadHalf) -> bool {
    let mut buf = vec![0u8; 16 * 1024];
    tokio::time::timeout(GUARD, async {
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await
    .is_ok()
}

/// A TCP connection to `addr` from 127.0.0.`last`.
async fn connect_from(last: u8, addr: &str) -> TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket
        .bind(SocketAddr::new(IpAddr::from([127, 0, 0, last]), 0))
        .unwrap();
    socket.connect(addr.parse().unwrap()).await.unwrap()
}

fn handshake_timeouts() -> u64 {
    otpgate::telemetry::render()
        .lines()
        .find(|l| l.starts_with("otpgate_http_tls_handshake_failures_total{reason=\"timeout\"}"))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

#[tokio::test]
async fn tls_handshakes_that_never_finish_are_closed_and_free_their_slot() {
    let pki = TestPki::new("handshake");
    let s = Server::start(tls_config(&pki)).await;
    let addr = addr_of(&s);
    // Each client from its own loopback address: the cap of one connection per address
    // concerns the dripping client alone.
    let client_from = |last: u8| {
        pki.client()
            .pool_max_idle_per_host(0)
            .local_address(IpAddr::from([127, 0, 0, last]))
            .build()
            .unwrap()
    };
    let healthz = |client: reqwest::Client| {
        let url = s.url("/healthz");
        async move { client.get(url).send().await }
    };
    assert_eq!(healthz(client_from(1)).await.unwrap().status(), 200);
    let timeouts_before = handshake_timeouts();

    // Silent: connects and sends nothing.
    let (mut silent, _keep) = connect_from(2, &addr).await.into_split();
    assert!(
        closed(&mut silent).await,
        "a silent TLS client kept its connection"
    );

    // Dripping: a ClientHello record announced, then a byte every 100 ms (progress enough for
    // `idle_timeout_ms`). It holds the one slot of its address while it lasts...
    let (mut rx, mut tx) = connect_from(3, &addr).await.into_split();
    tx.write_all(&[0x16, 0x03, 0x01, 0x02, 0x00]).await.unwrap();
    let dripper = tokio::spawn(async move {
        for _ in 0..400 {
            if tx.write_all(&[0x01]).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    let during = healthz(client_from(3)).await;
    assert!(
        during.is_err(),
        "the per-address cap let a second connection in: {during:?}"
    );
    // ...and no longer than its handshake may take.
    assert!(
        closed(&mut rx).await,
        "a dripping TLS client kept its connection"
    );
    dripper.abort();
    assert_eq!(healthz(client_from(3)).await.unwrap().status(), 200);
    assert!(
        handshake_timeouts() >= timeouts_before + 2,
        "handshake timeouts not counted"
    );
    s.stop().await;
}
