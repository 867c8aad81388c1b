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

mod driver;
mod events;
mod jobs;
mod leases;
mod liveness;
mod notify;
mod open;
mod ownership;
mod retention;
mod run_queries;
mod runs;
mod session;
mod settings;
mod state;
mod takeover;

pub(crate) use open::ENGINE;

/// The PostgreSQL driver: a connection pool (sessions and listeners open their own
/// connections with the pool's options).
#[derive(Debug)]
pub(crate) struct PostgresDriver {
    pool: sqlx::PgPool,
}
