//! Cross-check against the `croner` crate in UTC (no DST), where both agree on semantics.
//!
//! croner treats a day field as unrestricted only when it is exactly `*`, whereas Vixie cron
//! (and this module) look at whether it starts with `*`; day fields such as `*/2` are
//! therefore rewritten to the equivalent explicit range `1-31/2` before comparing.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use croner::Cron;
use proptest::prelude::*;

use super::strategies::cron_expression;
use crate::schedule::Schedule;

/// Rewrites a day field that starts with `*` but is not exactly `*` (`*/2`) into the
/// equivalent explicit range (`1-31/2`), where both implementations agree.
fn without_partial_stars(expr: &str) -> String {
    let mut fields: Vec<String> = expr.split_whitespace().map(str::to_owned).collect();
    let n = fields.len();
    for (i, full_range) in [(n - 3, "1-31"), (n - 1, "0-7")] {
        if fields[i] != "*" && fields[i].starts_with('*') {
            fields[i] = fields[i].replacen('*', full_range, 1);
        }
    }
    fields.join(" ")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1500, ..ProptestConfig::default() })]

    #[test]
    fn next_after_matches_croner_in_utc(
        expr in cron_expression().prop_map(|e| without_partial_stars(&e)),
        start in 946_684_800i64..2_208_988_800,
    ) {
        let Ok(ours) = Schedule::parse(&expr) else { return Ok(()) };
        let theirs = Cron::from_str(&expr)
            .unwrap_or_else(|e| panic!("croner rejects {expr:?}: {e}"));
        let mut t: DateTime<Utc> = DateTime::from_timestamp(start, 0).unwrap();
        for _ in 0..5 {
            let Ok(expected) = theirs.find_next_occurrence(&t, false) else { return Ok(()) };
            let got = ours.next_after(t, chrono_tz::UTC);
            prop_assert_eq!(got, Some(expected), "{} after {}", expr, t);
            t = expected;
        }
    }
}

#[test]
fn fixed_examples_match_croner() {
    for expr in [
        "*/15 * * * *",
        "0 0 29 2 *",
        "0 0 31 * *",
        "0 12 13 * 5",
        "0 0 * * 7",
        "30 5 1-7 * 1",
        "*/7 * * * * *",
        "0 0 1/3 */5 *",
    ] {
        let ours = Schedule::parse(expr).unwrap();
        let theirs = Cron::from_str(expr).unwrap();
        let mut t = DateTime::from_timestamp(1_735_689_600, 0).unwrap();
        for _ in 0..50 {
            let expected = theirs.find_next_occurrence(&t, false).unwrap();
            assert_eq!(
                ours.next_after(t, chrono_tz::UTC),
                Some(expected),
                "{expr} after {t}"
            );
            t = expected;
        }
    }
}
