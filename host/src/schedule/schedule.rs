//! The parsed [`Schedule`] and its tick computation in a time zone.
//!
//! Cron ticks are whole seconds; every search works on Unix seconds and local wall-clock
//! seconds, jumping field by field through the calendar and resolving each local match to an
//! instant by the DST rules of the module documentation.

use std::fmt;

use chrono::{DateTime, NaiveDateTime, Utc};
use chrono_tz::Tz;

use super::calendar::CronSpec;
use super::describe::describe;
use super::error::ScheduleError;
pub use super::kind::DstMode;
use super::kind::Kind;
use super::parser;
use super::zone::{
    Local, next_offset_change, offset_at, resolve_local, wall_from_seconds, wall_seconds,
};

/// A parsed schedule expression. `Display` prints the normalized expression, which parses
/// back to the same schedule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schedule {
    kind: Kind,
    normalized: String,
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.normalized)
    }
}

impl std::str::FromStr for Schedule {
    type Err = ScheduleError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Schedule::parse(s)
    }
}

/// The instant after which no tick is produced: the end of local year 9999 in any zone.
const MAX_TICK_SECONDS: i64 = 253_402_387_199; // 10000-01-01T23:59:59Z

/// Searches start no earlier than 0001-01-01T00:00:00Z.
const MIN_TICK_SECONDS: i64 = -62_135_596_800;

impl Schedule {
    /// Parses a schedule: 5-field cron (`min hour dom mon dow`), 6-field cron with leading
    /// seconds, `@yearly`/`@annually`, `@monthly`, `@weekly`, `@daily`/`@midnight`, `@hourly`,
    /// or `@every <duration>` (at least 1s).
    pub fn parse(expr: &str) -> Result<Schedule, ScheduleError> {
        parser::parse(expr).map(|parsed| Schedule {
            kind: parsed.kind,
            normalized: parsed.normalized,
        })
    }

    #[cfg(test)]
    pub(crate) fn kind(&self) -> &Kind {
        &self.kind
    }

    /// How the schedule treats DST transitions (see the module documentation).
    pub fn dst_mode(&self) -> DstMode {
        match &self.kind {
            Kind::Cron { mode, .. } => *mode,
            Kind::Every { .. } => DstMode::RealTime,
        }
    }

    /// The `@every` period, if this is an `@every` schedule.
    pub fn every_period(&self) -> Option<std::time::Duration> {
        match &self.kind {
            Kind::Every { period_ms } => Some(std::time::Duration::from_millis(*period_ms as u64)),
            Kind::Cron { .. } => None,
        }
    }

    /// The schedule in words, e.g. "every 15 minutes" or "at 02:30 every day".
    pub fn describe(&self) -> String {
        describe(&self.kind)
    }

    /// The first tick strictly after `after`, in `tz`. `None` only if no tick exists up to the
    /// end of year 9999.
    pub fn next_after(&self, after: DateTime<Utc>, tz: Tz) -> Option<DateTime<Utc>> {
        match &self.kind {
            Kind::Every { period_ms } => {
                let p = i128::from(*period_ms) * 1_000_000;
                let now = i128::from(after.timestamp()) * 1_000_000_000
                    + i128::from(after.timestamp_subsec_nanos());
                let tick = (now.div_euclid(p) + 1) * p;
                let secs = i64::try_from(tick.div_euclid(1_000_000_000)).ok()?;
                if secs > MAX_TICK_SECONDS {
                    return None;
                }
                DateTime::from_timestamp(secs, tick.rem_euclid(1_000_000_000) as u32)
            }
            Kind::Cron { spec, mode } => {
                let t = first_cron_tick(spec, *mode, tz, after.timestamp().checked_add(1)?)?;
                DateTime::from_timestamp(t, 0)
            }
        }
    }

    /// The ticks strictly after `after`, in `tz`, strictly increasing.
    pub fn iter_after(&self, after: DateTime<Utc>, tz: Tz) -> impl Iterator<Item = DateTime<Utc>> {
        let mut cursor = Some(after);
        std::iter::from_fn(move || {
            let next = self.next_after(cursor?, tz);
            cursor = next;
            next
        })
    }

    /// The first tick strictly after `after_ms` (Unix milliseconds).
    pub fn next_tick_ms(&self, after_ms: i64, tz: Tz) -> Option<i64> {
        match &self.kind {
            Kind::Every { period_ms } => {
                let tick = (after_ms.div_euclid(*period_ms) + 1).checked_mul(*period_ms)?;
                (tick.div_euclid(1000) <= MAX_TICK_SECONDS).then_some(tick)
            }
            Kind::Cron { spec, mode } => {
                let x = after_ms.div_euclid(1000).checked_add(1)?;
                first_cron_tick(spec, *mode, tz, x)?.checked_mul(1000)
            }
        }
    }

    /// How many ticks lie in `(after_ms, upto_ms]`, counted without enumerating them.
    pub fn count_ticks_ms(&self, after_ms: i64, upto_ms: i64, tz: Tz) -> u64 {
        if upto_ms <= after_ms {
            return 0;
        }
        match &self.kind {
            Kind::Every { period_ms } => {
                let upto = upto_ms.min(MAX_TICK_SECONDS * 1000 + 999);
                let n = upto.div_euclid(*period_ms) - after_ms.div_euclid(*period_ms);
                n.max(0) as u64
            }
            Kind::Cron { spec, mode } => {
                let (x, y) = (after_ms.div_euclid(1000) + 1, upto_ms.div_euclid(1000));
                let mut total = 0;
                walk_cron_pieces(spec, *mode, tz, x, y, |piece| {
                    total += 1 + spec.count_in(piece.rest_from, piece.to);
                    false
                });
                total
            }
        }
    }

    /// The `n`-th (0-based) tick in `(after_ms, upto_ms]`, found without enumerating the
    /// earlier ones.
    pub fn nth_tick_ms(&self, after_ms: i64, upto_ms: i64, n: u64, tz: Tz) -> Option<i64> {
        match &self.kind {
            Kind::Every { period_ms } => {
                let first = after_ms.div_euclid(*period_ms) + 1;
                let tick = first
                    .checked_add(i64::try_from(n).ok()?)?
                    .checked_mul(*period_ms)?;
                (tick <= upto_ms && tick.div_euclid(1000) <= MAX_TICK_SECONDS).then_some(tick)
            }
            Kind::Cron { spec, mode } => {
                let (x, y) = (after_ms.div_euclid(1000) + 1, upto_ms.div_euclid(1000));
                let mut remaining = n;
                let mut found = None;
                walk_cron_pieces(spec, *mode, tz, x, y, |piece| {
                    if remaining == 0 {
                        found = Some(piece.first * 1000);
                        return true;
                    }
                    let rest = spec.count_in(piece.rest_from, piece.to);
                    if remaining - 1 < rest {
                        found = spec
                            .nth_in(piece.rest_from, piece.to, remaining - 1)
                            .map(|local| (wall_seconds(local) - piece.offset) * 1000);
                        return true;
                    }
                    remaining -= 1 + rest;
                    false
                });
                found
            }
        }
    }
}

/// The first cron tick at or after the instant `x` (Unix seconds).
fn first_cron_tick(spec: &CronSpec, mode: DstMode, tz: Tz, x: i64) -> Option<i64> {
    let x = x.max(MIN_TICK_SECONDS);
    if x > MAX_TICK_SECONDS {
        return None;
    }
    match mode {
        DstMode::RealTime => first_real_time_tick(spec, tz, x),
        DstMode::WallClock => first_wall_clock_tick(spec, tz, x),
    }
}

/// Real-time mode: the first instant at or after `x` whose wall clock matches.
fn first_real_time_tick(spec: &CronSpec, tz: Tz, mut x: i64) -> Option<i64> {
    loop {
        let offset = offset_at(tz, x);
        let local = spec.next_match(wall_from_seconds(x.checked_add(offset)?)?)?;
        let t = wall_seconds(local) - offset;
        match next_offset_change(tz, x, t, offset) {
            // No instant in [x, t) shows a matching wall clock: they all have `offset` and
            // their wall clocks lie before `local`.
            None => return (t <= MAX_TICK_SECONDS).then_some(t),
            Some(change) => x = change,
        }
    }
}

/// Wall-clock mode: each matching local time fires at the first instant whose wall clock reads
/// that time or later; the first such tick at or after `x`.
fn first_wall_clock_tick(spec: &CronSpec, tz: Tz, x: i64) -> Option<i64> {
    let before = x.checked_sub(1)?;
    let offset = offset_at(tz, before);
    let wall = before.checked_add(offset)?;
    // Local times up to the highest wall clock shown so far have already fired.
    let mut start = wall + 1;
    if let Local::Repeated(first) = resolve_local(tz, wall_from_seconds(wall)?)
        && first < before
    {
        // `before` lies in the second occurrence of a repeated hour: the first occurrence
        // already showed every wall clock up to the end of the overlap.
        let first_offset = wall - first;
        if let Some(change) = next_offset_change(tz, first, before, first_offset) {
            start = change + first_offset;
        }
    }
    loop {
        let local = spec.next_match(wall_from_seconds(start)?)?;
        let t = match resolve_local(tz, local) {
            Local::Single(t) | Local::Repeated(t) | Local::Skipped(t) => t,
        };
        if t >= x {
            return (t <= MAX_TICK_SECONDS).then_some(t);
        }
        start = wall_seconds(local) + 1;
    }
}

/// A stretch of constant UTC offset holding ticks: its first tick, then exactly the matching
/// local times in `[rest_from, to)`.
struct Piece {
    /// The first tick of the piece (Unix seconds).
    first: i64,
    /// The UTC offset throughout the piece, in seconds.
    offset: i64,
    /// The local time just after the first tick.
    rest_from: NaiveDateTime,
    /// The local time at the end of the piece (exclusive).
    to: NaiveDateTime,
}

/// Splits the ticks in `[x, y]` (Unix seconds) into [`Piece`]s; `visit` returns `true` to stop.
///
/// After its first tick, every instant of a piece whose wall clock matches is a tick: the offset
/// is constant, so there is no gap inside a piece. In real-time mode that is the definition of a
/// tick; in wall-clock mode the first tick of a piece already lies after any repeated hour, so
/// the rest of the piece shows only wall clocks never shown before. Skipped and repeated local
/// times only matter at a piece's first tick, which [`first_cron_tick`] settles.
fn walk_cron_pieces(
    spec: &CronSpec,
    mode: DstMode,
    tz: Tz,
    x: i64,
    y: i64,
    mut visit: impl FnMut(Piece) -> bool,
) {
    let y = y.min(MAX_TICK_SECONDS);
    let Some(mut first) = first_cron_tick(spec, mode, tz, x) else {
        return;
    };
    while first <= y {
        let offset = offset_at(tz, first);
        let change = next_offset_change(tz, first, y, offset);
        let end = change.unwrap_or(y + 1);
        let (Some(rest_from), Some(to)) = (
            wall_from_seconds(first + offset + 1),
            wall_from_seconds(end + offset),
        ) else {
            return;
        };
        let piece = Piece {
            first,
            offset,
            rest_from,
            to,
        };
        if visit(piece) {
            return;
        }
        let Some(change) = change else {
            return;
        };
        match first_cron_tick(spec, mode, tz, change) {
            Some(next) => first = next,
            None => return,
        }
    }
}

/// The first `count` ticks strictly after `from`, for the `wasmcron schedule next` command.
pub fn next_instants(
    expr: &str,
    tz: Tz,
    from: DateTime<Utc>,
    count: usize,
) -> Result<Vec<DateTime<Utc>>, ScheduleError> {
    let schedule = Schedule::parse(expr)?;
    Ok(schedule.iter_after(from, tz).take(count).collect())
}
