//! SQL text shared by both backends.
//!
//! Both SQLite and PostgreSQL accept `$1`-style parameters, `ON CONFLICT … DO …` and
//! `RETURNING`, so most statements are written once. What differs is spliced in at compile
//! time by [`sql!`]: the word `now` (outside quotes) in its part list becomes the backend's
//! database-clock expression (epoch milliseconds), and the column-list words expand to the
//! columns that the row types in [`super::rows`] decode.

/// Database-clock expression, SQLite flavour: epoch milliseconds as an integer.
macro_rules! sqlite_now_ms {
    () => {
        "CAST(unixepoch('subsec') * 1000 AS INTEGER)"
    };
}

/// Database-clock expression, PostgreSQL flavour: epoch milliseconds as a bigint.
macro_rules! postgres_now_ms {
    () => {
        "(extract(epoch from clock_timestamp()) * 1000)::bigint"
    };
}

/// Columns of `jobs`, in the order [`super::rows::JobRow`] declares them.
macro_rules! job_columns {
    () => {
        "id, name, schedule, timezone, plugin, input, config, paused, overlap, misfire, \
         catchup_window_ms, jitter_ms, timeout_ms, memory_limit_bytes, allowed_hosts, owner, \
         epoch, version, anchor_ms, created_at_ms, updated_at_ms"
    };
}

/// Columns of `runs`, in the order [`super::rows::RunRow`] declares them.
macro_rules! run_columns {
    () => {
        "id, job_id, scheduled_at_ms, status, reason, attempt, catch_up, manual, instance_id, \
         epoch, plugin_digest, started_at_ms, finished_at_ms, duration_ms, result, error, logs"
    };
}

/// Columns of `instances`, in the order [`super::model::Instance`] declares them.
macro_rules! instance_columns {
    () => {
        "id, address, version, started_at_ms, heartbeat_at_ms, left_at_ms"
    };
}

/// One statement spelled for each backend: `sql!("SELECT ", now, " AS ms")`.
///
/// Parts are string literals or one of the words `now`, `job_columns`, `run_columns`,
/// `instance_columns`, and the PostgreSQL-only row locks `pg_for_update_skip_locked` and
/// `pg_for_share_of_j` (nothing on SQLite, where a write locks the whole database anyway);
/// they are concatenated into two `&'static str`.
macro_rules! sql {
    (@sqlite now) => { sqlite_now_ms!() };
    (@postgres now) => { postgres_now_ms!() };
    (@sqlite pg_for_update_skip_locked) => { "" };
    (@postgres pg_for_update_skip_locked) => { " FOR UPDATE SKIP LOCKED " };
    (@sqlite pg_for_share_of_j) => { "" };
    (@postgres pg_for_share_of_j) => { " FOR SHARE OF j " };
    (@$backend:ident job_columns) => { job_columns!() };
    (@$backend:ident run_columns) => { run_columns!() };
    (@$backend:ident instance_columns) => { instance_columns!() };
    (@$backend:ident $literal:literal) => { $literal };
    ($($part:tt),+ $(,)?) => {
        $crate::store::sql::Sql {
            sqlite: concat!($(sql!(@sqlite $part)),+),
            postgres: concat!($(sql!(@postgres $part)),+),
        }
    };
}

use super::Backend;

/// A statement in its SQLite and PostgreSQL spellings.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sql {
    /// SQLite spelling.
    pub sqlite: &'static str,
    /// PostgreSQL spelling.
    pub postgres: &'static str,
}

impl Sql {
    /// The spelling for `backend`.
    pub fn get(&self, backend: Backend) -> &'static str {
        match backend {
            Backend::Sqlite => self.sqlite,
            Backend::Postgres => self.postgres,
        }
    }
}

/// Runs `$body` with `$pool` bound to the backend's pool and `$backend` to its [`Backend`],
/// under the store's per-call time limit. `$body` evaluates to `Result<T, StoreError>` and may
/// `.await`; it is type-checked once per backend, so the same code serves both.
macro_rules! on_pool {
    ($store:expr, |$pool:ident, $backend:ident| $body:expr) => {
        $store
            .bounded(async {
                match &$store.pool {
                    $crate::store::Pool::Sqlite($pool) => {
                        let $backend = $crate::store::Backend::Sqlite;
                        let _ = $backend;
                        $body
                    }
                    $crate::store::Pool::Postgres($pool) => {
                        let $backend = $crate::store::Backend::Postgres;
                        let _ = $backend;
                        $body
                    }
                }
            })
            .await
    };
}
