//! What a parsed schedule is, before it is a [`super::Schedule`]: the parser produces it, the
//! schedule computes ticks from it, the description reads it.

use super::calendar::CronSpec;

/// How a cron schedule treats local times that a DST transition skips or repeats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DstMode {
    /// Pinned to times of day (the hour field does not cover all 24 hours): a skipped time
    /// fires once when the gap ends, a repeated time fires once, at its first occurrence.
    WallClock,
    /// Fires in every hour (the hour field covers all 24 hours, or `@every`): the schedule is
    /// real-time periodic, so a skipped time does not fire and a repeated time fires in both
    /// occurrences, keeping the cadence across transitions.
    RealTime,
}

/// What a schedule is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A cron expression (or a macro for one).
    Cron { spec: CronSpec, mode: DstMode },
    /// `@every`: ticks at multiples of the period since the Unix epoch.
    Every { period_ms: i64 },
}

/// The parser's result: what the schedule is and its normalized text (which parses back to
/// the same schedule).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Parsed {
    pub kind: Kind,
    pub normalized: String,
}
