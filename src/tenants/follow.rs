//! Every node follows the shared registry: on each change notification, and every
//! [`REFRESH`](super::registry::REFRESH) in case one was lost, it reads the registry's
//! version and, when it differs from the one in force, reads the records and applies them.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use super::{Persistence, TenantRegistry, TenantsInForce};
use crate::telemetry::names::TENANT_REFRESHES;

/// Reads the registry and applies it when its version is not the one in force.
pub async fn refresh(registry: &dyn TenantRegistry, in_force: &dyn TenantsInForce) {
    let outcome = match registry.version().await {
        Ok(v) if v == in_force.version() => "unchanged",
        Ok(_) => match registry.load().await {
            Ok(snapshot) => match in_force.apply(snapshot).await {
                Ok(()) => "applied",
                Err(e) => {
                    tracing::error!(error = %e, "the tenant registry's set is refused: the set in force stays");
                    "refused"
                }
            },
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the tenant registry");
                "unavailable"
            }
        },
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the tenant registry");
            "unavailable"
        }
    };
    metrics::counter!(TENANT_REFRESHES, "outcome" => outcome).increment(1);
}

/// Follows a shared registry until `stop`; returns at once when the registry is this node's.
pub async fn follow(
    registry: Arc<dyn TenantRegistry>,
    in_force: Arc<dyn TenantsInForce>,
    stop: CancellationToken,
) {
    if registry.persistence() != Persistence::Cluster {
        return;
    }
    let mut notified = registry.subscribe().await;
    loop {
        let notification = async {
            match notified.as_mut() {
                Some(rx) => rx.recv().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(super::registry::REFRESH) => {}
            got = notification => {
                if got.is_none() {
                    notified = None;
                }
            }
        }
        refresh(registry.as_ref(), in_force.as_ref()).await;
    }
}

/// The follower running (see [`start`]).
pub struct Following {
    stop: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

impl Following {
    pub async fn stop(self) {
        self.stop.cancel();
        let _ = self.task.await;
    }
}

/// Applies the registry's set now (a refusal is logged: the file's set stays in force, so
/// that a record made invalid by a file change never keeps a node from starting), then
/// follows it when it is shared.
pub async fn start(
    registry: Arc<dyn TenantRegistry>,
    in_force: Arc<dyn TenantsInForce>,
) -> Following {
    match registry.load().await {
        Ok(snapshot) => {
            let count = snapshot.records.values().filter(|r| !r.deleted).count();
            match in_force.apply(snapshot).await {
                Ok(()) => tracing::info!(
                    provisioned = count,
                    persistence = ?registry.persistence(),
                    "tenant registry applied"
                ),
                Err(e) => tracing::error!(
                    error = %e,
                    "the tenant registry's set is refused: only the file's tenants are in force"
                ),
            }
        }
        Err(e) => tracing::error!(error = %e, "cannot read the tenant registry at start"),
    }
    let stop = CancellationToken::new();
    let task = tokio::spawn(follow(registry, in_force, stop.clone()));
    Following { stop, task }
}
