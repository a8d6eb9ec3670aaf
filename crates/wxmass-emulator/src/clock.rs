//! The emulator's clock: wall time plus an offset that tests move forward, so
//! that token expiry, quotas and day or month boundaries can be reached
//! without sleeping.
//!
//! WeChat's daily and monthly quotas reset at midnight in Beijing (UTC+8);
//! [`Clock::day`] and [`Clock::month`] give those periods.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds east of UTC of the time zone quotas reset in.
const BEIJING_OFFSET: i64 = 8 * 3600;

/// Wall time shifted by an adjustable offset. Cheap to read from any thread.
#[derive(Debug, Default)]
pub struct Clock {
    offset_ms: AtomicI64,
}

impl Clock {
    /// The emulated time, in milliseconds since the Unix epoch.
    pub fn now_ms(&self) -> i64 {
        wall_ms().saturating_add(self.offset_ms.load(Ordering::Relaxed))
    }

    /// The emulated time, in seconds since the Unix epoch.
    pub fn now(&self) -> i64 {
        self.now_ms().div_euclid(1000)
    }

    /// Moves the clock forward by `seconds` (never back: a negative value is
    /// ignored, since WeChat's time does not run backwards).
    pub fn advance(&self, seconds: i64) {
        if seconds > 0 {
            self.offset_ms
                .fetch_add(seconds.saturating_mul(1000), Ordering::Relaxed);
        }
    }

    /// The quota day of `unix` seconds: days since the epoch, Beijing time.
    pub fn day_of(unix: i64) -> i64 {
        (unix + BEIJING_OFFSET).div_euclid(86_400)
    }

    /// The current quota day.
    pub fn day(&self) -> i64 {
        Self::day_of(self.now())
    }

    /// The current quota month, as `year * 12 + month - 1`, Beijing time.
    pub fn month(&self) -> i64 {
        let (year, month, _) = civil_from_days(self.day());
        year * 12 + i64::from(month) - 1
    }
}

/// Real time in milliseconds since the Unix epoch.
pub fn wall_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// (year, month 1..=12, day 1..=31) of a day count since 1970-01-01, by Howard
/// Hinnant's civil-from-days algorithm.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The day count since 1970-01-01 of (year, month 1..=12, day 1..=31): the
/// inverse of [`civil_from_days`], by Howard Hinnant's days-from-civil.
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        for days in -800_000..800_000 {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, i64::from(m), i64::from(d)), days);
        }
    }

    #[test]
    fn quota_days_turn_at_beijing_midnight() {
        // 2024-01-01T15:59:59Z is 23:59:59 in Beijing; a second later is a new day.
        let before = 1_704_124_799;
        assert_eq!(Clock::day_of(before) + 1, Clock::day_of(before + 1));
    }

    #[test]
    fn advancing_moves_now_and_never_back() {
        let clock = Clock::default();
        let t0 = clock.now();
        clock.advance(86_400);
        assert!(clock.now() >= t0 + 86_400);
        clock.advance(-100_000);
        assert!(clock.now() >= t0 + 86_400);
    }
}
