//! Schedules: parsing cron expressions, macros and `@every`, and computing their ticks in a
//! time zone, plus the pure timing decisions of the scheduler (misfire catch-up and overlap).
//!
//! # Syntax
//!
//! - 5-field cron `min hour dom mon dow`, or 6 fields with leading seconds.
//! - Each field: `*`, a value, a range `a-b`, a step `*/n`, `a-b/n` or `a/n` (= `a-max/n`), or a
//!   comma list of these. Month names `JAN`..`DEC` and weekday names `SUN`..`SAT` are accepted
//!   in any letter case; day-of-week `7` is Sunday, like `0`.
//! - Day-of-month and day-of-week follow Vixie cron: when both fields are restricted (neither
//!   starts with `*`), a day matches if either matches; otherwise both must.
//! - Macros `@yearly`/`@annually`, `@monthly`, `@weekly`, `@daily`/`@midnight`, `@hourly`, and
//!   `@every <duration>` (`@every 15s`, `@every 1h30m`; at least 1s, at most 100 years, whole
//!   milliseconds).
//! - Rejected with a message naming the field and value: step 0 or larger than the field's
//!   span, out-of-range values, reversed ranges, unknown names, empty list elements, wrong field
//!   count, Quartz extensions (`L`, `W`, `#`, `?`), `@reboot`, garbage, and expressions that
//!   never fire (`0 0 30 2 *`).
//!
//! # Time zones and DST
//!
//! Cron fields are read on the wall clock of the job's IANA zone (default UTC). A cron schedule
//! is in one of two [`DstMode`]s:
//!
//! - **Wall-clock mode** — the hour field does not cover all 24 hours (`30 2 * * *`,
//!   `0 9-17 * * MON-FRI`, `@daily`). A matching local time fires at the first instant at which
//!   the wall clock reads that time or later. Hence a time skipped by spring-forward fires once,
//!   at the first instant after the gap (Berlin `30 2 * * *` on the spring-forward day fires at
//!   03:00 CEST = 01:00 UTC; several skipped times collapse into that one tick), and a time
//!   repeated by fall-back fires once, at its first occurrence.
//! - **Real-time mode** — the hour field covers all 24 hours (`*/15 * * * *`, `0 * * * *`,
//!   `* * * * * *`, `@hourly`). Such a schedule fires in every hour, so it is treated as
//!   real-time periodic: it fires at every instant whose wall clock matches. A skipped time does
//!   not fire (the cadence continues after the gap) and a repeated time fires in both
//!   occurrences (the cadence continues through the repeated hour).
//!
//! `@every` ignores the zone: its ticks are the multiples of the period since
//! 1970-01-01T00:00:00Z, so every replica computes the same instants and the cadence is exact
//! across transitions. Transitions of any size are handled, including Lord Howe's 30-minute
//! shift. Ticks are found up to the end of local year 9999.
//!
//! The same rules are described for users in `README.md` next to this file.

mod calendar;
mod catch_up;
mod describe;
mod duration;
mod error;
mod field;
mod kind;
mod parser;
mod policy;
#[allow(clippy::module_inception)]
mod schedule;
mod timing;
mod zone;

#[cfg(test)]
mod tests;

pub use catch_up::{CatchUpPlan, plan_catch_up};
pub use duration::{format_duration, parse_duration};
pub use error::{Field, ScheduleError};
pub use policy::{MisfirePolicy, OverlapDecision, OverlapPolicy, decide_overlap};
pub use schedule::{DstMode, Schedule, next_instants};
pub use timing::JobTiming;
pub use zone::parse_timezone;
