//! Telemetry: the Prometheus recorder (installed once per process, with histogram buckets
//! suited to each duration), the description of every metric otpgate exports, the series
//! registered at zero at start (so that rates and alerts see the first event), the store
//! gauges, and the process metrics appended at scrape. Every metric name lives in [`names`].
//! Labels are bounded: route templates (`/otp/{otpId}`, never an id), known methods, status
//! classes, names from the configuration, reasons from fixed sets; never a phone number, an
//! otpId, a message id or a PIN.

pub mod names;
pub mod process;
pub mod spread;

use std::future::Future;
use std::sync::OnceLock;
use std::time::Duration;

use metrics::{describe_counter, describe_gauge, describe_histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use names::labels;
use names::*;

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// What the configuration says in advance about label values, for [`register_known`].
#[derive(Debug, Clone, Default)]
pub struct Known {
    /// The SMSC names of `[[smsc]]`.
    pub smscs: Vec<String>,
    /// The `tenant` label values (the ids of the tenants with series of their own, and
    /// `other` for the rest), for the per-tenant series.
    pub tenants: Vec<String>,
    /// The store kind, as the `store` label writes it (`memory`, `redis`).
    pub store: &'static str,
    /// `[otp] max_live`.
    pub max_live: usize,
}

/// Installs the Prometheus recorder (once; later calls reuse it) and describes every metric.
/// `None` when another recorder was installed first by the embedding program.
pub fn install() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let mut builder = PrometheusBuilder::new();
            for (name, buckets) in [
                (HTTP_DURATION, HTTP_BUCKETS),
                (SUBMIT_DURATION, SMSC_BUCKETS),
                (RECEIPT_DELAY, RECEIPT_BUCKETS),
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
            spread::fold();
            h.run_upkeep();
            let mut text = h.render();
            process::render(&mut text);
            text
        }
        None => String::new(),
    }
}

/// How often [`keep_up`] folds the histograms' samples into their buckets in `serve`.
pub const UPKEEP_EVERY: Duration = Duration::from_secs(1);

/// Folds the recorded histogram samples into their buckets every `every` until `stop`. The
/// recorder keeps each sample (8 bytes, three per OTP) until an upkeep; without one between
/// scrapes, or with no scraper at all, they piled up without bound. Each fold runs on the
/// blocking pool: a second of a busy node's samples takes a few milliseconds, which the
/// requests queued behind it on a runtime worker would wait for.
pub async fn keep_up(every: Duration, stop: impl Future<Output = ()>) {
    let Some(handle) = install() else {
        return;
    };
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tokio::pin!(stop);
    loop {
        tokio::select! {
            () = &mut stop => return,
            _ = tick.tick() => {
                let _ = tokio::task::spawn_blocking(|| {
                    spread::fold();
                    handle.run_upkeep();
                })
                .await;
            }
        }
    }
}

/// Registers at zero every counter and histogram series whose label values are known in
/// advance, so that a fresh engine's scrape already holds them: dashboards show 0 rather than
/// "No data", and `rate()`/`increase()` see the first event (an alert on bind failures would
/// otherwise miss the first one). Per SMSC and per tenant from the configuration, the rest
/// from the fixed sets of [`names::labels`]. Registering again never resets a count.
pub fn register_known(known: &Known) {
    for name in &known.smscs {
        register_smsc(name);
    }
    for name in &known.tenants {
        register_tenant(name);
    }
    for encoding in labels::PART_ENCODINGS {
        metrics::counter!(SMS_PARTS, "encoding" => *encoding).increment(0);
    }
    for reason in labels::BLOCKED_REASONS {
        metrics::counter!(BLOCKED, "reason" => *reason).increment(0);
    }
    for outcome in labels::RELOAD_OUTCOMES {
        metrics::counter!(CONFIG_RELOADS, "outcome" => *outcome).increment(0);
    }
    metrics::gauge!(CONFIG_LAST_RELOAD).increment(0.0);
    for reason in labels::RATE_LIMITED_REASONS {
        metrics::counter!(RATE_LIMITED, "reason" => *reason).increment(0);
    }
    for outcome in labels::RECEIPT_OUTCOMES {
        metrics::counter!(RECEIPTS_SEEN, "outcome" => *outcome).increment(0);
    }
    for outcome in labels::CALLBACK_OUTCOMES {
        metrics::counter!(CALLBACK_DELIVERIES, "outcome" => *outcome).increment(0);
    }
    // a histogram's handle registers its series; its buckets render at 0 until a sample
    let _ = metrics::histogram!(CALLBACK_DURATION);
    metrics::gauge!(CALLBACK_QUEUE_DEPTH).increment(0.0);
    for metric in [
        OTPS_EXPIRED,
        RECEIPTS_UNMATCHED,
        RECEIPTS_SHED,
        STORE_UNAVAILABLE,
        DELIVERY_QUEUE_OVERFLOW,
        DELIVERY_UPDATES_LOST,
    ] {
        metrics::counter!(metric).increment(0);
    }
    let store = known.store;
    store_sizes(store, 0, 0);
    metrics::gauge!(OTPS_MAX_LIVE, "store" => store).set(known.max_live as f64);
    metrics::counter!(LOG_DROPPED).absolute(crate::logging::dropped_lines());
    metrics::gauge!(RECEIPTS_HELD).increment(0.0);
}

/// The series of one SMSC (`[[smsc]] name`), at zero.
/// The bind-lease series of every SMSC at zero (cluster mode only).
pub fn register_bind_leases(smsc: &str) {
    metrics::gauge!(BIND_LEASES_HELD, "smsc" => smsc.to_owned()).set(0.0);
    for metric in [BIND_LEASE_TAKEOVERS, BIND_LEASE_LOST] {
        metrics::counter!(metric, "smsc" => smsc.to_owned()).increment(0);
    }
}

pub fn register_smsc(name: &str) {
    let smsc = || name.to_owned();
    for status in labels::SUBMIT_STATUSES {
        metrics::counter!(SUBMIT_TOTAL, "smsc" => smsc(), "status" => *status).increment(0);
    }
    for reason in labels::BIND_FAILURE_REASONS {
        metrics::counter!(BIND_FAILURES, "smsc" => smsc(), "reason" => *reason).increment(0);
    }
    for reason in labels::RETRY_REASONS {
        metrics::counter!(RETRIES, "smsc" => smsc(), "reason" => *reason).increment(0);
    }
    for state in labels::RECEIPT_STATES {
        metrics::counter!(RECEIPTS, "smsc" => smsc(), "state" => *state).increment(0);
    }
    for metric in [
        RECONNECTS,
        THROTTLED,
        QUEUE_FULL,
        RECEIPTS_DEFERRED,
        RECEIPTS_MISSING,
        RECEIPT_WATCH_DROPPED,
        MO,
        PARTS_CHARGED,
        PARTS_NOT_CHARGED,
        COST_CHARGED,
    ] {
        metrics::counter!(metric, "smsc" => smsc()).increment(0);
    }
    for metric in [SUBMIT_DURATION, RECEIPT_DELAY] {
        let _ = metrics::histogram!(metric, "smsc" => smsc());
    }
}

/// The series of one `tenant` label value, at zero: called for every value the configuration
/// announces at start, and by whatever creates a tenant later, at its creation.
pub fn register_tenant(name: &str) {
    let tenant = || name.to_owned();
    for encoding in labels::OTP_ENCODINGS {
        metrics::counter!(OTPS_CREATED, "tenant" => tenant(), "encoding" => *encoding).increment(0);
    }
    for result in labels::VERIFY_RESULTS {
        metrics::counter!(OTPS_VERIFIED, "tenant" => tenant(), "result" => *result).increment(0);
    }
    for metric in [OTPS_CANCELLED, OTPS_RESENT] {
        metrics::counter!(metric, "tenant" => tenant()).increment(0);
    }
    for outcome in ["parsed", "busy"] {
        metrics::counter!(PHONE_LIBRARY, "outcome" => outcome).absolute(0);
    }
}

/// The send-queue series of `smscs` at zero: called when the cluster's shared send queue
/// starts (Redis store).
pub fn register_sendq(smscs: &[String]) {
    for name in smscs {
        let smsc = || name.clone();
        for scope in ["cluster", "local"] {
            metrics::gauge!(SENDQ_DEPTH, "smsc" => smsc(), "scope" => scope).set(0.0);
        }
        metrics::gauge!(CLUSTER_NODES_WITH_BIND, "smsc" => smsc()).set(0.0);
        for metric in [
            SENDQ_RECLAIMED,
            SENDQ_DUPLICATES,
            SENDQ_ALREADY_SETTLED,
            SENDQ_EXPIRED,
        ] {
            metrics::counter!(metric, "smsc" => smsc()).increment(0);
        }
    }
    for (from, to) in smscs
        .iter()
        .flat_map(|a| smscs.iter().filter(move |b| *b != a).map(move |b| (a, b)))
    {
        metrics::counter!(SENDQ_MOVED, "from" => from.clone(), "to" => to.clone()).increment(0);
    }
    metrics::counter!(SENDQ_UNREADABLE).increment(0);
    for op in labels::SENDQ_OPS {
        metrics::counter!(SENDQ_REDIS_ERRORS, "op" => *op).increment(0);
    }
}

/// The store's pending and stored OTPs. `store` is the kind: each node reports the memory
/// store's figures for itself alone, the Redis store's for every node (so a dashboard sums the
/// first and takes the maximum of the second).
pub fn store_sizes(store: &'static str, pending: usize, stored: usize) {
    metrics::gauge!(OTPS_LIVE, "store" => store).set(pending as f64);
    metrics::gauge!(OTPS_STORED, "store" => store).set(stored as f64);
}

/// `# HELP` for every metric (promtool wants one on each).
fn describe() {
    describe_gauge!(
        BIND_LEASES_HELD,
        "Bind slots of the SMSC whose cluster lease this node holds"
    );
    describe_counter!(
        BIND_LEASE_TAKEOVERS,
        "Bind slots of the SMSC this node took over from another node"
    );
    describe_counter!(
        BIND_LEASE_LOST,
        "Bind leases of the SMSC this node lost (renewal refused or not confirmed in time)"
    );
    describe_counter!(
        ADMIN_REQUESTS,
        "Admin API requests, by endpoint and outcome"
    );
    describe_counter!(
        TENANT_CHANGES,
        "Tenant changes through the admin API, by action and outcome"
    );
    describe_counter!(
        TENANT_REFRESHES,
        "Reads of the shared tenant registry, by outcome"
    );
    describe_counter!(
        HTTP_REQUESTS,
        "HTTP requests answered, by route template, method and status class"
    );
    describe_histogram!(
        HTTP_DURATION,
        "Time to answer an HTTP request, by route template and method"
    );
    describe_counter!(
        HTTP_TLS_HANDSHAKE_FAILURES,
        "TLS handshakes of the HTTP listener that failed, by reason (error, timeout)"
    );
    describe_counter!(
        CONFIG_RELOADS,
        "Configuration reloads (SIGHUP), by outcome (applied, refused: the running one stays)"
    );
    metrics::describe_gauge!(
        CONFIG_LAST_RELOAD,
        "Unix time of the last configuration reload applied (0: none since the start)"
    );
    describe_counter!(
        HTTP_TLS_RELOADS,
        "Re-reads of the HTTP certificate and key, by result (ok, failed: the old one stays)"
    );
    describe_counter!(
        OTPS_CREATED,
        "OTPs created and handed to the SMPP engine, by tenant and encoding"
    );
    describe_counter!(
        OTPS_VERIFIED,
        "Verification attempts, by tenant and result (verified, wrong_pin, failed, expired...)"
    );
    describe_counter!(OTPS_EXPIRED, "OTPs that reached their TTL unverified");
    describe_counter!(
        PARTS_CHARGED,
        "SMS parts an SMSC accepted and the tenant is charged for"
    );
    describe_counter!(
        PARTS_NOT_CHARGED,
        "SMS parts accepted again only because delivery is at-least-once: not charged"
    );
    describe_counter!(
        COST_CHARGED,
        "What the tenants were charged, in micro-units of the configured currency"
    );
    describe_counter!(
        OTPS_CANCELLED,
        "OTPs cancelled through DELETE /otp/{otpId}, by tenant"
    );
    describe_counter!(
        OTPS_RESENT,
        "OTPs sent again through /otp/{otpId}/resend, by tenant"
    );
    describe_gauge!(
        OTPS_LIVE,
        "OTPs pending (created, not yet verified, expired, cancelled or failed)"
    );
    describe_gauge!(
        OTPS_STORED,
        "OTPs in the store in any status, retained finished ones included (with Redis: all nodes')"
    );
    describe_gauge!(
        OTPS_MAX_LIVE,
        "[otp] max_live: OTPs stored at most; creates beyond answer 503"
    );
    describe_counter!(
        BLOCKED,
        "OTP creates refused by an abuse or volume limit, by reason"
    );
    describe_counter!(
        RATE_LIMITED,
        "Requests answered 429 by a rate limit, by reason"
    );
    describe_counter!(
        SENDER_RULES,
        "Sender IDs a destination country refuses ([senders.countries]), by country and action (replaced by the numeric sender, refused)"
    );
    describe_counter!(
        RECEIPTS_SEEN,
        "Delivery receipts seen by the OTP core, by outcome"
    );
    describe_counter!(
        STORE_UNAVAILABLE,
        "Requests answered 503 because the OTP store did not answer"
    );
    describe_counter!(
        PHONE_LIBRARY,
        "Phone numbers only the phone-number library parses, by outcome (parsed; busy: answered 503)"
    );
    describe_counter!(
        DELIVERY_QUEUE_OVERFLOW,
        "Delivery updates dropped because the queue to a shared store was full"
    );
    describe_counter!(
        DELIVERY_UPDATES_LOST,
        "Delivery updates given up after retries against an unavailable store"
    );
    describe_counter!(
        RECEIPTS_UNMATCHED,
        "Delivery receipts for a message id no OTP knows (once their hold time ended)"
    );
    describe_counter!(
        RECEIPTS_SHED,
        "Held delivery receipts dropped, oldest first, to stay within receipt_hold_max"
    );
    describe_gauge!(
        RECEIPTS_HELD,
        "Delivery receipts held until a submit_sm_resp tells their message id"
    );
    describe_counter!(SMS_PARTS, "SMS parts prepared for submission, by encoding");
    describe_counter!(
        SUBMIT_TOTAL,
        "submit_sm answered or timed out, by SMSC and command_status"
    );
    describe_histogram!(
        SUBMIT_DURATION,
        "Time from submit_sm to its submit_sm_resp, by SMSC"
    );
    describe_gauge!(
        WINDOW_IN_USE,
        "submit_sm awaiting their response, by SMSC and bind"
    );
    describe_gauge!(
        RECEIPTS_IN_FLIGHT,
        "deliver_sm being recorded, not yet answered, by SMSC and bind"
    );
    describe_gauge!(
        WINDOW_SIZE,
        "Window size (most submit_sm outstanding), by SMSC and bind"
    );
    describe_gauge!(
        BIND_UP,
        "1 when the bind is bound, 0 otherwise, by SMSC and bind"
    );
    describe_counter!(
        RECONNECTS,
        "Reconnection attempts after a lost or refused bind, by SMSC"
    );
    describe_counter!(
        BIND_FAILURES,
        "Bind attempts that failed, by SMSC and reason (credentials, connect...)"
    );
    describe_counter!(THROTTLED, "submit_sm answered ESME_RTHROTTLED, by SMSC");
    describe_counter!(QUEUE_FULL, "submit_sm answered ESME_RMSGQFUL, by SMSC");
    describe_counter!(
        RECEIPTS,
        "Delivery receipts received, by SMSC and receipt state"
    );
    describe_counter!(
        RECEIPTS_DEFERRED,
        "deliver_sm answered ESME_RX_T_APPN because the receipt could not be recorded (the SMSC delivers it again), by SMSC"
    );
    describe_histogram!(
        RECEIPT_DELAY,
        "Time from submit_sm_resp to the delivery receipt, by SMSC"
    );
    describe_counter!(
        RECEIPTS_MISSING,
        "Message parts without a final receipt query_after_s after their submit, and no final query_sm answer either, by SMSC"
    );
    describe_counter!(
        RECEIPT_WATCH_DROPPED,
        "Message parts forgotten by the query_sm watch list because it was full, by SMSC"
    );
    describe_gauge!(QUEUE_DEPTH, "Messages waiting in the send queue");
    describe_gauge!(QUEUE_CAPACITY, "Capacity of the send queue");
    describe_counter!(RETRIES, "Messages retried, by SMSC and reason");
    describe_counter!(
        MO,
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
        CALLBACK_QUEUE_DEPTH,
        "OTP updates waiting to be posted to their callback URL"
    );
    describe_gauge!(
        SENDQ_DEPTH,
        "Entries of an SMSC's shared send queue, by SMSC and scope (cluster: the whole stream; local: held by this node for its binds)"
    );
    describe_gauge!(
        CLUSTER_NODES_WITH_BIND,
        "Nodes of the cluster with a bind of the SMSC up, as this node last read it"
    );
    describe_counter!(
        SENDQ_RECLAIMED,
        "Send-queue entries taken over from a node that stopped renewing them, by SMSC"
    );
    describe_counter!(
        SENDQ_DUPLICATES,
        "Taken-over send-queue entries sent again (the node that held them may have submitted them), by SMSC"
    );
    describe_counter!(
        SENDQ_ALREADY_SETTLED,
        "Taken-over send-queue entries whose OTP already had its send settled: not sent again, by SMSC"
    );
    describe_counter!(
        SENDQ_EXPIRED,
        "Send-queue entries whose OTP expired before any node could send them (FAILED), by SMSC"
    );
    describe_counter!(
        SENDQ_MOVED,
        "Send-queue entries moved to the next SMSC of their route because theirs had no bind up in the cluster"
    );
    describe_counter!(
        SENDQ_UNREADABLE,
        "Send-queue entries that did not open (tampered with, or sealed under another pin_secret): FAILED"
    );
    describe_counter!(
        SENDQ_REDIS_ERRORS,
        "Send-queue operations Redis did not answer, by operation"
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
    fn label_sets_have_no_duplicates() {
        for set in [
            labels::OTP_ENCODINGS,
            labels::PART_ENCODINGS,
            labels::VERIFY_RESULTS,
            labels::BLOCKED_REASONS,
            labels::RATE_LIMITED_REASONS,
            labels::RECEIPT_OUTCOMES,
            labels::CALLBACK_OUTCOMES,
            labels::SUBMIT_STATUSES,
            labels::BIND_FAILURE_REASONS,
            labels::RETRY_REASONS,
            labels::RECEIPT_STATES,
            labels::SENDQ_OPS,
        ] {
            let unique: std::collections::BTreeSet<_> = set.iter().collect();
            assert_eq!(unique.len(), set.len(), "{set:?}");
        }
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
