//! Human-readable descriptions of schedules ("every 15 minutes", "at 02:30 every day").

use std::time::Duration;

use super::calendar::CronSpec;
use super::duration::describe_duration;
use super::field::{month_long_name, weekday_long_name};
use super::kind::Kind;

/// Describes a schedule in English words.
pub(crate) fn describe(kind: &Kind) -> String {
    match kind {
        Kind::Every { period_ms } => {
            let words = describe_duration(Duration::from_millis(*period_ms as u64));
            match words.strip_prefix("1 ") {
                Some(unit) if !unit.contains(' ') => format!("every {unit}"),
                _ => format!("every {words}"),
            }
        }
        Kind::Cron { spec, .. } => {
            let time = describe_time(spec);
            let days = describe_days(spec);
            let months = describe_months(spec);
            let mut out = time.clone();
            match days {
                Some(d) => {
                    out.push(' ');
                    out.push_str(&d);
                }
                None if !time.contains("every") => out.push_str(" every day"),
                None => {}
            }
            if let Some(m) = months {
                out.push(' ');
                out.push_str(&m);
            }
            out
        }
    }
}

fn values(mask: u64, lo: u32, hi: u32) -> Vec<u32> {
    (lo..=hi).filter(|v| mask & (1 << v) != 0).collect()
}

fn single(mask: u64) -> Option<u32> {
    (mask.count_ones() == 1).then(|| mask.trailing_zeros())
}

fn full(mask: u64, lo: u32, hi: u32) -> bool {
    (lo..=hi).all(|v| mask & (1 << v) != 0)
}

/// The step `n` when the mask is exactly `lo, lo+n, lo+2n, ...` up to `hi`, with `n >= 2`.
fn step_from_start(mask: u64, lo: u32, hi: u32) -> Option<u32> {
    let vs = values(mask, lo, hi);
    if vs.len() < 2 || vs[0] != lo {
        return None;
    }
    let n = vs[1] - vs[0];
    let expected: Vec<u32> = (lo..=hi).step_by(n as usize).collect();
    (n >= 2 && vs == expected).then_some(n)
}

/// Joins words as "a, b and c".
fn join_words(words: &[String]) -> String {
    match words {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// A set of values as runs: "1-5, 10 and 15" (or with names: "Monday to Friday").
fn list(mask: u64, lo: u32, hi: u32, name: impl Fn(u32) -> String, sep: &str) -> String {
    let vs = values(mask, lo, hi);
    let mut runs: Vec<String> = Vec::new();
    let mut i = 0;
    while i < vs.len() {
        let mut j = i;
        while j + 1 < vs.len() && vs[j + 1] == vs[j] + 1 {
            j += 1;
        }
        if j >= i + 2 {
            runs.push(format!("{}{sep}{}", name(vs[i]), name(vs[j])));
        } else {
            runs.extend(vs[i..=j].iter().map(|v| name(*v)));
        }
        i = j + 1;
    }
    join_words(&runs)
}

fn numbers(mask: u64, lo: u32, hi: u32) -> String {
    list(mask, lo, hi, |v| v.to_string(), "-")
}

fn plural(n: u32, unit: &str) -> String {
    if n == 1 {
        format!("every {unit}")
    } else {
        format!("every {n} {unit}s")
    }
}

fn describe_time(spec: &CronSpec) -> String {
    let (s, m, h) = (spec.seconds, spec.minutes, spec.hours);
    let clock = |h: u32, m: u32, s: u32| {
        if s == 0 {
            format!("{h:02}:{m:02}")
        } else {
            format!("{h:02}:{m:02}:{s:02}")
        }
    };
    if let (Some(ss), Some(mm)) = (single(s), single(m)) {
        let hours = values(h, 0, 23);
        if hours.len() <= 4 {
            let times: Vec<String> = hours.iter().map(|hh| clock(*hh, mm, ss)).collect();
            return format!("at {}", join_words(&times));
        }
        if let Some(n) = step_from_start(h, 0, 23) {
            let base = plural(n, "hour");
            return if mm == 0 && ss == 0 {
                base
            } else {
                format!("{base} at minute {mm}{}", second_suffix(ss))
            };
        }
        if full(h, 0, 23) {
            return if mm == 0 && ss == 0 {
                "every hour".to_owned()
            } else {
                format!("every hour at minute {mm}{}", second_suffix(ss))
            };
        }
        return format!(
            "at minute {mm}{} past hours {}",
            second_suffix(ss),
            numbers(h, 0, 23)
        );
    }
    let within_hour = if single(s) == Some(0) {
        if full(m, 0, 59) {
            "every minute".to_owned()
        } else if let Some(n) = step_from_start(m, 0, 59) {
            plural(n, "minute")
        } else {
            format!("at minutes {}", numbers(m, 0, 59))
        }
    } else {
        let seconds = if full(s, 0, 59) {
            "every second".to_owned()
        } else if let Some(n) = step_from_start(s, 0, 59) {
            plural(n, "second")
        } else {
            format!(
                "at second{} {}",
                if single(s).is_some() { "" } else { "s" },
                numbers(s, 0, 59)
            )
        };
        if full(m, 0, 59) {
            seconds
        } else {
            format!(
                "{seconds} during minute{} {}",
                if single(m).is_some() { "" } else { "s" },
                numbers(m, 0, 59)
            )
        }
    };
    if full(h, 0, 23) {
        if within_hour.starts_with("at minutes") {
            return format!("{within_hour} of every hour");
        }
        return within_hour;
    }
    format!(
        "{within_hour} during hour{} {}",
        if single(h).is_some() { "" } else { "s" },
        numbers(h, 0, 23)
    )
}

fn second_suffix(s: u32) -> String {
    if s == 0 {
        String::new()
    } else {
        format!(" second {s}")
    }
}

fn describe_days(spec: &CronSpec) -> Option<String> {
    let dom_all = full(spec.days, 1, 31);
    let dow_all = full(spec.weekdays, 0, 6);
    let dom = (!dom_all).then(|| {
        let n = values(spec.days, 1, 31).len();
        format!(
            "on day{} {} of the month",
            if n == 1 { "" } else { "s" },
            numbers(spec.days, 1, 31)
        )
    });
    let dow = (!dow_all).then(|| {
        format!(
            "on {}",
            list(
                spec.weekdays,
                0,
                6,
                |d| weekday_long_name(d).to_owned(),
                " to "
            )
        )
    });
    match (dom, dow) {
        (None, None) => None,
        (Some(d), None) | (None, Some(d)) => Some(d),
        (Some(d), Some(w)) if !spec.dom_star && !spec.dow_star => Some(format!("{d} or {w}")),
        (Some(d), Some(w)) => Some(format!("{d} if it is {}", &w[3..])),
    }
}

fn describe_months(spec: &CronSpec) -> Option<String> {
    (!full(spec.months, 1, 12)).then(|| {
        format!(
            "in {}",
            list(
                spec.months,
                1,
                12,
                |m| month_long_name(m).to_owned(),
                " to "
            )
        )
    })
}
