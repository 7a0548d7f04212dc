//! Prometheus metrics: the recorder (installed once per process) and the per-request metrics
//! (requests by route and status class, latency histogram). Labels never hold a phone number,
//! an otpId or a PIN: routes are the matched templates (`/otp/{otpId}`).

use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Installs the Prometheus recorder (once; later calls reuse it). `None` when another
/// recorder was installed first by the embedding program.
pub fn install() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full("otpgate_http_request_duration_seconds".into()),
                    LATENCY_BUCKETS,
                )
                .ok()?;
            match builder.install_recorder() {
                Ok(h) => Some(h),
                Err(e) => {
                    tracing::warn!(error = %e, "cannot install the Prometheus recorder");
                    None
                }
            }
        })
        .as_ref()
}

/// The text exposition of every metric.
pub fn render() -> String {
    match install() {
        Some(h) => {
            h.run_upkeep();
            h.render()
        }
        None => String::new(),
    }
}

/// Records one answered request.
pub fn record_request(route: &str, method: &str, status: u16, seconds: f64) {
    let class = match status {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    };
    let labels = [
        ("route", route.to_owned()),
        ("method", method.to_owned()),
        ("status", class.to_owned()),
    ];
    metrics::counter!("otpgate_http_requests_total", &labels).increment(1);
    let route_labels = [("route", route.to_owned()), ("method", method.to_owned())];
    metrics::histogram!("otpgate_http_request_duration_seconds", &route_labels).record(seconds);
}
