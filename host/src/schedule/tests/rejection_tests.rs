//! Every rejection has a precise message naming the field and the value.

use super::support::rejection;
use crate::schedule::{
    Field, MisfirePolicy, OverlapPolicy, Schedule, parse_duration, parse_timezone,
};

#[test]
fn field_errors_name_field_and_value() {
    let cases = [
        (
            "*/0 * * * *",
            r#"invalid cron expression "*/0 * * * *": minute field "*/0": step must be at least 1"#,
        ),
        (
            "*/0 * * * * *",
            r#"invalid cron expression "*/0 * * * * *": second field "*/0": step must be at least 1"#,
        ),
        (
            "0 0 1-31/0 * *",
            r#"invalid cron expression "0 0 1-31/0 * *": day-of-month field "1-31/0": step must be at least 1"#,
        ),
        (
            "*/60 * * * *",
            r#"invalid cron expression "*/60 * * * *": minute field "*/60": step 60 is too large (at most 59)"#,
        ),
        (
            "*/x * * * *",
            r#"invalid cron expression "*/x * * * *": minute field "*/x": step "x" is not a number"#,
        ),
        (
            "*/ * * * *",
            r#"invalid cron expression "*/ * * * *": minute field "*/": step is missing after "/""#,
        ),
        (
            "/5 * * * *",
            r#"invalid cron expression "/5 * * * *": minute field "/5": "/5" has nothing before "/""#,
        ),
        (
            "1/2/3 * * * *",
            r#"invalid cron expression "1/2/3 * * * *": minute field "1/2/3": "1/2/3" has more than one "/""#,
        ),
        (
            "60 * * * *",
            r#"invalid cron expression "60 * * * *": minute field "60": value 60 is out of range 0-59"#,
        ),
        (
            "0 24 * * *",
            r#"invalid cron expression "0 24 * * *": hour field "24": value 24 is out of range 0-23"#,
        ),
        (
            "0 0 0 * *",
            r#"invalid cron expression "0 0 0 * *": day-of-month field "0": value 0 is out of range 1-31"#,
        ),
        (
            "0 0 32 * *",
            r#"invalid cron expression "0 0 32 * *": day-of-month field "32": value 32 is out of range 1-31"#,
        ),
        (
            "0 0 * 13 *",
            r#"invalid cron expression "0 0 * 13 *": month field "13": value 13 is out of range 1-12"#,
        ),
        (
            "0 0 * 0 *",
            r#"invalid cron expression "0 0 * 0 *": month field "0": value 0 is out of range 1-12"#,
        ),
        (
            "0 0 * * 8",
            r#"invalid cron expression "0 0 * * 8": day-of-week field "8": value 8 is out of range 0-7"#,
        ),
        (
            "60 0 * * * *",
            r#"invalid cron expression "60 0 * * * *": second field "60": value 60 is out of range 0-59"#,
        ),
        (
            "1,2,99 * * * *",
            r#"invalid cron expression "1,2,99 * * * *": minute field "1,2,99": value 99 is out of range 0-59"#,
        ),
        (
            "99999999999999999999 * * * *",
            r#"invalid cron expression "99999999999999999999 * * * *": minute field "99999999999999999999": value 99999999999999999999 is out of range 0-59"#,
        ),
        (
            "10-5 * * * *",
            r#"invalid cron expression "10-5 * * * *": minute field "10-5": range "10-5" is reversed (start 10 is after end 5)"#,
        ),
        (
            "0 0 * * FRI-MON",
            r#"invalid cron expression "0 0 * * FRI-MON": day-of-week field "FRI-MON": range "FRI-MON" is reversed (start 5 is after end 1)"#,
        ),
        (
            "0 0 * DEC-JAN *",
            r#"invalid cron expression "0 0 * DEC-JAN *": month field "DEC-JAN": range "DEC-JAN" is reversed (start 12 is after end 1)"#,
        ),
        (
            "5- * * * *",
            r#"invalid cron expression "5- * * * *": minute field "5-": range "5-" has no end"#,
        ),
        (
            "-5 * * * *",
            r#"invalid cron expression "-5 * * * *": minute field "-5": range "-5" has no start"#,
        ),
        (
            "1-2-3 * * * *",
            r#"invalid cron expression "1-2-3 * * * *": minute field "1-2-3": "1-2-3" is not a valid range"#,
        ),
        (
            "*-5 * * * *",
            r#"invalid cron expression "*-5 * * * *": minute field "*-5": "*" cannot be part of a range"#,
        ),
        (
            "0 0 * FOO *",
            r#"invalid cron expression "0 0 * FOO *": month field "FOO": unknown month name "FOO" (expected JAN-DEC or 1-12)"#,
        ),
        (
            "0 0 * * Sunday",
            r#"invalid cron expression "0 0 * * Sunday": day-of-week field "Sunday": unknown day-of-week name "Sunday" (expected SUN-SAT or 0-7)"#,
        ),
        (
            "0 0 * MON *",
            r#"invalid cron expression "0 0 * MON *": month field "MON": unknown month name "MON" (expected JAN-DEC or 1-12)"#,
        ),
        (
            "MON * * * *",
            r#"invalid cron expression "MON * * * *": minute field "MON": "MON" is not a number (names are only allowed in the month and day-of-week fields)"#,
        ),
        (
            "1,,2 * * * *",
            r#"invalid cron expression "1,,2 * * * *": minute field "1,,2": empty list element (stray ",")"#,
        ),
        (
            "1, * * * *",
            r#"invalid cron expression "1, * * * *": minute field "1,": empty list element (stray ",")"#,
        ),
        (
            "#$% * * * *",
            r##"invalid cron expression "#$% * * * *": minute field "#$%": "#$%" is not a valid value"##,
        ),
        (
            "0 0 ? * *",
            r#"invalid cron expression "0 0 ? * *": day-of-month field "?": "?" is not supported (the Quartz extensions L, W, # and ? are not part of this cron dialect)"#,
        ),
        (
            "0 0 L * *",
            r#"invalid cron expression "0 0 L * *": day-of-month field "L": "L" is not supported (the Quartz extensions L, W, # and ? are not part of this cron dialect)"#,
        ),
        (
            "0 0 * * 5#2",
            r##"invalid cron expression "0 0 * * 5#2": day-of-week field "5#2": "5#2" is not supported (the Quartz extensions L, W, # and ? are not part of this cron dialect)"##,
        ),
        (
            "0 0 15W * *",
            r#"invalid cron expression "0 0 15W * *": day-of-month field "15W": "15W" is not supported (the Quartz extensions L, W, # and ? are not part of this cron dialect)"#,
        ),
        (
            "+5 * * * *",
            r#"invalid cron expression "+5 * * * *": minute field "+5": "+5" is not a valid value"#,
        ),
        (
            "０ * * * *",
            r#"invalid cron expression "０ * * * *": minute field "０": "０" is not a valid value"#,
        ),
    ];
    for (expr, message) in cases {
        assert_eq!(rejection(expr), message, "for {expr:?}");
    }
}

#[test]
fn field_accessor_names_the_field() {
    let field = |expr: &str| Schedule::parse(expr).unwrap_err().field();
    assert_eq!(field("*/0 * * * *"), Some(Field::Minute));
    assert_eq!(field("0 */0 * * * *"), Some(Field::Minute));
    assert_eq!(field("*/0 * * * * *"), Some(Field::Second));
    assert_eq!(field("0 25 * * *"), Some(Field::Hour));
    assert_eq!(field("0 0 32 * *"), Some(Field::DayOfMonth));
    assert_eq!(field("0 0 * 13 *"), Some(Field::Month));
    assert_eq!(field("0 0 * * 9"), Some(Field::DayOfWeek));
    assert_eq!(field("* * * *"), None);
    assert_eq!(field("0 0 30 2 *"), None);
    assert_eq!(field("@every 1ms"), None);
}

#[test]
fn expression_errors() {
    let cases = [
        ("", r#"invalid cron expression "": expression is empty"#),
        (
            "   ",
            r#"invalid cron expression "   ": expression is empty"#,
        ),
        (
            "* * * *",
            r#"invalid cron expression "* * * *": expected 5 fields (minute hour day-of-month month day-of-week) or 6 fields (second minute hour day-of-month month day-of-week), found 4"#,
        ),
        (
            "* * * * * * *",
            r#"invalid cron expression "* * * * * * *": expected 5 fields (minute hour day-of-month month day-of-week) or 6 fields (second minute hour day-of-month month day-of-week), found 7"#,
        ),
        (
            "hello world",
            r#"invalid cron expression "hello world": expected 5 fields (minute hour day-of-month month day-of-week) or 6 fields (second minute hour day-of-month month day-of-week), found 2"#,
        ),
        (
            "@foo",
            r#"invalid cron expression "@foo": unknown macro "@foo" (expected @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly or @every <duration>)"#,
        ),
        (
            "@reboot",
            r#"invalid cron expression "@reboot": @reboot is not supported: jobs run on time-based schedules only"#,
        ),
        (
            "@daily 5",
            r#"invalid cron expression "@daily 5": @daily takes no arguments, found "5""#,
        ),
        (
            "@annually now",
            r#"invalid cron expression "@annually now": @yearly takes no arguments, found "now""#,
        ),
        (
            "@every",
            r#"invalid cron expression "@every": @every needs a duration, e.g. "@every 15s" or "@every 1h30m""#,
        ),
        (
            "@every 500ms",
            r#"invalid cron expression "@every 500ms": @every period must be at least 1s, got 500ms"#,
        ),
        (
            "@every 0",
            r#"invalid cron expression "@every 0": @every period must be at least 1s, got 0s"#,
        ),
        (
            "@every 1s 500us",
            r#"invalid cron expression "@every 1s 500us": @every period must be a whole number of milliseconds, got 1s500us"#,
        ),
        (
            "@every 36526d",
            r#"invalid cron expression "@every 36526d": @every period must be at most 36525d (100 years), got 36526d"#,
        ),
    ];
    for (expr, message) in cases {
        assert_eq!(rejection(expr), message, "for {expr:?}");
    }
}

#[test]
fn every_with_a_bad_duration_quotes_the_duration() {
    let message = rejection("@every 5x");
    assert!(
        message.starts_with(r#"invalid cron expression "@every 5x": @every duration "5x": "#),
        "{message}"
    );
    assert!(message.contains(r#"use a form such as "15s""#), "{message}");
    let message = rejection("@every fifteen");
    assert!(
        message.starts_with(
            r#"invalid cron expression "@every fifteen": @every duration "fifteen": "#
        ),
        "{message}"
    );
}

#[test]
fn expressions_that_never_fire() {
    let cases = [
        (
            "0 0 30 2 *",
            r#"invalid cron expression "0 0 30 2 *": never fires: day-of-month "30" never occurs in month "2" (FEB)"#,
        ),
        (
            "0 0 31 4,6,9,11 *",
            r#"invalid cron expression "0 0 31 4,6,9,11 *": never fires: day-of-month "31" never occurs in month "4,6,9,11" (APR,JUN,SEP,NOV)"#,
        ),
        (
            "0 0 0 30-31 FEB *",
            r#"invalid cron expression "0 0 0 30-31 FEB *": never fires: day-of-month "30-31" never occurs in month "FEB" (FEB)"#,
        ),
        (
            // A partial `*/n` day-of-week still combines with AND, so it cannot rescue.
            "0 0 31 apr */2",
            r#"invalid cron expression "0 0 31 apr */2": never fires: day-of-month "31" never occurs in month "apr" (APR)"#,
        ),
    ];
    for (expr, message) in cases {
        assert_eq!(rejection(expr), message, "for {expr:?}");
    }
    // Restricted day-of-week rescues it under the Vixie OR rule; Feb 29 exists in leap years.
    assert!(Schedule::parse("0 0 30 2 MON").is_ok());
    assert!(Schedule::parse("0 0 29 2 *").is_ok());
    assert!(Schedule::parse("0 0 31 1-4 *").is_ok());
}

#[test]
fn time_zone_errors() {
    assert_eq!(
        parse_timezone("Mars/Olympus").unwrap_err().to_string(),
        r#"unknown time zone "Mars/Olympus": not in the IANA time zone database; use a name such as "Europe/Berlin", "America/New_York" or "UTC""#
    );
    assert_eq!(
        parse_timezone("").unwrap_err().to_string(),
        r#"unknown time zone "": the name is empty; use an IANA name such as "Europe/Berlin" or "UTC""#
    );
    assert!(parse_timezone("+02:00").is_err());
}

#[test]
fn duration_errors() {
    assert_eq!(
        parse_duration("").unwrap_err().to_string(),
        r#"invalid duration "": the duration is empty; use a form such as "15s", "1h30m" or "250ms""#
    );
    let message = parse_duration("15").unwrap_err().to_string();
    assert!(
        message.starts_with(r#"invalid duration "15": "#),
        "{message}"
    );
    let message = parse_duration("abc").unwrap_err().to_string();
    assert!(
        message.starts_with(r#"invalid duration "abc": "#),
        "{message}"
    );
}

#[test]
fn policy_errors() {
    assert_eq!(
        "sometimes"
            .parse::<OverlapPolicy>()
            .unwrap_err()
            .to_string(),
        r#"invalid overlap policy "sometimes": expected one of skip, allow, queue"#
    );
    assert_eq!(
        "run-once".parse::<MisfirePolicy>().unwrap_err().to_string(),
        r#"invalid misfire policy "run-once": expected one of skip, run_once, run_all"#
    );
}
