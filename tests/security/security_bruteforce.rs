//! Brute force through HTTP: a client guessing PINs, one after the other or many at once, gets
//! exactly maxAttempts evaluated guesses; then the OTP is FAILED and even the right PIN is
//! refused, whichever verify route is used.

use crate::support::server::{error_of, test_config, Server};
use futures::stream::{self, StreamExt};
use serde_json::{json, Value};

/// Every 4-digit PIN but `right`, in order: what a brute-force client would try.
fn guesses(right: &str) -> Vec<String> {
    (0..10_000u32)
        .map(|n| format!("{n:04}"))
        .filter(|g| g != right)
        .collect()
}

/// Sends `pins` to `path` with `concurrency` requests in flight; returns the (status, code)
/// of every answer.
async fn guess_all(s: &Server, path: &str, pins: &[String], concurrency: usize) -> Vec<(u16, i64)> {
    stream::iter(pins.iter().cloned())
        .map(|pin| async move {
            let res = s
                .post(path)
                .json(&json!({"pin": pin}))
                .send()
                .await
                .unwrap();
            let status = res.status().as_u16();
            let body: Value = res.json().await.unwrap();
            assert_ne!(status, 200, "a wrong PIN verified: {pin}");
            (status, error_of(&body).1)
        })
        .buffer_unordered(concurrency)
        .collect()
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn brute_force_stops_at_max_attempts() {
    let s = Server::start(test_config()).await;
    let cases = [
        (1, 1, "/otp/{id}"),
        (3, 1, "/otp/{id}/verify"),
        (5, 16, "/otp/{id}"),
        (10, 64, "/otp/{id}/verify"),
    ];
    for (n, (max_attempts, concurrency, route)) in cases.into_iter().enumerate() {
        let (status, otp) = s
            .create(json!({"phoneNumber": format!("+3361234567{n}"), "pinLength": 4, "maxAttempts": max_attempts}))
            .await;
        assert_eq!(status, 201, "{otp}");
        let id = otp["otpId"].as_str().unwrap().to_owned();
        let right = s.dispatcher.pin_for(&id);
        let path = route.replace("{id}", &id);
        // 500 guesses are plenty to show the cut-off (the whole space is 10 000).
        let pins: Vec<String> = guesses(&right).into_iter().take(500).collect();
        let answers = guess_all(&s, &path, &pins, concurrency).await;

        let count = |code| answers.iter().filter(|a| a.1 == code).count();
        let (wrong, last, after) = (count(2029), count(2027), count(2026));
        assert_eq!(
            (wrong, last),
            (max_attempts - 1, 1),
            "maxAttempts {max_attempts}: evaluated guesses {answers:?}"
        );
        assert_eq!(
            after,
            pins.len() - max_attempts,
            "the rest refused as already failed"
        );
        assert!(answers.iter().all(|a| a.0 == 400));

        let (status, body) = s.verify(&id, &right).await;
        assert_eq!(
            (status, error_of(&body)),
            (400, ("otp_failed".into(), 2026))
        );
        let got = s.otp(&id).await;
        assert_eq!(got["status"], "FAILED");
        assert_eq!(got["attempts"], max_attempts);
    }
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_right_pin_still_verifies_before_the_limit() {
    // The control of the test above: maxAttempts - 1 wrong guesses leave the right PIN valid.
    let s = Server::start(test_config()).await;
    let (_, otp) = s
        .create(json!({"phoneNumber": "+33612345680", "pinLength": 4, "maxAttempts": 5}))
        .await;
    let id = otp["otpId"].as_str().unwrap().to_owned();
    let right = s.dispatcher.pin_for(&id);
    let pins: Vec<String> = guesses(&right).into_iter().take(4).collect();
    let answers = guess_all(&s, &format!("/otp/{id}"), &pins, 4).await;
    assert!(answers.iter().all(|a| *a == (400, 2029)), "{answers:?}");
    let (status, body) = s.verify(&id, &right).await;
    assert_eq!((status, body), (200, json!({"status": "VERIFIED"})));
    // Verified once: never again.
    let (status, body) = s.verify(&id, &right).await;
    assert_eq!((status, error_of(&body).1), (400, 2023));
    s.stop().await;
}
