//! The HTTP front's own metrics: requests by route template, method and status class, their
//! durations, and refusals by rate limits. Names and buckets live in `telemetry::names`.

use crate::telemetry::names::{HTTP_DURATION, HTTP_REQUESTS, RATE_LIMITED};

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

/// Registers at zero the request counters (2xx, 4xx and 5xx) and duration histogram of every
/// route template and the methods it answers, so that error ratios and latency panels have
/// series from the start. Registering again never resets a count.
pub fn register_routes(routes: &[(&'static str, &[&'static str])]) {
    for (route, methods) in routes {
        for method in *methods {
            for status in ["2xx", "4xx", "5xx"] {
                metrics::counter!(HTTP_REQUESTS, "route" => *route, "method" => *method,
                    "status" => status)
                .increment(0);
            }
            let _ = metrics::histogram!(HTTP_DURATION, "route" => *route, "method" => *method);
        }
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
}
