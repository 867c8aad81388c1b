//! Timers and dispatch: the owned jobs' ticks, fired on time, each recorded before its plugin
//! is called and finished after.
//!
//! - [`core`]: [`SchedulerCore`], the decisions (pure, clock passed in): timers, overlap,
//!   misfire catch-up, manual triggers, the maintenance switch;
//! - [`command`]: what the rest of the replica tells the loop, and the [`SchedulerHandle`];
//! - [`run_loop`]: the [`Scheduler`] loop that owns the core and sleeps until the next deadline;
//! - [`dispatch`]: handing actions out to runs, tracking and cancelling them ([`Execute`]);
//! - [`execute`]: the real [`Executor`]: record (through the [`RunLedger`]), run the plugin,
//!   finish — each fenced by the job's epoch;
//! - [`triggers`]: the owner's manual-trigger feeder;
//! - [`recovery`]: `job.recovered` when a tick succeeds after failed ones;
//! - [`retry`], [`retries_feed`]: waiting for and running the planned attempts of failed
//!   ticks; the owner's feeder of the attempts planned by a replica that stopped waiting;
//! - [`ledger`], [`run_request`], [`timers`], [`slab`]: batched run writes, the plugin's view of
//!   a tick, the timer wheel, the keyed slab the loop indexes jobs by.

mod command;
mod core;
mod dispatch;
mod execute;
mod ledger;
mod recovery;
mod retries_feed;
mod retry;
mod run_loop;
mod run_request;
mod slab;
mod timers;
mod triggers;

pub use self::command::{Command, SchedulerHandle};
pub use self::core::{
    Action, MAX_LISTED_MISSED, MISFIRE_GRACE_MS, ManualWait, NotRun, SchedulerCore,
};
pub use self::dispatch::Execute;
pub use self::execute::{Executor, RunEnd};
pub use self::ledger::RunLedger;
pub use self::retries_feed::{RETRY_POLL_INTERVAL, feed_retries};
pub use self::retry::RetryBook;
pub use self::run_loop::Scheduler;
pub use self::run_request::run_request;
pub use self::timers::Timers;
pub use self::triggers::{TRIGGER_POLL_INTERVAL, feed_triggers};

#[cfg(test)]
mod loop_tests;
#[cfg(test)]
mod replan_tests;
#[cfg(test)]
mod tests;
