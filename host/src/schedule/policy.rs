//! Overlap and misfire policies, and the overlap decision.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::error::ScheduleError;

/// What to do when a tick comes due while a run of the same job is still in flight.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OverlapPolicy {
    /// Do not start the tick; record it as skipped (reason: overlap).
    #[default]
    Skip,
    /// Start the tick anyway, concurrently with the run in flight.
    Allow,
    /// Hold the tick until the run in flight ends; at most one tick waits, later ones are
    /// skipped.
    Queue,
}

/// What to do with ticks that came due while no replica was running the job.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MisfirePolicy {
    /// Record every missed tick as missed; run none of them.
    Skip,
    /// Run the latest missed tick within the catch-up window; record the others as missed.
    #[default]
    RunOnce,
    /// Run every missed tick within the catch-up window, oldest first.
    RunAll,
}

/// The outcome of [`decide_overlap`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OverlapDecision {
    /// Start the tick now.
    Run,
    /// Do not start the tick; record it as skipped with reason `overlap`.
    Skip,
    /// Hold the tick and start it when the run in flight ends.
    Queue,
}

/// Decides what to do with a due tick, given whether a run of the job is in flight and whether
/// a tick is already waiting for it to end.
pub fn decide_overlap(policy: OverlapPolicy, in_flight: bool, queued: bool) -> OverlapDecision {
    if !in_flight {
        return OverlapDecision::Run;
    }
    match policy {
        OverlapPolicy::Skip => OverlapDecision::Skip,
        OverlapPolicy::Allow => OverlapDecision::Run,
        OverlapPolicy::Queue if queued => OverlapDecision::Skip,
        OverlapPolicy::Queue => OverlapDecision::Queue,
    }
}

impl OverlapPolicy {
    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            OverlapPolicy::Skip => "skip",
            OverlapPolicy::Allow => "allow",
            OverlapPolicy::Queue => "queue",
        }
    }
}

impl MisfirePolicy {
    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            MisfirePolicy::Skip => "skip",
            MisfirePolicy::RunOnce => "run_once",
            MisfirePolicy::RunAll => "run_all",
        }
    }
}

impl fmt::Display for OverlapPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for MisfirePolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for OverlapPolicy {
    type Err = ScheduleError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            OverlapPolicy::Skip,
            OverlapPolicy::Allow,
            OverlapPolicy::Queue,
        ]
        .into_iter()
        .find(|p| p.as_str() == s)
        .ok_or_else(|| ScheduleError::Policy {
            kind: "overlap",
            value: s.to_owned(),
            expected: "skip, allow, queue",
        })
    }
}

impl FromStr for MisfirePolicy {
    type Err = ScheduleError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            MisfirePolicy::Skip,
            MisfirePolicy::RunOnce,
            MisfirePolicy::RunAll,
        ]
        .into_iter()
        .find(|p| p.as_str() == s)
        .ok_or_else(|| ScheduleError::Policy {
            kind: "misfire",
            value: s.to_owned(),
            expected: "skip, run_once, run_all",
        })
    }
}
