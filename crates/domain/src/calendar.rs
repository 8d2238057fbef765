//! UTC calendar days, as reports count by them: a day from Unix seconds, and a day as
//! `YYYY-MM-DD` read back, checked. The proleptic Gregorian calendar, by the civil-date
//! arithmetic of days since 1970-01-01 (no time zones: reports are by UTC day).

use std::fmt;

/// One UTC day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Day {
    /// Days since 1970-01-01.
    days: i64,
}

impl Day {
    /// The day `seconds` (Unix time) falls on.
    pub fn of_seconds(seconds: i64) -> Self {
        Self {
            days: seconds.div_euclid(86_400),
        }
    }

    /// A day written `YYYY-MM-DD`; `None` for anything else, or a date that does not exist.
    pub fn parse(text: &str) -> Option<Self> {
        let bytes = text.as_bytes();
        if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
            return None;
        }
        let number = |range: std::ops::Range<usize>| -> Option<i64> {
            let part = &text[range];
            part.bytes()
                .all(|b| b.is_ascii_digit())
                .then(|| part.parse().ok())?
        };
        let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
        let found = Self {
            days: days_from_civil(year, month, day),
        };
        (found.civil() == (year, month, day)).then_some(found)
    }

    /// The day after this one.
    pub fn next(self) -> Self {
        Self {
            days: self.days + 1,
        }
    }

    /// Days from `self` to `later`, both counted.
    pub fn span_to(self, later: Self) -> i64 {
        later.days - self.days + 1
    }

    /// (year, month, day).
    fn civil(self) -> (i64, i64, i64) {
        let z = self.days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        (year, month, day)
    }
}

fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return i64::MIN / 2;
    }
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if month > 2 { month - 3 } else { month + 9 };
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (year, month, day) = self.civil();
        write!(f, "{year:04}-{month:02}-{day:02}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_read_and_written_as_utc_dates() {
        assert_eq!(Day::of_seconds(0).to_string(), "1970-01-01");
        assert_eq!(Day::of_seconds(1_767_225_599).to_string(), "2025-12-31");
        assert_eq!(Day::of_seconds(1_767_225_600).to_string(), "2026-01-01");
        assert_eq!(Day::of_seconds(951_782_400).to_string(), "2000-02-29");
        assert_eq!(Day::of_seconds(-1).to_string(), "1969-12-31");
        let day = Day::parse("2026-12-07").unwrap();
        assert_eq!(day.to_string(), "2026-12-07");
        assert_eq!(day.next().to_string(), "2026-12-08");
        assert_eq!(day.span_to(Day::parse("2027-01-06").unwrap()), 31);
        assert_eq!(
            Day::parse("2024-02-29").unwrap().next().to_string(),
            "2024-03-01"
        );
    }

    #[test]
    fn what_is_not_a_date_is_refused() {
        for text in [
            "2026-02-30",
            "2025-02-29",
            "2026-13-01",
            "2026-00-10",
            "2026-1-01",
            "20261207",
            "2026-12-07T",
            "+026-12-07",
            "2026-12-0x",
        ] {
            assert_eq!(Day::parse(text), None, "{text}");
        }
    }
}
