//! WeChat's calendar: quota days and months turn at midnight, Beijing time
//! (UTC+8), and times shown to operators are Beijing time.

use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds east of UTC.
const OFFSET: i64 = 8 * 3600;

/// Unix seconds now.
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Days since 1970-01-01 in Beijing of the instant `t`.
fn day_number(t: i64) -> i64 {
    (t + OFFSET).div_euclid(86_400)
}

/// (year, month, day) of a day number (Howard Hinnant's algorithm).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

/// Start of the Beijing day containing `t`, and of the next (Unix seconds).
pub fn day_bounds(t: i64) -> (i64, i64) {
    let start = day_number(t) * 86_400 - OFFSET;
    (start, start + 86_400)
}

/// Start of the Beijing month containing `t`, and of the next.
pub fn month_bounds(t: i64) -> (i64, i64) {
    let day = day_number(t);
    let (_, _, d) = civil(day);
    let first = day - i64::from(d) + 1;
    // 32 days after the 1st is in the next month; step back to its 1st.
    let probe = first + 32;
    let (_, _, pd) = civil(probe);
    let next = probe - i64::from(pd) + 1;
    (first * 86_400 - OFFSET, next * 86_400 - OFFSET)
}

/// `YYYY-MM-DD HH:MM`, Beijing time.
pub fn minute(t: i64) -> String {
    let local = t + OFFSET;
    let (y, m, d) = civil(local.div_euclid(86_400));
    let secs = local.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}",
        secs / 3600,
        secs % 3600 / 60
    )
}

/// `YYYY-MM-DD HH:MM (Beijing time)`.
pub fn shown(t: i64) -> String {
    format!("{} (Beijing time)", minute(t))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_turn_at_beijing_midnight() {
        // 2024-01-31T16:30:00Z is 2024-02-01 00:30 in Beijing.
        let t = 1_706_718_600;
        let (day, next_day) = day_bounds(t);
        assert_eq!(shown(day), "2024-02-01 00:00 (Beijing time)");
        assert_eq!(next_day - day, 86_400);
        let (month, next_month) = month_bounds(t);
        assert_eq!(shown(month), "2024-02-01 00:00 (Beijing time)");
        assert_eq!(shown(next_month), "2024-03-01 00:00 (Beijing time)");
        // December runs into the next year.
        let (_, next) = month_bounds(1_733_000_000);
        assert_eq!(shown(next), "2025-01-01 00:00 (Beijing time)");
    }
}
