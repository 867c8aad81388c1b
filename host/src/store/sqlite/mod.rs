//! The SQLite engine: one embedded database file (or memory) for a single replica.
//!
//! All of SQLite's SQL lives here, one file per area. SQLite takes `$1`-style parameters,
//! `ON CONFLICT … DO …` and `RETURNING`; it has no row locks (a write locks the whole
//! database), so batches run in one `BEGIN IMMEDIATE` transaction, and it has neither server
//! sessions nor change notifications: [`SqliteDriver`] answers `None` for both capabilities.

/// The database clock: Unix epoch milliseconds as an integer.
macro_rules! now_ms {
    () => {
        "CAST(unixepoch('subsec') * 1000 AS INTEGER)"
    };
}

/// Ids of the live instances (the heartbeat alone decides): a subquery; `$p` is the
/// parameter holding the dead threshold in ms.
macro_rules! live_ids {
    ($p:literal) => {
        concat!(
            "SELECT i.id FROM instances i WHERE i.left_at_ms IS NULL AND i.heartbeat_at_ms >= ",
            now_ms!(),
            " - ",
            $p
        )
    };
}

mod driver; // the driver trait, operation by operation
mod events; // the event history and manual triggers
mod jobs; // job definitions
mod leases; // named leases
mod liveness; // heartbeats and live instances
mod open; // connecting, schema, clock, error codes
mod ownership; // claim, hand over, release
mod retention; // what housekeeping deletes
mod run_queries; // reading runs
mod runs; // the run lifecycle: begin, finish, record, abandon
mod settings; // settings and API tokens
mod state; // plugin state
mod takeover; // taking over jobs in bulk

pub(crate) use open::ENGINE;

/// The SQLite driver: a connection pool.
#[derive(Debug)]
pub(crate) struct SqliteDriver {
    pool: sqlx::SqlitePool,
}
