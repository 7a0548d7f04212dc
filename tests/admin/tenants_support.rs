//! Provisioning requests and `POST /otp` with a given tenant token.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::harness::{call_with, ADMIN_TOKEN};
use crate::support::stack::{phone, Stack};

/// A write-token admin request with `body`.
pub async fn admin(stack: &Stack, method: &str, path: &str, body: Value) -> (u16, Value) {
    call_with(stack, method, path, Some(ADMIN_TOKEN), Some(body)).await
}

/// Creates tenant `body` and returns its token (shown once).
pub async fn provision(stack: &Stack, body: Value) -> String {
    let (code, answer) = admin(stack, "POST", "/admin/tenants", body).await;
    assert_eq!(code, 201, "{answer}");
    answer["token"].as_str().unwrap().to_owned()
}

/// The status of `POST /otp` for number `n` with `token`.
pub async fn send(client: &reqwest::Client, stack: &Stack, token: &str, n: u64) -> u16 {
    client
        .post(format!("{}/otp", stack.base))
        .bearer_auth(token)
        .json(&json!({"phoneNumber": phone(n)}))
        .send()
        .await
        .map_or(0, |r| r.status().as_u16())
}

/// Sends with `token` every 50 ms until the answer is `status`, at most `wait`; the time it
/// took.
pub async fn until_answer(
    stack: &Stack,
    token: &str,
    status: u16,
    wait: Duration,
    first_n: u64,
) -> Duration {
    let client = reqwest::Client::new();
    let start = Instant::now();
    let mut last = 0;
    for n in first_n.. {
        last = send(&client, stack, token, n).await;
        if last == status {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < wait,
            "no {status} within {wait:?} (last answer {last})"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    unreachable!("{last}")
}
