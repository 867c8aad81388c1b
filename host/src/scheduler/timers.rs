//! One timing structure for all of a replica's jobs: an ordered set of `(fire at, job)`
//! entries. Re-arming is O(log n); a job due in a year costs the same as one due in a second.

use std::collections::BTreeSet;

use super::slab::KeyedVec;

/// Timers keyed by job key.
#[derive(Debug, Default)]
pub struct Timers {
    by_time: BTreeSet<(i64, u64)>,
    by_key: KeyedVec<i64>,
    len: usize,
}

impl Timers {
    /// Arm (or re-arm) the timer of `key` to fire at `at_ms`.
    pub fn arm(&mut self, key: u64, at_ms: i64) {
        match self.by_key.insert(key, at_ms) {
            Some(old) => {
                self.by_time.remove(&(old, key));
            }
            None => self.len += 1,
        }
        self.by_time.insert((at_ms, key));
    }

    /// Disarm the timer of `key`, if any.
    pub fn disarm(&mut self, key: u64) {
        if let Some(old) = self.by_key.remove(key) {
            self.by_time.remove(&(old, key));
            self.len -= 1;
        }
    }

    /// When the earliest timer fires.
    pub fn next_deadline(&self) -> Option<i64> {
        self.by_time.first().map(|(at, _)| *at)
    }

    /// Remove and return the next timer that is due at `now_ms`.
    pub fn pop_due(&mut self, now_ms: i64) -> Option<(u64, i64)> {
        let &(at, key) = self.by_time.first()?;
        if at > now_ms {
            return None;
        }
        self.by_time.pop_first();
        self.by_key.remove(key);
        self.len -= 1;
        Some((key, at))
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

#[cfg(test)]
mod tests {
    use super::Timers;

    #[test]
    fn fires_in_time_order_and_rearms() {
        let mut t = Timers::default();
        t.arm(1, 300);
        t.arm(2, 100);
        t.arm(3, 200);
        t.arm(1, 50); // re-arm moves it
        assert_eq!(t.next_deadline(), Some(50));
        assert_eq!(t.pop_due(150), Some((1, 50)));
        assert_eq!(t.pop_due(150), Some((2, 100)));
        assert_eq!(t.pop_due(150), None);
        t.disarm(3);
        assert!(t.is_empty());
        assert_eq!(t.next_deadline(), None);
    }

    #[test]
    fn far_future_deadlines_do_not_overflow() {
        let mut t = Timers::default();
        t.arm(7, i64::MAX - 1);
        t.arm(8, 253_402_300_799_000); // 9999-12-31
        assert_eq!(t.pop_due(0), None);
        assert_eq!(t.next_deadline(), Some(253_402_300_799_000));
    }
}
