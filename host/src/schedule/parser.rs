//! Parsing of whole schedule expressions: 5- and 6-field cron, macros and `@every`.

use std::time::Duration;

use super::calendar::CronSpec;
use super::duration::{format_duration, parse_duration};
use super::error::{Field, ScheduleError};
use super::field::{ParsedField, month_name, parse_field};
use super::kind::{DstMode, Kind, Parsed};

const FIVE_FIELDS: [Field; 5] = [
    Field::Minute,
    Field::Hour,
    Field::DayOfMonth,
    Field::Month,
    Field::DayOfWeek,
];
const SIX_FIELDS: [Field; 6] = [
    Field::Second,
    Field::Minute,
    Field::Hour,
    Field::DayOfMonth,
    Field::Month,
    Field::DayOfWeek,
];

/// The shortest accepted `@every` period.
const MIN_EVERY: Duration = Duration::from_secs(1);
/// The longest accepted `@every` period (100 years of 365.25 days).
const MAX_EVERY: Duration = Duration::from_secs(36_525 * 86_400);

fn expression_error(expr: &str, reason: impl Into<String>) -> ScheduleError {
    ScheduleError::Expression {
        expr: expr.to_owned(),
        reason: reason.into(),
    }
}

/// Parses a schedule expression.
pub(crate) fn parse(expr: &str) -> Result<Parsed, ScheduleError> {
    let trimmed = expr.trim();
    if trimmed.is_empty() {
        return Err(expression_error(expr, "expression is empty"));
    }
    if trimmed.starts_with('@') {
        return parse_macro(expr, trimmed);
    }
    let texts: Vec<&str> = trimmed.split_whitespace().collect();
    let fields: &[Field] = match texts.len() {
        5 => &FIVE_FIELDS,
        6 => &SIX_FIELDS,
        n => {
            return Err(expression_error(
                expr,
                format!(
                    "expected 5 fields (minute hour day-of-month month day-of-week) or 6 fields \
                     (second minute hour day-of-month month day-of-week), found {n}"
                ),
            ));
        }
    };
    let mut parsed = Vec::with_capacity(fields.len());
    for (field, text) in fields.iter().zip(&texts) {
        let p = parse_field(*field, text).map_err(|reason| ScheduleError::Field {
            expr: expr.to_owned(),
            field: *field,
            value: (*text).to_owned(),
            reason,
        })?;
        parsed.push(p);
    }
    let (seconds, rest) = if parsed.len() == 6 {
        (parsed[0], &parsed[1..])
    } else {
        (
            ParsedField {
                mask: 1,
                star: false,
            },
            &parsed[..],
        )
    };
    let spec = CronSpec {
        seconds: seconds.mask,
        minutes: rest[0].mask,
        hours: rest[1].mask,
        days: rest[2].mask,
        months: rest[3].mask,
        weekdays: rest[4].mask,
        dom_star: rest[2].star,
        dow_star: rest[4].star,
    };
    let n = texts.len();
    check_fires(expr, &spec, texts[n - 3], texts[n - 2])?;
    let normalized = texts
        .iter()
        .map(|t| t.to_ascii_uppercase())
        .collect::<Vec<_>>()
        .join(" ");
    Ok(Parsed {
        kind: cron_kind(spec),
        normalized,
    })
}

fn cron_kind(spec: CronSpec) -> Kind {
    let mode = if spec.hours == (1 << 24) - 1 {
        DstMode::RealTime
    } else {
        DstMode::WallClock
    };
    Kind::Cron { spec, mode }
}

/// Rejects expressions whose day-of-month and month fields never meet (when the day-of-week
/// field cannot rescue them under the Vixie rule).
fn check_fires(
    expr: &str,
    spec: &CronSpec,
    dom_text: &str,
    month_text: &str,
) -> Result<(), ScheduleError> {
    let either_day_field_suffices = !spec.dom_star && !spec.dow_star;
    if either_day_field_suffices {
        // Every weekday occurs in every month.
        return Ok(());
    }
    let fires = (1..=12u32).any(|m| {
        spec.months & (1 << m) != 0 && {
            let longest = match m {
                2 => 29,
                4 | 6 | 9 | 11 => 30,
                _ => 31,
            };
            spec.days & ((1u64 << (longest + 1)) - 2) != 0
        }
    });
    if fires {
        return Ok(());
    }
    let months: Vec<&str> = (1..=12u32)
        .filter(|m| spec.months & (1 << m) != 0)
        .map(month_name)
        .collect();
    Err(ScheduleError::NeverFires {
        expr: expr.to_owned(),
        reason: format!(
            "day-of-month {dom_text:?} never occurs in month {month_text:?} ({})",
            months.join(",")
        ),
    })
}

fn parse_macro(expr: &str, trimmed: &str) -> Result<Parsed, ScheduleError> {
    let (word, rest) = match trimmed.split_once(char::is_whitespace) {
        Some((w, r)) => (w, r.trim()),
        None => (trimmed, ""),
    };
    let name = word.to_ascii_lowercase();
    let (canonical, fields) = match name.as_str() {
        "@yearly" | "@annually" => ("@yearly", "0 0 1 1 *"),
        "@monthly" => ("@monthly", "0 0 1 * *"),
        "@weekly" => ("@weekly", "0 0 * * 0"),
        "@daily" | "@midnight" => ("@daily", "0 0 * * *"),
        "@hourly" => ("@hourly", "0 * * * *"),
        "@every" => return parse_every(expr, rest),
        "@reboot" => {
            return Err(expression_error(
                expr,
                "@reboot is not supported: jobs run on time-based schedules only",
            ));
        }
        _ => {
            return Err(expression_error(
                expr,
                format!(
                    "unknown macro {word:?} (expected @yearly, @annually, @monthly, @weekly, \
                     @daily, @midnight, @hourly or @every <duration>)"
                ),
            ));
        }
    };
    if !rest.is_empty() {
        return Err(expression_error(
            expr,
            format!("{canonical} takes no arguments, found {rest:?}"),
        ));
    }
    let inner = parse(fields)?;
    Ok(Parsed {
        kind: inner.kind,
        normalized: canonical.to_owned(),
    })
}

fn parse_every(expr: &str, rest: &str) -> Result<Parsed, ScheduleError> {
    if rest.is_empty() {
        return Err(expression_error(
            expr,
            "@every needs a duration, e.g. \"@every 15s\" or \"@every 1h30m\"",
        ));
    }
    let period = parse_duration(rest).map_err(|e| match e {
        ScheduleError::Duration { reason, .. } => {
            expression_error(expr, format!("@every duration {rest:?}: {reason}"))
        }
        other => other,
    })?;
    if period < MIN_EVERY {
        return Err(expression_error(
            expr,
            format!(
                "@every period must be at least 1s, got {}",
                format_duration(period)
            ),
        ));
    }
    if period > MAX_EVERY {
        return Err(expression_error(
            expr,
            format!(
                "@every period must be at most 36525d (100 years), got {}",
                format_duration(period)
            ),
        ));
    }
    if period.subsec_nanos() % 1_000_000 != 0 {
        return Err(expression_error(
            expr,
            format!(
                "@every period must be a whole number of milliseconds, got {}",
                format_duration(period)
            ),
        ));
    }
    let period_ms = period.as_millis() as i64;
    Ok(Parsed {
        kind: Kind::Every { period_ms },
        normalized: format!("@every {}", format_duration(period)),
    })
}
