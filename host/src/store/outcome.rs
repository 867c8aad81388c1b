//! How a tick ended ([`RunStatus`]) and why it was not run or did not finish ([`RunReason`]),
//! each stored as its snake_case name.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Outcome of a run or of a recorded tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Started and not finished yet.
    Running,
    /// The plugin returned `ok`.
    Succeeded,
    /// The plugin returned `err`, trapped, or the run was abandoned.
    Failed,
    /// The run exceeded its time limit.
    TimedOut,
    /// The tick was due but deliberately not run (see the reason).
    Skipped,
    /// The tick passed without being run (see the reason).
    Missed,
}

impl RunStatus {
    /// Every status, in declaration order.
    pub const ALL: [RunStatus; 6] = [
        RunStatus::Running,
        RunStatus::Succeeded,
        RunStatus::Failed,
        RunStatus::TimedOut,
        RunStatus::Skipped,
        RunStatus::Missed,
    ];

    /// The snake_case name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Succeeded => "succeeded",
            RunStatus::Failed => "failed",
            RunStatus::TimedOut => "timed_out",
            RunStatus::Skipped => "skipped",
            RunStatus::Missed => "missed",
        }
    }

    /// True for every status but `running`.
    pub fn is_final(self) -> bool {
        self != RunStatus::Running
    }
}

impl fmt::Display for RunStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A string that is not a run status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown run status \"{0}\" (expected one of running, succeeded, failed, timed_out, skipped, missed)"
)]
pub struct UnknownRunStatus(pub String);

impl FromStr for RunStatus {
    type Err = UnknownRunStatus;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RunStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| UnknownRunStatus(s.to_owned()))
    }
}

/// Why a tick was recorded as `skipped` or `missed`, or a run `failed` without finishing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunReason {
    /// The previous run of the job was still going (overlap policy `skip`).
    Overlap,
    /// The tick was late and the misfire policy dropped it.
    Misfire,
    /// The tick lies outside the job's catch-up window.
    CatchupWindow,
    /// The whole cluster was paused.
    PausedCluster,
    /// The replica was shutting down.
    Shutdown,
    /// The replica that ran it lost ownership of the job before the run finished.
    Abandoned,
    /// The job's schedule was edited (or the job resumed) after the tick came due and before it
    /// ran: the tick, waiting behind a run or in a catch-up, belongs to the schedule before.
    Edited,
}

impl RunReason {
    /// Every reason, in declaration order.
    pub const ALL: [RunReason; 7] = [
        RunReason::Overlap,
        RunReason::Misfire,
        RunReason::CatchupWindow,
        RunReason::PausedCluster,
        RunReason::Shutdown,
        RunReason::Abandoned,
        RunReason::Edited,
    ];

    /// The snake_case name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            RunReason::Overlap => "overlap",
            RunReason::Misfire => "misfire",
            RunReason::CatchupWindow => "catchup_window",
            RunReason::PausedCluster => "paused_cluster",
            RunReason::Shutdown => "shutdown",
            RunReason::Abandoned => "abandoned",
            RunReason::Edited => "edited",
        }
    }
}

impl fmt::Display for RunReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A string that is not a run reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown run reason \"{0}\" (expected one of overlap, misfire, catchup_window, paused_cluster, shutdown, abandoned, edited)"
)]
pub struct UnknownRunReason(pub String);

impl FromStr for RunReason {
    type Err = UnknownRunReason;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RunReason::ALL
            .into_iter()
            .find(|reason| reason.as_str() == s)
            .ok_or_else(|| UnknownRunReason(s.to_owned()))
    }
}
