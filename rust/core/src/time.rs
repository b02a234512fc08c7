//! Time as the engine sees it: a [`Timestamp`] handed in by the caller. The engine never
//! reads a clock, so a test can replay any sequence of events at any time.

use std::fmt;

/// Milliseconds since the Unix epoch, UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(i64);

/// Milliseconds in a day.
pub const MILLIS_PER_DAY: i64 = 86_400_000;

impl Timestamp {
    /// Wraps milliseconds since the Unix epoch.
    pub const fn from_millis(millis: i64) -> Timestamp {
        Timestamp(millis)
    }

    /// Milliseconds since the Unix epoch.
    pub const fn as_millis(self) -> i64 {
        self.0
    }

    /// A UTC date and time.
    pub fn from_civil(
        year: i32,
        month: u8,
        day: u8,
        hour: u8,
        minute: u8,
        second: u8,
    ) -> Timestamp {
        let days = days_from_civil(year, month, day);
        Timestamp(
            days * MILLIS_PER_DAY
                + (i64::from(hour) * 3600 + i64::from(minute) * 60 + i64::from(second)) * 1000,
        )
    }

    /// This time plus some milliseconds.
    pub fn plus_millis(self, millis: i64) -> Timestamp {
        Timestamp(self.0.saturating_add(millis))
    }

    /// This time plus some whole days.
    pub fn plus_days(self, days: i64) -> Timestamp {
        self.plus_millis(days.saturating_mul(MILLIS_PER_DAY))
    }

    /// The UTC calendar date: (year, month 1–12, day 1–31).
    pub fn civil_date(self) -> (i32, u8, u8) {
        civil_from_days(self.0.div_euclid(MILLIS_PER_DAY))
    }

    /// RFC 3339 text in UTC with milliseconds: `2026-11-26T03:41:00.000Z`.
    pub fn to_rfc3339(self) -> String {
        let (year, month, day) = self.civil_date();
        let in_day = self.0.rem_euclid(MILLIS_PER_DAY);
        let (h, m, s, ms) = (
            in_day / 3_600_000,
            in_day / 60_000 % 60,
            in_day / 1000 % 60,
            in_day % 1000,
        );
        format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{ms:03}Z")
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

// Howard Hinnant's days_from_civil / civil_from_days (proleptic Gregorian calendar).
fn days_from_civil(year: i32, month: u8, day: u8) -> i64 {
    let y = i64::from(year) - i64::from(month <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(days: i64) -> (i32, u8, u8) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip() {
        assert_eq!(Timestamp::from_civil(1970, 1, 1, 0, 0, 0).as_millis(), 0);
        let t = Timestamp::from_civil(2026, 11, 26, 3, 41, 7);
        assert_eq!(t.civil_date(), (2026, 11, 26));
        assert_eq!(t.to_rfc3339(), "2026-11-26T03:41:07.000Z");
        assert_eq!(
            Timestamp::from_civil(2024, 2, 29, 0, 0, 0)
                .plus_days(1)
                .civil_date(),
            (2024, 3, 1)
        );
        assert_eq!(Timestamp::from_millis(-1).civil_date(), (1969, 12, 31));
    }
}
