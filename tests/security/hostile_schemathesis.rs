//! schemathesis against the whole stack: `otpgate serve` started in-process (embedded SMSC
//! simulator, demo tenant), then `schemathesis run <base>/openapi.json --checks all` with the
//! demo token, a fixed seed and a bounded number of examples per operation (every check but
//! use_after_free, which does not apply: see below; tests/schemathesis/schemathesis.toml says
//! where a documented 400 is an acceptable answer to a schema-valid request). Any 5xx, any reply
//! that the document does not describe, and any other failed check fails the test.
//! The schemathesis CLI comes from `OTPGATE_SCHEMATHESIS` (set by
//! `.ci/install.d/40-schemathesis.sh`); without it the test says so and returns.

use crate::support::tools;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use otpgate::config;
use otpgate::serve;

/// Generated cases per API operation and phase.
const MAX_EXAMPLES: &str = "100";
const SEED: &str = "20240611";
/// The whole run must finish within this (it takes well under it).
const RUN_LIMIT: Duration = Duration::from_secs(240);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs schemathesis (OTPGATE_SCHEMATHESIS, set by .ci/install.d/40-schemathesis.sh)"]
async fn schemathesis_finds_no_failure() {
    let st = PathBuf::from(tools::required_path(
        "OTPGATE_SCHEMATHESIS",
        ".ci/install.d/40-schemathesis.sh",
    ));
    // Limits high enough that the generated traffic is judged on its content, not throttled.
    let config = config::load_str(
        "[limits]\nper_number = 100000\n",
        Vec::<(String, String)>::new(),
    )
    .expect("config");
    let running = serve::Running::start_on_loopback(config, Duration::from_secs(10))
        .await
        .expect("started");
    let started = running.started.clone();
    let token = started.demo_token.clone().expect("a demo tenant");
    let base = format!("http://{}", started.http_addr);

    let report_dir =
        std::env::temp_dir().join(format!("otpgate-schemathesis-{}", std::process::id()));
    let config_file = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/schemathesis/schemathesis.toml"
    );
    // Its working directory too: schemathesis leaves a cache directory there.
    std::fs::create_dir_all(&report_dir).unwrap();
    let mut cmd = tokio::process::Command::new(&st);
    cmd.current_dir(&report_dir)
        .arg("--config-file")
        .arg(config_file)
        .arg("run")
        .arg(format!("{base}/openapi.json"))
        .args(["--checks", "all"])
        // use_after_free expects a 404 after a DELETE. DELETE /otp/{otpId} cancels: the OTP
        // stays readable with status CANCELLED until it expires (the product's contract, what
        // sms.cx clients read, and what the cancel_otp operation documents).
        .args(["--exclude-checks", "use_after_free"])
        .args(["--header", &format!("Authorization: Bearer {token}")])
        // Both ways of authenticating, so that neither header is left for the generator to fill.
        .args(["--header", &format!("X-API-KEY: {token}")])
        .args(["--max-examples", MAX_EXAMPLES])
        .args(["--seed", SEED])
        .args(["--workers", "1"])
        .args(["--request-timeout", "15"])
        .args(["--report", "junit"])
        .arg("--report-dir")
        .arg(&report_dir)
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let out = tokio::time::timeout(RUN_LIMIT, cmd.output())
        .await
        .expect("schemathesis finished in time")
        .expect("schemathesis runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}\n{stderr}");
    let _ = std::fs::remove_dir_all(&report_dir);

    let done = running.stop(Duration::from_secs(20)).await;
    assert!(done.is_ok(), "clean shutdown: {done:?}");
    assert!(
        out.status.success(),
        "schemathesis found failures (output above)"
    );
    // A run that tested nothing would also exit 0.
    assert!(!stdout.contains("No operations"), "nothing was tested");
}
