//! HTTPS and HTTP/2 on the one listener: HTTP/1.1 and HTTP/2 over TLS (chosen by ALPN),
//! cleartext HTTP/2 with prior knowledge next to HTTP/1.1, the certificate re-read on `SIGHUP`
//! by a running `otpgate serve` (the old one kept when the new files are broken), and a start
//! refused, naming the file, when the certificate cannot be read.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::support::server::{test_config, Server, TOKEN};
use crate::support::tls::{trusting, TestPki};
use reqwest::Version;
use serde_json::{json, Value};

/// Creates, reads and verifies an OTP with `client`, checking that every answer came over
/// `version`.
async fn otp_round_trip(s: &Server, client: &reqwest::Client, phone: &str, version: Version) {
    let res = client
        .post(s.url("/otp"))
        .bearer_auth(TOKEN)
        .json(&json!({"phoneNumber": phone}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.version(), version);
    assert_eq!(res.status(), 201);
    let id = res.json::<Value>().await.unwrap()["otpId"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = client
        .get(s.url(&format!("/otp/{id}")))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.version(), version);
    assert_eq!(res.json::<Value>().await.unwrap()["status"], "PENDING");
    let pin = s.dispatcher.pin_for(&id);
    let res = client
        .post(s.url(&format!("/otp/{id}/verify")))
        .bearer_auth(TOKEN)
        .json(&json!({"pin": pin}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.version(), version);
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["status"], "VERIFIED");
}

#[tokio::test]
async fn https_serves_http1_and_http2_chosen_by_alpn() {
    let pki = TestPki::new("alpn");
    let mut config = test_config();
    config.http.tls_cert = Some(pki.cert.clone());
    config.http.tls_key = Some(pki.key.clone());
    let s = Server::start(config).await;
    assert!(s.base.starts_with("https://127.0.0.1:"), "{}", s.base);

    let http1 = pki.client().http1_only().build().unwrap();
    otp_round_trip(&s, &http1, "+447400123401", Version::HTTP_11).await;
    // reqwest offers h2 and http/1.1 by ALPN; the server picks h2.
    let by_alpn = pki.client().build().unwrap();
    otp_round_trip(&s, &by_alpn, "+447400123402", Version::HTTP_2).await;

    // Cleartext on the TLS port is not served, and neither is a client that does not trust
    // the certificate.
    let plain = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let cleartext = s.base.replace("https://", "http://");
    let res = plain.get(format!("{cleartext}/healthz")).send().await;
    assert!(res.is_err(), "cleartext answered on the TLS port: {res:?}");
    let other = TestPki::new("alpn-other");
    let res = other
        .client()
        .build()
        .unwrap()
        .get(s.url("/healthz"))
        .send()
        .await;
    assert!(res.is_err(), "a certificate of another CA was trusted");
    s.stop().await;
}

#[tokio::test]
async fn cleartext_serves_http1_and_http2_with_prior_knowledge_on_one_port() {
    let s = Server::start(test_config()).await;
    let h2c = reqwest::Client::builder()
        .http2_prior_knowledge()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    otp_round_trip(&s, &h2c, "+447400123403", Version::HTTP_2).await;
    let http1 = reqwest::Client::builder()
        .http1_only()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    otp_round_trip(&s, &http1, "+447400123404", Version::HTTP_11).await;
    s.stop().await;
}

/// `otpgate serve` with `[http] tls_cert`/`tls_key`, its JSON log lines collected.
struct TlsProcess {
    child: Child,
    base: String,
    lines: std::sync::mpsc::Receiver<Value>,
    config: std::path::PathBuf,
}

const SERVE_TOML: &str = "[log]\nformat = \"json\"\nlevel = \"info\"\n\
    [[tenants]]\nname = \"one\"\ntoken = \"token-one-0001\"\n\
    [[smsc]]\nname = \"carrier\"\nhost = \"127.0.0.1\"\nport = 9\n";

impl TlsProcess {
    fn start(pki: &TestPki) -> TlsProcess {
        let config = pki.dir.join("otpgate.toml");
        let text = format!(
            "[http]\nlisten = \"127.0.0.1:0\"\ntls_cert = {:?}\ntls_key = {:?}\n{SERVE_TOML}",
            pki.cert.display().to_string(),
            pki.key.display().to_string(),
        );
        std::fs::write(&config, text).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_otpgate"))
            .args(["serve", "--config"])
            .arg(&config)
            .env_remove("RUST_LOG")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Ok(v) = serde_json::from_str::<Value>(&line) {
                    if tx.send(v).is_err() {
                        break;
                    }
                }
            }
        });
        let mut process = TlsProcess {
            child,
            base: String::new(),
            lines,
            config,
        };
        let up = process.wait_log("otpgate listening");
        process.base = format!("https://{}", up["addr"].as_str().unwrap());
        process
    }

    /// The next log line whose message is `message` (at most 20 s away).
    fn wait_log(&mut self, message: &str) -> Value {
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(v) if v["message"] == message => return v,
                Ok(_) => {}
                Err(_) => break,
            }
        }
        let _ = self.child.kill();
        panic!("otpgate never logged {message:?}");
    }

    fn sighup(&self) {
        let ok = Command::new("kill")
            .args(["-HUP", &self.child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -HUP failed");
    }

    /// Whether a new connection trusting `ca_pem` only gets an answer.
    async fn trusted_by(&self, ca_pem: &str) -> bool {
        let client = trusting(ca_pem).build().unwrap();
        client
            .get(format!("{}/healthz", self.base))
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
    }
}

impl Drop for TlsProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.config);
    }
}

#[tokio::test]
async fn sighup_rereads_the_certificate_and_keeps_it_when_the_new_files_are_broken() {
    let pki = TestPki::new("sighup");
    let first_ca = pki.ca_pem.clone();
    let mut otpgate = TlsProcess::start(&pki);
    assert!(otpgate.trusted_by(&first_ca).await);

    let pki = pki.reissue("second");
    // Not before the signal: the files are read at start and on SIGHUP only.
    assert!(otpgate.trusted_by(&first_ca).await);
    assert!(!otpgate.trusted_by(&pki.ca_pem).await);
    otpgate.sighup();
    otpgate.wait_log("TLS certificate reloaded");
    assert!(otpgate.trusted_by(&pki.ca_pem).await);
    assert!(!otpgate.trusted_by(&first_ca).await);

    // A half-written renewal: the certificate in use stays, the failure is logged and counted.
    std::fs::write(&pki.key, "-----BEGIN PRIVATE KEY-----\n").unwrap();
    otpgate.sighup();
    let failed = otpgate.wait_log("TLS certificate reload failed; keeping the one in use");
    let error = failed["error"].as_str().unwrap_or_default();
    assert!(error.contains("server.key"), "{failed}");
    assert!(otpgate.trusted_by(&pki.ca_pem).await);
    let metrics = trusting(&pki.ca_pem)
        .build()
        .unwrap()
        .get(format!("{}/metrics", otpgate.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for line in [
        "otpgate_http_tls_reloads_total{result=\"ok\"} 1",
        "otpgate_http_tls_reloads_total{result=\"failed\"} 1",
    ] {
        assert!(metrics.contains(line), "no `{line}` in the scrape");
    }
}

#[test]
fn serve_and_check_config_refuse_a_certificate_they_cannot_use_naming_the_file() {
    let pki = TestPki::new("refused");
    let key_text = std::fs::read_to_string(&pki.key).unwrap();
    let key_body = key_text.lines().nth(1).unwrap().to_owned();
    // The key of another certificate, then a certificate file that is not PEM.
    let other_key = crate::support::tls::issue("other").key_pem;
    let cases: [(&str, &str, &str); 2] = [
        ("key", &other_key, "server.crt"),
        ("cert", "not a certificate\n", "server.crt"),
    ];
    for (file, text, named) in cases {
        let pki = TestPki::new("refused-case");
        let path = if file == "key" { &pki.key } else { &pki.cert };
        std::fs::write(path, text).unwrap();
        let config = pki.dir.join("otpgate.toml");
        std::fs::write(
            &config,
            format!(
                "[http]\nlisten = \"127.0.0.1:0\"\ntls_cert = {:?}\ntls_key = {:?}\n{SERVE_TOML}",
                pki.cert.display().to_string(),
                pki.key.display().to_string(),
            ),
        )
        .unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_otpgate"))
            .args(["serve", "--config"])
            .arg(&config)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(1), "{file}: {stderr}");
        assert!(stderr.contains(named), "{file}: {stderr}");
        assert!(!stdout.contains("otpgate listening"), "{stdout}");
        for secret in [key_body.as_str(), other_key.lines().nth(1).unwrap()] {
            assert!(!stderr.contains(secret), "key material in: {stderr}");
        }
        // check-config reads the files too, so that a renewal is checked before the reload.
        let out = Command::new(env!("CARGO_BIN_EXE_otpgate"))
            .arg("check-config")
            .arg(&config)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "check-config, {file}: {stderr}");
        assert!(stderr.contains(named), "check-config, {file}: {stderr}");
    }
    // And accepts a usable pair, saying HTTPS is on.
    let config = pki.dir.join("otpgate.toml");
    std::fs::write(
        &config,
        format!(
            "[http]\nlisten = \"127.0.0.1:0\"\ntls_cert = {:?}\ntls_key = {:?}\n{SERVE_TOML}",
            pki.cert.display().to_string(),
            pki.key.display().to_string(),
        ),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_otpgate"))
        .arg("check-config")
        .arg(&config)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("http.tls: HTTPS"), "{stdout}");
}
