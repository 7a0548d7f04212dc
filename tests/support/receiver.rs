//! A callback receiver for tests: a real HTTP server on 127.0.0.1:0 that records every
//! request (signature header and raw body), and can be told to fail the first N requests or
//! never to answer.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;

#[derive(Debug, Clone)]
pub struct Received {
    pub signature: Option<String>,
    pub body: Bytes,
    pub json: serde_json::Value,
}

#[derive(Default)]
pub struct Shared {
    got: Mutex<Vec<Received>>,
    /// Requests seen, answered or not.
    pub hits: AtomicUsize,
    fail_first: AtomicUsize,
    hang: std::sync::atomic::AtomicBool,
    changed: tokio::sync::Notify,
}

pub struct Receiver {
    pub url: String,
    pub shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

async fn handle(State(s): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let n = s.hits.fetch_add(1, Ordering::SeqCst);
    s.changed.notify_waiters();
    if s.hang.load(Ordering::SeqCst) {
        std::future::pending::<()>().await;
    }
    if n < s.fail_first.load(Ordering::SeqCst) {
        return StatusCode::INTERNAL_SERVER_ERROR;
    }
    let json = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
    let signature = headers
        .get("x-otpgate-signature")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    s.got.lock().unwrap().push(Received {
        signature,
        body,
        json,
    });
    s.changed.notify_waiters();
    StatusCode::NO_CONTENT
}

impl Receiver {
    /// Fails the first `fail_first` requests with 500; never answers when `hang`.
    pub async fn start(fail_first: usize, hang: bool) -> Receiver {
        let shared = Arc::new(Shared::default());
        shared.fail_first.store(fail_first, Ordering::SeqCst);
        shared.hang.store(hang, Ordering::SeqCst);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let app = axum::Router::new()
            .route("/hook", post(handle))
            .with_state(shared.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Receiver { url, shared, task }
    }

    pub fn received(&self) -> Vec<Received> {
        self.shared.got.lock().unwrap().clone()
    }

    /// Every OTP object received so far, in arrival order.
    pub fn updates(&self) -> Vec<serde_json::Value> {
        self.received()
            .iter()
            .flat_map(|r| r.json["data"].as_array().cloned().unwrap_or_default())
            .collect()
    }

    /// Waits (at most `within`) until `done` holds for the updates received.
    pub async fn wait_until(
        &self,
        within: Duration,
        done: impl Fn(&[serde_json::Value]) -> bool,
    ) -> Vec<serde_json::Value> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let changed = self.shared.changed.notified();
            let got = self.updates();
            if done(&got) {
                return got;
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                return self.updates();
            }
        }
    }

    /// Waits (at most `within`) until `n` requests arrived, answered or not.
    pub async fn wait_hits(&self, n: usize, within: Duration) -> usize {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let changed = self.shared.changed.notified();
            let hits = self.shared.hits.load(Ordering::SeqCst);
            if hits >= n || tokio::time::timeout_at(deadline, changed).await.is_err() {
                return self.shared.hits.load(Ordering::SeqCst);
            }
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}
