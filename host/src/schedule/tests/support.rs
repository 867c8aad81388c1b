//! Shared helpers for the schedule tests.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::schedule::{Schedule, parse_timezone};

/// Parses an RFC 3339 instant.
pub fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .unwrap_or_else(|e| panic!("bad instant {s:?}: {e}"))
        .with_timezone(&Utc)
}

/// Parses a zone name.
pub fn zone(name: &str) -> Tz {
    parse_timezone(name).unwrap_or_else(|e| panic!("{e}"))
}

/// Parses an expression that must be valid.
pub fn sched(expr: &str) -> Schedule {
    Schedule::parse(expr).unwrap_or_else(|e| panic!("{e}"))
}

/// The first `n` ticks after `after`, as RFC 3339 strings in UTC with a `Z` suffix.
pub fn ticks(expr: &str, tz: &str, after: &str, n: usize) -> Vec<String> {
    sched(expr)
        .iter_after(at(after), zone(tz))
        .take(n)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .collect()
}

/// The error message for an expression that must be rejected.
pub fn rejection(expr: &str) -> String {
    match Schedule::parse(expr) {
        Ok(s) => panic!("{expr:?} was accepted as {s}"),
        Err(e) => e.to_string(),
    }
}
