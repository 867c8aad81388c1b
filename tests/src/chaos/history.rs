//! What the chaos runner did to the jobs it judges: their policies, the stretches during which
//! each was scheduled, and the manual triggers the API accepted.

/// Ticks within this distance before a pause, an edit or a delete may be absent (the change
/// reached the owner before the tick's timer), and ticks of the old schedule within it after
/// the change may still have run (the owner learnt of the change after the timer).
pub const BOUNDARY_MS: i64 = 3_000;

/// What the runner did to one job.
#[derive(Debug, Clone)]
pub struct JobHistory {
    pub id: String,
    pub name: String,
    /// `run_once`, `run_all` or `skip`.
    pub misfire: &'static str,
    /// `skip`, `queue` or `allow`.
    pub overlap: &'static str,
    /// A slow job (each run lasts longer than the period).
    pub slow: bool,
    /// Its retry policy and how its attempts fare; `None`: one attempt per tick.
    pub retry: Option<Retry>,
    /// Periods during which the job was scheduled (created or resumed or edited, until paused,
    /// edited, deleted or still running).
    pub segments: Vec<Segment>,
    pub deleted: bool,
}

impl JobHistory {
    /// The job's policies, for messages.
    pub fn kind(&self) -> String {
        format!(
            "misfire {} overlap {}{}{}",
            self.misfire,
            self.overlap,
            if self.slow { " slow" } else { "" },
            match self.retry {
                Some(r) => format!(" attempts {} failing below {}", r.attempts, r.fail_below),
                None => String::new(),
            }
        )
    }

    /// Attempts a tick of the job may have.
    pub fn attempts(&self) -> i64 {
        self.retry.map_or(1, |r| r.attempts)
    }
}

/// A job with a retry policy, and attempts that fail on purpose: the collector answers 500 to
/// the reports of its attempts below `fail_below`, so those runs fail and are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    /// Attempts of a tick in all, the first included.
    pub attempts: i64,
    /// The first attempt that succeeds (above `attempts`: every attempt fails).
    pub fail_below: i64,
}

/// A manual trigger the API accepted.
#[derive(Debug, Clone)]
pub struct Trigger {
    pub job_id: String,
    pub name: String,
    /// The tick the API answered (`scheduled_at`), database clock.
    pub tick_ms: i64,
}

/// A stretch of a job's life with one schedule, unpaused: ticks in `(start_ms, end_ms]` are due.
#[derive(Debug, Clone, Copy)]
pub struct Segment {
    pub period_ms: i64,
    /// The job's `anchor_ms` (database clock) when the stretch began.
    pub start_ms: i64,
    /// The `updated_at_ms` of the change that ended it; `None` while it lasts.
    pub end_ms: Option<i64>,
}

/// Ticks of an `@every period` schedule in `(after, upto]`.
pub fn ticks(period: i64, after: i64, upto: i64) -> impl Iterator<Item = i64> {
    let first = after.div_euclid(period) * period + period;
    (0..)
        .map(move |k| first + k * period)
        .take_while(move |t| *t <= upto)
}
