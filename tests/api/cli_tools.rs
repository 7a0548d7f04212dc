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
