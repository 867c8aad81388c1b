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
//! engine it talks to. Each engine is one module holding all of its SQL, one file per area:
//! `sqlite/` and `postgres/`. Engine capabilities (a session whose end tells peers a replica
//! crashed, change notifications) are optional operations of the interface that answer
//! `None` where the engine lacks them, so callers work unchanged on every engine.
//!
//! # Adding an engine
//!
//! A new engine (say MySQL/MariaDB) is a new module beside `sqlite/` and `postgres/`, with its
//! migrations under `migrations/<engine>/`. It implements the driver trait: every operation,
//! with its own placeholders, upserts and locking (`?`, `INSERT … ON DUPLICATE KEY UPDATE`,
//! `FOR UPDATE SKIP LOCKED`, a re-read where there is no `RETURNING`); for the capabilities it
//! either answers `None` or implements them (a session holding `GET_LOCK(name, 0)` whose
//! connection id peers check with `IS_USED_LOCK(name)`; notifications polled from a changes
//! table). It describes itself in an `ENGINE` constant (URL schemes, how to open it, which of
//! its errors mean "try again"), which is added to the list in `engines.rs` with a
//! [`Backend`] variant. One more entry in the list of engines of the store conformance suite
//! (`tests/tests/store.rs`) runs every scenario on it.

// The seam: the interface every engine implements, and the list of engines.
mod driver;
mod engines;

// Shared by the facade and the engines.
mod error; // StoreError, and which driver errors mean "unavailable"
pub mod model; // the values the store reads and writes
#[macro_use]
mod rows; // row shapes, the column lists that select them, and their decoding
mod text; // limits on run text

// The facade, one file per area.
pub mod events; // the event history and manual triggers
mod instances; // replicas and their liveness
mod jobs; // job definitions
pub mod leases; // named leases
pub mod notify; // change notifications (a capability)
mod open; // Store: opening by URL, the per-call limit, schema and clock
pub mod ownership; // claiming, handing over and releasing jobs
mod retention; // what housekeeping deletes
mod run_queries; // reading runs
mod runs; // the run lifecycle: begin, finish, record, abandon
pub mod session; // a replica's session (a capability)
mod settings; // cluster settings
mod state; // plugin state
pub mod takeover; // taking over jobs in bulk
mod tokens; // API tokens

// The executors every SQL engine shares, and the engines.
#[macro_use]
mod sql;
mod postgres;
mod sqlite;

pub use engines::Backend;
pub use error::{StoreError, redact_url};
pub use model::*;
pub use open::{ConnectOptions, Store};
pub use text::{ERROR_LIMIT_BYTES, LOGS_LIMIT_BYTES, RESULT_LIMIT_BYTES, TRUNCATION_MARKER};
pub use tokens::StoredToken;
