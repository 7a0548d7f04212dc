//! A callback-host resolver a test controls: the addresses it answers for each name, a delay
//! before each answer, and counts of the lookups it was asked for and had in flight at once.

use std::collections::HashMap;
use std::io;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use otpgate::callbacks::resolve::HostResolver;

#[derive(Default)]
pub struct FakeResolver {
    answers: Mutex<HashMap<String, Vec<IpAddr>>>,
    delay: Mutex<Duration>,
    calls: AtomicUsize,
    in_flight: AtomicUsize,
    most_in_flight: AtomicUsize,
}

/// Counts a lookup out of flight however it ends.
struct InFlight<'a>(&'a AtomicUsize);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, SeqCst);
    }
}

impl FakeResolver {
    pub fn new() -> Arc<FakeResolver> {
        Arc::new(FakeResolver::default())
    }

    /// `host` resolves to `ips` from now on (none: it does not resolve).
    pub fn answer(&self, host: &str, ips: &[&str]) {
        let ips = ips.iter().map(|ip| ip.parse().unwrap()).collect();
        self.answers.lock().unwrap().insert(host.to_owned(), ips);
    }

    pub fn forget(&self, host: &str) {
        self.answers.lock().unwrap().remove(host);
    }

    /// Every answer comes after `delay`.
    pub fn slow(&self, delay: Duration) {
        *self.delay.lock().unwrap() = delay;
    }

    /// Lookups asked for so far.
    pub fn calls(&self) -> usize {
        self.calls.load(SeqCst)
    }

    /// The most lookups in flight at once so far.
    pub fn most_in_flight(&self) -> usize {
        self.most_in_flight.load(SeqCst)
    }
}

#[async_trait::async_trait]
impl HostResolver for FakeResolver {
    async fn lookup(&self, host: &str) -> io::Result<Vec<IpAddr>> {
        self.calls.fetch_add(1, SeqCst);
        let now = self.in_flight.fetch_add(1, SeqCst) + 1;
        let _out = InFlight(&self.in_flight);
        self.most_in_flight.fetch_max(now, SeqCst);
        let delay = *self.delay.lock().unwrap();
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        let found = self.answers.lock().unwrap().get(host).cloned();
        found
            .filter(|ips| !ips.is_empty())
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such host"))
    }
}
