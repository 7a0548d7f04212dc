//! Headless Chromium for the page tests: one run on a URL in a throwaway profile, its standard
//! output (the DOM with `--dump-dom`). The browser comes from `OTPGATE_TEST_CHROMIUM`, set by
//! `.ci/install.d/80-chromium.sh`; without it the test fails, it never skips.

use std::path::PathBuf;
use std::time::Duration;

use super::tools;

const NEEDS: &str = ".ci/install.d/80-chromium.sh";

/// Chromium's sandbox refuses to run as root (CI containers do).
fn running_as_root() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|s| {
        s.lines()
            .find(|l| l.starts_with("Uid:"))
            .and_then(|l| l.split_whitespace().nth(1))
            == Some("0")
    })
}

/// Runs headless Chromium on `url` with `args` for at most `virtual_time_ms` of page time;
/// its standard output. Fails the test when the browser is missing or fails.
pub async fn run_headless(url: &str, args: &[String], virtual_time_ms: u32) -> String {
    let chromium = tools::required_path("OTPGATE_TEST_CHROMIUM", NEEDS);
    let profile: PathBuf = std::env::temp_dir().join(format!(
        "otpgate-chromium-{}-{}",
        std::process::id(),
        uuid::Uuid::new_v4()
    ));
    let mut command = tokio::process::Command::new(chromium);
    command
        .args([
            "--headless",
            "--disable-gpu",
            "--no-first-run",
            "--disable-extensions",
            "--hide-scrollbars",
        ])
        .arg(format!("--virtual-time-budget={virtual_time_ms}"))
        .args(args)
        .arg(format!("--user-data-dir={}", profile.display()))
        .kill_on_drop(true);
    if running_as_root() {
        command.arg("--no-sandbox");
    }
    command.arg(url);
    let out = tokio::time::timeout(Duration::from_secs(90), command.output())
        .await
        .expect("Chromium did not finish within 90 s")
        .expect("cannot run OTPGATE_TEST_CHROMIUM");
    let _ = std::fs::remove_dir_all(&profile);
    assert!(
        out.status.success(),
        "Chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}
