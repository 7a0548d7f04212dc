//! Process faults, the real `otpgate` binary against an SMSC simulator in this test: SIGTERM
//! with a full queue (every accepted OTP sent or reported failed, the binds unbound, the
//! process gone within its deadline, even with a client holding a half-sent request), and
//! resident memory over a long run.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::stack::*;
use otpgate_sim::{self as sim, Latency, SimConfig, SimHandle};
use serde_json::Value;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};

/// The binary under test, its JSON log lines and its HTTP address.
struct Otpgate {
    child: Child,
    base: String,
    logs: Arc<Mutex<Vec<Value>>>,
    config: PathBuf,
}

impl Otpgate {
    /// Starts `otpgate serve` on 127.0.0.1:0 with `toml`; returns once it listens.
    fn start(toml: &str) -> Otpgate {
        let config = std::env::temp_dir().join(format!(
            "otpgate-reliability-{}-{}.toml",
            std::process::id(),
            uuid::Uuid::new_v4()
        ));
        let text = format!(
            "[http]\nlisten = \"127.0.0.1:0\"\n[log]\nformat = \"json\"\nlevel = \"info\"\n{toml}"
        );
        std::fs::write(&config, text).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_otpgate"))
            .args(["serve", "--config"])
            .arg(&config)
            .env_remove("RUST_LOG")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("otpgate starts");
        let stdout = child.stdout.take().unwrap();
        let logs = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let sink = logs.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let Ok(v) = serde_json::from_str::<Value>(&line) else {
                    continue;
                };
                if v["message"] == "otpgate listening" {
                    let _ = tx.send(v["addr"].as_str().unwrap_or("").to_owned());
                }
                sink.lock().unwrap().push(v);
            }
        });
        let addr = rx
            .recv_timeout(Duration::from_secs(20))
            .expect("otpgate listening");
        Otpgate {
            child,
            base: format!("http://{addr}"),
            logs,
            config,
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn hangup(&self) {
        let ok = Command::new("kill")
            .args(["-HUP", &self.pid().to_string()])
            .status()
            .expect("kill runs")
            .success();
        assert!(ok, "kill -HUP failed");
    }

    fn sigterm(&self) {
        let ok = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .expect("kill runs")
            .success();
        assert!(ok, "kill -TERM failed");
    }

    /// Waits for the exit, at most `within`; returns the exit success and how long it took.
    async fn wait_exit(&mut self, within: Duration) -> (bool, Duration) {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return (status.success(), start.elapsed());
            }
            if start.elapsed() > within {
                let _ = self.child.kill();
                let last: Vec<String> = self
                    .logs
                    .lock()
                    .unwrap()
                    .iter()
                    .rev()
                    .take(15)
                    .map(|v| v["message"].to_string())
                    .collect();
                panic!("otpgate still running {within:?} after SIGTERM; last log lines: {last:?}");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn logs_where(&self, message: &str) -> Vec<Value> {
        self.logs
            .lock()
            .unwrap()
            .iter()
            .filter(|v| v["message"] == message)
            .cloned()
            .collect()
    }
}

impl Drop for Otpgate {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.config);
    }
}

async fn start_sim(config: SimConfig) -> SimHandle {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    sim::spawn(listener, config).await.unwrap()
}

/// SIGHUP reloads the configuration file: a broken one is refused (logged with the field at
/// fault, the running tenants keep working), a good one adds a tenant, without a new bind at
/// the SMSC.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_reloads_the_configuration_file() {
    let sim = start_sim(SimConfig::default()).await;
    let smsc = smsc_toml("a", sim.local_addr(), "");
    let app = Otpgate::start(&format!("{}{smsc}", base_toml()));
    let wait = Duration::from_secs(20);
    eventually("a bind", wait, || sim.counters().binds_transceiver >= 1).await;
    let client = reqwest::Client::new();
    let header = "[http]\nlisten = \"127.0.0.1:0\"\n[log]\nformat = \"json\"\nlevel = \"info\"\n";
    let with_tenant = |token: &str| {
        format!(
            "{header}{}{smsc}[[tenants]]\nname = \"new\"\ntoken = \"{token}\"\n",
            base_toml()
        )
    };
    let refused = "configuration reload refused; the running configuration stays";
    std::fs::write(&app.config, with_tenant("short")).unwrap();
    app.hangup();
    eventually("the refusal logged", wait, || {
        !app.logs_where(refused).is_empty()
    })
    .await;
    let line = app.logs_where(refused)[0].to_string();
    assert!(line.contains("tenants[1].token"), "{line}");
    assert_eq!(
        create(&client, &app.base, &phone(1), None).await.status,
        201
    );

    std::fs::write(&app.config, with_tenant("new-tenant-token")).unwrap();
    app.hangup();
    let applied = "configuration reloaded";
    eventually("the reload logged", wait, || {
        !app.logs_where(applied).is_empty()
    })
    .await;
    let status = client
        .post(format!("{}/otp", app.base))
        .bearer_auth("new-tenant-token")
        .json(&serde_json::json!({"phoneNumber": phone(2)}))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status.as_u16(), 201);
    assert_eq!(
        create(&client, &app.base, &phone(3), None).await.status,
        201
    );
    assert_eq!(
        sim.counters().binds_transceiver,
        1,
        "the SMSC was not bound again"
    );
}

/// `POST /admin/reload` runs the same reload as SIGHUP: a broken file answers 422 with the
/// field at fault (the running tenants keep working), a good one answers the changes applied
/// and adds a tenant without a new bind; tenant tokens do not open it, and `/admin/config`
/// shows the configuration in force with its secrets masked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_reload_applies_the_file_over_http() {
    let sim = start_sim(SimConfig::default()).await;
    let smsc = smsc_toml("a", sim.local_addr(), "");
    let admin_port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let admin_token = "admin-token-0123456789abcdef";
    let admin =
        format!("[admin]\nlisten = \"127.0.0.1:{admin_port}\"\ntoken = \"{admin_token}\"\n");
    let app = Otpgate::start(&format!("{admin}{}{smsc}", base_toml()));
    let wait = Duration::from_secs(20);
    eventually("a bind", wait, || sim.counters().binds_transceiver >= 1).await;
    let client = reqwest::Client::new();
    let header = "[http]\nlisten = \"127.0.0.1:0\"\n[log]\nformat = \"json\"\nlevel = \"info\"\n";
    let with_tenant = |token: &str| {
        format!(
            "{header}{admin}{}{smsc}[[tenants]]\nname = \"new\"\ntoken = \"{token}\"\n",
            base_toml()
        )
    };
    let reload_url = format!("http://127.0.0.1:{admin_port}/admin/reload");
    let reload = |token: &'static str| {
        let (client, url) = (client.clone(), reload_url.clone());
        async move {
            let r = client.post(url).bearer_auth(token).send().await.unwrap();
            let status = r.status().as_u16();
            (status, r.json::<Value>().await.unwrap())
        }
    };

    let (status, body) = reload(TOKEN).await;
    assert_eq!(
        status, 401,
        "a tenant token opens no admin endpoint: {body}"
    );

    std::fs::write(&app.config, with_tenant("short")).unwrap();
    let (status, body) = reload(admin_token).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["code"], "invalid_configuration");
    let message = body["message"].as_str().unwrap_or_default();
    assert!(message.contains("tenants[1].token"), "{message}");
    assert!(
        !message.contains("short"),
        "no secret in the refusal: {message}"
    );
    assert_eq!(
        create(&client, &app.base, &phone(1), None).await.status,
        201
    );

    std::fs::write(&app.config, with_tenant("new-tenant-token")).unwrap();
    let (status, body) = reload(admin_token).await;
    assert_eq!(status, 200, "{body}");
    let applied: Vec<&str> = body["applied"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(applied.contains(&"tenant \"new\" added"), "{body}");
    assert!(applied.contains(&"smsc \"a\" kept"), "{body}");
    let status = client
        .post(format!("{}/otp", app.base))
        .bearer_auth("new-tenant-token")
        .json(&serde_json::json!({"phoneNumber": phone(2)}))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status.as_u16(), 201);
    assert_eq!(
        sim.counters().binds_transceiver,
        1,
        "the SMSC was not bound again"
    );

    let shown: Value = client
        .get(format!("http://127.0.0.1:{admin_port}/admin/config"))
        .bearer_auth(admin_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let text = shown.to_string();
    assert!(
        text.contains("\"new\""),
        "the configuration in force: {text}"
    );
    assert!(!text.contains("new-tenant-token"), "tokens masked: {text}");
    assert!(!text.contains(admin_token), "tokens masked: {text}");
}

/// SIGTERM while the queue is full behind a slow SMSC, with a client holding a half-sent
/// request: the process exits within its deadline, unbinds every bind, and every OTP it
/// accepted either reached the SMSC or was reported failed at shutdown, never both, never
/// neither.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_with_a_full_queue_drains_or_reports_every_otp() {
    let sim = start_sim(SimConfig {
        message_log_capacity: 1_000_000,
        ..SimConfig::default()
    })
    .await;
    sim.set_latency(Latency::Fixed {
        value: Duration::from_millis(300),
    });
    let capacity = sized(300, 3_000);
    let binds = 2;
    let toml = format!(
        "{}{}\n[engine]\nqueue_capacity = {capacity}\n",
        base_toml(),
        smsc_toml(
            "slow",
            sim.local_addr(),
            &format!("binds = {binds}\nwindow = 8")
        )
    );
    let mut app = Otpgate::start(&toml);
    let answers = create_many(&app.base, 0, capacity * 2, 16, None).await;
    let accepted: HashMap<String, String> = answers
        .iter()
        .filter(|(_, a)| a.status == 201)
        .map(|(n, a)| (a.body["otpId"].as_str().unwrap().to_owned(), phone(*n)))
        .collect();
    let refused = answers.iter().filter(|(_, a)| a.status == 503).count();
    assert!(refused > 0, "the queue never filled");
    assert_eq!(accepted.len() + refused, answers.len());
    // A client in the middle of a request when the signal comes.
    let mut idle = TcpStream::connect(app.base.trim_start_matches("http://"))
        .await
        .unwrap();
    idle.write_all(b"POST /otp HTTP/1.1\r\nHost: otpgate\r\nContent-Length: 100\r\n")
        .await
        .unwrap();

    let in_sim_before = sim.counters().messages;
    app.sigterm();
    // The engine's own deadline is 10 s; the HTTP front's grace and the rest fit in 5 more.
    let (clean, took) = app.wait_exit(Duration::from_secs(20)).await;
    assert!(clean, "otpgate exited with an error");
    assert!(took < Duration::from_secs(15), "exit took {took:?}");

    let delivered: HashSet<String> = sim
        .messages()
        .into_iter()
        .map(|m| format!("+{}", m.destination.trim_start_matches('+')))
        .collect();
    let failed: HashSet<String> = app
        .logs_where("message failed")
        .into_iter()
        .filter(|v| v["reason"] == "shutdown")
        .map(|v| v["otp_id"].as_str().unwrap_or("").to_owned())
        .collect();
    let summary: u64 = app
        .logs_where("messages still queued at shutdown reported failed")
        .first()
        .and_then(|v| v["failed"].as_u64())
        .unwrap_or(0);
    assert_eq!(summary as usize, failed.len(), "summary vs lines");
    let mut neither = Vec::new();
    let mut both = Vec::new();
    let mut sent = 0usize;
    for (otp_id, phone) in &accepted {
        match (delivered.contains(phone), failed.contains(otp_id)) {
            (true, false) => sent += 1,
            (false, true) => {}
            (true, true) => both.push(otp_id.clone()),
            (false, false) => neither.push(otp_id.clone()),
        }
    }
    assert!(neither.is_empty(), "silently lost: {neither:?}");
    assert!(both.is_empty(), "sent and reported failed: {both:?}");
    assert_eq!(sent + failed.len(), accepted.len());
    assert_eq!(sim.counters().duplicates, 0);
    assert_eq!(sim.counters().unbinds, binds, "every bind unbound");
    println!(
        "SIGTERM: {} accepted ({refused} refused, queue {capacity}), {in_sim_before} at the SMSC \
         at the signal; {sent} sent, {} reported failed (shutdown), 0 lost; {binds} unbinds; \
         exit after {:.2} s",
        accepted.len(),
        failed.len(),
        took.as_secs_f64()
    );
    drop(idle);
}

/// Resident memory of the binary over a long run of OTPs (with their receipts): after
/// warm-up, the second half of the run adds less than 50 MB.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resident_memory_stays_bounded_over_a_long_run() {
    let n = sized(10_000, 200_000);
    let sim = start_sim(SimConfig {
        record_messages: false,
        ..SimConfig::default()
    })
    .await;
    // Short-lived OTPs, dropped at expiry: a long run reaches its steady state.
    let toml = format!(
        "{}{}\n[otp]\ndefault_ttl_s = 60\nretain_after_expiry_s = 0\n",
        base_toml(),
        smsc_toml("mem", sim.local_addr(), "binds = 2")
    );
    let app = Otpgate::start(&toml);
    let pid = app.pid();
    let steps = 10u64;
    let mut samples = Vec::new();
    let start = Instant::now();
    for k in 0..steps {
        let answers = create_many(&app.base, k * n / steps, (k + 1) * n / steps, 32, None).await;
        let bad = answers.iter().filter(|(_, a)| a.status != 201).count();
        assert_eq!(
            bad,
            0,
            "{:?}",
            answers.iter().find(|(_, a)| a.status != 201)
        );
        samples.push(rss_bytes(Some(pid)).expect("VmRSS"));
    }
    let took = start.elapsed();
    eventually("every OTP at the SMSC", Duration::from_secs(30), || {
        sim.counters().parts >= n
    })
    .await;
    let half = samples[(steps / 2 - 1) as usize];
    let last = *samples.last().unwrap();
    let growth = last.saturating_sub(half) as f64 / MB;
    let mbs: Vec<String> = samples
        .iter()
        .map(|b| format!("{:.0}", *b as f64 / MB))
        .collect();
    println!(
        "RSS: {n} OTPs in {:.1} s ({:.0}/s), RSS MB after each tenth: [{}]; second half \
         +{growth:.1} MB",
        took.as_secs_f64(),
        n as f64 / took.as_secs_f64(),
        mbs.join(", ")
    );
    assert!(growth < 50.0, "second half added {growth:.1} MB: {mbs:?}");
}
