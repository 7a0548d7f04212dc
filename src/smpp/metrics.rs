//! The engine's metrics, through the `metrics` facade. Labels are bounded: SMSC names and
//! bind indices from the configuration, command_status names, receipt states, reasons from a
//! fixed set. Never a phone number, a message id or a text. The names live in
//! `telemetry::names`.

use metrics::{counter, gauge, histogram, Counter, Gauge, Histogram};
use otpgate_codec::dlr::ReceiptState;
use otpgate_codec::pdu::CommandStatus;

use super::status::status_label;

pub use crate::telemetry::names::{
    BIND_FAILURES, BIND_UP, MO, PARTS_NOT_CHARGED, QUEUE_CAPACITY, QUEUE_DEPTH, QUEUE_FULL,
    RECEIPTS, RECEIPTS_DEFERRED, RECEIPTS_IN_FLIGHT, RECEIPTS_MISSING, RECEIPT_DELAY,
    RECEIPT_WATCH_DROPPED, RECONNECTS, RETRIES, SMS_PARTS, SUBMIT_DURATION, SUBMIT_TOTAL,
    THROTTLED, WINDOW_IN_USE, WINDOW_SIZE,
};

/// The handles a bind updates on every submit_sm and its response, looked up once per session:
/// by name and labels each time, they cost a registry lookup and two label strings per update,
/// on the one task that carries all of a bind's traffic.
pub struct BindMetrics {
    smsc: String,
    window_in_use: Gauge,
    submit_ok: Counter,
    submit_duration: Histogram,
    /// By receipt state (`ReceiptState as usize`), each looked up on its first receipt: a
    /// state never seen stays out of the exposition.
    receipts: [Option<Counter>; RECEIPT_STATES],
    receipt_delay: Option<Histogram>,
    /// `otpgate_sms_parts_total` by encoding, each looked up on its first message.
    sms_parts: Vec<(&'static str, Counter)>,
}

/// The states of `otpgate_codec::dlr::ReceiptState`.
const RECEIPT_STATES: usize = 8;

impl BindMetrics {
    pub fn new(smsc: &str, bind: &str) -> Self {
        Self {
            smsc: smsc.to_string(),
            window_in_use: gauge!(WINDOW_IN_USE, "smsc" => smsc.to_string(), "bind" => bind.to_string()),
            submit_ok: counter!(SUBMIT_TOTAL, "smsc" => smsc.to_string(), "status" => status_label(CommandStatus::ESME_ROK)),
            submit_duration: histogram!(SUBMIT_DURATION, "smsc" => smsc.to_string()),
            receipts: Default::default(),
            receipt_delay: None,
            sms_parts: Vec::new(),
        }
    }

    /// Counts a receipt in `otpgate_smpp_receipts_total{smsc, state}`.
    pub fn receipt(&mut self, state: ReceiptState) {
        let smsc = &self.smsc;
        match self.receipts.get_mut(state as usize) {
            Some(slot) => slot
                .get_or_insert_with(|| receipt_counter(smsc, state.stat_str()))
                .increment(1),
            None => receipt_counter(smsc, state.stat_str()).increment(1),
        }
    }

    pub fn receipt_delay(&mut self, secs: f64) {
        let smsc = &self.smsc;
        self.receipt_delay
            .get_or_insert_with(|| histogram!(RECEIPT_DELAY, "smsc" => smsc.clone()))
            .record(secs);
    }

    /// Counts a message's parts in `otpgate_sms_parts_total{encoding}`.
    pub fn sms_parts(&mut self, encoding: &'static str, parts: usize) {
        match self.sms_parts.iter().find(|(e, _)| *e == encoding) {
            Some((_, counter)) => counter.increment(parts as u64),
            None => {
                let counter = counter!(SMS_PARTS, "encoding" => encoding);
                counter.increment(parts as u64);
                self.sms_parts.push((encoding, counter));
            }
        }
    }

    pub fn window_in_use(&self, in_use: usize) {
        self.window_in_use.set(in_use as f64);
    }

    /// A submit_sm answered with `status` (its name the label) after `secs`.
    pub fn submit(&self, status: CommandStatus, secs: f64) {
        if status.is_ok() {
            self.submit_ok.increment(1);
        } else {
            submit(&self.smsc, status_label(status));
        }
        self.submit_duration.record(secs);
    }
}

pub fn submit(smsc: &str, status: &'static str) {
    counter!(SUBMIT_TOTAL, "smsc" => smsc.to_string(), "status" => status).increment(1);
}

pub fn window(smsc: &str, bind: &str, in_use: usize, size: usize) {
    gauge!(WINDOW_IN_USE, "smsc" => smsc.to_string(), "bind" => bind.to_string())
        .set(in_use as f64);
    gauge!(WINDOW_SIZE, "smsc" => smsc.to_string(), "bind" => bind.to_string()).set(size as f64);
}

pub fn receipts_in_flight(smsc: &str, bind: &str, n: usize) {
    gauge!(RECEIPTS_IN_FLIGHT, "smsc" => smsc.to_string(), "bind" => bind.to_string())
        .set(n as f64);
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

fn receipt_counter(smsc: &str, state: &'static str) -> Counter {
    counter!(RECEIPTS, "smsc" => smsc.to_string(), "state" => state)
}

pub fn receipt_deferred(smsc: &str) {
    counter!(RECEIPTS_DEFERRED, "smsc" => smsc.to_string()).increment(1);
}

pub fn receipts_missing(smsc: &str, n: usize) {
    counter!(RECEIPTS_MISSING, "smsc" => smsc.to_string()).increment(n as u64);
}

pub fn receipt_watch_dropped(smsc: &str, n: usize) {
    counter!(RECEIPT_WATCH_DROPPED, "smsc" => smsc.to_string()).increment(n as u64);
}

pub fn queue(depth: usize, capacity: usize) {
    gauge!(QUEUE_DEPTH).set(depth as f64);
    gauge!(QUEUE_CAPACITY).set(capacity as f64);
}

pub fn retry(smsc: &str, reason: &'static str) {
    counter!(RETRIES, "smsc" => smsc.to_string(), "reason" => reason).increment(1);
}

pub fn parts_not_charged(smsc: &str, parts: usize) {
    counter!(PARTS_NOT_CHARGED, "smsc" => smsc.to_string()).increment(parts as u64);
}

pub fn mo(smsc: &str) {
    counter!(MO, "smsc" => smsc.to_string()).increment(1);
}
