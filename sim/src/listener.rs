//! The accept loop: a connection slot (semaphore permit) is taken before each accept, each
//! connection runs as a [`Session`] task in its own span, failed accepts back off.

use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tracing::Instrument;

use super::counters::Counters;
use super::session::Session;
use super::state::Shared;

pub struct Listener {
    pub shared: Arc<Shared>,
    pub listener: TcpListener,
}

impl Listener {
    pub async fn run(self) {
        let slots = Arc::new(Semaphore::new(self.shared.config.max_connections.max(1)));
        let shutdown = self.shared.shutdown.clone();
        let mut backoff = Duration::from_millis(1);
        loop {
            let permit = tokio::select! {
                _ = shutdown.cancelled() => return,
                p = slots.clone().acquire_owned() => match p {
                    Ok(p) => p,
                    Err(_) => return,
                },
            };
            let accepted = tokio::select! {
                _ = shutdown.cancelled() => return,
                a = self.listener.accept() => a,
            };
            let (stream, peer) = match accepted {
                Ok(a) => {
                    backoff = Duration::from_millis(1);
                    a
                }
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(1));
                    continue;
                }
            };
            Counters::inc(&self.shared.counters.connections);
            Counters::inc(&self.shared.counters.connections_open);
            let session = Session::new(self.shared.clone(), stream);
            let span = tracing::debug_span!("smpp_session", id = session.id(), %peer);
            self.shared.tracker.spawn(
                async move {
                    session.run().await;
                    drop(permit);
                }
                .instrument(span),
            );
        }
    }
}
