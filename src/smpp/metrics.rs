//! The engine's metrics, through the `metrics` facade. Labels are bounded: SMSC names and
//! bind indices from the configuration, command_status names, receipt states, reasons from a
//! fixed set. Never a phone number, a message id or a text.

use metrics::{counter, gauge, histogram};

pub const SUBMIT_TOTAL: &str = "otpgate_smpp_submit_total";
pub const SUBMIT_DURATION: &str = "otpgate_smpp_submit_duration_seconds";
pub const WINDOW_IN_USE: &str = "otpgate_smpp_window_in_use";
pub const WINDOW_SIZE: &str = "otpgate_smpp_window_size";
pub const BIND_UP: &str = "otpgate_smpp_bind_up";
pub const RECONNECTS: &str = "otpgate_smpp_reconnects_total";
pub const BIND_FAILURES: &str = "otpgate_smpp_bind_failures_total";
pub const THROTTLED: &str = "otpgate_smpp_throttled_total";
pub const QUEUE_FULL: &str = "otpgate_smpp_queue_full_total";
pub const RECEIPTS: &str = "otpgate_smpp_receipts_total";
pub const RECEIPT_DELAY: &str = "otpgate_smpp_receipt_delay_seconds";
/// deliver_sm answered ESME_RX_T_APPN because the receipt could not be recorded.
pub const RECEIPTS_DEFERRED: &str = "otpgate_smpp_receipts_deferred_total";
pub const SMS_PARTS: &str = "otpgate_sms_parts_total";
pub const QUEUE_DEPTH: &str = "otpgate_queue_depth";
pub const QUEUE_CAPACITY: &str = "otpgate_queue_capacity";
pub const RETRIES: &str = "otpgate_smpp_retries_total";
pub const MO: &str = "otpgate_smpp_mo_total";

pub fn submit(smsc: &str, status: &'static str) {
    counter!(SUBMIT_TOTAL, "smsc" => smsc.to_string(), "status" => status).increment(1);
}

pub fn submit_duration(smsc: &str, secs: f64) {
    histogram!(SUBMIT_DURATION, "smsc" => smsc.to_string()).record(secs);
}

pub fn window(smsc: &str, bind: &str, in_use: usize, size: usize) {
    gauge!(WINDOW_IN_USE, "smsc" => smsc.to_string(), "bind" => bind.to_string())
        .set(in_use as f64);
    gauge!(WINDOW_SIZE, "smsc" => smsc.to_string(), "bind" => bind.to_string()).set(size as f64);
}

pub fn bind_up(smsc: &str, bind: &str, up: bool) {
    gauge!(BIND_UP, "smsc" => smsc.to_string(), "bind" => bind.to_string()).set(if up {
        1.0
    } else {
        0.0
    });
}

pub fn reconnect(smsc: &str) {
    counter!(RECONNECTS, "smsc" => smsc.to_string()).increment(1);
}

pub fn bind_failure(smsc: &str, reason: &'static str) {
    counter!(BIND_FAILURES, "smsc" => smsc.to_string(), "reason" => reason).increment(1);
}

pub fn throttled(smsc: &str) {
    counter!(THROTTLED, "smsc" => smsc.to_string()).increment(1);
}

pub fn queue_full(smsc: &str) {
    counter!(QUEUE_FULL, "smsc" => smsc.to_string()).increment(1);
}

pub fn receipt(smsc: &str, state: &'static str) {
    counter!(RECEIPTS, "smsc" => smsc.to_string(), "state" => state).increment(1);
}

pub fn receipt_deferred(smsc: &str) {
    counter!(RECEIPTS_DEFERRED, "smsc" => smsc.to_string()).increment(1);
}

pub fn receipt_delay(smsc: &str, secs: f64) {
    histogram!(RECEIPT_DELAY, "smsc" => smsc.to_string()).record(secs);
}

pub fn sms_parts(encoding: &'static str, parts: usize) {
    counter!(SMS_PARTS, "encoding" => encoding).increment(parts as u64);
}

pub fn queue(depth: usize, capacity: usize) {
    gauge!(QUEUE_DEPTH).set(depth as f64);
    gauge!(QUEUE_CAPACITY).set(capacity as f64);
}

pub fn retry(smsc: &str, reason: &'static str) {
    counter!(RETRIES, "smsc" => smsc.to_string(), "reason" => reason).increment(1);
}

pub fn mo(smsc: &str) {
    counter!(MO, "smsc" => smsc.to_string()).increment(1);
}
