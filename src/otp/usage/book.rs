//! The memory store's usage: counters per (tenant, day) in process, the days past the
//! retention pruned, written to `[store] state_dir` (`usage.json`) every
//! [`FLUSH_EVERY`] and at shutdown when one is set, and read back at start.

use std::cell::RefCell;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use dashmap::DashMap;

use super::file::{self, UsageFileError};
use super::{day_of, oldest_kept, DayUsage, UsageEvent};
use crate::otp::clock::Clock;
use crate::otp::identity::TenantTag;

/// How often the counters are written to the state file: what a crash can lose at most.
pub const FLUSH_EVERY: Duration = Duration::from_secs(10);

/// One day's counters, changed without a lock by every thread.
#[derive(Debug, Default)]
struct Cells {
    created: AtomicU64,
    parts: AtomicU64,
    cost_micros: AtomicU64,
    verified: AtomicU64,
}

impl Cells {
    fn of(u: &DayUsage) -> Self {
        Self {
            created: AtomicU64::new(u.created),
            parts: AtomicU64::new(u.parts),
            cost_micros: AtomicU64::new(u.cost_micros),
            verified: AtomicU64::new(u.verified),
        }
    }

    fn read(&self) -> DayUsage {
        DayUsage {
            created: self.created.load(Ordering::Relaxed),
            parts: self.parts.load(Ordering::Relaxed),
            cost_micros: self.cost_micros.load(Ordering::Relaxed),
            verified: self.verified.load(Ordering::Relaxed),
        }
    }

    fn apply(&self, event: UsageEvent) {
        let add = |c: &AtomicU64, n: u64| {
            let _ = c.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |v| {
                Some(v.saturating_add(n))
            });
        };
        match event {
            UsageEvent::Created => add(&self.created, 1),
            UsageEvent::CreateUndone => {
                let _ = self
                    .created
                    .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |v| v.checked_sub(1));
            }
            UsageEvent::Charged { parts, cost_micros } => {
                add(&self.parts, parts);
                add(&self.cost_micros, cost_micros);
            }
            UsageEvent::Verified => add(&self.verified, 1),
        }
    }
}

/// The id of the next book made.
static NEXT_BOOK: AtomicU64 = AtomicU64::new(0);

/// A (book, tenant, day) and its cells.
type Counted = ((u64, TenantTag, u32), Arc<Cells>);

thread_local! {
    /// The (book, tenant, day) this thread counted last, and its cells: the next count for the
    /// same one (one tenant's creates, nearly always) takes no lock of the shared map, whose
    /// shard lock every thread writes. A day pruned meanwhile (past the retention) loses what
    /// is counted into it, as a pruned day does.
    static LAST_COUNTED: RefCell<Option<Counted>> = const { RefCell::new(None) };
}

/// Counters per (tenant, UTC day): at most the tenants x the retention's days, once pruned.
#[derive(Debug)]
pub struct UsageBook {
    days: DashMap<(TenantTag, u32), Arc<Cells>>,
    /// Tells this book from every other of the process, for [`LAST_COUNTED`].
    id: u64,
    retention_days: u32,
    /// `usage.json` in `[store] state_dir`, when set.
    file: Option<PathBuf>,
    /// Something was counted since the last write began. A flag, set only when not set
    /// already: a count per change would be one more count that every create and every
    /// receipt writes, from every thread.
    unwritten: AtomicBool,
    /// One writer at a time (the periodic one and the shutdown's).
    writing: Mutex<()>,
}

impl UsageBook {
    /// Kept in process only.
    pub fn new(retention_days: u32) -> Self {
        Self {
            days: DashMap::new(),
            id: NEXT_BOOK.fetch_add(1, Ordering::Relaxed),
            retention_days: retention_days.max(1),
            file: None,
            unwritten: AtomicBool::new(false),
            writing: Mutex::new(()),
        }
    }

    /// Kept in `dir/usage.json` too: what it holds now (the days still within the retention
    /// at `now`) is read back.
    pub fn persisted(retention_days: u32, dir: PathBuf, now: u32) -> Result<Self, UsageFileError> {
        let mut book = Self::new(retention_days);
        let path = dir.join(file::FILE_NAME);
        let oldest = oldest_kept(day_of(now), book.retention_days);
        for (tenant, day, usage) in file::read(&path)? {
            if day >= oldest {
                book.days.insert((tenant, day), Arc::new(Cells::of(&usage)));
            }
        }
        book.file = Some(path);
        Ok(book)
    }

    pub fn retention_days(&self) -> u32 {
        self.retention_days
    }

    /// Counts `event` for `tenant` on `day`.
    pub fn count(&self, tenant: TenantTag, day: u32, event: UsageEvent) {
        let key = (self.id, tenant, day);
        let counted = LAST_COUNTED.with(|last| match &*last.borrow() {
            Some((seen, cells)) if *seen == key => {
                cells.apply(event);
                true
            }
            _ => false,
        });
        if !counted {
            // the day's entry exists but for the first event of a tenant each day: a shared
            // lock, then this thread keeps the day's cells
            let cells = match self.days.get(&(tenant, day)) {
                Some(cells) => cells.clone(),
                None => self.days.entry((tenant, day)).or_default().clone(),
            };
            cells.apply(event);
            LAST_COUNTED.with(|last| *last.borrow_mut() = Some((key, cells)));
        }
        self.mark_unwritten();
    }

    fn mark_unwritten(&self) {
        // after the change itself (Release): a write that takes the flag reads the change
        if !self.unwritten.load(Ordering::Relaxed) {
            self.unwritten.store(true, Ordering::Release);
        }
    }

    /// `tenant`'s counters of each day from `first` to `last` that has any, oldest first.
    pub fn read(&self, tenant: TenantTag, first: u32, last: u32) -> Vec<(u32, DayUsage)> {
        let mut days: Vec<(u32, DayUsage)> = (first..=last)
            .filter_map(|day| {
                let u = self.days.get(&(tenant, day))?.read();
                (!u.is_zero()).then_some((day, u))
            })
            .collect();
        days.sort_by_key(|(day, _)| *day);
        days
    }

    /// Forgets the days past the retention at `now`; answers how many (tenant, day) remain.
    pub fn prune(&self, now: u32) -> usize {
        let oldest = oldest_kept(day_of(now), self.retention_days);
        let before = self.days.len();
        self.days.retain(|(_, day), _| *day >= oldest);
        if self.days.len() != before {
            self.mark_unwritten();
        }
        self.days.len()
    }

    /// Writes every counter to the state file (atomically: a temporary file, then renamed)
    /// when something changed since the last write. Blocking.
    pub fn persist(&self) -> Result<(), UsageFileError> {
        let Some(path) = &self.file else {
            return Ok(());
        };
        let _one_writer = self.writing.lock().unwrap_or_else(|e| e.into_inner());
        // taken before the counters are read: a change after this marks the next write
        if !self.unwritten.swap(false, Ordering::Acquire) {
            return Ok(());
        }
        let mut rows: Vec<(TenantTag, u32, DayUsage)> = self
            .days
            .iter()
            .map(|e| (e.key().0, e.key().1, e.value().read()))
            .filter(|(_, _, u)| !u.is_zero())
            .collect();
        rows.sort_by_key(|(tenant, day, _)| (tenant.get(), *day));
        if let Err(e) = file::write(path, &rows) {
            // written at the next turn
            self.mark_unwritten();
            return Err(e);
        }
        Ok(())
    }

    /// Prunes and writes every [`FLUSH_EVERY`] until `shutdown`, then writes a last time.
    pub async fn keep(
        self: Arc<Self>,
        clock: Arc<Clock>,
        shutdown: impl std::future::Future<Output = ()>,
    ) {
        tokio::pin!(shutdown);
        loop {
            let stop = tokio::select! {
                _ = &mut shutdown => true,
                _ = tokio::time::sleep(FLUSH_EVERY) => false,
            };
            self.prune(clock.unix_secs());
            let book = self.clone();
            match tokio::task::spawn_blocking(move || book.persist()).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::error!(error = %e, "usage counters not written"),
                Err(e) => tracing::error!(error = %e, "usage counters not written"),
            }
            if stop {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::otp::usage::DAY_S;

    const A: TenantTag = TenantTag::NONE;

    fn tenant_b() -> TenantTag {
        TenantTag::of("b")
    }

    #[test]
    fn counts_of_two_books_and_two_tenants_on_one_thread_stay_apart() {
        let (one, two) = (UsageBook::new(3), UsageBook::new(3));
        let day = 20_000;
        for _ in 0..3 {
            one.count(A, day, UsageEvent::Created);
            one.count(A, day, UsageEvent::Created);
            two.count(A, day, UsageEvent::Created);
            one.count(tenant_b(), day, UsageEvent::Verified);
            one.count(A, day + 1, UsageEvent::Created);
        }
        let created = |b: &UsageBook, t, d| b.read(t, d, d).first().map_or(0, |(_, u)| u.created);
        assert_eq!(created(&one, A, day), 6);
        assert_eq!(created(&one, A, day + 1), 3);
        assert_eq!(created(&two, A, day), 3);
        assert_eq!(created(&two, A, day + 1), 0);
        assert_eq!(one.read(tenant_b(), day, day)[0].1.verified, 3);
        assert!(two.read(tenant_b(), day, day).is_empty());
    }

    #[test]
    fn counts_from_many_threads_add_up() {
        let book = UsageBook::new(3);
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for i in 0..1_000 {
                        let tenant = if i % 3 == 0 { tenant_b() } else { A };
                        book.count(tenant, 20_000, UsageEvent::Created);
                    }
                });
            }
        });
        let total: u64 = [A, tenant_b()]
            .into_iter()
            .map(|t| book.read(t, 20_000, 20_000)[0].1.created)
            .sum();
        assert_eq!(total, 4_000);
    }

    #[test]
    fn days_past_the_retention_are_pruned_as_the_clock_moves() {
        let clock = Clock::new();
        let book = UsageBook::new(3);
        let today = day_of(clock.unix_secs());
        for back in 0..5 {
            book.count(A, today - back, UsageEvent::Created);
            book.count(tenant_b(), today - back, UsageEvent::Verified);
        }
        assert_eq!(
            book.prune(clock.unix_secs()),
            6,
            "today and the two days before, twice"
        );
        assert_eq!(
            book.read(A, today - 10, today)
                .iter()
                .map(|(d, _)| today - d)
                .collect::<Vec<_>>(),
            vec![2, 1, 0]
        );
        // a day later, the oldest of them goes too
        clock.advance(Duration::from_secs(u64::from(DAY_S)));
        assert_eq!(book.prune(clock.unix_secs()), 4);
        assert_eq!(book.read(A, today - 10, today + 1).len(), 2);
        // a year later nothing is left: the book stays bounded by tenants x retention
        clock.advance(Duration::from_secs(365 * u64::from(DAY_S)));
        assert_eq!(book.prune(clock.unix_secs()), 0);
    }

    #[test]
    fn counts_add_up_per_tenant_and_day_and_undo_never_goes_below_zero() {
        let book = UsageBook::new(400);
        let day = 20_000;
        for _ in 0..3 {
            book.count(A, day, UsageEvent::Created);
        }
        book.count(A, day, UsageEvent::CreateUndone);
        book.count(
            A,
            day,
            UsageEvent::Charged {
                parts: 2,
                cost_micros: 70_000,
            },
        );
        book.count(
            A,
            day,
            UsageEvent::Charged {
                parts: 1,
                cost_micros: 35_000,
            },
        );
        book.count(A, day, UsageEvent::Verified);
        book.count(A, day + 1, UsageEvent::CreateUndone);
        let want = DayUsage {
            created: 2,
            parts: 3,
            cost_micros: 105_000,
            verified: 1,
        };
        assert_eq!(book.read(A, day - 1, day + 1), vec![(day, want)]);
        assert!(book.read(tenant_b(), day, day).is_empty());
    }

    #[test]
    fn the_state_file_brings_the_counts_back_and_drops_expired_days() {
        let dir = std::env::temp_dir().join(format!("otpgate-usage-{}", uuid::Uuid::new_v4()));
        let now = 1_796_256_000 + 3600; // 2026-12-03T01:00Z
        let today = day_of(now);
        let book = UsageBook::persisted(30, dir.clone(), now).unwrap();
        book.count(A, today, UsageEvent::Created);
        book.count(
            tenant_b(),
            today,
            UsageEvent::Charged {
                parts: 1,
                cost_micros: 12_345,
            },
        );
        book.count(A, today - 29, UsageEvent::Verified);
        book.persist().unwrap();
        let again = UsageBook::persisted(30, dir.clone(), now).unwrap();
        assert_eq!(
            again.read(A, today - 40, today),
            book.read(A, today - 40, today)
        );
        assert_eq!(
            again.read(tenant_b(), today, today),
            vec![(
                today,
                DayUsage {
                    parts: 1,
                    cost_micros: 12_345,
                    ..DayUsage::default()
                }
            )]
        );
        // read back a day later: the day 29 days back is now past the retention
        let later = UsageBook::persisted(30, dir.clone(), now + DAY_S).unwrap();
        assert_eq!(later.read(A, today - 40, today).len(), 1);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
