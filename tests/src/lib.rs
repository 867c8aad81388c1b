//! Shared support for the end-to-end tests (`tests/all`), the storage tests (`tests/store.rs`),
//! the benchmarks and the chaos run.
//!
//! - [`built`]: the `wasmcron` binary under test and the built plugins.
//! - [`pg`]: throwaway PostgreSQL servers (one shared per test process, or one's own).
//! - [`registry`]: a throwaway OCI registry (Docker's distribution) on loopback.
//! - [`mariadb`], [`pgbouncer`]: a throwaway MariaDB server, and PgBouncer in transaction
//!   mode in front of a PostgreSQL server; [`daemon`]: such a server as a child process.
//! - [`db`]: the database of a multi-replica run, chosen by name (PostgreSQL, MariaDB,
//!   PgBouncer), and the run's reads of it in either SQL dialect.
//! - [`host`]: the real binary as a child process, and a client for its API.
//! - [`cluster`]: several replicas on one database, with SQL access to owners and runs.
//! - [`collector`]: counts executions where the side effect happens.
//! - [`events`]: a reader of a replica's event stream.
//! - [`proxy`]: a TCP proxy between a replica and its database, for network faults.
//! - [`inside`]: a hosts file of the test's own for a replica, listeners that count who
//!   connects (the egress tests).
//! - [`webhook`]: a webhook receiver for the alert tests, that can be taken down and back.
//! - [`wait`]: waiting for a condition, with a deadline.
//! - [`turns`]: which tests may run at the same time.
//! - [`chaos`]: the chaos run (the `chaos` binary and the short run of the tests) and its checks.

pub mod built;
pub mod chaos;
pub mod cluster;
pub mod collector;
pub mod cpu;
pub mod daemon;
pub mod db;
pub mod events;
pub mod host;
pub mod inside;
pub mod mariadb;
pub mod pg;
pub mod pgbouncer;
pub mod proxy;
pub mod registry;
pub mod turns;
pub mod wait;
pub mod webhook;
