//! WeChat's calendar: quota days and months turn at midnight, Beijing time
//! (UTC+8), and times shown to operators are Beijing time.

use std::time::{SystemTime, UNIX_EPOCH};

use wxmass_api::api::datacube::Date;

/// Seconds east of UTC.
const OFFSET: i64 = 8 * 3600;

/// Unix seconds now: the machine's clock, moved by `WXMASS_CLOCK_OFFSET`
/// seconds when that is set. Tests move wxmass's clock with the
/// emulator's this way (past a `client_msg_id`'s 10 minutes, past
/// midnight); it is not for production, where WeChat's clock is the
/// machine's.
pub fn now() -> i64 {
    let system = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    system + clock_offset()
}

/// The Beijing day of `t`, as days since 1970-01-01 in Beijing: where a
/// daily quota is counted.
pub fn day_number(t: i64) -> i64 {
    (t + OFFSET).div_euclid(86_400)
}

/// `WXMASS_CLOCK_OFFSET`, read once (0 when unset or not a number).
fn clock_offset() -> i64 {
    static OFFSET: std::sync::OnceLock<i64> = std::sync::OnceLock::new();
    *OFFSET.get_or_init(|| {
        std::env::var("WXMASS_CLOCK_OFFSET")
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    })
}

/// The Beijing day of the instant `t`: wxmass-api's [`Date`], the one
/// owner of the civil-date arithmetic on this side (the emulator keeps its
/// own on purpose: a double must not share the client's bugs).
fn day_of(t: i64) -> Date {
    Date::of_unix(t)
}

/// (year, month, day) of a Beijing day.
fn civil(day: Date) -> (i64, u32, u32) {
    let (y, m, d) = day.ymd();
    (y, m as u32, d as u32)
}

/// An RFC 3339 time with an explicit offset (`2026-12-04T09:00:00+08:00`,
/// or `Z`), as Unix seconds; `None` for anything else (a time without an
/// offset is ambiguous, and refused).
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = s.get(r)?;
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let mut rest = &s[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        rest = &frac[digits..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let o = rest.get(1..)?;
            if o.len() != 5 || o.as_bytes()[2] != b':' {
                return None;
            }
            let (oh, om) = (o[..2].parse::<i64>().ok()?, o[3..].parse::<i64>().ok()?);
            if oh > 23 || om > 59 {
                return None;
            }
            sign * (oh * 3600 + om * 60)
        }
    };
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let day = Date::from_ymd(y, mo, d);
    // 31 February and the like: the date must come back the same.
    if day.ymd() != (y, mo, d) {
        return None;
    }
    // Midnight of that date in UTC: `unix_at` counts from Beijing's.
    let midnight_utc = day.unix_at(0) + OFFSET;
    Some(midnight_utc + h * 3600 + mi * 60 + sec.min(59) - offset)
}

/// `t` in RFC 3339, Beijing time (`2026-12-04T09:00:00+08:00`).
pub fn rfc3339(t: i64) -> String {
    let (y, m, d) = civil(day_of(t));
    let secs = (t + OFFSET).rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}+08:00",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// Start of the Beijing day containing `t`, and of the next (Unix seconds).
pub fn day_bounds(t: i64) -> (i64, i64) {
    let start = day_of(t).unix_at(0);
    (start, start + 86_400)
}

/// Start of the Beijing month containing `t`, and of the next.
pub fn month_bounds(t: i64) -> (i64, i64) {
    let day = day_of(t);
    let (_, _, d) = civil(day);
    let first = day.plus(1 - i64::from(d));
    // 32 days after the 1st is in the next month; step back to its 1st.
    let probe = first.plus(32);
    let (_, _, pd) = civil(probe);
    let next = probe.plus(1 - i64::from(pd));
    (first.unix_at(0), next.unix_at(0))
}

/// `YYYY-MM-DD HH:MM`, Beijing time.
pub fn minute(t: i64) -> String {
    let (y, m, d) = civil(day_of(t));
    let secs = (t + OFFSET).rem_euclid(86_400);
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

    #[test]
    fn rfc3339_with_an_offset_and_nothing_else() {
        let t = 1_706_718_600;
        assert_eq!(rfc3339(t), "2024-02-01T00:30:00+08:00");
        assert_eq!(parse_rfc3339("2024-02-01T00:30:00+08:00"), Some(t));
        assert_eq!(parse_rfc3339("2024-01-31T16:30:00Z"), Some(t));
        assert_eq!(parse_rfc3339("2024-01-31T11:30:00.250-05:00"), Some(t));
        for bad in [
            "2024-01-31T16:30:00",
            "2024-02-30T10:00:00Z",
            "2024-13-01T10:00:00Z",
            "2024-01-31 16:30",
            "tomorrow",
            "2024-01-31T16:30:00+8:00",
            "",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
        for t in [0, 951_782_400, 1_709_164_800, 4_102_444_800] {
            assert_eq!(parse_rfc3339(&rfc3339(t)), Some(t));
        }
    }

    /// Every day from 1900 to 2100 (leap years, centuries, 2000): the
    /// text round-trips, and each day and month holds its instants.
    #[test]
    fn two_centuries_of_days_round_trip() {
        let mut t = parse_rfc3339("1900-01-01T12:34:56+08:00").expect("start");
        let end = parse_rfc3339("2100-12-31T00:00:00+08:00").expect("end");
        while t < end {
            assert_eq!(parse_rfc3339(&rfc3339(t)), Some(t), "{}", rfc3339(t));
            let (day, next_day) = day_bounds(t);
            assert!(day <= t && t < next_day && next_day - day == 86_400);
            let (month, next_month) = month_bounds(t);
            assert!(month <= day && next_day <= next_month);
            assert!((28..=31).contains(&((next_month - month) / 86_400)));
            assert!(rfc3339(month).ends_with("-01T00:00:00+08:00"));
            t += 86_400;
        }
        assert_eq!(
            parse_rfc3339("2000-02-29T00:00:00+08:00")
                .map(rfc3339)
                .as_deref(),
            Some("2000-02-29T00:00:00+08:00")
        );
        assert_eq!(
            parse_rfc3339("1900-02-29T00:00:00+08:00"),
            None,
            "1900 was no leap year"
        );
    }
}
