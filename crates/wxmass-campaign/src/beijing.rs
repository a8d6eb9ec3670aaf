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

/// The day number of (year, month, day) (the inverse of [`civil`]).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
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
    let days = days_from_civil(y, mo as u32, d as u32);
    // 31 February and the like: the date must come back the same.
    if civil(days) != (y, mo as u32, d as u32) {
        return None;
    }
    Some(days * 86_400 + h * 3600 + mi * 60 + sec.min(59) - offset)
}

/// `t` in RFC 3339, Beijing time (`2026-12-04T09:00:00+08:00`).
pub fn rfc3339(t: i64) -> String {
    let local = t + OFFSET;
    let (y, m, d) = civil(local.div_euclid(86_400));
    let secs = local.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}+08:00",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
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
}
