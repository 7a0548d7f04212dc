//! Stores under test: the in-memory one, the Redis one at `OTPGATE_REDIS_URL` and the Redis
//! Cluster one at `OTPGATE_REDIS_CLUSTER_NODES` (comma-separated URLs; the Redis tests are
//! ignored unless asked for, and fail when their variable is missing); each Redis fixture gets
//! its own key prefix so tests run in parallel.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use otpgate::config::AbuseConfig;
use otpgate::otp::abuse::AbuseGuard;
use otpgate::otp::guard::PumpingGuard;
use otpgate::otp::model::{DeliveryStatus, OtpId, OtpStatus, Record};
use otpgate::otp::pin::PinHash;
use otpgate::otp::redis::abuse::RedisGuard;
use otpgate::otp::redis::{RedisOptions, Target};
use otpgate::otp::store::{ChangeObserver, ReceiptHold};
use otpgate::otp::{Clock, MemoryStore, RedisStore, Store};

use super::tools;

/// Every status / deliveryStatus change the store reported.
#[derive(Default)]
pub struct Changes(pub Mutex<Vec<(OtpId, OtpStatus, DeliveryStatus)>>);

impl ChangeObserver for Changes {
    fn changed(&self, id: OtpId, r: &Record) {
        self.0.lock().unwrap().push((id, r.status, r.delivery));
    }
}

impl Changes {
    pub fn of(&self, id: OtpId) -> Vec<(OtpStatus, DeliveryStatus)> {
        let all = self.0.lock().unwrap();
        all.iter()
            .filter(|c| c.0 == id)
            .map(|c| (c.1, c.2))
            .collect()
    }
}

pub struct Fixture {
    pub store: Arc<dyn Store>,
    pub clock: Arc<Clock>,
    pub changes: Arc<Changes>,
    guard: Box<dyn Fn(AbuseConfig) -> Arc<dyn PumpingGuard> + Send + Sync>,
}

impl Fixture {
    pub fn guard(&self, cfg: AbuseConfig) -> Arc<dyn PumpingGuard> {
        (self.guard)(cfg)
    }
}

pub const RETAIN_S: u32 = 300;
/// Small, so that the limit itself can be tested.
pub const MAX_LIVE: usize = 200;
/// Small too, for the same reason.
pub const HOLD: ReceiptHold = ReceiptHold { hold_s: 60, max: 3 };

pub fn memory() -> Fixture {
    let clock = Arc::new(Clock::new());
    let changes = Arc::new(Changes::default());
    let store = Arc::new(
        MemoryStore::new(clock.clone(), MAX_LIVE, RETAIN_S)
            .with_receipt_hold(HOLD)
            .with_observer(changes.clone()),
    );
    Fixture {
        store,
        clock,
        changes,
        guard: Box::new(|cfg| Arc::new(AbuseGuard::new(cfg))),
    }
}

/// A unique key prefix per fixture.
pub fn unique_prefix(what: &str) -> String {
    format!("t-{what}-{}", OtpId::random())
}

pub async fn redis_target(target: Target, what: &str) -> Fixture {
    let clock = Arc::new(Clock::new());
    let opts = RedisOptions {
        target,
        key_prefix: unique_prefix(what),
        timeout: Duration::from_secs(5),
        retain_s: RETAIN_S,
        max_live: MAX_LIVE,
    };
    let changes = Arc::new(Changes::default());
    let store = Arc::new(
        RedisStore::connect(opts, clock.clone())
            .await
            .expect("connect to the test Redis")
            .with_receipt_hold(HOLD)
            .with_observer(changes.clone()),
    );
    let for_guard = store.clone();
    Fixture {
        store,
        clock,
        changes,
        guard: Box::new(move |cfg| Arc::new(RedisGuard::new(for_guard.clone(), cfg))),
    }
}

/// The test Redis (`OTPGATE_REDIS_URL`); panics when it is not set.
pub fn redis_url() -> String {
    tools::required("OTPGATE_REDIS_URL", ".ci/install.d/50-redis.sh")
}

/// The test Redis Cluster's nodes (`OTPGATE_REDIS_CLUSTER_NODES`, comma-separated URLs);
/// panics when it is not set.
pub fn cluster_nodes() -> Vec<String> {
    tools::required(
        "OTPGATE_REDIS_CLUSTER_NODES",
        ".ci/install.d/51-redis-cluster.sh",
    )
    .split(',')
    .map(str::to_owned)
    .collect()
}

pub async fn redis(what: &str) -> Fixture {
    redis_target(Target::Single(redis_url()), what).await
}

pub async fn cluster(what: &str) -> Fixture {
    redis_target(Target::Cluster(cluster_nodes()), what).await
}

/// A pending OTP created at `created` for `phone`, PIN hash `pin`.
pub fn record(phone: u64, created: u32, ttl: u16, max_attempts: u8, pin: u8) -> Record {
    Record::pending(
        PinHash([pin; 16]),
        phone,
        *b"FR",
        created,
        ttl,
        max_attempts,
    )
}
