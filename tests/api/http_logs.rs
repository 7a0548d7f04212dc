//! The PIN never reaches the logs: a full create / wrong try / verify cycle is run with every
//! log level captured into a buffer, which must not contain the PIN or the SMS text.

use std::io::Write;
use std::sync::{Arc, Mutex};

use crate::support::server::{test_config, Server};
use serde_json::json;

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn pin_is_never_logged() {
    let buffer = Buffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

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

    let logs = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains(&id), "the cycle was not logged at all");
    assert!(logs.contains("otp created"));
    assert!(!logs.contains(&pin), "PIN found in the logs");
    assert!(!logs.contains(&pin.to_lowercase()));
    assert!(!logs.contains(&sms.text), "SMS text found in the logs");
}
