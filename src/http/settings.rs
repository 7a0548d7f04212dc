//! `[http]`: the API listener's settings (its socket and request hygiene).

use std::path::PathBuf;

use serde::Deserialize;

/// `[http]`: the listening socket and request hygiene.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpConfig {
    pub listen: String,
    /// Largest accepted request body, in bytes (413 above).
    pub body_limit_bytes: usize,
    /// Every request is answered within this time (503 when exceeded).
    pub request_timeout_ms: u64,
    /// At most this many requests are handled at once (503 beyond).
    pub max_in_flight: usize,
    /// `Retry-After` (seconds) on a 503 caused by an overloaded server.
    pub retry_after_s: u64,
    /// Base of the `uri` field of error replies.
    pub error_doc_url: String,
    /// A connection must send a request's whole header within this time, and a connection
    /// without a request in progress for this long (to a quarter more) is closed
    /// (slow-client protection).
    pub header_read_timeout_ms: u64,
    /// Most connections open at once; further clients wait in the listen backlog.
    pub max_connections: usize,
    /// Largest request header (and read buffer) per connection, in bytes (at least 8192).
    pub max_header_bytes: usize,
    /// A connection whose reads and writes make no progress for this long (to a quarter
    /// more) is closed (a client that stops reading its answers, or stops sending). Above
    /// `request_timeout_ms`, so that a slow handler is not mistaken for a stalled client.
    pub idle_timeout_ms: u64,
    /// A connection older than this is closed once its request in progress is answered
    /// (`Connection: close`); 0 = no limit.
    pub max_connection_age_ms: u64,
    /// Most connections open at once from one client address (an IPv6 client: its /64);
    /// further ones are closed at once. 0 = no limit (behind a load balancer, every client
    /// has its address).
    pub max_connections_per_ip: usize,
    /// When set, `GET /metrics` requires `Authorization: Bearer <metrics_token>` (it shows
    /// tenant names and volumes).
    pub metrics_token: Option<String>,
    /// PEM certificate chain (leaf first) served over TLS; with `tls_key`, the listener speaks
    /// HTTPS only (HTTP/2 or HTTP/1.1 by ALPN). Re-read on `SIGHUP`.
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of `tls_cert` (PKCS#8, PKCS#1 or SEC1).
    pub tls_key: Option<PathBuf>,
    /// A TLS handshake must finish within this time, or the connection is closed.
    pub tls_handshake_timeout_ms: u64,
    /// Requests in progress at once on one HTTP/2 connection.
    pub http2_max_concurrent_streams: u32,
    /// Browser origins (`https://app.example.com`) whose pages may call the API (CORS, with
    /// credentials); empty = no CORS headers at all.
    pub cors_allowed_origins: Vec<String>,
    /// How long a browser may cache a preflight answer, in seconds.
    pub cors_max_age_s: u64,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            body_limit_bytes: 16 * 1024,
            request_timeout_ms: 10_000,
            max_in_flight: 10_000,
            retry_after_s: 1,
            error_doc_url: "https://sms.cx/docs/errors".into(),
            header_read_timeout_ms: 10_000,
            max_connections: 16_384,
            max_header_bytes: 32 * 1024,
            idle_timeout_ms: 30_000,
            max_connection_age_ms: 600_000,
            max_connections_per_ip: 256,
            metrics_token: None,
            tls_cert: None,
            tls_key: None,
            tls_handshake_timeout_ms: 10_000,
            http2_max_concurrent_streams: 100,
            cors_allowed_origins: Vec::new(),
            cors_max_age_s: 600,
        }
    }
}
