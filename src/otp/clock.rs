//! The OTP core's clock: wall time derived from tokio's monotonic clock, so that
//! `tokio::time::pause()` drives expiry in tests, plus an explicit offset (`advance`) for
//! black-box tests and simulations that cannot pause a shared runtime.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::Notify;
use tokio::time::Instant;

#[derive(Debug)]
pub struct Clock {
    base_unix: Duration,
    base: Instant,
    offset_ms: AtomicU64,
    /// Woken by `advance`, so sleepers re-read the time.
    pub(crate) changed: Notify,
}

impl Default for Clock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock {
    pub fn new() -> Self {
        Self {
            base_unix: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default(),
            base: Instant::now(),
            offset_ms: AtomicU64::new(0),
            changed: Notify::new(),
        }
    }

    fn offset(&self) -> Duration {
        Duration::from_millis(self.offset_ms.load(Ordering::Relaxed))
    }

    /// Monotonic now (tokio time plus the offset).
    pub fn instant(&self) -> Instant {
        Instant::now() + self.offset()
    }

    /// Time since the UNIX epoch.
    pub fn unix(&self) -> Duration {
        self.unix_at(Instant::now())
    }

    /// Time since the UNIX epoch at `instant` of tokio's clock (without the offset): the
    /// same as `unix()` read at that instant.
    pub fn unix_at(&self, instant: Instant) -> Duration {
        self.base_unix + (instant + self.offset()).saturating_duration_since(self.base)
    }

    /// Whole seconds since the UNIX epoch (fits u32 until 2106).
    pub fn unix_secs(&self) -> u32 {
        u32::try_from(self.unix().as_secs()).unwrap_or(u32::MAX)
    }

    pub fn system_time(&self) -> SystemTime {
        UNIX_EPOCH + self.unix()
    }

    /// The tokio instant at which the wall clock reads `unix_secs` (for sleeping until then).
    pub fn instant_at(&self, unix_secs: u32) -> Instant {
        let target = Duration::from_secs(u64::from(unix_secs));
        let now_unix = self.unix();
        let now = Instant::now();
        match target.checked_sub(now_unix) {
            Some(ahead) => now + ahead,
            None => now,
        }
    }

    /// Moves the clock forward by `by` and wakes whoever sleeps on it.
    pub fn advance(&self, by: Duration) {
        let ms = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
        self.offset_ms.fetch_add(ms, Ordering::Relaxed);
        self.changed.notify_waiters();
    }
}

impl crate::dispatch::WallClock for Clock {
    fn now(&self) -> SystemTime {
        self.system_time()
    }

    fn at(&self, instant: Instant) -> SystemTime {
        UNIX_EPOCH + self.unix_at(instant)
    }
}
