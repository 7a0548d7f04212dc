//! Test harness: an in-process server on 127.0.0.1:0 with a dispatcher that records what it
//! is given (so a test can read the PIN from the SMS text) and can be told to refuse.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use otpgate::config::{Config, TenantConfig};
use otpgate::dispatch::{DeliverySink, DispatchError, Dispatcher, OutboundSms, Readiness};
use otpgate::otp::Clock;

/// Keeps every SMS it is given; refuses while `refuse` holds an error.
#[derive(Default)]
pub struct RecordingDispatcher {
    sent: Mutex<Vec<OutboundSms>>,
    refuse: Mutex<Option<DispatchError>>,
    not_ready: Mutex<Vec<String>>,
}

impl RecordingDispatcher {
    pub fn refuse_with(&self, e: Option<DispatchError>) {
        *self.refuse.lock().unwrap() = e;
    }

    pub fn set_not_ready(&self, reasons: Vec<String>) {
        *self.not_ready.lock().unwrap() = reasons;
    }

    pub fn sent(&self) -> Vec<OutboundSms> {
        self.sent.lock().unwrap().clone()
    }

    pub fn count(&self) -> usize {
        self.sent.lock().unwrap().len()
    }

    /// The latest SMS of `otp_id` (a resend's, once it was resent).
    pub fn sms_for(&self, otp_id: &str) -> Option<OutboundSms> {
        self.sent
            .lock()
            .unwrap()
            .iter()
            .rev()
            .find(|s| s.otp_id == otp_id)
            .cloned()
    }

    /// The PIN of `otp_id`: the last word of its text (every test template ends with it).
    pub fn pin_for(&self, otp_id: &str) -> String {
        let sms = self.sms_for(otp_id).expect("no SMS for this OTP");
        sms.text
            .split_whitespace()
            .last()
            .unwrap_or_default()
            .trim_end_matches('.')
            .to_owned()
    }
}

impl Dispatcher for RecordingDispatcher {
    fn try_dispatch(&self, sms: OutboundSms) -> Result<(), DispatchError> {
        if let Some(e) = self.refuse.lock().unwrap().clone() {
            return Err(e);
        }
        self.sent.lock().unwrap().push(sms);
        Ok(())
    }

    fn readiness(&self) -> Readiness {
        let reasons = self.not_ready.lock().unwrap().clone();
        Readiness {
            ready: reasons.is_empty(),
            binds_up: usize::from(reasons.is_empty()),
            queue_depth: 0,
            queue_capacity: 100,
            reasons,
            uncovered_routes: Vec::new(),
        }
    }
}

pub const TOKEN: &str = "token-one-0001";
pub const TOKEN2: &str = "token-two-0002";

pub fn tenant(name: &str, token: &str) -> TenantConfig {
    TenantConfig {
        name: name.into(),
        token: token.into(),
        ..TenantConfig::default()
    }
}

/// Two tenants, a fixed PIN secret, callbacks to loopback allowed.
pub fn test_config() -> Config {
    let mut c = Config {
        tenants: vec![tenant("one", TOKEN), tenant("two", TOKEN2)],
        ..Config::default()
    };
    c.security.pin_secret = Some("test-secret-0123456789".into());
    c.callbacks.allow_private = true;
    c.limits.per_number = 1000;
    c
}

pub struct Server {
    pub base: String,
    pub client: reqwest::Client,
    pub dispatcher: Arc<RecordingDispatcher>,
    pub clock: Arc<Clock>,
    pub sink: Arc<dyn DeliverySink>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<()>>,
}

impl Server {
    pub async fn start(config: Config) -> Server {
        config.validate().expect("test config invalid");
        let prepared = otpgate::app::prepare(&config);
        Self::start_prepared(config, prepared).await
    }

    /// Starts with callback hosts looked up by `resolver` (at create and at delivery).
    pub async fn start_resolving(
        config: Config,
        resolver: Arc<dyn otpgate::callbacks::resolve::HostResolver>,
    ) -> Server {
        config.validate().expect("test config invalid");
        let mut prepared = otpgate::app::prepare(&config);
        prepared.resolver = resolver;
        Self::start_prepared(config, prepared).await
    }

    /// Starts on an OTP core already built (any store).
    pub async fn start_prepared(config: Config, prepared: otpgate::app::Prepared) -> Server {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let scheme = if config.http.tls_cert.is_some() {
            "https"
        } else {
            "http"
        };
        let base = format!("{scheme}://{}", listener.local_addr().unwrap());
        let clock = prepared.clock.clone();
        let sink = prepared.delivery_sink();
        let dispatcher = Arc::new(RecordingDispatcher::default());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let d: Arc<dyn Dispatcher> = dispatcher.clone();
        let handle = tokio::spawn(async move {
            otpgate::serve::run_front(&config, listener, prepared, d, async move {
                let _ = rx.await;
            })
            .await
            .unwrap();
        });
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .build()
            .unwrap();
        Server {
            base,
            client,
            dispatcher,
            clock,
            sink,
            stop: Some(tx),
            handle: Some(handle),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.client.post(self.url(path)).bearer_auth(TOKEN)
    }

    pub fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.client.get(self.url(path)).bearer_auth(TOKEN)
    }

    pub fn delete(&self, path: &str) -> reqwest::RequestBuilder {
        self.client.delete(self.url(path)).bearer_auth(TOKEN)
    }

    /// Creates an OTP with `body`; returns the status and the JSON reply.
    pub async fn create(&self, body: serde_json::Value) -> (u16, serde_json::Value) {
        let res = self.post("/otp").json(&body).send().await.unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap())
    }

    /// Creates an OTP that must succeed; returns its id.
    pub async fn create_ok(&self, phone: &str) -> String {
        let (status, body) = self.create(serde_json::json!({"phoneNumber": phone})).await;
        assert_eq!(status, 201, "{body}");
        body["otpId"].as_str().unwrap().to_owned()
    }

    /// `GET /otp/{id}`'s body.
    pub async fn otp(&self, id: &str) -> serde_json::Value {
        let res = self.get(&format!("/otp/{id}")).send().await.unwrap();
        res.json().await.unwrap()
    }

    /// `DELETE /otp/{id}`'s status.
    pub async fn cancel(&self, id: &str) -> u16 {
        let res = self.delete(&format!("/otp/{id}")).send().await.unwrap();
        res.status().as_u16()
    }

    pub async fn verify(&self, id: &str, pin: &str) -> (u16, serde_json::Value) {
        let res = self
            .post(&format!("/otp/{id}"))
            .json(&serde_json::json!({"pin": pin}))
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap())
    }

    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.handle.take() {
            h.await.unwrap();
        }
    }
}

/// Asserts the error shape and returns (type, code).
pub fn error_of(body: &serde_json::Value) -> (String, i64) {
    let e = &body["error"];
    assert!(e["message"].is_string(), "no message: {body}");
    assert!(e["uri"].is_string(), "no uri: {body}");
    (
        e["type"].as_str().unwrap_or_default().to_owned(),
        e["code"].as_i64().unwrap_or_default(),
    )
}
