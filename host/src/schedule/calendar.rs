//! Wall-clock matching of a parsed cron expression: which local date-times match, the next
//! matching one, and how many match in a range. Time zones are handled by the caller.
//!
//! Searches jump field by field (month, then day, then hour/minute/second through bit masks),
//! so finding a match a year away costs a few hundred steps, not a scan of every second.

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike};

/// The last local year searched. Ticks later than the end of this year do not exist.
pub(crate) const MAX_YEAR: i32 = 9999;

const SECONDS_PER_DAY: u32 = 86_400;

/// The matching values of each field as bit sets, plus Vixie cron's `*` flags.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct CronSpec {
    /// Bits 0-59.
    pub seconds: u64,
    /// Bits 0-59.
    pub minutes: u64,
    /// Bits 0-23.
    pub hours: u64,
    /// Bits 1-31.
    pub days: u64,
    /// Bits 1-12.
    pub months: u64,
    /// Bits 0-6, 0 = Sunday.
    pub weekdays: u64,
    /// The day-of-month field starts with `*`.
    pub dom_star: bool,
    /// The day-of-week field starts with `*`.
    pub dow_star: bool,
}

/// The first set bit at or above `from`.
fn next_bit(mask: u64, from: u32) -> Option<u32> {
    if from >= 64 {
        return None;
    }
    let rest = mask & (u64::MAX << from);
    (rest != 0).then(|| rest.trailing_zeros())
}

/// Bits strictly below `n`.
fn below(n: u32) -> u64 {
    if n >= 64 { u64::MAX } else { (1u64 << n) - 1 }
}

/// The `n`-th (0-based) set bit.
fn nth_bit(mut mask: u64, n: u64) -> u32 {
    for _ in 0..n {
        mask &= mask - 1;
    }
    mask.trailing_zeros()
}

fn popcount(mask: u64) -> u64 {
    u64::from(mask.count_ones())
}

pub(crate) fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if NaiveDate::from_ymd_opt(year, 2, 29).is_some() => 29,
        2 => 28,
        _ => 31,
    }
}

fn time_of_day(seconds: u32) -> NaiveTime {
    NaiveTime::from_num_seconds_from_midnight_opt(seconds, 0).unwrap_or(NaiveTime::MIN)
}

impl CronSpec {
    /// Whether the date matches month, day-of-month and day-of-week (Vixie rule: when neither
    /// day field starts with `*`, either may match; otherwise both must).
    #[cfg(test)]
    pub fn date_matches(&self, date: NaiveDate) -> bool {
        self.months & (1 << date.month()) != 0 && self.day_matches(date)
    }

    fn day_matches(&self, date: NaiveDate) -> bool {
        let dom = self.days & (1 << date.day()) != 0;
        let dow = self.weekdays & (1 << date.weekday().num_days_from_sunday()) != 0;
        if self.dom_star || self.dow_star {
            dom && dow
        } else {
            dom || dow
        }
    }

    /// Whether only the day-of-month mask decides which days of a month match.
    fn days_decide_alone(&self) -> bool {
        self.dow_star && self.weekdays == 0x7f
    }

    /// The first day on or after `date` that matches, or `None` past [`MAX_YEAR`].
    fn next_matching_date(&self, mut date: NaiveDate) -> Option<NaiveDate> {
        loop {
            if date.year() > MAX_YEAR {
                return None;
            }
            if self.months & (1 << date.month()) == 0 {
                date = self.next_matching_month_start(date.year(), date.month())?;
                continue;
            }
            if self.day_matches(date) {
                return Some(date);
            }
            if self.days_decide_alone() {
                let last = days_in_month(date.year(), date.month());
                match next_bit(self.days, date.day() + 1) {
                    Some(d) if d <= last => {
                        date = NaiveDate::from_ymd_opt(date.year(), date.month(), d)?;
                    }
                    _ => date = self.next_matching_month_start(date.year(), date.month())?,
                }
            } else {
                date = date.succ_opt()?;
            }
        }
    }

    /// The first day of the first matching month after (`year`, `month`).
    fn next_matching_month_start(&self, year: i32, month: u32) -> Option<NaiveDate> {
        let (y, m) = match next_bit(self.months, month + 1) {
            Some(m) if m <= 12 => (year, m),
            _ => (year + 1, next_bit(self.months, 1)?),
        };
        if y > MAX_YEAR {
            return None;
        }
        NaiveDate::from_ymd_opt(y, m, 1)
    }

    /// The first matching time of day at or after `seconds` since midnight.
    fn next_time_of_day(&self, seconds: u32) -> Option<NaiveTime> {
        let (h, m, s) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
        let first_second = next_bit(self.seconds, 0)?;
        let first_minute = next_bit(self.minutes, 0)?;
        if self.hours & (1 << h) != 0 {
            if self.minutes & (1 << m) != 0
                && let Some(s2) = next_bit(self.seconds, s)
            {
                return Some(time_of_day(h * 3600 + m * 60 + s2));
            }
            if let Some(m2) = next_bit(self.minutes, m + 1) {
                return Some(time_of_day(h * 3600 + m2 * 60 + first_second));
            }
        }
        let h2 = next_bit(self.hours, h + 1)?;
        Some(time_of_day(h2 * 3600 + first_minute * 60 + first_second))
    }

    /// The first matching local date-time at or after `start` (whole seconds; a fractional
    /// second in `start` is ignored).
    pub fn next_match(&self, start: NaiveDateTime) -> Option<NaiveDateTime> {
        let mut date = start.date();
        let mut from = start.time().num_seconds_from_midnight();
        loop {
            let day = self.next_matching_date(date)?;
            if day != date {
                from = 0;
            }
            if let Some(t) = self.next_time_of_day(from) {
                return Some(day.and_time(t));
            }
            date = day.succ_opt()?;
            from = 0;
        }
    }

    /// Matching times per matching day.
    fn per_day(&self) -> u64 {
        popcount(self.hours) * popcount(self.minutes) * popcount(self.seconds)
    }

    /// Matching times of day strictly before `seconds` since midnight (`seconds` <= 86400).
    fn count_before(&self, seconds: u32) -> u64 {
        if seconds >= SECONDS_PER_DAY {
            return self.per_day();
        }
        let (h, m, s) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
        let (pm, ps) = (popcount(self.minutes), popcount(self.seconds));
        let mut count = popcount(self.hours & below(h)) * pm * ps;
        if self.hours & (1 << h) != 0 {
            count += popcount(self.minutes & below(m)) * ps;
            if self.minutes & (1 << m) != 0 {
                count += popcount(self.seconds & below(s));
            }
        }
        count
    }

    /// The `n`-th (0-based) matching time of day; `n` must be below [`Self::per_day`].
    fn nth_time_of_day(&self, n: u64) -> NaiveTime {
        let ps = popcount(self.seconds);
        let per_hour = popcount(self.minutes) * ps;
        let h = nth_bit(self.hours, n / per_hour);
        let rest = n % per_hour;
        let m = nth_bit(self.minutes, rest / ps);
        let s = nth_bit(self.seconds, rest % ps);
        time_of_day(h * 3600 + m * 60 + s)
    }

    /// Visits every matching day in `[from, to)` with the matching-time count before its start
    /// offset and before its end offset; stops early when `visit` returns `true`.
    fn for_each_day(
        &self,
        from: NaiveDateTime,
        to: NaiveDateTime,
        mut visit: impl FnMut(NaiveDate, u64, u64) -> bool,
    ) {
        if from >= to {
            return;
        }
        let Some(mut date) = self.next_matching_date(from.date()) else {
            return;
        };
        while date <= to.date() {
            let lo = if date == from.date() {
                self.count_before(from.time().num_seconds_from_midnight())
            } else {
                0
            };
            let hi = if date == to.date() {
                self.count_before(to.time().num_seconds_from_midnight())
            } else {
                self.per_day()
            };
            if hi > lo && visit(date, lo, hi) {
                return;
            }
            match date.succ_opt().and_then(|d| self.next_matching_date(d)) {
                Some(d) => date = d,
                None => return,
            }
        }
    }

    /// How many matching local date-times lie in `[from, to)` (whole seconds).
    pub fn count_in(&self, from: NaiveDateTime, to: NaiveDateTime) -> u64 {
        let mut total = 0;
        self.for_each_day(from, to, |_, lo, hi| {
            total += hi - lo;
            false
        });
        total
    }

    /// The `n`-th (0-based) matching local date-time in `[from, to)`, if there are more than `n`.
    pub fn nth_in(&self, from: NaiveDateTime, to: NaiveDateTime, n: u64) -> Option<NaiveDateTime> {
        let mut remaining = n;
        let mut found = None;
        self.for_each_day(from, to, |date, lo, hi| {
            if remaining < hi - lo {
                found = Some(date.and_time(self.nth_time_of_day(lo + remaining)));
                return true;
            }
            remaining -= hi - lo;
            false
        });
        found
    }
}
