//! The scheduler's notion of "now": the database clock, carried forward between database
//! contacts by the local monotonic clock (tokio's, so tests can pause and advance it).
//!
//! Node wall clocks are never read for due-ness: each heartbeat re-anchors the clock to the
//! database's `now`, so a replica whose system clock is skewed still fires on time.

use std::sync::{Arc, Mutex};

use tokio::time::Instant;

#[derive(Clone, Copy, Debug)]
struct Anchor {
    db_ms: i64,
    at: Instant,
}

/// Shared database-anchored clock.
#[derive(Clone, Debug)]
pub struct DbClock {
    anchor: Arc<Mutex<Anchor>>,
}

impl DbClock {
    /// A clock that reads `db_ms` now.
    pub fn new(db_ms: i64) -> Self {
        DbClock {
            anchor: Arc::new(Mutex::new(Anchor {
                db_ms,
                at: Instant::now(),
            })),
        }
    }

    /// Re-anchor to a database reading taken between `sent` and now (half the round trip is
    /// assumed to have passed since the database read its clock).
    pub fn sync(&self, db_ms: i64, sent: Instant) {
        let now = Instant::now();
        let half_rtt = (now - sent) / 2;
        *self.anchor.lock().expect("clock lock") = Anchor {
            db_ms: db_ms + half_rtt.as_millis() as i64,
            at: now,
        };
    }

    /// Database time now, in Unix epoch milliseconds.
    pub fn now_ms(&self) -> i64 {
        let a = *self.anchor.lock().expect("clock lock");
        a.db_ms + a.at.elapsed().as_millis() as i64
    }

    /// The local monotonic instant at which the database clock reads `ms`.
    pub fn instant_at(&self, ms: i64) -> Instant {
        let a = *self.anchor.lock().expect("clock lock");
        let delta = ms - a.db_ms;
        if delta >= 0 {
            a.at + std::time::Duration::from_millis(delta as u64)
        } else {
            a.at.checked_sub(std::time::Duration::from_millis(delta.unsigned_abs()))
                .unwrap_or(a.at)
        }
    }
}
