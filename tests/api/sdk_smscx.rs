//! Runs the official sms.cx Python client (tests/sdk/test_smscx_client.py, pytest) against
//! an in-process server, over HTTP and over HTTPS. The Python interpreter of a venv with
//! `smscx-client` and `pytest` is given by `OTPGATE_SDK_PYTHON`; without it the test fails. A loopback
//! side channel (`GET /pin/{otpId}`) gives the Python test the PINs the recording dispatcher
//! saw.

use crate::support::tools;
use std::sync::Arc;
use std::time::Duration;

use crate::support::server::{test_config, RecordingDispatcher, Server, TOKEN};
use crate::support::tls::TestPki;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;

async fn pin(
    State(d): State<Arc<RecordingDispatcher>>,
    Path(id): Path<String>,
) -> (StatusCode, String) {
    match d.sms_for(&id) {
        Some(_) => (StatusCode::OK, d.pin_for(&id)),
        None => (StatusCode::NOT_FOUND, String::new()),
    }
}

/// Runs the SDK's pytest file against `s`; `ca_file`, for HTTPS, is the CA the client trusts.
async fn run_sdk_tests(s: Server, ca_file: Option<&std::path::Path>) {
    let python = tools::required_path("OTPGATE_SDK_PYTHON", ".ci/install.d/10-python-sdk.sh");
    let side = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let side_url = format!("http://{}", side.local_addr().unwrap());
    let router = axum::Router::new()
        .route("/pin/{id}", get(pin))
        .with_state(s.dispatcher.clone());
    let side_task = tokio::spawn(async move {
        let _ = axum::serve(side, router).await;
    });

    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/sdk/test_smscx_client.py"
    );
    let mut command = tokio::process::Command::new(python);
    command
        .args(["-m", "pytest", "-q", "-p", "no:cacheprovider", script])
        .env("OTPGATE_URL", &s.base)
        .env("OTPGATE_TOKEN", TOKEN)
        .env("OTPGATE_PIN_URL", &side_url)
        .env_remove("OTPGATE_CA_FILE")
        .kill_on_drop(true);
    if let Some(ca) = ca_file {
        command.env("OTPGATE_CA_FILE", ca);
    }
    let out = tokio::time::timeout(Duration::from_secs(180), command.output())
        .await
        .expect("pytest did not finish within 180 s")
        .expect("cannot run OTPGATE_SDK_PYTHON");
    println!("{}", String::from_utf8_lossy(&out.stdout));
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    side_task.abort();
    s.stop().await;
    assert!(out.status.success(), "the smscx-client SDK test failed");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("passed") && !stdout.contains("skipped"),
        "pytest ran no test: {stdout}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the smscx-client Python SDK (OTPGATE_SDK_PYTHON, set by .ci/install.d/10-python-sdk.sh)"]
async fn official_python_client() {
    run_sdk_tests(Server::start(test_config()).await, None).await;
}

/// The same over HTTPS, with a certificate made by the test and its CA given to the client.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the smscx-client Python SDK (OTPGATE_SDK_PYTHON, set by .ci/install.d/10-python-sdk.sh)"]
async fn official_python_client_over_https() {
    let pki = TestPki::new("sdk");
    let mut config = test_config();
    config.http.tls_cert = Some(pki.cert.clone());
    config.http.tls_key = Some(pki.key.clone());
    let s = Server::start(config).await;
    assert!(s.base.starts_with("https://"), "{}", s.base);
    run_sdk_tests(s, Some(&pki.ca)).await;
}
