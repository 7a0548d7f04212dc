//! Which `otpCallbackUrl` hosts are accepted (docs/api.md, "Callback URLs"): a name, dotless
//! or not, is judged by the addresses it resolves to, at create and again at delivery; a name
//! that does not resolve at create is accepted; a create refused by any limit is never looked
//! up. The resolver is the test's own (the machine has no DNS), the API is spoken over real
//! HTTP.

use std::time::Duration;

use serde_json::json;

use crate::support::receiver::Receiver;
use crate::support::resolver::FakeResolver;
use crate::support::server::{error_of, test_config, Server, TOKEN2};

/// The example of the sms.cx product page.
const SMSCX_EXAMPLE: &str = "https://my-callback/receive-otp-status";
const WAIT: Duration = Duration::from_secs(10);

#[tokio::test]
async fn a_dotless_host_is_refused_only_when_it_resolves_to_a_private_address() {
    let resolver = FakeResolver::new();
    let mut c = test_config();
    c.callbacks.allow_private = false;
    let s = Server::start_resolving(c, resolver.clone()).await;
    let create = |phone: &'static str, url: &'static str| {
        s.create(json!({"phoneNumber": phone, "otpCallbackUrl": url}))
    };

    resolver.answer("my-callback", &["93.184.216.34"]);
    let (status, body) = create("+33612345601", SMSCX_EXAMPLE).await;
    assert_eq!(status, 201, "public address: {body}");
    assert_eq!(body["otpCallbackUrl"], SMSCX_EXAMPLE);

    resolver.answer("my-callback", &["10.0.0.1"]);
    let sent = s.dispatcher.count();
    let (status, body) = create("+33612345602", SMSCX_EXAMPLE).await;
    assert_eq!(status, 400, "private address: {body}");
    assert_eq!(error_of(&body), ("invalid_param".into(), 2019));
    assert_eq!(body["error"]["field"], "otpCallbackUrl");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("resolves to a private"), "{message}");
    assert!(
        !message.contains("10.0.0.1"),
        "the address is not told: {message}"
    );
    assert_eq!(s.dispatcher.count(), sent, "no SMS for a refused create");

    // one private address among public ones is enough to refuse
    resolver.answer("my-callback", &["93.184.216.34", "::ffff:192.168.1.1"]);
    let (status, _) = create("+33612345603", SMSCX_EXAMPLE).await;
    assert_eq!(status, 400);

    resolver.forget("my-callback");
    let (status, body) = create("+33612345604", SMSCX_EXAMPLE).await;
    assert_eq!(status, 201, "not resolved at create: accepted, {body}");

    // names with dots follow the same rule; names internal by their form stay refused
    resolver.answer("hooks.example.com", &["172.16.5.4"]);
    let (status, _) = create("+33612345605", "https://hooks.example.com/cb").await;
    assert_eq!(status, 400);
    resolver.answer("hooks.example.com", &["2a00:1450:4007::200e"]);
    let (status, _) = create("+33612345606", "https://hooks.example.com/cb").await;
    assert_eq!(status, 201);
    let calls = resolver.calls();
    let (status, _) = create("+33612345607", "https://metadata.internal/cb").await;
    assert_eq!(status, 400);
    assert_eq!(
        resolver.calls(),
        calls,
        "refused by its name, never looked up"
    );
    s.stop().await;
}

/// The receiver's URL with `my-callback` for its host.
fn dotless(rx: &Receiver) -> String {
    rx.url.replace("127.0.0.1", "my-callback")
}

/// Delivery resolves the host again, through the same resolver: a dotless name is delivered
/// to the address it resolves to, and refused when that address has become a private one.
#[tokio::test]
async fn a_dotless_host_is_resolved_again_at_delivery() {
    // allowed private addresses: the receiver listens on loopback
    let rx = Receiver::start(0, false).await;
    let url = dotless(&rx);
    let resolver = FakeResolver::new();
    resolver.answer("my-callback", &["127.0.0.1"]);
    let s = Server::start_resolving(test_config(), resolver.clone()).await;
    let (status, body) = s
        .create(json!({"phoneNumber": "+33612345611", "otpCallbackUrl": url}))
        .await;
    assert_eq!(status, 201, "{body}");
    let id = body["otpId"].as_str().unwrap().to_owned();
    assert_eq!(s.cancel(&id).await, 200);
    assert_eq!(
        rx.wait_hits(1, WAIT).await,
        1,
        "delivered to the resolved address"
    );
    assert!(resolver.calls() >= 1, "delivery looked the name up");
    s.stop().await;

    // private addresses refused: accepted at create while public, refused at delivery
    let rx = Receiver::start(0, false).await;
    let url = dotless(&rx);
    let resolver = FakeResolver::new();
    resolver.answer("my-callback", &["93.184.216.34"]);
    let mut c = test_config();
    c.callbacks.allow_private = false;
    c.callbacks.max_retries = 1;
    c.callbacks.retry_base_ms = 10;
    c.callbacks.retry_max_ms = 20;
    let s = Server::start_resolving(c, resolver.clone()).await;
    let (status, body) = s
        .create(json!({"phoneNumber": "+33612345612", "otpCallbackUrl": url}))
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(resolver.calls(), 1, "looked up once at create");
    resolver.answer("my-callback", &["127.0.0.1"]);
    let id = body["otpId"].as_str().unwrap().to_owned();
    assert_eq!(s.cancel(&id).await, 200);
    // the first attempt and its one retry each look the name up again, and are refused
    let started = std::time::Instant::now();
    while resolver.calls() < 3 {
        assert!(
            started.elapsed() < WAIT,
            "delivery never looked the host up again"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(rx.wait_hits(1, Duration::from_millis(500)).await, 0);
    s.stop().await;
}

/// The lookup is the costly part of a create: it is spent only once every limit admitted it.
#[tokio::test]
async fn creates_refused_by_a_limit_never_look_the_callback_host_up() {
    let resolver = FakeResolver::new();
    resolver.answer("hooks.example.com", &["93.184.216.34"]);
    resolver.slow(Duration::from_millis(100));
    let mut c = test_config();
    c.callbacks.allow_private = false;
    c.limits.per_number = 1;
    c.abuse.country_daily_caps.insert("DE".into(), 1);
    c.tenants[1].allowed_countries = vec!["GB".into()];
    let s = Server::start_resolving(c, resolver.clone()).await;
    let hook = "https://hooks.example.com/cb";
    let create =
        |phone: &'static str| s.create(json!({"phoneNumber": phone, "otpCallbackUrl": hook}));

    let (status, body) = create("+33612349001").await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(resolver.calls(), 1, "an admitted create looks its host up");

    // the per-number limit
    let (status, body) = create("+33612349001").await;
    assert_eq!(status, 429, "{body}");
    // the country daily cap of the pumping guard
    assert_eq!(create("+4915123456789").await.0, 201);
    let (status, body) = create("+4915123456780").await;
    assert_eq!(
        (status, body["error"]["reason"].as_str()),
        (429, Some("country_daily_cap"))
    );
    // a country the tenant may not send to
    let res = s
        .client
        .post(s.url("/otp"))
        .bearer_auth(TOKEN2)
        .json(&json!({"phoneNumber": "+33612349002", "otpCallbackUrl": hook}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    // an invalid field of the request itself
    let (status, _) = s
        .create(json!({"phoneNumber": "+33612349003", "otpCallbackUrl": hook, "ttl": 5}))
        .await;
    assert_eq!(status, 400);

    assert_eq!(
        resolver.calls(),
        2,
        "only the two admitted creates were looked up"
    );
    s.stop().await;
}
