//! The chaos run: a real database (PostgreSQL, MariaDB, or PostgreSQL behind PgBouncer), N
//! replicas of the real binary, each reaching the database through a TCP proxy of its own,
//! and a loopback collector; jobs of the `reporter` plugin fire every second and report each
//! execution (about one job in five retries failed runs, and the collector fails its first
//! attempts), while faults chosen at random from one seed hit the cluster; then the checks.
//! The `chaos` binary (`src/bin/chaos.rs`) is its command line; RELIABILITY.md describes the
//! runs.
//!
//! - [`settings`]: what a run does (seed, database, duration, replicas, jobs, faults) and its
//!   fixed parameters; [`deck`]: the kinds of fault and the order they come in.
//! - [`run()`]: a run from start to end, on the run's state (`runner`) and its replicas
//!   behind their proxies (`replicas`); `faults` are how each fault is done, `network` the
//!   network faults.
//! - The judgement, pure functions over data: what the runner did ([`history`]) and the
//!   end-of-run [`checks`], each giving an [`Outcome`].

pub mod checks;
pub mod deck;
mod faults;
pub mod history;
mod network;
pub mod outcome;
mod replicas;
mod run;
mod runner;
pub mod settings;

pub use deck::Fault;
pub use history::{JobHistory, Retry, Segment, Trigger};
pub use outcome::Outcome;
pub use run::run;
pub use settings::Settings;
