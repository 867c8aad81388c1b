//! The executor code every SQL engine shares: binds, row decoding, transactions and answer
//! assembly, written once and generic over the engine.
//!
//! # Design
//!
//! An engine is a type implementing [`SqlEngine`]: it names its sqlx database, hands out its
//! pool, and gives its statements as a [`Catalogue`] (one field per statement, in its own
//! SQL). [`SqlEngine`] has one method per store operation whose default runs the shared
//! executor (the files below, one per area) on the engine's catalogue, and every
//! [`SqlEngine`] is a [`Driver`](super::driver::Driver) (`driver.rs` forwards each operation
//! to the method of the same name). An engine overrides exactly the operations it runs its
//! own way, and only those are written in its module: PostgreSQL its `UNNEST` batches,
//! sessions and notifications; an engine without `RETURNING` would override its inserts that
//! read back.
//!
//! Generic code rather than a macro stamping the executors out per engine: the executors
//! stay ordinary functions (type-checked once, readable, with their own errors), an override
//! is an ordinary method, and a new engine costs no new copy of anything. The defaults live on
//! [`SqlEngine`] rather than on [`Driver`](super::driver::Driver) because the driver trait is
//! used as a trait object, which cannot carry an engine's sqlx types; hence the one
//! forwarding table. The other price is that Rust does not carry bounds on other types along
//! with a trait (`i64: Encode<DB>`), which `db.rs` answers by naming each sqlx capability as
//! a supertrait of [`SqlDb`], the one bound the executors write.
//!
//! Where SQL text lives: what differs between engines (clock, row locks, liveness, JSON id
//! sets, batches, migration table, sessions) is in the engine's module; the statements
//! SQLite and PostgreSQL write alike are written once in `standard_sql!` (`standard.rs`),
//! which each of them calls with its own pieces. The one statement assembled at run time,
//! the run listing, is standard SQL whose placeholders sqlx writes in the engine's style, so
//! it is built by its executor.
//!
//! Statements bind their values in the order their placeholders appear and use each
//! placeholder once (see [`Catalogue`]), so the executors serve `$n` and `?` engines alike.

// What an engine is and gives.
mod catalogue; // Catalogue: one field per statement
mod db; // SqlDb: the sqlx capabilities the executors use, as one bound
mod driver; // every SqlEngine is a Driver
mod engine; // SqlEngine: the pool, the catalogue, one method per operation
#[macro_use]
mod standard; // standard_sql!: the statements SQLite and PostgreSQL write alike
mod stmt; // Stmt: one statement and its parameters

// The shared executors, one file per area.
mod alerts; // the alert outbox
mod audit; // the audit log
mod changes; // change notifications through a polled `changes` table
mod events; // the event history and manual triggers
mod jobs; // job definitions
mod leases; // named leases
mod liveness; // heartbeats and live instances
mod overview; // the on-call overview
mod ownership; // claim, hand over, release
mod retention; // what housekeeping deletes
mod retries; // planned attempts of failed ticks
mod run_queries; // reading runs
mod runs; // the run lifecycle: begin, finish, record, abandon
mod schema; // schema version, clock, ping
mod settings; // settings and API tokens
mod state; // plugin state
mod takeover; // taking over jobs in bulk

pub(crate) use catalogue::Catalogue;
pub(crate) use changes::{Changes, ChangesSql, PolledChanges, listen as listen_polled};
pub(crate) use db::{Affected, Held, On, SqlDb};
pub(crate) use driver::open;
pub(crate) use engine::SqlEngine;
pub(crate) use jobs::{insert_job_stmt, update_job_stmt};
pub(crate) use runs::{begin_run_stmt, owns, tick_recorded};
pub(crate) use stmt::Stmt;
