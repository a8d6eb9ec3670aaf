//! WeChat's quotas for mass sends (wechat-api.md §17), checked before a
//! campaign is planned so that a send the account cannot make costs
//! nothing: refused with the time the quota returns, counted from what the
//! journal knows the account sent.

use serde::Serialize;

use crate::audience::OpenIdList;
use crate::beijing;
use crate::error::{Error, Result};
use crate::spec::Audience;
use crate::store::prelude::*;

pub use crate::people::AccountType;

/// Each follower of a service account gets at most this many mass
/// messages a month; a service account sends to all at most this often.
pub const PER_MONTH: u64 = 4;

/// Refuses a new campaign of `appid` to `audience` at `now` if the
/// account's quota is spent. Without a known account type nothing is
/// checked (WeChat still refuses what it must).
pub async fn check(
    journal: &dyn Store,
    appid: &str,
    account: Option<AccountType>,
    audience: &Audience,
    now: i64,
) -> Result<()> {
    let quota = |why: String| Err(Error::Quota(why));
    match (account, audience) {
        (Some(AccountType::Subscription), Audience::Openids) => Err(Error::Invalid(
            "a subscription account cannot send to openid lists: mass/send needs a verified service account".into(),
        )),
        (Some(AccountType::Subscription), _) => {
            let (start, next) = beijing::day_bounds(now);
            let sent = journal.campaigns_sent_since(appid, "all", None, start).await?
                + journal.campaigns_sent_since(appid, "tag", None, start).await?;
            if sent >= 1 {
                return quota(format!(
                    "a subscription account sends one mass message a day, and today's has been sent; it returns at {}",
                    beijing::shown(next)
                ));
            }
            Ok(())
        }
        (Some(AccountType::Service), Audience::All) => {
            let (start, next) = beijing::month_bounds(now);
            let sent = journal.campaigns_sent_since(appid, "all", None, start).await?;
            if sent >= PER_MONTH {
                return quota(format!(
                    "a service account sends to all followers 4 times a month; {sent} sent this month; it returns at {}",
                    beijing::shown(next)
                ));
            }
            Ok(())
        }
        (Some(AccountType::Service), Audience::Tag { tag_id }) => {
            // Each follower gets at most 4 mass messages a month. Counted
            // per job: every send to all, and every send to this tag,
            // reached its followers.
            let (start, next) = beijing::month_bounds(now);
            let sent = journal.campaigns_sent_since(appid, "all", None, start).await?
                + journal.campaigns_sent_since(appid, "tag", Some(*tag_id), start).await?;
            if sent >= PER_MONTH {
                return quota(format!(
                    "this tag's followers have had {sent} mass messages from this account this month (sends to all and to tag {tag_id}), and WeChat delivers at most 4 a month to each follower: this send would reach nobody who was in the tag for them. It returns at {}",
                    beijing::shown(next)
                ));
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// The per-follower count for an openid list on a service account: how
/// many of the list's followers this account's campaigns (earlier lists
/// and sends to all, as the journal knows them) have already sent 4
/// messages this month; WeChat would filter them out. A list of only such
/// followers is refused. Campaign `except` (the one being planned) is not
/// counted.
pub async fn followers_at_cap(
    journal: &dyn Store,
    appid: &str,
    account: Option<AccountType>,
    list: &OpenIdList,
    except: &str,
    now: i64,
) -> Result<u64> {
    if account != Some(AccountType::Service) {
        return Ok(0);
    }
    let (since, next) = beijing::month_bounds(now);
    let to_all = journal
        .campaigns_sent_since(appid, "all", None, since)
        .await?;
    let cap = PER_MONTH.saturating_sub(to_all);
    let mut counts = list.follower_counts();
    journal
        .each_recent_list_member(appid, since, except, &mut |o| counts.add(o))
        .await?;
    let capped = counts.at_least(cap);
    let distinct = list.distinct();
    if distinct > 0 && capped == distinct {
        return Err(Error::Quota(format!(
            "every one of the list's {distinct} followers has had {PER_MONTH} mass messages from this account this month, and WeChat delivers no more to them: nothing would arrive. It returns at {}",
            beijing::shown(next)
        )));
    }
    Ok(capped)
}

/// What is left of an account's quota now, and each day's sends this
/// month, for people to plan by.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QuotaLeft {
    /// `day` (a subscription account: one mass message a day) or `month`
    /// (a service account: 4 sends to all a month, and 4 messages to each
    /// follower).
    pub period: &'static str,
    /// What the period allows.
    pub limit: u64,
    /// Sent in it so far (to all, or to a tag, as the journal knows).
    pub sent: u64,
    /// Unix seconds the period ends and the quota returns.
    pub resets_at: i64,
    /// Each day of this month so far: its start (Unix seconds) and the mass
    /// sends to all or to a tag that went out on it.
    pub days: Vec<(i64, u64)>,
}

/// The quota of `appid` (of `account` type; `None` when unknown) at `now`.
pub async fn left(
    journal: &dyn Store,
    appid: &str,
    account: Option<AccountType>,
    now: i64,
) -> Result<QuotaLeft> {
    let to_all_or_tag = async |since: i64| -> Result<u64> {
        Ok(journal
            .campaigns_sent_since(appid, "all", None, since)
            .await?
            + journal
                .campaigns_sent_since(appid, "tag", None, since)
                .await?)
    };
    let (month, next_month) = beijing::month_bounds(now);
    let (today, tomorrow) = beijing::day_bounds(now);
    let mut days = Vec::new();
    let mut day = month;
    let mut since_day = to_all_or_tag(day).await?;
    while day <= today {
        let since_next = to_all_or_tag(day + 86_400).await?;
        days.push((day, since_day.saturating_sub(since_next)));
        since_day = since_next;
        day += 86_400;
    }
    Ok(match account {
        Some(AccountType::Subscription) => QuotaLeft {
            period: "day",
            limit: 1,
            sent: to_all_or_tag(today).await?,
            resets_at: tomorrow,
            days,
        },
        _ => QuotaLeft {
            period: "month",
            limit: PER_MONTH,
            sent: journal
                .campaigns_sent_since(appid, "all", None, month)
                .await?,
            resets_at: next_month,
            days,
        },
    })
}
