//! The store gauges as a scrape sees them, right after each change (alone in its test binary:
//! the metrics recorder is global to the process).

use crate::support::server::{test_config, Server};

fn gauge(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
}

async fn scrape(s: &Server) -> String {
    let res = s.client.get(s.url("/metrics")).send().await.unwrap();
    res.text().await.unwrap()
}

#[tokio::test]
async fn live_and_stored_follow_every_change() {
    let mut config = test_config();
    config.otp.max_live = 1234;
    let s = Server::start(config).await;
    let a = s.create_ok("+33612345678").await;
    let b = s.create_ok("+33612345679").await;
    let text = scrape(&s).await;
    assert_eq!(
        gauge(&text, "otpgate_otps_live{store=\"memory\"}"),
        Some(2.0),
        "{text}"
    );
    assert_eq!(
        gauge(&text, "otpgate_otps_stored{store=\"memory\"}"),
        Some(2.0)
    );
    assert_eq!(
        gauge(&text, "otpgate_otps_max_live{store=\"memory\"}"),
        Some(1234.0)
    );
    let pin = s.dispatcher.pin_for(&a);
    assert_eq!(s.verify(&a, &pin).await.0, 200);
    assert_eq!(s.cancel(&b).await, 200);
    let text = scrape(&s).await;
    assert_eq!(
        gauge(&text, "otpgate_otps_live{store=\"memory\"}"),
        Some(0.0),
        "{text}"
    );
    assert_eq!(
        gauge(&text, "otpgate_otps_stored{store=\"memory\"}"),
        Some(2.0),
        "finished OTPs are retained"
    );
    s.stop().await;
}
