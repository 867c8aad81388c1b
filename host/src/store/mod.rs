//! The storage layer: jobs, runs, replicas, ownership, plugin state and settings in one SQL
//! database, SQLite (embedded, single replica) or PostgreSQL (shared by several replicas).
//!
//! Three rules hold throughout, on every engine:
//! - Every instant is a BIGINT of Unix epoch milliseconds, and the **database clock is the only
//!   clock**: every time stamp is computed in SQL, and [`Store::now_ms`] reads that clock.
//! - A tick's durable identity is `(job id, scheduled_at_ms)` (a unique key of `runs`): a
//!   second start of the same tick, wherever it comes from, records nothing.
//! - Every write made on behalf of a job's owner is *fenced*: it happens only if the job's
//!   `owner` and `epoch` still match, checked in the same statement (or transaction) that
//!   writes.
//!
//! # Layout
//!
//! [`Store`] is the facade the rest of the crate calls. It owns what does not depend on the
//! engine: opening by URL scheme, the per-call time limit, input checks (final statuses, text
//! limits), retries and assembling answers, the error type. Each operation is then one call
//! on the engine's driver, through the interface in `driver.rs`; the facade never asks which
//! engine it talks to. Engine capabilities (a session whose end tells peers a replica
//! crashed, change notifications) are optional operations of the interface that answer
//! `None` where the engine lacks them, so callers work unchanged on every engine.
//!
//! Behind the interface, the code that runs SQL (binds, row decoding, transactions, answer
//! assembly) is written once, in `sql/`, generic over an engine (`sql::SqlEngine`); each
//! engine is one module holding its SQL and what it runs its own way: `sqlite/` (nothing: it
//! runs every operation on the shared executors) and `postgres/` (`UNNEST` batches, its
//! session, `LISTEN`/`NOTIFY`). The statements SQLite and PostgreSQL write alike are
//! assembled once by `standard_sql!` (`sql/standard.rs`) from the pieces each engine's module
//! gives (its clock, its row locks, its liveness condition, …). `sql/mod.rs` tells why.
//!
//! # Adding an engine
//!
//! A new engine, say MySQL/MariaDB, plugs in like this:
//! 1. Its migrations under `migrations/mysql/`, sqlx's `mysql` feature in the workspace.
//! 2. A module `mysql/` beside `sqlite/` and `postgres/`: a driver type holding its pool, and
//!    `open.rs` with its `ENGINE` (URL schemes, `open: sql::open::<MysqlDriver>`, which of
//!    its error codes mean "try again"), its `connect` and its `migrate`.
//! 3. `impl SqlDb for sqlx::MySql {}` and `impl Affected for MySqlQueryResult`: the compiler
//!    then checks that sqlx binds and decodes every type the executors use.
//! 4. `impl SqlEngine for MysqlDriver` with its `SQL` catalogue, written in full in its own
//!    SQL (`standard_sql!` assumes `$n`, `ON CONFLICT` and `RETURNING`). Its statements use
//!    `?` placeholders in the order the `sql::Catalogue` documents for each statement, so
//!    every shared executor's bind chain fits unchanged; upserts become `INSERT … ON
//!    DUPLICATE KEY UPDATE` (mind that MySQL counts an upsert that changes nothing as 0 rows
//!    unless the connection asks for found rows), `UPDATE … FROM` becomes a multi-table
//!    `UPDATE`, a JSON array of ids becomes `JSON_TABLE(?, '$[*]' COLUMNS …)`.
//! 5. In that impl, override the operations whose statements have another shape. MySQL 8 has
//!    no `RETURNING`, so the ones that read back what they write (`create_job`,
//!    `update_job`, `begin_run`, `claim_jobs`, `heartbeat`, `append_event`, `insert_trigger`,
//!    `token_create`, `acquire_lease`) become a transaction of the write and a read
//!    (`LAST_INSERT_ID()`, `SELECT … FOR UPDATE`); every other operation keeps its default.
//!    For the capabilities: `open_session` holding `GET_LOCK(name, 0)`, with the liveness
//!    condition checking `IS_USED_LOCK(name)`; notifications may stay the default (none).
//! 6. A [`Backend`] variant and `mysql::ENGINE` in the list in `engines.rs`, and one entry in
//!    the engines of the store conformance suite (`tests/tests/store.rs`), which then runs
//!    every scenario on it.

// The seam: the interface every engine implements, and the list of engines.
mod driver;
mod engines;

// Shared by the facade and the engines.
mod error; // StoreError, and which driver errors mean "unavailable"
pub mod failure; // a job's failure handling, retries waiting to run
pub mod model; // the values the store reads and writes
mod outcome; // a run's status and reason
#[macro_use]
mod rows; // row shapes, the column lists that select them, and their decoding
mod text; // limits on run text

// The facade, one file per area.
pub mod alerts; // the alert outbox
pub mod audit; // the audit log
pub mod events; // the event history and manual triggers
mod instances; // replicas and their liveness
mod jobs; // job definitions
pub mod leases; // named leases
pub mod notify; // change notifications (a capability)
mod open; // Store: opening by URL, the per-call limit, schema and clock
pub mod overview; // the on-call overview
pub mod ownership; // claiming, handing over and releasing jobs
mod retention; // what housekeeping deletes
mod retries; // planned attempts of failed ticks
mod run_queries; // reading runs
mod runs; // the run lifecycle: begin, finish, record, abandon
pub mod session; // a replica's session (a capability)
mod settings; // cluster settings
mod state; // plugin state
pub mod takeover; // taking over jobs in bulk
mod tokens; // API tokens

// The executors every SQL engine shares, and the engines.
#[macro_use]
mod sql; // SqlEngine: the engines' common executor code and standard statements
mod mysql;
mod postgres;
mod sqlite;

pub use alerts::{AlertDelivery, AlertOutcome, AlertState, ClaimedAlert, NewAlert};
pub use audit::{
    AUDIT_PAGE_LIMIT, Actor, AuditAction, AuditEntry, AuditFilter, AuditPage, NewAudit,
};
pub use engines::Backend;
pub use error::{StoreError, redact_url};
pub use failure::{MAX_ATTEMPTS, PendingRetry, RetryWait};
pub use jobs::{JobPages, patched};
pub use model::*;
pub use open::{ConnectOptions, PoolMode, Store};
pub use text::{ERROR_LIMIT_BYTES, LOGS_LIMIT_BYTES, RESULT_LIMIT_BYTES, TRUNCATION_MARKER};
pub use tokens::StoredToken;
