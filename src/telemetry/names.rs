//! The name of every metric otpgate exports, and the histogram buckets of each duration:
//! written once here, imported wherever a metric is recorded, described or registered.

// HTTP front
pub const HTTP_REQUESTS: &str = "otpgate_http_requests_total";
pub const HTTP_DURATION: &str = "otpgate_http_request_duration_seconds";
/// TLS handshakes that failed (`reason`: `error`, `timeout`).
pub const HTTP_TLS_HANDSHAKE_FAILURES: &str = "otpgate_http_tls_handshake_failures_total";
/// Re-reads of the HTTP certificate (`result`: `ok`, `failed`).
pub const HTTP_TLS_RELOADS: &str = "otpgate_http_tls_reloads_total";
/// Admin API requests (`endpoint`: page, openapi, status, smsc, stop, start, reload, config,
/// tenants, tenant, tenant_state, tenant_rotate, usage, other; `outcome`: ok, unauthorized, forbidden, not_found, refused, error).
pub const ADMIN_REQUESTS: &str = "otpgate_admin_requests_total";
/// Tenant changes through the admin API (`action`: create, update, suspend, resume, delete,
/// rotate_token; `outcome`: ok, refused, conflict, not_found, unavailable).
pub const TENANT_CHANGES: &str = "otpgate_tenant_changes_total";
/// Reads of the shared tenant registry (`outcome`: unchanged, applied, refused, unavailable).
pub const TENANT_REFRESHES: &str = "otpgate_tenant_refreshes_total";
pub const RATE_LIMITED: &str = "otpgate_rate_limited_total";
pub const BUILD_INFO: &str = "otpgate_build_info";
pub const OTPS_EXPIRED: &str = "otpgate_otps_expired_total";
pub const CALLBACK_DELIVERIES: &str = "otpgate_callback_deliveries_total";
pub const CALLBACK_DURATION: &str = "otpgate_callback_duration_seconds";
pub const LOG_DROPPED: &str = "otpgate_log_lines_dropped_total";
/// Configuration reloads (`outcome`: `applied`, `refused`).
pub const CONFIG_RELOADS: &str = "otpgate_config_reloads_total";
/// Unix time of the last configuration reload applied (0 until one is).
pub const CONFIG_LAST_RELOAD: &str = "otpgate_config_last_reload_success_timestamp_seconds";

// OTP core
pub const OTPS_CREATED: &str = "otpgate_otps_created_total";
pub const OTPS_VERIFIED: &str = "otpgate_otps_verified_total";
pub const OTPS_CANCELLED: &str = "otpgate_otps_cancelled_total";
pub const OTPS_RESENT: &str = "otpgate_otps_resent_total";
pub const OTPS_LIVE: &str = "otpgate_otps_live";
pub const OTPS_STORED: &str = "otpgate_otps_stored";
pub const OTPS_MAX_LIVE: &str = "otpgate_otps_max_live";
pub const BLOCKED: &str = "otpgate_blocked_total";
pub const SENDER_RULES: &str = "otpgate_sender_rule_total";
pub const STORE_UNAVAILABLE: &str = "otpgate_store_unavailable_total";
/// Numbers only the phone-number library parses, by outcome (`parsed`, `busy`).
pub const PHONE_LIBRARY: &str = "otpgate_phone_library_parses_total";
pub const RECEIPTS_SEEN: &str = "otpgate_receipts_total";
pub const RECEIPTS_UNMATCHED: &str = "otpgate_receipts_unmatched_total";
pub const RECEIPTS_SHED: &str = "otpgate_receipts_shed_total";
pub const RECEIPTS_HELD: &str = "otpgate_receipts_held";
pub const DELIVERY_QUEUE_OVERFLOW: &str = "otpgate_delivery_queue_overflow_total";
pub const DELIVERY_UPDATES_LOST: &str = "otpgate_delivery_updates_lost_total";
pub const CALLBACK_QUEUE_DEPTH: &str = "otpgate_callback_queue_depth";

// SMPP engine
/// Bind leases this node holds (`smsc`), cluster mode only.
pub const BIND_LEASES_HELD: &str = "otpgate_bind_leases_held";
/// Bind slots this node took that another node held before (`smsc`).
pub const BIND_LEASE_TAKEOVERS: &str = "otpgate_bind_lease_takeovers_total";
/// Bind leases this node lost: renewal refused or not confirmed in time (`smsc`).
pub const BIND_LEASE_LOST: &str = "otpgate_bind_lease_lost_total";
pub const SUBMIT_TOTAL: &str = "otpgate_smpp_submit_total";
pub const SUBMIT_DURATION: &str = "otpgate_smpp_submit_duration_seconds";
pub const WINDOW_IN_USE: &str = "otpgate_smpp_window_in_use";
pub const WINDOW_SIZE: &str = "otpgate_smpp_window_size";
pub const RECEIPTS_IN_FLIGHT: &str = "otpgate_smpp_receipts_in_flight";
pub const BIND_UP: &str = "otpgate_smpp_bind_up";
pub const RECONNECTS: &str = "otpgate_smpp_reconnects_total";
pub const BIND_FAILURES: &str = "otpgate_smpp_bind_failures_total";
pub const THROTTLED: &str = "otpgate_smpp_throttled_total";
pub const QUEUE_FULL: &str = "otpgate_smpp_queue_full_total";
pub const RECEIPTS: &str = "otpgate_smpp_receipts_total";
/// deliver_sm answered ESME_RX_T_APPN because the receipt could not be recorded.
pub const RECEIPTS_DEFERRED: &str = "otpgate_smpp_receipts_deferred_total";
pub const RECEIPT_DELAY: &str = "otpgate_smpp_receipt_delay_seconds";
/// Parts given up without a final state: no receipt within `query_after_s` and no final
/// query_sm answer.
pub const RECEIPTS_MISSING: &str = "otpgate_smpp_receipts_missing_total";
/// Parts no longer watched for query_sm because the watch list was full.
pub const RECEIPT_WATCH_DROPPED: &str = "otpgate_smpp_receipt_watch_dropped_total";
pub const SMS_PARTS: &str = "otpgate_sms_parts_total";
pub const QUEUE_DEPTH: &str = "otpgate_queue_depth";
pub const QUEUE_CAPACITY: &str = "otpgate_queue_capacity";
pub const RETRIES: &str = "otpgate_smpp_retries_total";
pub const MO: &str = "otpgate_smpp_mo_total";
/// Parts an SMSC accepted and the tenant is charged for (`smsc`).
pub const PARTS_CHARGED: &str = "otpgate_parts_charged_total";
/// Parts an SMSC accepted again only because delivery is at-least-once (a late answer to a
/// timed-out copy, a part accepted twice, parts left behind by a failover): not charged.
pub const PARTS_NOT_CHARGED: &str = "otpgate_parts_not_charged_total";
/// What the tenants were charged, in micro-units of `[otp] currency` (`smsc`).
pub const COST_CHARGED: &str = "otpgate_cost_charged_micros_total";

// Cluster send queue (Redis store)
/// Entries of an SMSC's shared send queue (`smsc`; `scope`: `cluster` = the stream's length
/// as this node last read it, `local` = the entries this node holds for its binds).
pub const SENDQ_DEPTH: &str = "otpgate_sendq_depth";
/// Nodes with a bind of the SMSC up, as this node last read it (`smsc`).
pub const CLUSTER_NODES_WITH_BIND: &str = "otpgate_cluster_nodes_with_bind";
/// Entries taken over from a node that stopped renewing them (dead, or restarted under a
/// new node id), or found held by this node's id at its start (`smsc`).
pub const SENDQ_RECLAIMED: &str = "otpgate_sendq_reclaimed_total";
/// Taken-over entries sent again: the node that held them may have submitted them already
/// (`smsc`).
pub const SENDQ_DUPLICATES: &str = "otpgate_sendq_duplicates_total";
/// Taken-over entries whose OTP already had its send settled: acknowledged, not sent (`smsc`).
pub const SENDQ_ALREADY_SETTLED: &str = "otpgate_sendq_already_settled_total";
/// Entries whose OTP expired before any node could send them: FAILED (`smsc`).
pub const SENDQ_EXPIRED: &str = "otpgate_sendq_expired_total";
/// Entries moved to the next SMSC of their route because theirs had no bind up in the
/// cluster (`from`, `to`).
pub const SENDQ_MOVED: &str = "otpgate_sendq_moved_total";
/// Entries that did not open (tampered with, or sealed under another `pin_secret`): FAILED.
pub const SENDQ_UNREADABLE: &str = "otpgate_sendq_unreadable_total";
/// Shared-queue operations Redis did not answer (`op`: `append`, `read`, `settle`, `renew`).
pub const SENDQ_REDIS_ERRORS: &str = "otpgate_sendq_redis_errors_total";

/// Label values known in advance, registered at zero at start (see `telemetry::register_known`).
/// Each set lists every value the code records for its label.
pub mod labels {
    /// `tenant` of the per-tenant counters for the tenants without series of their own.
    pub const TENANT_OTHER: &str = "other";
    /// `encoding` of `otpgate_otps_created_total`.
    pub const OTP_ENCODINGS: &[&str] = &["GSM7", "UCS2", "LATIN1"];
    /// `encoding` of `otpgate_sms_parts_total` (as the SMPP engine encodes).
    pub const PART_ENCODINGS: &[&str] = &["GSM7", "UCS2", "LATIN1"];
    /// `result` of `otpgate_otps_verified_total`.
    pub const VERIFY_RESULTS: &[&str] = &[
        "verified",
        "wrong_pin",
        "replaced_pin",
        "failed",
        "already_failed",
        "expired",
        "already_verified",
        "cancelled",
        "not_found",
    ];
    /// `reason` of `otpgate_blocked_total`.
    pub const RELOAD_OUTCOMES: &[&str] = &["applied", "refused"];
    pub const BLOCKED_REASONS: &[&str] = &[
        "country",
        "number_limit",
        "resend_limit",
        "dispatch",
        "prefix_velocity",
        "country_daily_cap",
        "low_conversion",
        "credit",
        "number_type",
        "no_allowed_route",
    ];
    /// `reason` of `otpgate_rate_limited_total` (the refusals answered 429).
    pub const RATE_LIMITED_REASONS: &[&str] = &[
        "tenant_rate",
        "number_limit",
        "resend_limit",
        "prefix_velocity",
        "country_daily_cap",
    ];
    /// `outcome` of `otpgate_receipts_total`.
    pub const RECEIPT_OUTCOMES: &[&str] =
        &["delivered", "undelivered", "expired", "rejected", "pending"];
    /// `outcome` of `otpgate_callback_deliveries_total`.
    pub const CALLBACK_OUTCOMES: &[&str] = &[
        "delivered",
        "failed_retrying",
        "dropped",
        "shed",
        "orphaned",
    ];
    /// `status` of `otpgate_smpp_submit_total` registered at zero: success, the two flow
    /// controls, and timeouts (other command_status names appear when an SMSC answers them).
    pub const SUBMIT_STATUSES: &[&str] =
        &["ESME_ROK", "ESME_RTHROTTLED", "ESME_RMSGQFUL", "timeout"];
    /// `reason` of `otpgate_smpp_bind_failures_total`.
    pub const BIND_FAILURE_REASONS: &[&str] = &[
        "credentials",
        "refused",
        "bind_timeout",
        "connect",
        "tls",
        "write_timeout",
        "io",
        "protocol",
        "closed",
    ];
    /// `op` of `otpgate_sendq_redis_errors_total`.
    pub const SENDQ_OPS: &[&str] = &["append", "read", "settle", "renew"];
    /// `reason` of `otpgate_smpp_retries_total`.
    pub const RETRY_REASONS: &[&str] = &[
        "timeout",
        "transient",
        "throttled",
        "queue_full",
        "link_lost",
        "failover",
    ];
    /// `state` of `otpgate_smpp_receipts_total` (the receipt `stat:` values).
    pub const RECEIPT_STATES: &[&str] = &[
        "DELIVRD", "UNDELIV", "EXPIRED", "REJECTD", "DELETED", "UNKNOWN", "ACCEPTD", "ENROUTE",
    ];
}

/// HTTP answers: 100 us to 5 s.
pub const HTTP_BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];
/// submit_sm to submit_sm_resp: 1 ms to 30 s (the response timeout's range).
pub const SMSC_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];
/// submit_sm_resp to delivery receipt: 500 ms to 2 h (handsets off, roaming, retries).
pub const RECEIPT_BUCKETS: &[f64] = &[
    0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0, 7200.0,
];
/// One callback POST: 5 ms to 30 s (the longest sensible timeout).
pub const CALLBACK_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];
