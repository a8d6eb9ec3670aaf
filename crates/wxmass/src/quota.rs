//! The quota guard (wechat-api.md §17): with `account_type` in the profile, a
//! send the account cannot make is refused before any request, with the
//! time the quota returns. Periods turn at midnight, Beijing time (UTC+8).

use anyhow::{Result, bail};

use crate::journal::{Journal, now};

use wxmass_emulator::clock::{Clock, civil_from_days};

const BEIJING: i64 = 8 * 3600;

/// Start of the Beijing day containing `t`, and of the next.
fn day_bounds(t: i64) -> (i64, i64) {
    let start = Clock::day_of(t) * 86_400 - BEIJING;
    (start, start + 86_400)
}

/// Start of the Beijing month containing `t`, and of the next.
fn month_bounds(t: i64) -> (i64, i64) {
    let day = Clock::day_of(t);
    let (_, _, d) = civil_from_days(day);
    let first = day - i64::from(d) + 1;
    // 32 days after the 1st is in the next month; step back to its 1st.
    let probe = first + 32;
    let (_, _, pd) = civil_from_days(probe);
    let next = probe - i64::from(pd) + 1;
    (first * 86_400 - BEIJING, next * 86_400 - BEIJING)
}

/// `YYYY-MM-DD HH:MM` Beijing time, for a table column.
pub fn beijing_minute(t: i64) -> String {
    let local = t + BEIJING;
    let (y, m, d) = civil_from_days(local.div_euclid(86_400));
    let secs = local.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}",
        secs / 3600,
        secs % 3600 / 60
    )
}

/// `YYYY-MM-DD HH:MM (Beijing time)`.
fn beijing(t: i64) -> String {
    format!("{} (Beijing time)", beijing_minute(t))
}

/// Refuses a new campaign to `audience_kind` if the account's quota is spent.
pub fn check(
    journal: &Journal,
    appid: &str,
    account_type: Option<&str>,
    audience_kind: &str,
    tag_id: Option<u32>,
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
        Some("service") if audience_kind == "tag" => {
            // Each follower gets at most 4 mass messages a month. Counted
            // per job: every send to all, and every send to this tag,
            // reached its followers.
            let (start, next) = month_bounds(t);
            let sent = journal.campaigns_sent_since(appid, &["all"], start)?
                + journal.tag_campaigns_sent_since(appid, tag_id.unwrap_or(0), start)?;
            if sent >= 4 {
                bail!(
                    "quota: this tag's followers have had {sent} mass messages from this account this month (sends to all and to tag {}), and WeChat delivers at most 4 a month to each follower: this send would reach nobody who was in the tag for them. It returns at {}",
                    tag_id.unwrap_or(0),
                    beijing(next)
                );
            }
        }
        _ => {}
    }
    Ok(())
}

/// Each follower of a service account gets at most this many mass
/// messages a month (§17).
const PER_FOLLOWER_A_MONTH: i64 = 4;

/// The per-follower count for an openid list on a service account: the
/// followers of the list that this account's campaigns (earlier lists and
/// sends to all, as the journal knows them) have already sent 4 messages
/// this month. WeChat would filter them out.
pub struct ListGuard {
    appid: String,
    since: i64,
    next: i64,
    /// Messages a follower may still get after this month's sends to all.
    cap_left: i64,
}

impl ListGuard {
    /// The guard for a new campaign, when it applies.
    pub fn new(
        journal: &Journal,
        appid: &str,
        account_type: Option<&str>,
        audience_kind: &str,
    ) -> Result<Option<ListGuard>> {
        if account_type != Some("service") || audience_kind != "openids" {
            return Ok(None);
        }
        let (since, next) = month_bounds(now());
        let to_all = journal.campaigns_sent_since(appid, &["all"], since)?;
        Ok(Some(ListGuard {
            appid: appid.to_owned(),
            since,
            next,
            cap_left: PER_FOLLOWER_A_MONTH - to_all,
        }))
    }

    /// Refuses a list every follower of which is at the cap; warns when
    /// some are. Returns how many are.
    pub fn check(&self, planner: &crate::journal::Planner<'_>) -> Result<u64> {
        let (capped, distinct) =
            planner.followers_at_cap(&self.appid, self.since, self.cap_left)?;
        if distinct > 0 && capped == distinct {
            bail!(
                "quota: every one of the list's {distinct} followers has had {PER_FOLLOWER_A_MONTH} mass messages from this account this month, and WeChat delivers no more to them: nothing would arrive. It returns at {}",
                beijing(self.next)
            );
        }
        if capped > 0 {
            eprintln!(
                "warning: {capped} of the list's {distinct} followers have had {PER_FOLLOWER_A_MONTH} mass messages from this account this month; WeChat will filter them out"
            );
        }
        Ok(capped)
    }
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
