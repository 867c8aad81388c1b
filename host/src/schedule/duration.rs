//! Human-readable durations (`15s`, `1h30m`, `250ms`) for `@every`, jitter and windows.

use std::fmt::Write as _;
use std::time::Duration;

use super::error::ScheduleError;

/// Parses a duration such as `15s`, `1h30m`, `2h 5min`, `250ms` or `1d`
/// (units: `ns`, `us`, `ms`, `s`, `m`, `h`, `d`, `w`, and their long forms).
/// A bare `0` is zero; any other number needs a unit.
pub fn parse_duration(s: &str) -> Result<Duration, ScheduleError> {
    let text = s.trim();
    if text.is_empty() {
        return Err(ScheduleError::Duration {
            value: s.to_owned(),
            reason: "the duration is empty; use a form such as \"15s\", \"1h30m\" or \"250ms\""
                .to_owned(),
        });
    }
    humantime::parse_duration(text).map_err(|e| ScheduleError::Duration {
        value: s.to_owned(),
        reason: format!("{e}; use a form such as \"15s\", \"1h30m\" or \"250ms\""),
    })
}

/// Formats a duration compactly (`1h30m`, `250ms`, `2d`), in a form [`parse_duration`]
/// reads back to the same value.
pub fn format_duration(d: Duration) -> String {
    const UNITS: [(&str, u128); 7] = [
        ("d", 86_400_000_000_000),
        ("h", 3_600_000_000_000),
        ("m", 60_000_000_000),
        ("s", 1_000_000_000),
        ("ms", 1_000_000),
        ("us", 1_000),
        ("ns", 1),
    ];
    let mut rest = d.as_nanos();
    if rest == 0 {
        return "0s".to_owned();
    }
    let mut out = String::new();
    for (unit, size) in UNITS {
        let n = rest / size;
        if n > 0 {
            let _ = write!(out, "{n}{unit}");
            rest %= size;
        }
    }
    out
}

/// Formats a duration in words (`1 hour 30 minutes`, `15 seconds`).
pub(crate) fn describe_duration(d: Duration) -> String {
    const UNITS: [(&str, u128); 5] = [
        ("day", 86_400_000),
        ("hour", 3_600_000),
        ("minute", 60_000),
        ("second", 1_000),
        ("millisecond", 1),
    ];
    let mut rest = d.as_millis();
    let mut parts = Vec::new();
    for (unit, size) in UNITS {
        let n = rest / size;
        if n > 0 {
            parts.push(format!("{n} {unit}{}", if n == 1 { "" } else { "s" }));
            rest %= size;
        }
    }
    if parts.is_empty() {
        return "0 seconds".to_owned();
    }
    parts.join(" ")
}
