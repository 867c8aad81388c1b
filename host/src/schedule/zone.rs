//! Time zone lookups on whole Unix seconds: offsets, wall clocks, offset changes and the
//! resolution of local date-times that a transition skips or repeats.

use chrono::{DateTime, LocalResult, NaiveDateTime, Offset, TimeZone};
use chrono_tz::{GapInfo, Tz};

use super::error::ScheduleError;

/// Spacing of the probes that look for offset changes. The time zone database has no two
/// offset changes closer than about a week (measured over 1900-2100), so a change and its
/// reversal can never both fall between two probes.
const PROBE_SECONDS: i64 = 6 * 3600;

/// Parses an IANA time zone name (`Europe/Berlin`, `UTC`); letter case is not significant.
pub fn parse_timezone(name: &str) -> Result<Tz, ScheduleError> {
    let trimmed = name.trim();
    if trimmed.is_empty() {
        return Err(ScheduleError::TimeZone {
            name: name.to_owned(),
            reason: "the name is empty; use an IANA name such as \"Europe/Berlin\" or \"UTC\""
                .to_owned(),
        });
    }
    trimmed
        .parse::<Tz>()
        .ok()
        .or_else(|| {
            chrono_tz::TZ_VARIANTS
                .iter()
                .copied()
                .find(|tz| tz.name().eq_ignore_ascii_case(trimmed))
        })
        .ok_or_else(|| ScheduleError::TimeZone {
            name: name.to_owned(),
            reason: "not in the IANA time zone database; use a name such as \"Europe/Berlin\", \
                     \"America/New_York\" or \"UTC\""
                .to_owned(),
        })
}

/// UTC offset in seconds at the instant `t` (Unix seconds).
pub(crate) fn offset_at(tz: Tz, t: i64) -> i64 {
    match DateTime::from_timestamp(t, 0) {
        Some(dt) => i64::from(
            tz.offset_from_utc_datetime(&dt.naive_utc())
                .fix()
                .local_minus_utc(),
        ),
        None => 0,
    }
}

/// A local date-time as seconds since 1970-01-01T00:00:00 (wall-clock "Unix seconds").
pub(crate) fn wall_seconds(local: NaiveDateTime) -> i64 {
    local.and_utc().timestamp()
}

/// The local date-time for wall-clock seconds.
pub(crate) fn wall_from_seconds(wall: i64) -> Option<NaiveDateTime> {
    DateTime::from_timestamp(wall, 0).map(|d| d.naive_utc())
}

/// The first instant in `(from, upto]` whose offset differs from `offset`, if any.
pub(crate) fn next_offset_change(tz: Tz, from: i64, upto: i64, offset: i64) -> Option<i64> {
    let mut lo = from;
    while lo < upto {
        let hi = lo.saturating_add(PROBE_SECONDS).min(upto);
        if offset_at(tz, hi) != offset {
            // Invariant: offset(lo) == offset, offset(hi) != offset.
            let mut hi = hi;
            while hi - lo > 1 {
                let mid = lo + (hi - lo) / 2;
                if offset_at(tz, mid) == offset {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            return Some(hi);
        }
        lo = hi;
    }
    None
}

/// How a local date-time maps to instants.
pub(crate) enum Local {
    /// Shown exactly once, at this instant.
    Single(i64),
    /// Shown twice (fall-back overlap); the first occurrence.
    Repeated(i64),
    /// Never shown (spring-forward gap); the instant the gap ends.
    Skipped(i64),
}

/// Resolves a local date-time (whole seconds) in `tz`.
pub(crate) fn resolve_local(tz: Tz, local: NaiveDateTime) -> Local {
    let wall = wall_seconds(local);
    match tz.offset_from_local_datetime(&local) {
        LocalResult::Single(o) => Local::Single(wall - i64::from(o.fix().local_minus_utc())),
        LocalResult::Ambiguous(a, b) => {
            let x = wall - i64::from(a.fix().local_minus_utc());
            let y = wall - i64::from(b.fix().local_minus_utc());
            Local::Repeated(x.min(y))
        }
        LocalResult::None => Local::Skipped(gap_end(tz, local, wall)),
    }
}

/// The first instant whose wall clock reads `local` or later, for a `local` inside a gap.
fn gap_end(tz: Tz, local: NaiveDateTime, wall: i64) -> i64 {
    if let Some(end) = GapInfo::new(&local, &tz).and_then(|g| g.end) {
        return end.timestamp();
    }
    // Fallback (the database has no later span): search the instant where the wall clock
    // passes `local`. Offsets lie within ±26 hours.
    let (mut lo, mut hi) = (wall - 26 * 3600, wall + 26 * 3600);
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if mid + offset_at(tz, mid) >= wall {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    hi
}
