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

    /// Re-anchor to a database reading taken between `sent` and now. The database read its
    /// clock somewhere in that round trip, so it reads between `db_ms` and `db_ms` plus the
    /// round trip now: the clock carried forward is kept when it lies in that range, and moved
    /// to its nearer end when not. A long round trip (a request held by a partition until it
    /// heals, a wait for a pooled connection) is not halved into the clock: which part of it
    /// came before the reading is not known, and guessing half could put the clock seconds
    /// ahead, firing ticks and retries before their instant.
    pub fn sync(&self, db_ms: i64, sent: Instant) {
        let now = Instant::now();
        let rtt_ms = (now - sent).as_millis() as i64;
        let mut anchor = self.anchor.lock().expect("clock lock");
        let carried = anchor.db_ms + (now - anchor.at).as_millis() as i64;
        *anchor = Anchor {
            db_ms: carried.clamp(db_ms, db_ms.saturating_add(rtt_ms)),
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::time::{Instant, advance};

    use super::DbClock;

    #[tokio::test(start_paused = true)]
    async fn a_quick_reading_re_anchors_the_clock() {
        let clock = DbClock::new(0);
        advance(Duration::from_secs(1)).await;
        // The replica's clock ran 1 s; the database says 5 s: the database wins.
        let sent = Instant::now();
        advance(Duration::from_millis(2)).await;
        clock.sync(5_000, sent);
        assert!(
            (5_000..=5_002).contains(&clock.now_ms()),
            "{}",
            clock.now_ms()
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_reading_that_waited_long_on_its_way_does_not_move_the_clock_ahead() {
        let clock = DbClock::new(0);
        // The request waits 8 s on its way (a partition that delivers it when it heals, a
        // pool with no free connection): the database reads its clock at 8 s and the answer
        // comes at once. Half the round trip added would put the clock 4 s ahead.
        let sent = Instant::now();
        advance(Duration::from_secs(8)).await;
        clock.sync(8_000, sent);
        assert_eq!(clock.now_ms(), 8_000);
        // The answer waits instead: read at 8 s, received at 16 s. Half the round trip would
        // put it 4 s behind.
        let sent = Instant::now();
        advance(Duration::from_secs(8)).await;
        clock.sync(8_000, sent);
        assert_eq!(clock.now_ms(), 16_000);
    }
}
