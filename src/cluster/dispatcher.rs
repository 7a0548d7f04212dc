//! The cluster's `Dispatcher`: a create's SMS goes into the shared stream of the SMSC the
//! routing picks with the cluster's view of the binds (not only this node's), and the create
//! answers once Redis holds it. Whichever node has a bind of that SMSC up sends it.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use futures::future::BoxFuture;

use super::Queue;
use crate::dispatch::{
    DispatchError, Dispatcher, OutboundSms, Readiness, SendEstimate, SmscChoice,
};
use crate::telemetry::names;

pub struct ClusterDispatcher {
    pub(super) queue: Arc<Queue>,
    /// This node's engine: the routing tables, estimates, and the shutdown state.
    pub(super) engine: Arc<dyn Dispatcher>,
}

impl ClusterDispatcher {
    /// The SMSC whose stream takes `sms`: the routing's pick with the cluster's binds.
    fn stream_for(&self, sms: &OutboundSms) -> Option<String> {
        self.engine.route_by(sms, &*self.queue.view, None, false)
    }

    /// The routes none of whose SMSCs has a bind up on any node (this node's own binds
    /// count at once, before the view's next refresh).
    fn uncovered_routes(&self) -> Vec<String> {
        let view = &self.queue.view;
        self.engine
            .routes()
            .into_iter()
            .filter(|r| {
                !r.smscs
                    .iter()
                    .any(|s| view.nodes_up(s) > 0 || self.engine.smsc_binds_up(s) > 0)
            })
            .map(|r| r.prefix)
            .collect()
    }

    async fn append(&self, sms: OutboundSms) -> Result<(), DispatchError> {
        let retry_after = self.queue.retry_after;
        if self.queue.stopping.load(Ordering::Acquire) {
            return Err(DispatchError::ShuttingDown { retry_after });
        }
        let smsc = self
            .stream_for(&sms)
            .ok_or(DispatchError::NoRoute { retry_after })?;
        let sealed = self.queue.sealer.seal(&sms);
        let capacity = self.queue.settings.queue_capacity;
        match self
            .queue
            .streams
            .append(&smsc, capacity, &sms.otp_id, &sealed)
            .await
        {
            Ok(Some(_)) => {
                self.queue.wake(&smsc);
                Ok(())
            }
            Ok(None) => Err(DispatchError::QueueFull { retry_after }),
            Err(e) => {
                metrics::counter!(names::SENDQ_REDIS_ERRORS, "op" => "append").increment(1);
                tracing::warn!(smsc = %smsc, error = %e, "SMS not queued: the shared send queue did not answer");
                Err(DispatchError::StoreUnavailable { retry_after })
            }
        }
    }
}

impl Dispatcher for ClusterDispatcher {
    /// The shared queue is across the network: messages come in through `dispatch` only.
    fn try_dispatch(&self, _sms: OutboundSms) -> Result<(), DispatchError> {
        Err(DispatchError::StoreUnavailable {
            retry_after: self.queue.retry_after,
        })
    }

    fn dispatch(&self, sms: OutboundSms) -> BoxFuture<'_, Result<(), DispatchError>> {
        Box::pin(self.append(sms))
    }

    fn readiness(&self) -> Readiness {
        let view = &self.queue.view;
        let local = self.engine.readiness();
        let mut reasons: Vec<String> = local
            .reasons
            .into_iter()
            .filter(|r| r == "shutting down")
            .collect();
        if self.queue.stopping.load(Ordering::Acquire) && reasons.is_empty() {
            reasons.push("shutting down".into());
        }
        if !view.redis_ok() {
            reasons.push("Redis does not answer".into());
        }
        let uncovered_routes = self.uncovered_routes();
        if !uncovered_routes.is_empty() {
            reasons.push(format!(
                "no SMSC of route {} has a bind up in the cluster",
                uncovered_routes.join(", ")
            ));
        } else if view.smscs_up() == 0 {
            reasons.push("no SMSC bind is up in the cluster".into());
        }
        let capacity = self.queue.settings.queue_capacity;
        let names = view.active_names();
        let full = names.iter().all(|n| view.depth(n) >= capacity);
        if full {
            reasons.push("every SMSC's shared send queue is full".into());
        }
        let total_capacity = capacity.saturating_mul(names.len() as u64);
        Readiness {
            ready: reasons.is_empty(),
            binds_up: local.binds_up,
            queue_depth: usize::try_from(view.total_depth()).unwrap_or(usize::MAX),
            queue_capacity: usize::try_from(total_capacity).unwrap_or(usize::MAX),
            reasons,
            uncovered_routes,
        }
    }

    fn estimate(&self, sms: &OutboundSms) -> Option<SendEstimate> {
        self.engine.estimate_on(sms, &self.stream_for(sms)?)
    }

    fn covers(&self, destination: &str, smscs: Option<&SmscChoice>) -> bool {
        self.engine.covers(destination, smscs)
    }

    fn route_by(
        &self,
        sms: &OutboundSms,
        health: &dyn crate::dispatch::SmscHealth,
        exclude: Option<&str>,
        require_healthy: bool,
    ) -> Option<String> {
        self.engine.route_by(sms, health, exclude, require_healthy)
    }

    fn estimate_on(&self, sms: &OutboundSms, smsc: &str) -> Option<SendEstimate> {
        self.engine.estimate_on(sms, smsc)
    }

    fn smsc_binds_up(&self, smsc: &str) -> usize {
        self.engine.smsc_binds_up(smsc)
    }

    fn routes(&self) -> Vec<crate::dispatch::RouteSmscs> {
        self.engine.routes()
    }

    fn smsc_windows(&self) -> Vec<(String, usize)> {
        self.engine.smsc_windows()
    }
}
