//! The offline commands of the binary, run as a user runs them: their output, exit codes, and
//! a reader that stops early (`otpgate sms split ... | head`).

use std::io::Read;
use std::process::{Command, Stdio};

fn otpgate() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_otpgate"));
    c.env_remove("RUST_LOG");
    c
}

#[test]
fn sms_split_prints_the_parts_as_json() {
    let out = otpgate()
        .args(["sms", "split", "--concat", "udh8", &"x".repeat(161)])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["data_coding"], 0);
    assert_eq!(v["parts"].as_array().map(Vec::len), Some(2), "{v}");
}

#[test]
fn pdu_decode_of_garbage_is_exit_1_with_a_message() {
    let out = otpgate().args(["pdu", "decode", "00zz"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(!out.stderr.is_empty());
}

/// The reader closes its end after the first octets: the command ends quietly with success,
/// never with a panic about a broken pipe.
#[test]
fn a_reader_that_stops_early_is_not_a_crash() {
    let text = "hello world ".repeat(500);
    for _ in 0..3 {
        let mut child = otpgate()
            .args(["sms", "split", "--max-parts", "40", &text])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = [0u8; 1];
        let mut stdout = child.stdout.take().unwrap();
        stdout.read_exact(&mut first).unwrap();
        drop(stdout);
        let mut stderr = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        let status = child.wait().unwrap();
        assert!(status.success(), "{status:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

/// A configuration file in a fresh scratch directory, removed with it.
struct ConfigFile {
    dir: std::path::PathBuf,
    path: std::path::PathBuf,
}

impl ConfigFile {
    fn new(name: &str, text: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("otpgate-cli-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("otpgate.toml");
        std::fs::write(&path, text).unwrap();
        ConfigFile { dir, path }
    }
}

impl Drop for ConfigFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

const LOOPBACK: &str = "[http]\nlisten = \"127.0.0.1:0\"\n";
const TENANT: &str = "[[tenants]]\nname = \"acme\"\ntoken = \"acme-token-123\"\n";
const SMSC: &str = "[[smsc]]\nname = \"carrier\"\nhost = \"127.0.0.1\"\nport = 2775\n";

fn check_config(file: &ConfigFile) -> (bool, String) {
    let out = otpgate()
        .arg("check-config")
        .arg(&file.path)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// Runs `command` expecting it to exit on its own within a few seconds (a refusal to start);
/// one that starts serving instead is killed and fails the test.
fn exits_on_its_own(mut command: Command) -> std::process::Output {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "started instead of refusing: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

/// An explicit file without tenants or SMSCs is a mistake, not a request for the demo:
/// `check-config` says what is missing.
#[test]
fn check_config_refuses_a_file_without_tenants_or_smsc() {
    let neither = ConfigFile::new("neither", LOOPBACK);
    let (ok, text) = check_config(&neither);
    assert!(!ok, "{text}");
    assert!(text.contains("no [[tenants]]"), "{text}");
    assert!(text.contains("no [[smsc]]"), "{text}");
    assert!(text.contains("[demo] enabled = true"), "{text}");

    let no_smsc = ConfigFile::new("no-smsc", &format!("{LOOPBACK}{TENANT}"));
    let (ok, text) = check_config(&no_smsc);
    assert!(!ok, "{text}");
    assert!(text.contains("no [[smsc]]"), "{text}");
    assert!(!text.contains("no [[tenants]]"), "{text}");

    let no_tenants = ConfigFile::new("no-tenants", &format!("{LOOPBACK}{SMSC}"));
    let (ok, text) = check_config(&no_tenants);
    assert!(!ok, "{text}");
    assert!(text.contains("no [[tenants]]"), "{text}");
    assert!(!text.contains("no [[smsc]]"), "{text}");

    let complete = ConfigFile::new("complete", &format!("{LOOPBACK}{TENANT}{SMSC}"));
    let (ok, text) = check_config(&complete);
    assert!(ok, "{text}");
}

/// `[demo] enabled = true` is how a file asks for the embedded simulator and the demo tenant.
#[test]
fn check_config_accepts_a_file_that_asks_for_the_demo() {
    let demo = ConfigFile::new("demo", &format!("{LOOPBACK}[demo]\nenabled = true\n"));
    let (ok, text) = check_config(&demo);
    assert!(ok, "{text}");
    assert!(text.contains("demo: enabled"), "{text}");
}

/// `serve --config FILE` and `OTPGATE_CONFIG=FILE otpgate` refuse such a file and exit 1,
/// naming the file and what is missing, before listening.
#[test]
fn serve_refuses_an_explicit_file_without_tenants_or_smsc() {
    let file = ConfigFile::new("serve-refuses", &format!("{LOOPBACK}{TENANT}"));
    let mut by_flag = otpgate();
    by_flag.arg("serve").arg("--config").arg(&file.path);
    let mut by_env = otpgate();
    by_env.env("OTPGATE_CONFIG", &file.path);
    for command in [by_flag, by_env] {
        let out = exits_on_its_own(command);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains("no [[smsc]]"), "{stderr}");
        assert!(
            stderr.contains(&file.path.display().to_string()),
            "{stderr}"
        );
    }
}

/// The shipped configuration files pass `check-config`: the documented example, and the one the
/// Debian package installs (its placeholders are valid values the operator replaces).
#[test]
fn shipped_configuration_files_pass_check_config() {
    for file in ["config/otpgate.toml", "packaging/otpgate.toml"] {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
        let out = otpgate().arg("check-config").arg(&path).output().unwrap();
        assert!(
            out.status.success(),
            "{file}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// With JSON logs (as the systemd unit and the container image set them) and a configuration of
/// its own, every line `serve` writes to stdout is a JSON object: the plain-text how-to of the
/// demo stays out of the journal.
#[test]
fn serve_with_json_logs_writes_json_lines_only() {
    use std::io::BufRead;
    // An SMSC nobody listens on: the binds retry in the background, the front serves.
    let file = ConfigFile::new(
        "json-lines",
        &format!(
            "{LOOPBACK}{TENANT}[[smsc]]\nname = \"carrier\"\nhost = \"127.0.0.1\"\nport = 9\n"
        ),
    );
    let mut child = otpgate()
        .arg("serve")
        .arg("--config")
        .arg(&file.path)
        .env("OTPGATE_LOG_FORMAT", "json")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut lines = Vec::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    // Up to the start announcement, then what follows it for a moment.
    let mut listening_at = None;
    while std::time::Instant::now() < deadline {
        if let Ok(line) = rx.recv_timeout(std::time::Duration::from_millis(100)) {
            if line.contains("otpgate listening") {
                listening_at = Some(std::time::Instant::now());
            }
            lines.push(line);
        }
        if listening_at.is_some_and(|t| t.elapsed() > std::time::Duration::from_millis(500)) {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(listening_at.is_some(), "never started: {lines:#?}");
    for line in lines.iter().filter(|l| !l.is_empty()) {
        assert!(
            serde_json::from_str::<serde_json::Value>(line).is_ok_and(|v| v.is_object()),
            "not a JSON object: {line:?}"
        );
    }
    assert!(
        lines.iter().all(|l| !l.is_empty()),
        "blank lines on stdout: {lines:#?}"
    );
}

/// `pdu decode` names India's DLT TLVs and shows their text; with `--config`, each TLV a
/// `[[smsc]] tlv_names` declares carries that name too. `check-config` refuses a TLV the engine
/// writes itself, and a tenant value for a name no SMSC declares, naming the field.
#[test]
fn pdu_decode_names_the_regulatory_tlvs() {
    // submit_sm "Hi 1234" to 447700900123 with 0x1400 "1101" and 0x1500 0x07 appended
    let hex = "00000047000000040000000000000001000500566572696679000101343437373030393030313233\
               000000000000000000000748692031323334140000043131303115000001 07";
    let bare = otpgate().args(["pdu", "decode", hex]).output().unwrap();
    assert!(bare.status.success(), "{bare:?}");
    let v: serde_json::Value = serde_json::from_slice(&bare.stdout).unwrap();
    assert_eq!(v["tlvs"][0]["tag"], "pe_id", "{v}");
    assert_eq!(v["tlvs"][0]["text"], "1101", "{v}");
    assert_eq!(v["tlvs"][1]["tag"], "unknown", "{v}");

    let smsc = format!("{SMSC}tlv_names = {{ pe_id = 0x1400, dlt_flag = 0x1500 }}\n");
    let file = ConfigFile::new("tlv-names", &format!("{LOOPBACK}{TENANT}{smsc}"));
    let (ok, summary) = check_config(&file);
    assert!(ok, "{summary}");
    assert!(
        summary.contains(r#"regulatory: TLVs on carrier (0 static, 0 route prefixes, names ["dlt_flag", "pe_id"])"#),
        "{summary}"
    );
    let named = otpgate()
        .args(["pdu", "decode", "--config"])
        .arg(&file.path)
        .arg(hex)
        .output()
        .unwrap();
    assert!(named.status.success(), "{named:?}");
    let v: serde_json::Value = serde_json::from_slice(&named.stdout).unwrap();
    assert_eq!(v["tlvs"][0]["name"], "pe_id", "{v}");
    assert_eq!(v["tlvs"][1]["name"], "dlt_flag", "{v}");

    let reserved = format!("{SMSC}tlvs = [{{ tag = 0x0424, type = \"hex\", value = \"00\" }}]\n");
    let (ok, text) = check_config(&ConfigFile::new(
        "tlv-reserved",
        &format!("{LOOPBACK}{TENANT}{reserved}"),
    ));
    assert!(!ok && text.contains("smsc[0].tlvs[0].tag"), "{text}");
    let unknown = format!("{LOOPBACK}{TENANT}tlv_values = {{ pe_id = \"1101\" }}\n{SMSC}");
    let (ok, text) = check_config(&ConfigFile::new("tlv-undeclared", &unknown));
    assert!(
        !ok && text.contains("tenants[0].tlv_values.pe_id"),
        "{text}"
    );
    let rule =
        format!("{LOOPBACK}{TENANT}{SMSC}[senders.countries.US]\nnumeric_sender = \"Verify\"\n");
    let (ok, text) = check_config(&ConfigFile::new("sender-rule", &rule));
    assert!(
        !ok && text.contains("senders.countries.US.numeric_sender"),
        "{text}"
    );
}

/// `sms split --config --smsc`: the parts as that SMSC sends them (its 16-bit references, its
/// Latin-1), priced for a destination by its longest prefix or the fallback; an unknown SMSC
/// is exit 1 naming the configured ones.
#[test]
fn sms_split_as_a_configured_smsc_sends_and_prices() {
    let dir = std::env::temp_dir().join(format!("otpgate-split-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("otpgate.toml");
    std::fs::write(
        &file,
        r#"
[otp]
price_per_part = 0.05
currency = "USD"
[[tenants]]
name = "acme"
token = "acme-split-token-0123456789"
[[smsc]]
name = "uk"
concat = "udh16"
prices = { "+44" = 0.035, "+4474" = 0.04 }
[[smsc]]
name = "iberia"
encoding = "latin1"
"#,
    )
    .unwrap();
    let config = file.to_str().unwrap();
    let split = |args: &[&str]| {
        let out = otpgate()
            .args(["sms", "split", "--config", config])
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code(),
            out.stdout,
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let text = "a".repeat(306);
    let (code, stdout, stderr) = split(&["--smsc", "uk", "--to", "+447400123456", &text]);
    assert_eq!(code, Some(0), "{stderr}");
    let v: serde_json::Value = serde_json::from_slice(&stdout).unwrap();
    assert_eq!(v["smsc"], "uk");
    assert_eq!(
        v["parts"].as_array().map(Vec::len),
        Some(3),
        "16-bit references: {v}"
    );
    assert_eq!(
        (v["price_per_part"].as_f64(), v["price_source"].as_str()),
        (Some(0.04), Some("smsc"))
    );
    assert_eq!(
        (v["cost"].as_f64(), v["currency"].as_str()),
        (Some(0.12), Some("USD"))
    );
    let (code, stdout, stderr) =
        split(&["--smsc", "iberia", "--to", "+34600123456", "Código 1234"]);
    assert_eq!(code, Some(0), "{stderr}");
    let v: serde_json::Value = serde_json::from_slice(&stdout).unwrap();
    assert_eq!(
        (v["encoding"].as_str(), v["data_coding"].as_u64()),
        (Some("LATIN1"), Some(3)),
        "{v}"
    );
    assert_eq!(
        (v["cost"].as_f64(), v["price_source"].as_str()),
        (Some(0.05), Some("fallback"))
    );
    let (code, stdout, stderr) = split(&["--smsc", "nope", "x"]);
    assert_eq!(code, Some(1));
    assert!(stdout.is_empty());
    assert!(stderr.contains("uk, iberia"), "{stderr}");
    std::fs::remove_dir_all(&dir).unwrap();
}
