//! Why a store operation failed, in the terms every store shares.

use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("the store holds its maximum of {0} OTPs")]
    Full(usize),
    #[error("an OTP with this id exists already")]
    Duplicate,
    /// The store cannot be reached or did not answer in time: nothing is known to have
    /// changed, the caller answers 503 and the client retries.
    #[error("the OTP store is unavailable: {0}")]
    Unavailable(String),
}

impl StoreError {
    /// `Retry-After` for a 503 caused by an unavailable store.
    pub const RETRY_AFTER: Duration = Duration::from_secs(1);
}
