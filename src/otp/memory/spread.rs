//! A count that each thread keeps in a cell of its own, summed when read: for a count that
//! both HTTP workers and the engine change at every OTP and that is read only now and then
//! (a gauge). One shared atomic moved its cache line between the cores at each change.

use std::sync::atomic::{AtomicIsize, Ordering};

use thread_local::ThreadLocal;

#[derive(Default)]
pub struct SpreadCount {
    cells: ThreadLocal<AtomicIsize>,
}

impl SpreadCount {
    /// Adds `n` (below zero: takes) in this thread's cell: a load and a store, no
    /// read-modify-write, since no other thread writes it.
    pub fn add(&self, n: isize) {
        let cell = self.cells.get_or_default();
        cell.store(
            cell.load(Ordering::Relaxed).wrapping_add(n),
            Ordering::Relaxed,
        );
    }

    /// The sum of every thread's cell (a thread's own may be below zero: it took what
    /// another added), never below zero.
    pub fn get(&self) -> usize {
        let sum = self
            .cells
            .iter()
            .fold(0isize, |sum, c| sum.wrapping_add(c.load(Ordering::Relaxed)));
        usize::try_from(sum).unwrap_or(0)
    }
}

impl std::fmt::Debug for SpreadCount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("SpreadCount").field(&self.get()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn threads_add_and_take_what_others_added() {
        let count = Arc::new(SpreadCount::default());
        let adders: Vec<_> = (0..4)
            .map(|_| {
                let count = count.clone();
                std::thread::spawn(move || (0..1000).for_each(|_| count.add(1)))
            })
            .collect();
        adders.into_iter().for_each(|t| t.join().unwrap());
        assert_eq!(count.get(), 4000);
        let taker = {
            let count = count.clone();
            std::thread::spawn(move || (0..1500).for_each(|_| count.add(-1)))
        };
        taker.join().unwrap();
        assert_eq!(count.get(), 2500);
        count.add(-2500);
        assert_eq!(count.get(), 0);
    }
}
