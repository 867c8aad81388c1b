//! The chaos run: a real PostgreSQL server, N replicas of the real binary and a loopback
//! collector; jobs of the `reporter` plugin fire every second and report each execution, while
//! faults chosen at random from one seed hit the cluster; then the checks. The `chaos` binary
//! (`src/bin/chaos.rs`) is its command line; RELIABILITY.md describes the runs.
//!
//! - [`settings`]: what a run does (seed, duration, replicas, jobs) and its fixed parameters.
//! - [`run()`]: a run from start to end; `faults` are the faults and how each is done, on
//!   the run's state (`runner`).
//! - The judgement, pure functions over data: what the runner did ([`history`]) and the
//!   end-of-run [`checks`], each giving an [`Outcome`].

pub mod checks;
mod faults;
pub mod history;
pub mod outcome;
mod run;
mod runner;
pub mod settings;

pub use history::{JobHistory, Segment, Trigger};
pub use outcome::Outcome;
pub use run::run;
pub use settings::Settings;
