//! Change notifications through a `changes` table, for an engine without a push channel
//! (MySQL/MariaDB) or a deployment that cannot use it (PostgreSQL behind a transaction-mode
//! pooler, where `LISTEN` does not survive): [`PolledChanges::notify`] inserts a row, and a
//! listener ([`listen`]) reads the rows after the last one it saw every [`POLL_INTERVAL`].
//!
//! - Ids are handed out before commit, so a row with a lower id can become visible after one
//!   with a higher id. A listener therefore keeps reading from the highest id below which
//!   every row has *settled* (is older than [`SETTLE`], long past its single-statement
//!   insert's commit) and remembers the ids above it it has delivered; nothing is skipped or
//!   delivered twice.
//! - The event history is its own change log: an event is not written here again. A listener
//!   of the events channel polls the newest event id instead, and announces it when it grows.
//! - Rows older than [`KEEP`] are deleted, at most [`PRUNE_BATCH`] at a time, by every
//!   [`PRUNE_EVERY`]th insert of a process: the table holds about a minute of changes, and
//!   however many processes write, the rows they delete keep pace with the rows they add.
//! - A listener whose read failed answers the error; the next successful read answers `None`
//!   (notifications may have been missed), as a reconnected `LISTEN` does.

use std::collections::{BTreeSet, HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sqlx::Pool;

use super::{On, SqlEngine, Stmt};
use crate::store::driver::{ListenerDriver, Op};
use crate::store::error::StoreError;
use crate::store::events::EVENTS_CHANNEL;

/// How often a listener reads the table.
pub(crate) const POLL_INTERVAL: Duration = Duration::from_millis(100);
/// Past this age a change's insert has committed (or failed): no row with a lower id can
/// appear any more.
pub(crate) const SETTLE: Duration = Duration::from_secs(2);
/// How long a change stays in the table.
pub(crate) const KEEP: Duration = Duration::from_secs(60);
/// Every how many inserts a process prunes.
const PRUNE_EVERY: u64 = 32;
/// At most this many rows deleted per prune.
const PRUNE_BATCH: i64 = 1000;
/// At most this many rows read per poll.
const READ_BATCH: i64 = 1000;

/// The statements of the `changes` table, in one engine's SQL (parameters in order).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ChangesSql {
    /// (channel, payload): records a change at now.
    pub insert: &'static str,
    /// (age in ms, limit): deletes up to `limit` changes older than the age, oldest first.
    pub prune: &'static str,
    /// () → the newest change id, or `NULL`.
    pub head: &'static str,
    /// (after id, limit) → `(id, channel, payload, age in ms)` of the changes after the id, by
    /// id.
    pub after: &'static str,
}

/// An engine with a `changes` table (its migrations create it).
pub(crate) trait PolledChanges: SqlEngine {
    /// Its statements on that table.
    const CHANGES: ChangesSql;
}

/// What a driver keeps to announce changes through the table: how many it wrote.
#[derive(Debug, Default)]
pub(crate) struct Changes {
    written: AtomicU64,
}

impl Changes {
    /// Records a change (the event channel is left to the events table), pruning now and
    /// then; a failed prune is logged, the next one catches up.
    pub(crate) async fn notify<E: PolledChanges>(
        &self,
        engine: &E,
        channel: &str,
        payload: &str,
    ) -> Result<(), StoreError> {
        if channel == EVENTS_CHANNEL {
            return Ok(());
        }
        Stmt::new(E::CHANGES.insert)
            .bind(channel)
            .bind(payload)
            .execute(engine.on())
            .await?;
        if self
            .written
            .fetch_add(1, Ordering::Relaxed)
            .is_multiple_of(PRUNE_EVERY)
        {
            let pruned = Stmt::new(E::CHANGES.prune)
                .bind(KEEP.as_millis() as i64)
                .bind(PRUNE_BATCH)
                .execute(engine.on())
                .await;
            if let Err(e) = pruned {
                tracing::debug!(error = %e, "cannot prune old change notifications");
            }
        }
        Ok(())
    }
}

/// A listener of `channels` that polls, starting after the newest change and event now.
pub(crate) async fn listen<E: PolledChanges>(
    engine: &E,
    channels: &[&str],
) -> Result<Option<Box<dyn ListenerDriver>>, StoreError> {
    let pool = engine.pool().clone();
    let begin = engine.statement_begin().map(str::to_owned);
    let on = || match &begin {
        Some(begin) => On::Tx(&pool, begin),
        None => On::Pool(&pool),
    };
    let events = channels.contains(&EVENTS_CHANNEL);
    let channels: HashSet<String> = channels
        .iter()
        .filter(|c| **c != EVENTS_CHANNEL)
        .map(|c| (*c).to_owned())
        .collect();
    let floor = if channels.is_empty() {
        0
    } else {
        let head: Option<i64> = Stmt::new(E::CHANGES.head).scalar(on()).await?;
        head.unwrap_or(0)
    };
    let events_head = if events {
        let head: Option<i64> = Stmt::new(E::SQL.last_event_id).scalar(on()).await?;
        head.unwrap_or(0)
    } else {
        0
    };
    Ok(Some(Box::new(Poller::<E> {
        pool,
        begin,
        cursor: Cursor {
            channels,
            events,
            floor,
            seen: BTreeSet::new(),
            events_head,
        },
        queue: VecDeque::new(),
        failed: false,
        next_poll: tokio::time::Instant::now() + POLL_INTERVAL,
    })))
}

/// One listener: its connection pool and its position in the table.
struct Poller<E: SqlEngine> {
    pool: Pool<E::Db>,
    /// [`SqlEngine::statement_begin`] of the engine.
    begin: Option<String>,
    cursor: Cursor,
    /// Notifications read and not yet answered.
    queue: VecDeque<(String, String)>,
    /// The last read failed: the next successful one answers a gap.
    failed: bool,
    next_poll: tokio::time::Instant,
}

/// Where a listener is: what it listens to and what it has seen.
#[derive(Debug)]
struct Cursor {
    /// Change channels listened to.
    channels: HashSet<String>,
    /// Whether the events channel is listened to.
    events: bool,
    /// Every change with an id up to this one has been seen or will never be.
    floor: i64,
    /// Ids above `floor` already seen.
    seen: BTreeSet<i64>,
    /// The newest event id announced.
    events_head: i64,
}

/// What one poll read.
struct Read {
    changes: Vec<(i64, String, String, i64)>,
    events_head: Option<i64>,
}

impl<E: PolledChanges> Poller<E> {
    /// Where a read runs.
    fn on(&self) -> On<'_, E::Db> {
        match &self.begin {
            Some(begin) => On::Tx(&self.pool, begin),
            None => On::Pool(&self.pool),
        }
    }

    /// Reads what is new. Only reads: the cursor moves in [`Cursor::accept`], after the last
    /// await, so a poll dropped half-way (a `select!` that took another branch) loses nothing.
    async fn read(&self) -> Result<Read, StoreError> {
        let changes = if self.cursor.channels.is_empty() {
            Vec::new()
        } else {
            Stmt::new(E::CHANGES.after)
                .bind(self.cursor.floor)
                .bind(READ_BATCH)
                .fetch_all(self.on())
                .await?
        };
        let events_head = if self.cursor.events {
            Stmt::new(E::SQL.last_event_id).scalar(self.on()).await?
        } else {
            None
        };
        Ok(Read {
            changes,
            events_head,
        })
    }
}

impl Cursor {
    /// The new notifications of a read, in order; moves the floor past the settled rows.
    fn accept(&mut self, read: Read) -> Vec<(String, String)> {
        let settle = SETTLE.as_millis() as i64;
        let mut settled = self.floor;
        let mut new = Vec::new();
        for (id, channel, payload, age_ms) in read.changes {
            if age_ms >= settle {
                settled = settled.max(id);
            }
            if id > self.floor && self.seen.insert(id) && self.channels.contains(&channel) {
                new.push((channel, payload));
            }
        }
        self.floor = settled;
        self.seen = self.seen.split_off(&(settled + 1));
        if let Some(head) = read.events_head
            && head > self.events_head
        {
            self.events_head = head;
            new.push((EVENTS_CHANNEL.to_owned(), head.to_string()));
        }
        new
    }
}

impl<E: PolledChanges> ListenerDriver for Poller<E> {
    fn next(&mut self) -> Op<'_, Option<(String, String)>> {
        Box::pin(async move {
            loop {
                if let Some(next) = self.queue.pop_front() {
                    return Ok(Some(next));
                }
                tokio::time::sleep_until(self.next_poll).await;
                self.next_poll = tokio::time::Instant::now() + POLL_INTERVAL;
                match self.read().await {
                    Ok(read) => {
                        let new = self.cursor.accept(read);
                        self.queue.extend(new);
                        if std::mem::take(&mut self.failed) {
                            return Ok(None);
                        }
                    }
                    Err(e) => {
                        self.failed = true;
                        return Err(e);
                    }
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cursor(channels: &[&str], events: bool) -> Cursor {
        Cursor {
            channels: channels.iter().map(|c| (*c).to_owned()).collect(),
            events,
            floor: 10,
            seen: BTreeSet::new(),
            events_head: 5,
        }
    }

    fn change(id: i64, channel: &str, age_ms: i64) -> (i64, String, String, i64) {
        (id, channel.to_owned(), format!("p{id}"), age_ms)
    }

    fn read(changes: Vec<(i64, String, String, i64)>, events_head: Option<i64>) -> Read {
        Read {
            changes,
            events_head,
        }
    }

    #[test]
    fn a_change_is_delivered_once_and_a_late_commit_below_it_is_not_skipped() {
        let mut c = cursor(&["jobs"], false);
        // 12 is visible, 11 (a lower id) has not committed yet.
        let first = c.accept(read(vec![change(12, "jobs", 5)], None));
        assert_eq!(first, [("jobs".to_owned(), "p12".to_owned())]);
        assert_eq!(c.floor, 10, "12 has not settled: 11 may still appear");
        // 11 commits; 12 is read again but not delivered again.
        let second = c.accept(read(
            vec![change(11, "jobs", 50), change(12, "jobs", 60)],
            None,
        ));
        assert_eq!(second, [("jobs".to_owned(), "p11".to_owned())]);
        // Both settle: the floor moves past them and forgets them.
        let third = c.accept(read(
            vec![change(11, "jobs", 2_500), change(12, "jobs", 2_600)],
            None,
        ));
        assert!(third.is_empty());
        assert_eq!(c.floor, 12);
        assert!(c.seen.is_empty());
    }

    #[test]
    fn other_channels_are_seen_but_not_delivered() {
        let mut c = cursor(&["settings"], false);
        let new = c.accept(read(
            vec![change(11, "jobs", 3_000), change(12, "settings", 3_000)],
            None,
        ));
        assert_eq!(new, [("settings".to_owned(), "p12".to_owned())]);
        assert_eq!(c.floor, 12);
    }

    #[test]
    fn a_growing_event_head_is_announced_with_the_newest_id() {
        let mut c = cursor(&[], true);
        assert!(c.accept(read(vec![], Some(5))).is_empty());
        assert_eq!(
            c.accept(read(vec![], Some(8))),
            [(EVENTS_CHANNEL.to_owned(), "8".to_owned())]
        );
        assert!(c.accept(read(vec![], Some(8))).is_empty());
    }
}
