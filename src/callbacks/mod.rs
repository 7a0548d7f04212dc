//! Status callbacks: every status or deliveryStatus change of an OTP that has an
//! `otpCallbackUrl` is queued (by the store, while it makes the change: never on the
//! request path), batched per URL (at most `batch_max` OTP objects, flushed within
//! `flush_ms`), signed (`X-Otpgate-Signature`, see [`sign`]), POSTed as
//! `{"event":"otp_update","data":[...]}` and retried with backoff by the [`CallbackTask`].
//!
//! - [`queue`]: the per-URL queue, bounded per tenant and overall (a tenant over its cap sheds
//!   its own oldest), served to the tenants in turn.
//! - [`task`]: the delivery task.
//! - [`sign`]: the signature.
//! - [`ssrf`]: the guard against callbacks to internal addresses.
//! - [`resolve`]: name lookups of callback hosts, bounded in flight and in time.
//! - [`settings`]: the `[callbacks]` section of the configuration.

pub mod queue;
pub mod resolve;
pub mod settings;
pub mod sign;
pub mod ssrf;
pub mod task;

use std::sync::Arc;

use crate::otp::clock::Clock;
use crate::otp::model::{OtpId, OtpView, Record};
use crate::otp::sender_rules::DefaultSenders;
use crate::otp::store::ChangeObserver;
use arc_swap::ArcSwap;

pub use queue::{CallbackQueue, Dest};
pub use settings::CallbacksConfig;
pub use task::{CallbackTask, TenantSecrets};

#[derive(Debug, thiserror::Error)]
pub enum CallbackError {
    #[error("cannot build the callback HTTP client: {0}")]
    Client(String),
}

/// Turns store changes into queued updates: the OTP object as `GET /otp/{otpId}` shows it
/// at the moment of the change.
pub struct CallbackObserver {
    queue: Arc<CallbackQueue>,
    clock: Arc<Clock>,
    price_per_part: f64,
    default_senders: Arc<ArcSwap<DefaultSenders>>,
}

impl CallbackObserver {
    pub fn new(queue: Arc<CallbackQueue>, clock: Arc<Clock>, price_per_part: f64) -> Self {
        Self {
            queue,
            clock,
            price_per_part,
            default_senders: Arc::default(),
        }
    }

    /// The senders an OTP object shows as `from` when its OTP stores none.
    pub fn with_default_senders(mut self, senders: DefaultSenders) -> Self {
        self.default_senders = Arc::new(ArcSwap::from_pointee(senders));
        self
    }

    /// Where the default senders are read, for a reload to replace them.
    pub fn default_senders(&self) -> Arc<ArcSwap<DefaultSenders>> {
        self.default_senders.clone()
    }
}

impl ChangeObserver for CallbackObserver {
    fn changed(&self, id: OtpId, record: &Record) {
        let Some(url) = record
            .extra
            .as_deref()
            .and_then(|e| e.callback_url.as_deref())
        else {
            return;
        };
        let mut view = OtpView::new(id, record, self.clock.unix_secs(), self.price_per_part);
        if view.from.is_empty() {
            self.default_senders
                .load()
                .of(record.tenant)
                .clone_into(&mut view.from);
        }
        let dest = Dest {
            tenant: record.tenant,
            url: url.into(),
        };
        self.queue.push(dest, view);
    }
}
