//! The error type of the schedule module.

use std::fmt;

/// One field of a cron expression.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Field {
    /// Seconds (0-59), only present in 6-field expressions.
    Second,
    /// Minutes (0-59).
    Minute,
    /// Hours (0-23).
    Hour,
    /// Day of the month (1-31).
    DayOfMonth,
    /// Month (1-12 or `JAN`..`DEC`).
    Month,
    /// Day of the week (0-7 or `SUN`..`SAT`; 0 and 7 are Sunday).
    DayOfWeek,
}

impl Field {
    /// The name used in error messages and descriptions.
    pub fn name(self) -> &'static str {
        match self {
            Field::Second => "second",
            Field::Minute => "minute",
            Field::Hour => "hour",
            Field::DayOfMonth => "day-of-month",
            Field::Month => "month",
            Field::DayOfWeek => "day-of-week",
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a schedule, time zone, duration or policy could not be accepted.
///
/// Every message names the offending input; field errors also name the field and quote its text,
/// e.g. `invalid cron expression "*/0 * * * *": minute field "*/0": step must be at least 1`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    /// One field of a cron expression is malformed.
    #[error("invalid cron expression {expr:?}: {field} field {value:?}: {reason}")]
    Field {
        /// The whole expression as given.
        expr: String,
        /// The offending field.
        field: Field,
        /// The text of the offending field.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The expression as a whole is malformed (empty, wrong field count, unknown macro, ...).
    #[error("invalid cron expression {expr:?}: {reason}")]
    Expression {
        /// The whole expression as given.
        expr: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Every field is valid on its own, but no date ever matches them together.
    #[error("invalid cron expression {expr:?}: never fires: {reason}")]
    NeverFires {
        /// The whole expression as given.
        expr: String,
        /// Why no date matches.
        reason: String,
    },
    /// The time zone name is not an IANA time zone.
    #[error("unknown time zone {name:?}: {reason}")]
    TimeZone {
        /// The name as given.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A duration could not be parsed or is out of bounds.
    #[error("invalid duration {value:?}: {reason}")]
    Duration {
        /// The text as given.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// An overlap or misfire policy name is unknown.
    #[error("invalid {kind} policy {value:?}: expected one of {expected}")]
    Policy {
        /// `overlap` or `misfire`.
        kind: &'static str,
        /// The text as given.
        value: String,
        /// The accepted names.
        expected: &'static str,
    },
}

impl ScheduleError {
    /// The cron field the error is about, when it is about exactly one field.
    pub fn field(&self) -> Option<Field> {
        match self {
            ScheduleError::Field { field, .. } => Some(*field),
            _ => None,
        }
    }
}
