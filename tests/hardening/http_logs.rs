//! The PIN never reaches the logs: a full create / wrong try / verify cycle is run with every
//! log level captured into a buffer, which must not contain the PIN or the SMS text.

use crate::support::logs::Buffer;
use crate::support::server::{test_config, Server};
use serde_json::json;

#[tokio::test]
async fn pin_is_never_logged() {
    // every level, from this thread (the server's tasks run here: a current-thread runtime)
    let buffer = Buffer::default();
    let _capture = buffer.capture();

    let s = Server::start(test_config()).await;
    let (_, otp) = s
        .create(
            json!({"phoneNumber": "+33612345678", "pinType": "alphanumeric", "pinLength": 10,
            "template": "Login code {{pin}}"}),
        )
        .await;
    let id = otp["otpId"].as_str().unwrap().to_owned();
    let sms = s.dispatcher.sms_for(&id).unwrap();
    let pin = s.dispatcher.pin_for(&id);
    assert_eq!(pin.len(), 10);
    s.verify(&id, "WRONGWRONG").await;
    s.verify(&id, &pin).await;
    s.verify(&id, &pin).await;
    tracing::info!(sms = ?sms, "the dispatched SMS as Debug");
    s.stop().await;

    let logs = buffer.text();
    assert!(logs.contains(&id), "the cycle was not logged at all");
    assert!(logs.contains("otp created"));
    assert!(!logs.contains(&pin), "PIN found in the logs");
    assert!(!logs.contains(&pin.to_lowercase()));
    assert!(!logs.contains(&sms.text), "SMS text found in the logs");
}
