//! Prometheus metrics: the recorder (installed once per process, with histogram buckets suited
//! to each duration), the description of every metric otpgate exports, the series registered
//! at zero at start (so that rates and alerts see the first event), and the per-request HTTP
//! metrics. Labels are bounded: route templates (`/otp/{otpId}`, never an id), known methods,
//! status classes, names from the configuration, reasons from fixed sets; never a phone
//! number, an otpId, a message id or a PIN.

use std::sync::OnceLock;

use metrics::{describe_counter, describe_gauge, describe_histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::config::Config;
use crate::smpp::metrics as smpp;

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

pub const HTTP_REQUESTS: &str = "otpgate_http_requests_total";
pub const HTTP_DURATION: &str = "otpgate_http_request_duration_seconds";
pub const RATE_LIMITED: &str = "otpgate_rate_limited_total";
pub const BUILD_INFO: &str = "otpgate_build_info";
pub const OTPS_EXPIRED: &str = "otpgate_otps_expired_total";
pub const CALLBACK_DELIVERIES: &str = "otpgate_callback_deliveries_total";
pub const CALLBACK_DURATION: &str = "otpgate_callback_duration_seconds";
pub const LOG_DROPPED: &str = "otpgate_log_lines_dropped_total";

/// HTTP answers: 100 us to 5 s.
const HTTP_BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];
/// submit_sm to submit_sm_resp: 1 ms to 30 s (the response timeout's range).
const SMSC_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];
/// submit_sm_resp to delivery receipt: 500 ms to 2 h (handsets off, roaming, retries).
const RECEIPT_BUCKETS: &[f64] = &[
    0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0, 7200.0,
];
/// One callback POST: 5 ms to 30 s (the longest sensible timeout).
const CALLBACK_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// Installs the Prometheus recorder (once; later calls reuse it) and describes every metric.
/// `None` when another recorder was installed first by the embedding program.
pub fn install() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let mut builder = PrometheusBuilder::new();
            for (name, buckets) in [
                (HTTP_DURATION, HTTP_BUCKETS),
                (smpp::SUBMIT_DURATION, SMSC_BUCKETS),
                (smpp::RECEIPT_DELAY, RECEIPT_BUCKETS),
                (CALLBACK_DURATION, CALLBACK_BUCKETS),
            ] {
                builder = builder
                    .set_buckets_for_metric(Matcher::Full(name.into()), buckets)
                    .ok()?;
            }
            match builder.install_recorder() {
                Ok(h) => {
                    describe();
                    metrics::gauge!(BUILD_INFO, "version" => env!("CARGO_PKG_VERSION")).set(1.0);
                    Some(h)
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cannot install the Prometheus recorder");
                    None
                }
            }
        })
        .as_ref()
}

/// The text exposition of every metric, process metrics included.
pub fn render() -> String {
    match install() {
        Some(h) => {
            metrics::counter!(LOG_DROPPED).absolute(crate::logging::dropped_lines());
            h.run_upkeep();
            let mut text = h.render();
            super::process::render(&mut text);
            text
        }
        None => String::new(),
    }
}

/// Registers at zero the series whose first increment must be visible to `rate()` and
/// `increase()` (an alert on bind failures would otherwise miss the first one): per SMSC and
/// per tenant from `config`, plus the OTP and callback outcomes alerts and panels divide by.
pub fn register_known(config: &Config) {
    for s in &config.smsc {
        let name = s.name.clone();
        metrics::counter!(smpp::SUBMIT_TOTAL, "smsc" => name.clone(), "status" => "ESME_ROK")
            .absolute(0);
        for reason in ["credentials", "refused", "connect", "bind_timeout"] {
            metrics::counter!(smpp::BIND_FAILURES, "smsc" => name.clone(), "reason" => reason)
                .absolute(0);
        }
        for metric in [smpp::RECONNECTS, smpp::THROTTLED, smpp::QUEUE_FULL] {
            metrics::counter!(metric, "smsc" => name.clone()).absolute(0);
        }
        for state in ["DELIVRD", "UNDELIV", "EXPIRED", "REJECTD"] {
            metrics::counter!(smpp::RECEIPTS, "smsc" => name.clone(), "state" => state).absolute(0);
        }
    }
    metrics::counter!(OTPS_EXPIRED).absolute(0);
    let store = config.store.kind.as_str();
    store_sizes(store, 0, 0);
    metrics::gauge!("otpgate_otps_max_live", "store" => store).set(config.otp.max_live as f64);
    metrics::counter!(LOG_DROPPED).absolute(crate::logging::dropped_lines());
    metrics::counter!("otpgate_receipts_unmatched_total").absolute(0);
    for outcome in ["delivered", "dropped", "shed"] {
        metrics::counter!(CALLBACK_DELIVERIES, "outcome" => outcome).absolute(0);
    }
}

/// The store's pending and stored OTPs. `store` is the kind: each node reports the memory
/// store's figures for itself alone, the Redis store's for every node (so a dashboard sums the
/// first and takes the maximum of the second).
pub fn store_sizes(store: &'static str, pending: usize, stored: usize) {
    metrics::gauge!("otpgate_otps_live", "store" => store).set(pending as f64);
    metrics::gauge!("otpgate_otps_stored", "store" => store).set(stored as f64);
}

/// A request refused by a rate or abuse limit (HTTP 429), by `reason`.
pub fn rate_limited(reason: &'static str) {
    metrics::counter!(RATE_LIMITED, "reason" => reason).increment(1);
}

/// The `method` label: the standard methods by name, anything else `other`.
pub fn method_label(method: &str) -> &'static str {
    match method {
        "GET" => "GET",
        "POST" => "POST",
        "DELETE" => "DELETE",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "HEAD" => "HEAD",
        "OPTIONS" => "OPTIONS",
        _ => "other",
    }
}

fn status_class(status: u16) -> &'static str {
    match status {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

/// Records one answered request; `route` is a route template or `unmatched`, `method` a
/// [`method_label`]. Every label is static: nothing is allocated per request.
pub fn record_request(route: &'static str, method: &'static str, status: u16, seconds: f64) {
    metrics::counter!(HTTP_REQUESTS, "route" => route, "method" => method,
        "status" => status_class(status))
    .increment(1);
    metrics::histogram!(HTTP_DURATION, "route" => route, "method" => method).record(seconds);
}

/// `# HELP` for every metric (promtool wants one on each).
fn describe() {
    describe_counter!(
        HTTP_REQUESTS,
        "HTTP requests answered, by route template, method and status class"
    );
    describe_histogram!(
        HTTP_DURATION,
        "Time to answer an HTTP request, by route template and method"
    );
    describe_counter!(
        "otpgate_otps_created_total",
        "OTPs created and handed to the SMPP engine, by tenant and encoding"
    );
    describe_counter!(
        "otpgate_otps_verified_total",
        "Verification attempts, by tenant and result (verified, wrong_pin, failed, expired...)"
    );
    describe_counter!(OTPS_EXPIRED, "OTPs that reached their TTL unverified");
    describe_counter!(
        "otpgate_otps_cancelled_total",
        "OTPs cancelled through DELETE /otp/{otpId}, by tenant"
    );
    describe_counter!(
        "otpgate_otps_resent_total",
        "OTPs sent again through /otp/{otpId}/resend, by tenant"
    );
    describe_gauge!(
        "otpgate_otps_live",
        "OTPs pending (created, not yet verified, expired, cancelled or failed)"
    );
    describe_gauge!(
        "otpgate_otps_stored",
        "OTPs in the store in any status, retained finished ones included (with Redis: all nodes')"
    );
    describe_gauge!(
        "otpgate_otps_max_live",
        "[otp] max_live: OTPs stored at most; creates beyond answer 503"
    );
    describe_counter!(
        "otpgate_blocked_total",
        "OTP creates refused by an abuse or volume limit, by reason"
    );
    describe_counter!(
        RATE_LIMITED,
        "Requests answered 429 by a rate limit, by reason"
    );
    describe_counter!(
        "otpgate_receipts_total",
        "Delivery receipts seen by the OTP core, by outcome"
    );
    describe_counter!(
        "otpgate_receipts_unmatched_total",
        "Delivery receipts for a message id no OTP knows"
    );
    describe_counter!(
        smpp::SMS_PARTS,
        "SMS parts prepared for submission, by encoding"
    );
    describe_counter!(
        smpp::SUBMIT_TOTAL,
        "submit_sm answered or timed out, by SMSC and command_status"
    );
    describe_histogram!(
        smpp::SUBMIT_DURATION,
        "Time from submit_sm to its submit_sm_resp, by SMSC"
    );
    describe_gauge!(
        smpp::WINDOW_IN_USE,
        "submit_sm awaiting their response, by SMSC and bind"
    );
    describe_gauge!(
        smpp::WINDOW_SIZE,
        "Window size (most submit_sm outstanding), by SMSC and bind"
    );
    describe_gauge!(
        smpp::BIND_UP,
        "1 when the bind is bound, 0 otherwise, by SMSC and bind"
    );
    describe_counter!(
        smpp::RECONNECTS,
        "Reconnection attempts after a lost or refused bind, by SMSC"
    );
    describe_counter!(
        smpp::BIND_FAILURES,
        "Bind attempts that failed, by SMSC and reason (credentials, connect...)"
    );
    describe_counter!(
        smpp::THROTTLED,
        "submit_sm answered ESME_RTHROTTLED, by SMSC"
    );
    describe_counter!(
        smpp::QUEUE_FULL,
        "submit_sm answered ESME_RMSGQFUL, by SMSC"
    );
    describe_counter!(
        smpp::RECEIPTS,
        "Delivery receipts received, by SMSC and receipt state"
    );
    describe_counter!(
        smpp::RECEIPTS_DEFERRED,
        "Receipts answered ESME_RX_T_APPN because they could not be recorded, by SMSC"
    );
    describe_histogram!(
        smpp::RECEIPT_DELAY,
        "Time from submit_sm_resp to the delivery receipt, by SMSC"
    );
    describe_gauge!(smpp::QUEUE_DEPTH, "Messages waiting in the send queue");
    describe_gauge!(smpp::QUEUE_CAPACITY, "Capacity of the send queue");
    describe_counter!(smpp::RETRIES, "Messages retried, by SMSC and reason");
    describe_counter!(
        smpp::MO,
        "Mobile-originated messages (deliver_sm that are not receipts), by SMSC"
    );
    describe_counter!(
        CALLBACK_DELIVERIES,
        "OTP updates posted to otpCallbackUrl, by outcome"
    );
    describe_histogram!(
        CALLBACK_DURATION,
        "Time of one callback POST, answered or not"
    );
    describe_gauge!(
        "otpgate_callback_queue_depth",
        "OTP updates waiting to be posted to their callback URL"
    );
    describe_counter!(
        LOG_DROPPED,
        "Log lines dropped because the log writer could not keep up"
    );
    describe_gauge!(
        BUILD_INFO,
        "Always 1; the version label says which otpgate runs"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_bounded() {
        assert_eq!(method_label("GET"), "GET");
        assert_eq!(method_label("BREW"), "other");
        assert_eq!(status_class(201), "2xx");
        assert_eq!(status_class(429), "4xx");
        assert_eq!(status_class(999), "5xx");
    }

    #[test]
    fn buckets_are_increasing() {
        for b in [
            HTTP_BUCKETS,
            SMSC_BUCKETS,
            RECEIPT_BUCKETS,
            CALLBACK_BUCKETS,
        ] {
            assert!(b.windows(2).all(|w| w[0] < w[1]));
        }
        assert_eq!(
            (HTTP_BUCKETS[0], HTTP_BUCKETS[HTTP_BUCKETS.len() - 1]),
            (0.0001, 5.0)
        );
        assert_eq!(
            (SMSC_BUCKETS[0], SMSC_BUCKETS[SMSC_BUCKETS.len() - 1]),
            (0.001, 30.0)
        );
    }
}
