//! The library's parse off the async workers: it takes the library's global lock (its regex
//! cache) and, with many countries in turn, recompiles patterns under it, so a worker thread
//! running it would stall every request on that worker. Here it runs on at most `threads`
//! blocking threads at once; a request that finds them all busy waits at most `wait`, then
//! is refused ([`PhoneError::Busy`]) rather than queued without end.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

use super::{parse_fast, Parsed, Phone, PhoneError};
use crate::telemetry::names;

pub struct LibraryPool {
    permits: Arc<Semaphore>,
    wait: Duration,
}

impl LibraryPool {
    pub fn new(threads: usize, wait: Duration) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(threads.max(1))),
            wait,
        }
    }

    /// Validates `number` as [`super::parse_phone`] does; the library, when needed, on a
    /// blocking thread of this pool.
    pub async fn parse(
        &self,
        number: &str,
        country_iso: Option<&str>,
    ) -> Result<Phone, PhoneError> {
        let input = match parse_fast(number, country_iso) {
            Parsed::Done(result) => return result,
            Parsed::Library(input) => input,
        };
        let acquired = tokio::time::timeout(self.wait, self.permits.clone().acquire_owned()).await;
        let Ok(Ok(permit)) = acquired else {
            metrics::counter!(names::PHONE_LIBRARY, "outcome" => "busy").increment(1);
            return Err(PhoneError::Busy);
        };
        metrics::counter!(names::PHONE_LIBRARY, "outcome" => "parsed").increment(1);
        // The permit goes with the thread: a request given up on still holds its slot until
        // the library returns, so no more than `threads` ever run.
        let parsed = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            input.parse()
        })
        .await;
        // A panic inside the library is an invalid number, not a failed server.
        parsed.unwrap_or(Err(PhoneError::Invalid))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn library_numbers_are_parsed_and_refused_when_the_pool_stays_busy() {
        let pool = LibraryPool::new(1, Duration::from_millis(50));
        // a national prefix written inside an international number: only the library answers
        let odd = "+44 (0) 7400 123456";
        assert!(matches!(parse_fast(odd, None), Parsed::Library(_)));
        let parsed = pool.parse(odd, None).await;
        assert_eq!(parsed.map(|p| p.e164()), Ok("+447400123456".to_owned()));
        let held = pool.permits.clone().acquire_owned().await.unwrap();
        assert_eq!(pool.parse(odd, None).await, Err(PhoneError::Busy));
        // the fast paths never wait for the pool
        assert!(pool.parse("+33612345678", None).await.is_ok());
        drop(held);
        assert!(pool.parse(odd, None).await.is_ok());
    }
}
