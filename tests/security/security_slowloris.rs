//! Slowloris against the HTTP front: 10 000 loopback connections each send a partial request
//! header and then trickle further header lines, never finishing. Meanwhile a normal client
//! must still be answered promptly, and the server must close every slow connection once
//! `[http] header_read_timeout_ms` has passed.
//!
//! The server runs as a separate `otpgate serve` process (its own file-descriptor table: this
//! process needs one descriptor per slow connection, the server another). The test raises its
//! soft open-files limit to the hard limit, which the server inherits; when the hard limit is
//! too low for 10 000 connections it uses as many as fit and says so.

use std::process::Stdio;
use std::time::{Duration, Instant};

use futures::stream::{self, StreamExt};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

const SLOW_CONNECTIONS: u64 = 10_000;
const HEADER_TIMEOUT_MS: u64 = 15_000;
const TOKEN: &str = "slowloris-test-token-0001";
/// A normal request during the attack must be answered within this (loopback: milliseconds
/// on an idle machine, about a second on a loaded debug build; the bound only separates
/// "answered" from "starved").
const ANSWER_BOUND: Duration = Duration::from_secs(5);

/// Starts `otpgate serve` on 127.0.0.1:0 and returns it with its address, read from its log.
async fn start_server(dir: &std::path::Path) -> (Child, String) {
    let config = dir.join("otpgate.toml");
    std::fs::write(
        &config,
        format!(
            "[http]\nlisten = \"127.0.0.1:0\"\nheader_read_timeout_ms = {HEADER_TIMEOUT_MS}\n\
             max_connections_per_ip = 0\n\
             [[tenants]]\nname = \"slow\"\ntoken = \"{TOKEN}\"\n\
             [security]\npin_secret = \"slowloris-pin-secret\"\n\
             [limits]\nper_number = 1000\n\
             [log]\nformat = \"json\"\nlevel = \"info\"\n\
             [demo]\nenabled = true\n"
        ),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_otpgate"))
        .arg("serve")
        .arg("--config")
        .arg(&config)
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("otpgate starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let addr = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            let Ok(v) = serde_json::from_str::<Value>(&line) else {
                continue;
            };
            if v["message"] == "HTTP API listening" {
                return v["addr"].as_str().unwrap().to_owned();
            }
        }
        panic!("otpgate exited before listening");
    })
    .await
    .expect("otpgate listening in time");
    // Keep draining the log so the server never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, addr)
}

/// One normal client's round: health, create, read. Returns the slowest answer.
async fn normal_round(client: &reqwest::Client, base: &str, n: u32) -> Duration {
    let mut slowest = Duration::ZERO;
    let t = Instant::now();
    let r = client.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    slowest = slowest.max(t.elapsed());

    let t = Instant::now();
    let r = client
        .post(format!("{base}/otp"))
        .bearer_auth(TOKEN)
        .json(&json!({"phoneNumber": format!("+4474001234{n:02}")}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let otp: Value = r.json().await.unwrap();
    slowest = slowest.max(t.elapsed());

    let t = Instant::now();
    let r = client
        .get(format!("{base}/otp/{}", otp["otpId"].as_str().unwrap()))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    slowest.max(t.elapsed())
}

fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "soak: 10,000 slow connections to a child otpgate, about 21 s"]
async fn ten_thousand_slow_connections_do_not_starve_a_normal_client() {
    let _alone = crate::support::HEAVY.lock().await;
    let limit = rlimit::increase_nofile_limit(u64::MAX).unwrap_or(1024);
    let n = SLOW_CONNECTIONS.min(limit.saturating_sub(512));
    if n < SLOW_CONNECTIONS {
        eprintln!(
            "open-files hard limit is {limit}: using {n} slow connections instead of {SLOW_CONNECTIONS}"
        );
    }
    let dir = std::env::temp_dir().join(format!("otpgate-slowloris-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (mut child, addr) = start_server(&dir).await;
    let pid = child.id().unwrap_or(0);
    let base = format!("http://{addr}");
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let rss_before = rss_kib(pid);

    // The attack: n connections, each with a partial header.
    let started = Instant::now();
    let mut slow: Vec<TcpStream> = stream::iter(0..n)
        .map(|_| {
            let addr = addr.clone();
            async move {
                let mut s = TcpStream::connect(&addr).await.unwrap();
                s.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                    .await
                    .unwrap();
                s
            }
        })
        .buffer_unordered(256)
        .collect()
        .await;
    let opened_in = started.elapsed();
    assert_eq!(slow.len() as u64, n);

    // While they are all open and trickling, a normal client is answered.
    let mut slowest = Duration::ZERO;
    let mut round = 0u32;
    while started.elapsed() < Duration::from_millis(HEADER_TIMEOUT_MS) / 2 || round < 3 {
        for (i, s) in slow.iter_mut().enumerate() {
            // One more header line per round: a slow client that keeps "making progress".
            let _ = s
                .write_all(format!("X-Slow-{i}: {round}\r\n").as_bytes())
                .await;
        }
        slowest = slowest.max(normal_round(&client, &base, round).await);
        round += 1;
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let rss_during = rss_kib(pid);
    println!(
        "{n} slow connections opened in {opened_in:?}; {round} normal rounds, slowest answer \
         {slowest:?}; server RSS {rss_before:?} KiB before, {rss_during:?} KiB with them open"
    );
    assert!(
        slowest < ANSWER_BOUND,
        "a normal client waited {slowest:?} during the attack"
    );

    // The server closes each slow connection once the header timeout has passed. Each
    // connection's timeout runs from its own accept, so the last one opened (up to `opened_in`
    // after the start on a loaded machine) is the last one due.
    let deadline = tokio::time::Instant::from_std(started)
        + opened_in
        + Duration::from_millis(HEADER_TIMEOUT_MS)
        + Duration::from_secs(20);
    let closed = stream::iter(slow.into_iter())
        .map(|mut s| async move {
            let mut buf = [0u8; 512];
            loop {
                match tokio::time::timeout_at(deadline, s.read(&mut buf)).await {
                    Ok(Ok(0)) | Ok(Err(_)) => return true,
                    Ok(Ok(_)) => continue, // an error reply before the close
                    Err(_) => return false,
                }
            }
        })
        .buffer_unordered(1024)
        .filter(|c| std::future::ready(*c))
        .count()
        .await;
    println!(
        "{closed} of {n} slow connections closed by the server {:?} after the attack began",
        started.elapsed()
    );
    assert_eq!(
        closed as u64, n,
        "slow connections left open past the header timeout"
    );

    // And the server still serves.
    let after = normal_round(&client, &base, 99).await;
    assert!(after < ANSWER_BOUND, "{after:?}");
    let _ = child.kill().await;
    let _ = std::fs::remove_dir_all(&dir);
}
