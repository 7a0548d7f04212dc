//! The HTTP front's own metrics: requests by route template, method and status class, their
//! durations, and refusals by rate limits. Names and buckets live in `telemetry::names`.

use std::sync::Arc;

use crate::telemetry::names::{HTTP_DURATION, HTTP_REQUESTS, RATE_LIMITED};
use crate::telemetry::spread::{self, SpreadCounter, SpreadHistogram};

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

/// The request counters (by status class) and duration histogram of one route and method,
/// kept per thread (both workers move them at every request: [`spread`]).
struct RouteHandles {
    route: &'static str,
    method: &'static str,
    by_class: [Arc<SpreadCounter>; 3],
    duration: Arc<SpreadHistogram>,
}

/// The handles of every route template and method the router declares, taken once (a lookup
/// by labels hashes the name and labels and takes the registry's lock on every request).
/// Anything else (`unmatched`, a method a route does not answer) is looked up by labels.
pub struct RequestMetrics {
    routes: Vec<RouteHandles>,
}

impl RequestMetrics {
    /// Registers every series at zero, so that error ratios and latency panels have series
    /// from the start (registering again never resets a count), and keeps their handles. Call
    /// it once the metrics recorder is installed.
    pub fn register(routes: &[(&'static str, &[&'static str])]) -> Self {
        let mut handles = Vec::new();
        for (route, methods) in routes {
            for method in *methods {
                let by_class = KEPT_CLASSES.map(|status| request_counter(route, method, status));
                handles.push(RouteHandles {
                    route,
                    method,
                    by_class,
                    duration: request_duration(route, method),
                });
            }
        }
        Self { routes: handles }
    }

    /// Records one answered request; `route` is a route template or `unmatched`, `method` a
    /// [`method_label`]. Every label is static: nothing is allocated per request.
    pub fn record(&self, route: &'static str, method: &'static str, status: u16, seconds: f64) {
        // a few dozen entries of static strings: comparing their addresses first is enough
        // for the templates the router hands out, their text for anything else
        let found = self
            .routes
            .iter()
            .find(|h| (std::ptr::eq(h.route, route) || h.route == route) && h.method == method);
        match (found, kept_class(status)) {
            (Some(h), Some(class)) => {
                h.by_class[class].increment(1);
                h.duration.record(seconds);
            }
            _ => {
                metrics::counter!(HTTP_REQUESTS, "route" => route, "method" => method,
                    "status" => status_class(status))
                .increment(1);
                metrics::histogram!(HTTP_DURATION, "route" => route, "method" => method)
                    .record(seconds);
            }
        }
    }
}

/// `otpgate_http_requests_total{route, method, status}`, kept per thread: the series every
/// writer of it must move through this handle.
pub fn request_counter(route: &str, method: &str, status: &str) -> Arc<SpreadCounter> {
    spread::counter(
        HTTP_REQUESTS,
        &[("route", route), ("method", method), ("status", status)],
    )
}

/// `otpgate_http_request_duration_seconds{route, method}`, kept per thread.
pub fn request_duration(route: &str, method: &str) -> Arc<SpreadHistogram> {
    spread::histogram(HTTP_DURATION, &[("route", route), ("method", method)])
}

/// The status classes whose series exist from the start (the API answers no 1xx or 3xx).
const KEPT_CLASSES: [&str; 3] = ["2xx", "4xx", "5xx"];

/// `status`'s place in [`KEPT_CLASSES`], as [`status_class`] names it.
fn kept_class(status: u16) -> Option<usize> {
    let class = status_class(status);
    KEPT_CLASSES.iter().position(|c| *c == class)
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
        assert_eq!(kept_class(201), Some(0));
        assert_eq!(kept_class(404), Some(1));
        assert_eq!(kept_class(503), Some(2));
        assert_eq!(kept_class(999), Some(2));
        assert_eq!(kept_class(302), None);
    }
}
