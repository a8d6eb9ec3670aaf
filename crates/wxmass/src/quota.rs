//! The quota guard (wechat-api.md §17): with `account_type` in the profile, a
//! send the account cannot make is refused before any request, with the
//! time the quota returns. Periods turn at midnight, Beijing time (UTC+8).

use anyhow::{Result, bail};

use crate::journal::{Journal, now};

const BEIJING: i64 = 8 * 3600;

/// Start of the Beijing day containing `t`, and of the next.
fn day_bounds(t: i64) -> (i64, i64) {
    let start = (t + BEIJING).div_euclid(86_400) * 86_400 - BEIJING;
    (start, start + 86_400)
}

/// Start of the Beijing month containing `t`, and of the next.
fn month_bounds(t: i64) -> (i64, i64) {
    let days = (t + BEIJING).div_euclid(86_400);
    let (y, m, _) = civil(days);
    let start = days_from_civil(y, m, 1) * 86_400 - BEIJING;
    let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    (start, days_from_civil(ny, nm, 1) * 86_400 - BEIJING)
}

fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `YYYY-MM-DD HH:MM` Beijing time.
fn beijing(t: i64) -> String {
    let local = t + BEIJING;
    let (y, m, d) = civil(local.div_euclid(86_400));
    let secs = local.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} (Beijing time)",
        secs / 3600,
        secs % 3600 / 60
    )
}

/// Refuses a new campaign to `audience_kind` if the account's quota is spent.
pub fn check(
    journal: &Journal,
    appid: &str,
    account_type: Option<&str>,
    audience_kind: &str,
) -> Result<()> {
    let t = now();
    match account_type {
        Some("subscription") => {
            if audience_kind == "openids" {
                bail!(
                    "a subscription account cannot send to openid lists: mass/send needs a verified service account"
                );
            }
            let (start, next) = day_bounds(t);
            if journal.campaigns_sent_since(appid, &["all", "tag"], start)? >= 1 {
                bail!(
                    "quota: a subscription account sends one mass message a day, and today's has been sent; it returns at {}",
                    beijing(next)
                );
            }
        }
        Some("service") if audience_kind == "all" => {
            let (start, next) = month_bounds(t);
            let sent = journal.campaigns_sent_since(appid, &["all"], start)?;
            if sent >= 4 {
                bail!(
                    "quota: a service account sends to all followers 4 times a month; {sent} sent this month; it returns at {}",
                    beijing(next)
                );
            }
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_turn_at_beijing_midnight() {
        // 2024-01-31T16:30:00Z is 2024-02-01 00:30 in Beijing.
        let t = 1_706_718_600;
        let (day, next_day) = day_bounds(t);
        assert_eq!(beijing(day), "2024-02-01 00:00 (Beijing time)");
        assert_eq!(next_day - day, 86_400);
        let (month, next_month) = month_bounds(t);
        assert_eq!(beijing(month), "2024-02-01 00:00 (Beijing time)");
        assert_eq!(beijing(next_month), "2024-03-01 00:00 (Beijing time)");
    }
}
