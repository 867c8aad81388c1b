//! The PostgreSQL engine: one server shared by several replicas.
//!
//! All of PostgreSQL's SQL lives here, one file per area. Batches are one statement over
//! bound arrays (`UNNEST`); fenced writes take `FOR SHARE` on the job row so an ownership
//! change waits for them; claims skip rows a concurrent claim has locked. It has both
//! capabilities: a replica's session is a dedicated connection holding a session-level
//! advisory lock ([`session`]), and changes are announced with `LISTEN`/`NOTIFY` ([`notify`]).

/// The database clock: Unix epoch milliseconds as a bigint.
macro_rules! now_ms {
    () => {
        "(extract(epoch from clock_timestamp()) * 1000)::bigint"
    };
}

/// Ids of the live instances: a subquery; `$p` is the parameter holding the dead threshold
/// in ms. Live is: heartbeat recent, not left, and either no session recorded, a session
/// recorded before the server last started, or the recorded backend still holding an
/// advisory lock in this database.
macro_rules! live_ids {
    ($p:literal) => {
        concat!(
            "SELECT i.id FROM instances i WHERE i.left_at_ms IS NULL AND i.heartbeat_at_ms >= ",
            now_ms!(),
            " - ",
            $p,
            " AND (i.session_pid IS NULL \
               OR i.session_since_ms < (extract(epoch from pg_postmaster_start_time()) * 1000)::bigint \
               OR EXISTS (SELECT 1 FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted \
                 AND l.pid = i.session_pid \
                 AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())))"
        )
    };
}

mod driver; // the driver trait, operation by operation
mod events; // the event history and manual triggers
mod jobs; // job definitions
mod leases; // named leases
mod liveness; // heartbeats and live instances
mod notify; // LISTEN and NOTIFY
mod open; // connecting, schema, clock, error codes
mod ownership; // claim, hand over, release
mod retention; // what housekeeping deletes
mod run_queries; // reading runs
mod runs; // the run lifecycle: begin, finish, record, abandon
mod session; // a replica's session: the advisory lock
mod settings; // settings and API tokens
mod state; // plugin state
mod takeover; // taking over jobs in bulk

pub(crate) use open::ENGINE;

/// The PostgreSQL driver: a connection pool (sessions and listeners open their own
/// connections with the pool's options).
#[derive(Debug)]
pub(crate) struct PostgresDriver {
    pool: sqlx::PgPool,
}
