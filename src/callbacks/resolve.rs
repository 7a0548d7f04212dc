//! Name lookups of callback hosts, at create and at delivery. The resolver is a trait object
//! given when the engine is assembled (the system's by default; tests give their own), and
//! every lookup goes through a [`BoundedResolver`]: at most `resolve_concurrency` lookups in
//! flight, each bounded by `resolve_timeout_ms`. A lookup that times out keeps its slot until
//! the resolver returns, so slow name servers never hold more than that many blocking threads;
//! a lookup that cannot start within its timeout fails like one that timed out.

use std::io;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::Semaphore;

use super::settings::CallbacksConfig;

/// Resolves a host name to its addresses.
#[async_trait]
pub trait HostResolver: Send + Sync + 'static {
    /// The addresses of `host`; an error when it does not resolve.
    async fn lookup(&self, host: &str) -> io::Result<Vec<IpAddr>>;
}

/// The system resolver (`getaddrinfo` on a blocking thread: hosts file, search domains and
/// name servers as the machine is configured).
#[derive(Debug, Default)]
pub struct SystemResolver;

#[async_trait]
impl HostResolver for SystemResolver {
    async fn lookup(&self, host: &str) -> io::Result<Vec<IpAddr>> {
        let found = tokio::net::lookup_host((host, 0)).await?;
        Ok(found.map(|a| a.ip()).collect())
    }
}

/// Why a bounded lookup gave no addresses.
#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    #[error("does not resolve: {0}")]
    NotFound(io::Error),
    #[error("lookup timed out")]
    TimedOut,
    #[error("too many lookups in flight")]
    Busy,
}

/// A resolver with at most `max_in_flight` lookups at once, each given `timeout`.
pub struct BoundedResolver {
    inner: Arc<dyn HostResolver>,
    permits: Arc<Semaphore>,
    timeout: Duration,
}

impl BoundedResolver {
    pub fn new(inner: Arc<dyn HostResolver>, max_in_flight: usize, timeout: Duration) -> Self {
        Self {
            inner,
            permits: Arc::new(Semaphore::new(max_in_flight.max(1))),
            timeout,
        }
    }

    /// Over `inner`, with the bound and timeout of `[callbacks]`.
    pub fn of(inner: Arc<dyn HostResolver>, cfg: &CallbacksConfig) -> Self {
        Self::new(
            inner,
            cfg.resolve_concurrency,
            Duration::from_millis(cfg.resolve_timeout_ms),
        )
    }

    /// The addresses of `host`, within the timeout (waiting for a slot included).
    pub async fn lookup(&self, host: &str) -> Result<Vec<IpAddr>, LookupError> {
        let deadline = tokio::time::Instant::now() + self.timeout;
        let permit = tokio::time::timeout_at(deadline, self.permits.clone().acquire_owned())
            .await
            .map_err(|_| LookupError::Busy)?
            .map_err(|_| LookupError::Busy)?;
        let inner = self.inner.clone();
        let host = host.to_owned();
        // The lookup runs on its own task, holding its slot until the resolver returns, even
        // when the caller has stopped waiting for it.
        let lookup = tokio::spawn(async move {
            let _permit = permit;
            inner.lookup(&host).await
        });
        match tokio::time::timeout_at(deadline, lookup).await {
            Err(_) => Err(LookupError::TimedOut),
            Ok(Err(_)) => Err(LookupError::NotFound(io::Error::other("lookup failed"))),
            Ok(Ok(Err(e))) => Err(LookupError::NotFound(e)),
            Ok(Ok(Ok(addrs))) => Ok(addrs),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// Answers after `delay`, counting the lookups in flight.
    struct Slow {
        delay: Duration,
        now: AtomicUsize,
        most: AtomicUsize,
    }

    #[async_trait]
    impl HostResolver for Slow {
        async fn lookup(&self, _host: &str) -> io::Result<Vec<IpAddr>> {
            let n = self.now.fetch_add(1, Ordering::SeqCst) + 1;
            self.most.fetch_max(n, Ordering::SeqCst);
            tokio::time::sleep(self.delay).await;
            self.now.fetch_sub(1, Ordering::SeqCst);
            Ok(vec![IpAddr::from([93, 184, 216, 34])])
        }
    }

    #[tokio::test(start_paused = true)]
    async fn lookups_in_flight_stay_bounded_after_their_callers_give_up() {
        let slow = Arc::new(Slow {
            delay: Duration::from_secs(10),
            now: AtomicUsize::new(0),
            most: AtomicUsize::new(0),
        });
        let bounded = Arc::new(BoundedResolver::new(
            slow.clone(),
            3,
            Duration::from_millis(100),
        ));
        let mut answers = Vec::new();
        for _ in 0..20 {
            let b = bounded.clone();
            answers.push(tokio::spawn(async move { b.lookup("slow.example").await }));
        }
        let mut timed_out = 0;
        let mut busy = 0;
        for a in answers {
            match a.await.unwrap() {
                Err(LookupError::TimedOut) => timed_out += 1,
                Err(LookupError::Busy) => busy += 1,
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!((timed_out, busy), (3, 17));
        assert_eq!(slow.most.load(Ordering::SeqCst), 3);
        // the slots come back once the slow lookups end
        tokio::time::sleep(Duration::from_secs(11)).await;
        let fast = BoundedResolver::new(slow.clone(), 3, Duration::from_secs(20));
        assert!(fast.lookup("slow.example").await.is_ok());
        assert_eq!(bounded.permits.available_permits(), 3);
    }
}
