//! Refusing a create before doing its work. When the engine would refuse any SMS now (its
//! send queue is full, it is shutting down), `POST /otp` answers 503 at once: before the body
//! is read or parsed, a rate token taken, the number checked, a PIN drawn or anything stored.
//! Under overload a refusal then costs about what a bare HTTP exchange costs, and the CPU
//! stays with the messages being sent.

use super::error::ApiError;
use super::App;
use crate::otp::service::dispatch_refused;

/// `Err` with the 503 the engine's refusal gives, when it refuses every SMS now. A request
/// with an `Idempotency-Key` takes the full path: it may be the retry of an admitted create,
/// whose stored reply is replayed whatever the queue holds.
pub fn refuse_early(app: &App, has_idempotency_key: bool) -> Result<(), ApiError> {
    if has_idempotency_key {
        return Ok(());
    }
    match app.service.dispatcher().refuses_any() {
        None => Ok(()),
        Some(refusal) => Err(dispatch_refused(&refusal).into()),
    }
}
