//! A day on WeChat's calendar (Beijing time, UTC+8 all year): the one
//! civil-date routine the crate and the engine use. A leaf: the errors and
//! the datacube handler build on it (`Date::parse`, which answers the
//! client's error, lives beside datacube).

use std::fmt;

/// A day, Beijing time (days since 1970-01-01).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(pub(crate) i64);

/// Beijing is UTC+8 all year.
const BEIJING: i64 = 8 * 3600;

impl Date {
    /// The day of year `y`, month `m` (1-12), day `d` (1-31); days past a
    /// month's end run into the next.
    pub fn from_ymd(y: i64, m: i64, d: i64) -> Date {
        // Days before March 1 of year 0, in 400-year eras.
        let (y, m) = if m <= 2 { (y - 1, m + 9) } else { (y, m - 3) };
        let era = y.div_euclid(400);
        let year_of_era = y - era * 400;
        let day_of_year = (153 * m + 2) / 5 + d - 1;
        let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
        Date(era * 146_097 + day_of_era - 719_468)
    }

    /// (year, month, day).
    pub fn ymd(self) -> (i64, i64, i64) {
        let z = self.0 + 719_468;
        let era = z.div_euclid(146_097);
        let day_of_era = z - era * 146_097;
        let year_of_era =
            (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
        let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
        let mp = (5 * day_of_year + 2) / 153;
        let d = day_of_year - (153 * mp + 2) / 5 + 1;
        let m = if mp < 10 { mp + 3 } else { mp - 9 };
        let y = year_of_era + era * 400 + i64::from(m <= 2);
        (y, m, d)
    }

    /// The Beijing day of the instant `unix` (seconds).
    pub fn of_unix(unix: i64) -> Date {
        Date((unix + BEIJING).div_euclid(86_400))
    }

    /// Today in Beijing, by this machine's clock.
    pub fn today() -> Date {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        Date::of_unix(now)
    }

    /// Unix seconds at `hour`:00 Beijing time of this day.
    pub fn unix_at(self, hour: i64) -> i64 {
        self.0 * 86_400 - BEIJING + hour * 3600
    }

    /// `days` later (earlier when negative).
    pub fn plus(self, days: i64) -> Date {
        Date(self.0 + days)
    }

    /// Days from `earlier` to this one.
    pub fn since(self, earlier: Date) -> i64 {
        self.0 - earlier.0
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = self.ymd();
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}
