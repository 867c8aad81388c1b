//! Parsing of one cron field (`*`, values, names, ranges, lists and steps) into a bit set.

use super::error::Field;

const MONTH_NAMES: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const WEEKDAY_NAMES: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

/// The accepted values of a field. Day-of-week accepts 0-7, 7 being Sunday again.
#[derive(Clone, Copy, Debug)]
struct Bounds {
    min: u32,
    max: u32,
}

fn bounds(field: Field) -> Bounds {
    match field {
        Field::Second | Field::Minute => Bounds { min: 0, max: 59 },
        Field::Hour => Bounds { min: 0, max: 23 },
        Field::DayOfMonth => Bounds { min: 1, max: 31 },
        Field::Month => Bounds { min: 1, max: 12 },
        Field::DayOfWeek => Bounds { min: 0, max: 7 },
    }
}

/// A successfully parsed field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ParsedField {
    /// Bit `v` is set when value `v` matches. Day-of-week has Sunday on bit 0 only (7 is folded).
    pub mask: u64,
    /// The field text starts with `*` (Vixie cron's rule for combining day-of-month/day-of-week).
    pub star: bool,
}

/// Parses one field. The error is the reason only; the caller adds the expression and field.
pub(crate) fn parse_field(field: Field, text: &str) -> Result<ParsedField, String> {
    if text.is_empty() {
        return Err("field is empty".to_owned());
    }
    let b = bounds(field);
    let mut mask = 0u64;
    for element in text.split(',') {
        mask |= parse_element(field, b, element)?;
    }
    if field == Field::DayOfWeek && mask & (1 << 7) != 0 {
        mask = (mask & !(1 << 7)) | 1;
    }
    Ok(ParsedField {
        mask,
        star: text.starts_with('*'),
    })
}

fn parse_element(field: Field, b: Bounds, element: &str) -> Result<u64, String> {
    if element.is_empty() {
        return Err("empty list element (stray \",\")".to_owned());
    }
    let (base, step) = match element.split_once('/') {
        None => (element, None),
        Some((base, step_text)) => {
            if step_text.contains('/') {
                return Err(format!("{element:?} has more than one \"/\""));
            }
            if base.is_empty() {
                return Err(format!("{element:?} has nothing before \"/\""));
            }
            (base, Some(parse_step(b, step_text)?))
        }
    };
    let (start, end) = if base == "*" {
        (b.min, b.max)
    } else if let Some((lo, hi)) = base.split_once('-') {
        if lo.is_empty() {
            return Err(format!("range {base:?} has no start"));
        }
        if hi.is_empty() {
            return Err(format!("range {base:?} has no end"));
        }
        if hi.contains('-') {
            return Err(format!("{base:?} is not a valid range"));
        }
        let start = parse_value(field, b, lo)?;
        let mut end = parse_value(field, b, hi)?;
        if field == Field::DayOfWeek && start > 0 && end == 0 && hi.eq_ignore_ascii_case("SUN") {
            // `MON-SUN`: Sunday closing a range is 7.
            end = 7;
        }
        if start > end {
            return Err(format!(
                "range {base:?} is reversed (start {start} is after end {end})"
            ));
        }
        (start, end)
    } else {
        let value = parse_value(field, b, base)?;
        match step {
            // `a/n` means `a-max/n`.
            Some(_) => (value, b.max),
            None => (value, value),
        }
    };
    let step = step.unwrap_or(1);
    let mut mask = 0u64;
    let mut v = start;
    while v <= end {
        mask |= 1 << v;
        v += step;
    }
    Ok(mask)
}

fn parse_step(b: Bounds, text: &str) -> Result<u32, String> {
    if text.is_empty() {
        return Err("step is missing after \"/\"".to_owned());
    }
    if !text.bytes().all(|c| c.is_ascii_digit()) {
        return Err(format!("step {text:?} is not a number"));
    }
    let largest = b.max - b.min;
    let step = text.parse::<u32>().unwrap_or(u32::MAX);
    if step == 0 {
        return Err("step must be at least 1".to_owned());
    }
    if step > largest {
        return Err(format!("step {text} is too large (at most {largest})"));
    }
    Ok(step)
}

fn parse_value(field: Field, b: Bounds, text: &str) -> Result<u32, String> {
    if text == "*" {
        return Err("\"*\" cannot be part of a range".to_owned());
    }
    if !text.is_empty() && text.bytes().all(|c| c.is_ascii_digit()) {
        let value = text.parse::<u32>().unwrap_or(u32::MAX);
        if value < b.min || value > b.max {
            return Err(format!("value {text} is out of range {}-{}", b.min, b.max));
        }
        return Ok(value);
    }
    if is_quartz_extension(text) {
        return Err(format!(
            "{text:?} is not supported (the Quartz extensions L, W, # and ? are not part of this \
             cron dialect)"
        ));
    }
    if !text.is_empty() && text.chars().all(|c| c.is_ascii_alphabetic()) {
        let upper = text.to_ascii_uppercase();
        return match field {
            Field::Month => MONTH_NAMES
                .iter()
                .position(|n| *n == upper)
                .map(|i| i as u32 + 1)
                .ok_or_else(|| format!("unknown month name {text:?} (expected JAN-DEC or 1-12)")),
            Field::DayOfWeek => WEEKDAY_NAMES
                .iter()
                .position(|n| *n == upper)
                .map(|i| i as u32)
                .ok_or_else(|| {
                    format!("unknown day-of-week name {text:?} (expected SUN-SAT or 0-7)")
                }),
            _ => Err(format!(
                "{text:?} is not a number (names are only allowed in the month and day-of-week fields)"
            )),
        };
    }
    Err(format!("{text:?} is not a valid value"))
}

/// `L`, `5L`, `15W`, `LW`, `1#2` and `?` from Quartz-style cron.
fn is_quartz_extension(text: &str) -> bool {
    let upper = text.to_ascii_uppercase();
    let digits_then = |suffix: &str| {
        upper
            .strip_suffix(suffix)
            .is_some_and(|d| d.bytes().all(|c| c.is_ascii_digit()))
    };
    let nth_weekday = upper.split_once('#').is_some_and(|(a, b)| {
        [a, b]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|c| c.is_ascii_digit()))
    });
    upper == "?" || nth_weekday || digits_then("L") || digits_then("W") || upper == "LW"
}

/// The three-letter name of a month (1-12).
pub(crate) fn month_name(month: u32) -> &'static str {
    MONTH_NAMES[(month as usize - 1) % 12]
}

/// The full English name of a weekday (0 = Sunday).
pub(crate) fn weekday_long_name(day: u32) -> &'static str {
    [
        "Sunday",
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
    ][day as usize % 7]
}

/// The full English name of a month (1-12).
pub(crate) fn month_long_name(month: u32) -> &'static str {
    [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ][(month as usize - 1) % 12]
}
