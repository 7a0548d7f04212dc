//! A bind's outstanding query_sm (see `query`): sequence number to message id and deadline.

use std::collections::HashMap;

use tokio::time::Instant;

/// This bind's outstanding query_sm: sequence number to message id and deadline.
#[derive(Default)]
pub(super) struct Queries {
    pub(super) pending: HashMap<u32, (String, Instant)>,
}
