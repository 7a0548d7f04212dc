//! Load generators behind `otp-load`.
//!
//! - [`http`]: HTTP load against otpgate (`POST /otp`, optional verify), Kannel-style sendsms
//!   or a bare echo URL.
//! - [`smpp`]: submit_sm straight at an SMSC through a window, measuring submit-to-resp.
//! - [`report`]: HdrHistogram recorders and the printed report.
//! - [`simwatch`]: the SMSC side of a run, from the simulator's counters.
//! - [`target`]: the loopback-only rule.

pub mod http;
pub mod report;
pub mod simwatch;
pub mod smpp;
pub mod target;

use std::time::Duration;

/// Every run stops at whichever comes first.
#[derive(Clone, Copy, Debug)]
pub struct Bounds {
    pub requests: u64,
    pub duration: Duration,
}

impl Bounds {
    /// Refuses an unbounded run.
    pub fn check(&self) -> Result<(), LoadError> {
        if self.requests == 0 || self.duration.is_zero() {
            return Err(LoadError::Unbounded);
        }
        Ok(())
    }
}

/// Open loop at a fixed rate, or closed loop with C concurrent workers.
#[derive(Clone, Copy, Debug)]
pub enum Pace {
    Rate(f64),
    Concurrency(usize),
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("a run needs both a request count and a duration above zero")]
    Unbounded,
    #[error(transparent)]
    Target(#[from] target::TargetError),
    #[error("SMPP: {0}")]
    Smpp(String),
}

/// Percent-encodes a query value (RFC 3986 unreserved characters kept).
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub(crate) use otpgate_sim::unix_ms;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_and_bounds() {
        assert_eq!(percent_encode("+44 77&x=é"), "%2B44%2077%26x%3D%C3%A9");
        assert!(Bounds {
            requests: 0,
            duration: Duration::from_secs(1)
        }
        .check()
        .is_err());
        assert!(Bounds {
            requests: 1,
            duration: Duration::ZERO
        }
        .check()
        .is_err());
    }
}
