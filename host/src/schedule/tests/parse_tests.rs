//! Accepted syntax, normalization, descriptions and time zone names.

use std::time::Duration;

use super::support::{sched, ticks};
use crate::schedule::{DstMode, Schedule, format_duration, parse_duration, parse_timezone};

#[test]
fn display_prints_the_normalized_expression() {
    let cases = [
        ("  */15   *  * *   * ", "*/15 * * * *"),
        ("0 9 * jan,Jul mon-fri", "0 9 * JAN,JUL MON-FRI"),
        ("0 0 12 * * sun", "0 0 12 * * SUN"),
        ("@annually", "@yearly"),
        ("@YEARLY", "@yearly"),
        ("@midnight", "@daily"),
        ("@Hourly", "@hourly"),
        ("@weekly", "@weekly"),
        ("@monthly", "@monthly"),
        ("@every 90m", "@every 1h30m"),
        ("@every 1h 30m", "@every 1h30m"),
        ("@every 1500ms", "@every 1s500ms"),
        ("@every 2d", "@every 2d"),
    ];
    for (expr, normalized) in cases {
        let s = sched(expr);
        assert_eq!(s.to_string(), normalized, "for {expr:?}");
        assert_eq!(
            sched(normalized),
            s,
            "{normalized:?} parses back to the same schedule"
        );
    }
}

#[test]
fn names_are_case_insensitive_and_seven_is_sunday() {
    assert_eq!(
        sched("0 0 * * 7").kind(),
        sched("0 0 * * 0").kind(),
        "7 and 0 are both Sunday"
    );
    assert_eq!(sched("0 0 * * sun").kind(), sched("0 0 * * 0").kind());
    assert_eq!(sched("0 0 * * MON-SUN").kind(), sched("0 0 * * 0-6").kind());
    assert_eq!(sched("0 0 * * SUN-SUN").kind(), sched("0 0 * * 0").kind());
    assert_eq!(sched("0 0 * * SUN-SAT").kind(), sched("0 0 * * 0-6").kind());
    assert_eq!(sched("0 0 * * 5-7").kind(), sched("0 0 * * 0,5,6").kind());
    assert_eq!(sched("0 0 * feb-Apr *").kind(), sched("0 0 * 2-4 *").kind());
    assert_eq!(sched("0 0 * Dec *").kind(), sched("0 0 * 12 *").kind());
    // Mondays in January and July 2025 at 09:00 UTC.
    assert_eq!(
        ticks("0 9 * jan,JUL Mon", "UTC", "2025-01-20T00:00:00Z", 3),
        [
            "2025-01-20T09:00:00Z",
            "2025-01-27T09:00:00Z",
            "2025-07-07T09:00:00Z"
        ]
    );
}

#[test]
fn macros_equal_their_cron_forms() {
    for (mac, cron) in [
        ("@yearly", "0 0 1 1 *"),
        ("@annually", "0 0 1 1 *"),
        ("@monthly", "0 0 1 * *"),
        ("@weekly", "0 0 * * 0"),
        ("@daily", "0 0 * * *"),
        ("@midnight", "0 0 * * *"),
        ("@hourly", "0 * * * *"),
    ] {
        assert_eq!(sched(mac).kind(), sched(cron).kind(), "{mac}");
    }
}

#[test]
fn steps_ranges_and_lists() {
    assert_eq!(
        ticks("5-20/5,58 * * * *", "UTC", "2025-01-01T00:00:00Z", 6),
        [
            "2025-01-01T00:05:00Z",
            "2025-01-01T00:10:00Z",
            "2025-01-01T00:15:00Z",
            "2025-01-01T00:20:00Z",
            "2025-01-01T00:58:00Z",
            "2025-01-01T01:05:00Z"
        ]
    );
    // `a/n` means `a-max/n`.
    assert_eq!(
        sched("50/4 * * * *").kind(),
        sched("50,54,58 * * * *").kind()
    );
    assert_eq!(sched("0 0 * * 1/2").kind(), sched("0 0 * * 1,3,5,7").kind());
    assert_eq!(sched("*/1 * * * *").kind(), sched("* * * * *").kind());
}

#[test]
fn six_fields_have_leading_seconds() {
    assert_eq!(
        ticks("*/20 * * * * *", "UTC", "2025-01-01T00:00:00Z", 4),
        [
            "2025-01-01T00:00:20Z",
            "2025-01-01T00:00:40Z",
            "2025-01-01T00:01:00Z",
            "2025-01-01T00:01:20Z"
        ]
    );
    assert_eq!(
        ticks("30 15 10 * * *", "UTC", "2025-01-01T10:15:30Z", 2),
        ["2025-01-02T10:15:30Z", "2025-01-03T10:15:30Z"]
    );
    assert_eq!(sched("0 5 * * * *").kind(), sched("5 * * * *").kind());
}

#[test]
fn strictly_after_ignores_fractions_of_a_second_correctly() {
    let s = sched("* * * * * *");
    let after = super::support::at("2025-01-01T00:00:00.500Z");
    assert_eq!(
        s.next_after(after, chrono_tz::UTC),
        Some(super::support::at("2025-01-01T00:00:01Z"))
    );
    let every = sched("@every 1500ms");
    assert_eq!(
        every.next_after(
            super::support::at("1970-01-01T00:00:01.500Z"),
            chrono_tz::UTC
        ),
        Some(super::support::at("1970-01-01T00:00:03Z"))
    );
}

#[test]
fn dst_mode_follows_the_hour_field() {
    for expr in [
        "*/15 * * * *",
        "0 * * * *",
        "* * * * * *",
        "@hourly",
        "0 0-23 * * *",
        "@every 1h",
    ] {
        assert_eq!(sched(expr).dst_mode(), DstMode::RealTime, "{expr}");
    }
    for expr in [
        "30 2 * * *",
        "*/10 1 * * *",
        "*/5 * 0-22 * * *",
        "@daily",
        "0 */2 * * *",
    ] {
        assert_eq!(sched(expr).dst_mode(), DstMode::WallClock, "{expr}");
    }
}

#[test]
fn describe_in_words() {
    let cases = [
        ("*/15 * * * *", "every 15 minutes"),
        ("30 2 * * *", "at 02:30 every day"),
        ("* * * * *", "every minute"),
        ("* * * * * *", "every second"),
        ("*/10 * * * * *", "every 10 seconds"),
        ("0 * * * *", "every hour"),
        ("@hourly", "every hour"),
        ("15 * * * *", "every hour at minute 15"),
        ("0 */2 * * *", "every 2 hours"),
        ("0 9 * * MON-FRI", "at 09:00 on Monday to Friday"),
        ("0 9,17 * * *", "at 09:00 and 17:00 every day"),
        ("15 30 6 * * *", "at 06:30:15 every day"),
        ("@yearly", "at 00:00 on day 1 of the month in January"),
        ("0 0 1,15 * *", "at 00:00 on days 1 and 15 of the month"),
        (
            "0 12 13 * FRI",
            "at 12:00 on day 13 of the month or on Friday",
        ),
        (
            "0 12 */2 * FRI",
            "at 12:00 on days 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29 and 31 of the month if it is Friday",
        ),
        ("0 0 * 6-8 *", "at 00:00 every day in June to August"),
        ("0,30 9-17 * * *", "every 30 minutes during hours 9-17"),
        (
            "*/5 9-17 * * MON-FRI",
            "every 5 minutes during hours 9-17 on Monday to Friday",
        ),
        ("15,45 * * * *", "at minutes 15 and 45 of every hour"),
        ("*/10 1 * * *", "every 10 minutes during hour 1"),
        ("0 */6 * * *", "at 00:00, 06:00, 12:00 and 18:00 every day"),
        ("0 0 * * 1,3,5", "at 00:00 on Monday, Wednesday and Friday"),
        ("*/30 * 9-17 * * *", "every 30 seconds during hours 9-17"),
        ("@every 250s", "every 4 minutes 10 seconds"),
        ("@every 15s", "every 15 seconds"),
        ("@every 1m", "every minute"),
        ("@every 1h30m", "every 1 hour 30 minutes"),
    ];
    for (expr, words) in cases {
        assert_eq!(sched(expr).describe(), words, "for {expr:?}");
    }
}

#[test]
fn time_zone_names() {
    assert_eq!(
        parse_timezone("Europe/Berlin").unwrap(),
        chrono_tz::Europe::Berlin
    );
    assert_eq!(
        parse_timezone("europe/berlin").unwrap(),
        chrono_tz::Europe::Berlin
    );
    assert_eq!(parse_timezone(" UTC ").unwrap(), chrono_tz::UTC);
    assert_eq!(
        parse_timezone("Australia/Lord_Howe").unwrap(),
        chrono_tz::Australia::Lord_Howe
    );
}

#[test]
fn durations() {
    assert_eq!(parse_duration("15s").unwrap(), Duration::from_secs(15));
    assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
    assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
    assert_eq!(parse_duration("0").unwrap(), Duration::ZERO);
    assert_eq!(format_duration(Duration::from_secs(5400)), "1h30m");
    assert_eq!(format_duration(Duration::from_millis(250)), "250ms");
    assert_eq!(format_duration(Duration::ZERO), "0s");
    for d in [1u64, 999, 1000, 61_001, 86_400_000 * 3 + 7] {
        let d = Duration::from_millis(d);
        assert_eq!(parse_duration(&format_duration(d)).unwrap(), d);
    }
}

#[test]
fn schedule_is_send_sync_clone_debug_and_from_str() {
    fn assert_traits<T: Clone + std::fmt::Debug + Send + Sync + std::str::FromStr>() {}
    assert_traits::<Schedule>();
    let parsed: Schedule = "@daily".parse().unwrap();
    assert_eq!(parsed, sched("@midnight"));
}
