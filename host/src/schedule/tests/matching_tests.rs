//! Calendar matching: leap days, ends of months, the Vixie day rule, far-away ticks.

use super::support::{at, sched, ticks};

#[test]
fn leap_days() {
    assert_eq!(
        ticks("0 0 29 2 *", "UTC", "2025-01-01T00:00:00Z", 3),
        [
            "2028-02-29T00:00:00Z",
            "2032-02-29T00:00:00Z",
            "2036-02-29T00:00:00Z"
        ]
    );
    // 2100 is not a leap year.
    assert_eq!(
        ticks("0 0 29 2 *", "UTC", "2096-03-01T00:00:00Z", 1),
        ["2104-02-29T00:00:00Z"]
    );
    assert_eq!(
        ticks("0 0 29 2 *", "Europe/Berlin", "2027-06-01T00:00:00Z", 1),
        ["2028-02-28T23:00:00Z"]
    );
}

#[test]
fn day_31_skips_short_months() {
    assert_eq!(
        ticks("0 0 31 * *", "UTC", "2025-01-01T00:00:00Z", 7),
        [
            "2025-01-31T00:00:00Z",
            "2025-03-31T00:00:00Z",
            "2025-05-31T00:00:00Z",
            "2025-07-31T00:00:00Z",
            "2025-08-31T00:00:00Z",
            "2025-10-31T00:00:00Z",
            "2025-12-31T00:00:00Z"
        ]
    );
    assert_eq!(
        ticks("0 0 30 * *", "UTC", "2025-01-31T00:00:00Z", 2),
        ["2025-03-30T00:00:00Z", "2025-04-30T00:00:00Z"]
    );
}

// June 2025 starts on a Sunday: Fridays are the 6th, 13th, 20th and 27th;
// July 2025 starts on a Tuesday: Fridays are the 4th, 11th, 18th, 25th; the 13th is a Sunday.
#[test]
fn vixie_day_rule() {
    // Both restricted: the 13th OR a Friday.
    assert_eq!(
        ticks("0 12 13 * FRI", "UTC", "2025-06-01T00:00:00Z", 8),
        [
            "2025-06-06T12:00:00Z",
            "2025-06-13T12:00:00Z",
            "2025-06-20T12:00:00Z",
            "2025-06-27T12:00:00Z",
            "2025-07-04T12:00:00Z",
            "2025-07-11T12:00:00Z",
            "2025-07-13T12:00:00Z",
            "2025-07-18T12:00:00Z"
        ]
    );
    // Day-of-month starts with `*`: both must match (odd days that are Fridays).
    assert_eq!(
        ticks("0 12 */2 * 5", "UTC", "2025-06-01T00:00:00Z", 4),
        [
            "2025-06-13T12:00:00Z",
            "2025-06-27T12:00:00Z",
            "2025-07-11T12:00:00Z",
            "2025-07-25T12:00:00Z"
        ]
    );
    // Day-of-week starts with `*`: both must match (the 13th on Sun, Tue, Thu, Sat).
    assert_eq!(
        ticks("0 12 13 * */2", "UTC", "2025-06-01T00:00:00Z", 2),
        ["2025-07-13T12:00:00Z", "2025-09-13T12:00:00Z"]
    );
    // Only day-of-week restricted.
    assert_eq!(
        ticks("0 12 * * FRI", "UTC", "2025-06-01T00:00:00Z", 2),
        ["2025-06-06T12:00:00Z", "2025-06-13T12:00:00Z"]
    );
    // Both restricted with a range: days 1-3 OR Mondays, in February.
    assert_eq!(
        ticks("0 0 1-3 feb mon", "UTC", "2025-01-01T00:00:00Z", 6),
        [
            "2025-02-01T00:00:00Z",
            "2025-02-02T00:00:00Z",
            "2025-02-03T00:00:00Z",
            "2025-02-10T00:00:00Z",
            "2025-02-17T00:00:00Z",
            "2025-02-24T00:00:00Z"
        ]
    );
}

#[test]
fn next_after_is_strict() {
    let s = sched("0 0 * * *");
    let t = at("2025-01-02T00:00:00Z");
    assert_eq!(
        s.next_after(t, chrono_tz::UTC),
        Some(at("2025-01-03T00:00:00Z"))
    );
    assert_eq!(
        s.next_after(at("2025-01-01T23:59:59.999Z"), chrono_tz::UTC),
        Some(t)
    );
}

#[test]
fn no_tick_after_year_9999() {
    let s = sched("0 0 29 2 *");
    assert_eq!(
        s.next_after(at("9996-03-01T00:00:00Z"), chrono_tz::UTC),
        None,
        "9996 was the last leap day before 10000"
    );
    assert!(
        sched("@yearly")
            .next_after(at("9999-06-01T00:00:00Z"), chrono_tz::UTC)
            .is_none()
    );
    assert_eq!(
        ticks("0 0 31 12 *", "UTC", "9998-06-01T00:00:00Z", 3),
        ["9998-12-31T00:00:00Z", "9999-12-31T00:00:00Z"]
    );
    assert!(
        sched("@every 1h")
            .next_after(at("9999-12-31T23:30:00Z"), chrono_tz::UTC)
            .is_some()
    );
    // 9999-12-31 is day 2932896 since the epoch, a multiple of 3; the next is in year 10000.
    assert!(
        sched("@every 3d")
            .next_after(at("9999-12-31T00:00:00Z"), chrono_tz::UTC)
            .is_none()
    );
}

#[test]
fn next_instants_for_the_cli() {
    let got = crate::schedule::next_instants(
        "@daily",
        chrono_tz::Asia::Tokyo,
        at("2025-01-01T00:00:00Z"),
        2,
    )
    .unwrap();
    assert_eq!(
        got,
        [at("2025-01-01T15:00:00Z"), at("2025-01-02T15:00:00Z")]
    );
    assert!(
        crate::schedule::next_instants(
            "*/0 * * * *",
            chrono_tz::UTC,
            at("2025-01-01T00:00:00Z"),
            2
        )
        .is_err()
    );
}
