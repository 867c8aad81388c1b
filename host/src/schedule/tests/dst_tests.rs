//! Next-fire tables across DST transitions (Europe/Berlin, America/New_York,
//! Australia/Lord_Howe with its 30-minute shift) and a zone without DST (Asia/Tokyo).

use super::support::{at, sched, ticks, zone};

/// (expression, zone, after, expected ticks in UTC)
type Case = (
    &'static str,
    &'static str,
    &'static str,
    &'static [&'static str],
);

fn check(cases: &[Case]) {
    for (expr, tz, after, expected) in cases {
        assert_eq!(
            ticks(expr, tz, after, expected.len()),
            *expected,
            "{expr:?} in {tz} after {after}"
        );
    }
}

// Berlin 2025: spring forward 2025-03-30 02:00 CET -> 03:00 CEST (01:00Z);
// fall back 2025-10-26 03:00 CEST -> 02:00 CET (01:00Z), 02:00-03:00 repeats.
#[test]
fn berlin_wall_clock_schedules() {
    check(&[
        // A skipped time fires once, at the first instant after the gap (03:00 CEST = 01:00Z).
        (
            "30 2 * * *",
            "Europe/Berlin",
            "2025-03-29T00:00:00Z",
            &[
                "2025-03-29T01:30:00Z",
                "2025-03-30T01:00:00Z",
                "2025-03-31T00:30:00Z",
            ],
        ),
        // Several skipped times collapse into that one tick.
        (
            "*/20 2 * * *",
            "Europe/Berlin",
            "2025-03-29T02:00:00Z",
            &[
                "2025-03-30T01:00:00Z",
                "2025-03-31T00:00:00Z",
                "2025-03-31T00:20:00Z",
            ],
        ),
        // A skipped time whose post-gap wall time also matches fires once.
        (
            "0,30 2,3 * * *",
            "Europe/Berlin",
            "2025-03-30T00:00:00Z",
            &[
                "2025-03-30T01:00:00Z",
                "2025-03-30T01:30:00Z",
                "2025-03-31T00:00:00Z",
            ],
        ),
        // Seconds do not survive the gap: the tick is the first instant after it.
        (
            "15 30 2 * * *",
            "Europe/Berlin",
            "2025-03-29T12:00:00Z",
            &["2025-03-30T01:00:00Z", "2025-03-31T00:30:15Z"],
        ),
        // A repeated time fires once, at its first occurrence (02:30 CEST = 00:30Z).
        (
            "30 2 * * *",
            "Europe/Berlin",
            "2025-10-25T00:00:00Z",
            &[
                "2025-10-25T00:30:00Z",
                "2025-10-26T00:30:00Z",
                "2025-10-27T01:30:00Z",
            ],
        ),
        (
            "*/20 2 * * *",
            "Europe/Berlin",
            "2025-10-25T23:00:00Z",
            &[
                "2025-10-26T00:00:00Z",
                "2025-10-26T00:20:00Z",
                "2025-10-26T00:40:00Z",
                "2025-10-27T01:00:00Z",
            ],
        ),
        // Asked from inside the second occurrence (02:10 CET = 01:10Z): 02:30 already fired.
        (
            "30 2 * * *",
            "Europe/Berlin",
            "2025-10-26T01:10:00Z",
            &["2025-10-27T01:30:00Z"],
        ),
        // ... but 03:00, after the repeated hour, is still ahead.
        (
            "0 3 * * *",
            "Europe/Berlin",
            "2025-10-26T01:10:00Z",
            &["2025-10-26T02:00:00Z"],
        ),
        // Asked from the end of the first occurrence (02:50 CEST = 00:50Z).
        (
            "45 2 * * *",
            "Europe/Berlin",
            "2025-10-26T00:50:00Z",
            &["2025-10-27T01:45:00Z"],
        ),
        (
            "@daily",
            "Europe/Berlin",
            "2025-03-29T00:00:00Z",
            &["2025-03-29T23:00:00Z", "2025-03-30T22:00:00Z"],
        ),
    ]);
}

#[test]
fn berlin_real_time_schedules() {
    check(&[
        // Spring: the cadence continues across the gap.
        (
            "*/15 * * * *",
            "Europe/Berlin",
            "2025-03-30T00:20:00Z",
            &[
                "2025-03-30T00:30:00Z",
                "2025-03-30T00:45:00Z",
                "2025-03-30T01:00:00Z",
                "2025-03-30T01:15:00Z",
            ],
        ),
        // Fall: both occurrences of the repeated hour fire.
        (
            "*/30 * * * *",
            "Europe/Berlin",
            "2025-10-25T23:50:00Z",
            &[
                "2025-10-26T00:00:00Z",
                "2025-10-26T00:30:00Z",
                "2025-10-26T01:00:00Z",
                "2025-10-26T01:30:00Z",
                "2025-10-26T02:00:00Z",
            ],
        ),
        (
            "0 * * * *",
            "Europe/Berlin",
            "2025-10-25T23:30:00Z",
            &[
                "2025-10-26T00:00:00Z",
                "2025-10-26T01:00:00Z",
                "2025-10-26T02:00:00Z",
            ],
        ),
        (
            "@hourly",
            "Europe/Berlin",
            "2025-03-29T23:30:00Z",
            &[
                "2025-03-30T00:00:00Z",
                "2025-03-30T01:00:00Z",
                "2025-03-30T02:00:00Z",
            ],
        ),
        // Asked from inside the second occurrence.
        (
            "*/30 * * * *",
            "Europe/Berlin",
            "2025-10-26T01:10:00Z",
            &["2025-10-26T01:30:00Z", "2025-10-26T02:00:00Z"],
        ),
        (
            "* * * * * *",
            "Europe/Berlin",
            "2025-03-30T00:59:58Z",
            &[
                "2025-03-30T00:59:59Z",
                "2025-03-30T01:00:00Z",
                "2025-03-30T01:00:01Z",
            ],
        ),
    ]);
}

// New York 2025: spring forward 2025-03-09 02:00 EST -> 03:00 EDT (07:00Z);
// fall back 2025-11-02 02:00 EDT -> 01:00 EST (06:00Z), 01:00-02:00 repeats.
#[test]
fn new_york() {
    check(&[
        (
            "30 2 * * *",
            "America/New_York",
            "2025-03-08T12:00:00Z",
            &["2025-03-09T07:00:00Z", "2025-03-10T06:30:00Z"],
        ),
        (
            "30 1 * * *",
            "America/New_York",
            "2025-11-01T12:00:00Z",
            &["2025-11-02T05:30:00Z", "2025-11-03T06:30:00Z"],
        ),
        (
            "0 9 * * MON-FRI",
            "America/New_York",
            "2025-03-07T00:00:00Z",
            &["2025-03-07T14:00:00Z", "2025-03-10T13:00:00Z"],
        ),
        (
            "*/30 * * * *",
            "America/New_York",
            "2025-11-02T04:50:00Z",
            &[
                "2025-11-02T05:00:00Z",
                "2025-11-02T05:30:00Z",
                "2025-11-02T06:00:00Z",
                "2025-11-02T06:30:00Z",
                "2025-11-02T07:00:00Z",
            ],
        ),
        (
            "*/30 * * * *",
            "America/New_York",
            "2025-03-09T06:20:00Z",
            &[
                "2025-03-09T06:30:00Z",
                "2025-03-09T07:00:00Z",
                "2025-03-09T07:30:00Z",
            ],
        ),
    ]);
}

// Lord Howe: standard +10:30, DST +11:00, a 30-minute shift.
// 2025-04-06: 02:00 (+11) -> 01:30 (+10:30) at 2025-04-05T15:00Z, 01:30-02:00 repeats.
// 2025-10-05: 02:00 (+10:30) -> 02:30 (+11) at 2025-10-04T15:30Z, 02:00-02:30 is skipped.
#[test]
fn lord_howe_thirty_minute_shift() {
    check(&[
        (
            "15 2 * * *",
            "Australia/Lord_Howe",
            "2025-10-03T00:00:00Z",
            &[
                "2025-10-03T15:45:00Z",
                "2025-10-04T15:30:00Z",
                "2025-10-05T15:15:00Z",
            ],
        ),
        (
            "45 1 * * *",
            "Australia/Lord_Howe",
            "2025-04-04T00:00:00Z",
            &[
                "2025-04-04T14:45:00Z",
                "2025-04-05T14:45:00Z",
                "2025-04-06T15:15:00Z",
            ],
        ),
        // Real time through the repeated half hour: both occurrences fire.
        (
            "*/15 * * * *",
            "Australia/Lord_Howe",
            "2025-04-05T14:20:00Z",
            &[
                "2025-04-05T14:30:00Z",
                "2025-04-05T14:45:00Z",
                "2025-04-05T15:00:00Z",
                "2025-04-05T15:15:00Z",
                "2025-04-05T15:30:00Z",
            ],
        ),
        // Real time across the skipped half hour.
        (
            "*/30 * * * *",
            "Australia/Lord_Howe",
            "2025-10-04T14:50:00Z",
            &[
                "2025-10-04T15:00:00Z",
                "2025-10-04T15:30:00Z",
                "2025-10-04T16:00:00Z",
            ],
        ),
        // 02:00 does not exist that night; the hourly tick resumes at 03:00 (+11).
        (
            "0 * * * *",
            "Australia/Lord_Howe",
            "2025-10-04T14:00:00Z",
            &[
                "2025-10-04T14:30:00Z",
                "2025-10-04T16:00:00Z",
                "2025-10-04T17:00:00Z",
            ],
        ),
    ]);
}

#[test]
fn tokyo_has_no_transitions() {
    check(&[
        (
            "30 2 * * *",
            "Asia/Tokyo",
            "2025-03-29T00:00:00Z",
            &[
                "2025-03-29T17:30:00Z",
                "2025-03-30T17:30:00Z",
                "2025-03-31T17:30:00Z",
            ],
        ),
        (
            "0 0 1 * *",
            "Asia/Tokyo",
            "2025-10-01T00:00:00Z",
            &["2025-10-31T15:00:00Z", "2025-11-30T15:00:00Z"],
        ),
    ]);
}

#[test]
fn every_keeps_its_epoch_anchored_cadence_across_transitions() {
    // 2025-11-02T05:00:00Z is 1762059600 s; 45 min = 2700 s; next multiple is 1762060500.
    for tz in [
        "America/New_York",
        "Europe/Berlin",
        "Australia/Lord_Howe",
        "UTC",
    ] {
        check(&[(
            "@every 45m",
            tz,
            "2025-11-02T05:00:00Z",
            &[
                "2025-11-02T05:15:00Z",
                "2025-11-02T06:00:00Z",
                "2025-11-02T06:45:00Z",
            ],
        )]);
    }
    let s = sched("@every 7s");
    let ny = zone("America/New_York");
    let mut prev = at("2025-11-02T05:59:50Z");
    for t in s.iter_after(prev, ny).take(10) {
        assert_eq!(t.timestamp() % 7, 0);
        assert!(t > prev);
        prev = t;
    }
}

#[test]
fn yearly_ticks_far_ahead() {
    check(&[
        (
            "0 0 1 1 *",
            "Europe/Berlin",
            "2025-06-01T00:00:00Z",
            &[
                "2025-12-31T23:00:00Z",
                "2026-12-31T23:00:00Z",
                "2027-12-31T23:00:00Z",
            ],
        ),
        (
            "30 2 30 3 *",
            "Europe/Berlin",
            "2025-04-01T00:00:00Z",
            // 2026-03-29 and 2027-03-28 are the transition days; 03-30 is after them.
            &["2026-03-30T00:30:00Z", "2027-03-30T00:30:00Z"],
        ),
        (
            "30 2 * 3 SUN",
            "Europe/Berlin",
            "2026-03-28T00:00:00Z",
            // The last Sunday of March is the transition day: 02:30 does not exist.
            &["2026-03-29T01:00:00Z", "2027-03-07T01:30:00Z"],
        ),
    ]);
}
