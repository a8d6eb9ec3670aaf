//! How rows read and write the model's types, the same on both backends.

use serde::Serialize;

use crate::Campaign;
use crate::error::{Error, Result};
use crate::lifecycle::{CampaignState, Which};
use crate::notices::{ApiLimits, Granted, Learnt, Reach, ReachEvent, WindowKind};
use crate::people::{AccountType, Authorised, Role, Testers};
use crate::spec::{Audience, Recorded};

pub(super) fn role_of(s: &str) -> Result<Role> {
    Role::parse(s).ok_or_else(|| Error::Store {
        advice: format!(
            "the store holds a role this build does not know ({}): was it written by a newer wxmass?",
            s.escape_debug()
        ),
        source: None,
    })
}

pub(super) fn account_type_of(s: Option<String>) -> Option<AccountType> {
    s.as_deref().and_then(AccountType::parse)
}

pub(super) fn account_type_name(t: Option<AccountType>) -> Option<&'static str> {
    t.map(|t| match t {
        AccountType::Service => "service",
        AccountType::Subscription => "subscription",
    })
}

/// A campaign's columns, in [`CampaignRow`]'s order. A campaign
/// sent with the CLI has no name (its id stands for it) and no creator.
pub(super) const CAMPAIGN_COLUMNS: &str = "id, appid, coalesce(name, id), content, audience_kind, tag_id, list, batch_size, \
     state, send_at, created_by, approved_by, note, created_at, coalesce(updated_at, created_at), audience_size, accounts, part_of";

/// The columns written for a new campaign, numbered as in
/// [`CAMPAIGN_COLUMNS`] (less the ones only read).
pub(super) const NEW_CAMPAIGN_COLUMNS: &str = "id, appid, name, content, audience_kind, tag_id, list, batch_size, \
     state, send_at, created_by, approved_by, note, created_at, updated_at, accounts, part_of, audience_size";

/// Records a planned campaign (parameters: id, appid, content, audience
/// kind, tag id, audience size, now). A campaign sent from the CLI is new
/// and running from now; a server's campaign is there already, and is
/// planned only once and only while running (never a draft or one awaiting
/// approval: the CLI cannot send those). No row changed: the id is taken.
pub(super) const PLAN_CAMPAIGN_SQL: &str = "INSERT INTO wxmass_campaigns \
     (id, appid, content, audience_kind, tag_id, audience_size, created_at, name, state, send_at, updated_at, planned_at) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?1, 'running', ?7, ?7, ?7) \
     ON CONFLICT (id) DO UPDATE SET audience_size = excluded.audience_size, planned_at = excluded.planned_at \
     WHERE wxmass_campaigns.planned_at IS NULL AND wxmass_campaigns.state = 'running'";

/// Why [`PLAN_CAMPAIGN_SQL`] changed no row.
pub(super) fn taken(id: &str) -> Error {
    Error::Exists(format!(
        "a campaign {id:?} exists already: choose another id, or, for a server's campaign, let the server send it once approved"
    ))
}

/// A row's columns, as read by either backend.
pub(super) type CampaignRow = (
    String,
    String,
    String,
    String,
    String,
    Option<i64>,
    Option<String>,
    Option<i64>,
    String,
    Option<i64>,
    Option<String>,
    Option<String>,
    String,
    i64,
    i64,
    i64,
    Option<String>,
    Option<String>,
);

/// The audience kept as its kind and tag.
pub(super) fn audience_of(kind: &str, tag_id: Option<i64>) -> Option<Audience> {
    match (kind, tag_id.and_then(|t| u32::try_from(t).ok())) {
        ("all", _) => Some(Audience::All),
        ("tag", Some(tag_id)) => Some(Audience::Tag { tag_id }),
        ("openids", _) => Some(Audience::Openids),
        _ => None,
    }
}

pub(super) fn campaign_row(r: CampaignRow) -> Result<Campaign> {
    let bad = |what: &str| Error::Store {
        advice: format!(
            "campaign {:?} in the store has {what} this build cannot read: was it written by a newer wxmass?",
            r.0
        ),
        source: None,
    };
    Ok(Campaign {
        content: serde_json::from_str(&r.3).map_err(|_| bad("content"))?,
        audience: audience_of(&r.4, r.5).ok_or_else(|| bad("an audience"))?,
        state: CampaignState::parse(&r.8)?,
        list: r.6,
        batch_size: r.7.and_then(|n| u32::try_from(n).ok()),
        send_at: r.9,
        created_by: r.10,
        approved_by: r.11,
        note: r.12,
        created_at: r.13,
        updated_at: r.14,
        audience_size: u64::try_from(r.15).unwrap_or(0),
        accounts: match &r.16 {
            Some(set) => Some(serde_json::from_str(set).map_err(|_| bad("a set of accounts"))?),
            None => None,
        },
        part_of: r.17,
        id: r.0,
        appid: r.1,
        name: r.2,
    })
}

/// Testers as rows: (kind, value).
pub(super) fn tester_rows(t: &Testers) -> impl Iterator<Item = (&'static str, &str)> {
    let openids = t.openids.iter().map(|o| ("openid", o.as_str()));
    openids.chain(t.wechat_ids.iter().map(|w| ("wechat_id", w.as_str())))
}

/// Testers from their rows.
pub(super) fn testers_of(rows: Vec<(String, String)>) -> Testers {
    let mut t = Testers::default();
    for (kind, value) in rows {
        match kind.as_str() {
            "openid" => t.openids.push(value),
            _ => t.wechat_ids.push(value),
        }
    }
    t
}

pub(super) fn json<T: Serialize>(value: &T) -> String {
    // Serializing these types cannot fail.
    serde_json::to_string(value).unwrap_or_default()
}

pub(super) const PUBLISH_COLUMNS: &str = "appid, publish_id, campaign, media_id, msg_data_id, submitted_at, status, article_id, \
                       article_urls, fail_idx, reported_at, conflicting_event IS NOT NULL";

pub(super) fn json_list<T: serde::de::DeserializeOwned>(text: &str) -> Vec<T> {
    serde_json::from_str(text).unwrap_or_default()
}

/// What recording `event` comes to, given the report recorded `first`
/// (if any) and whether this journal `submitted` the publish.
pub(super) fn outcome(submitted: bool, first: Option<&str>, event: &str) -> Recorded {
    match first {
        None => Recorded::New { known: submitted },
        Some(first) if first == event => Recorded::Duplicate,
        Some(_) => Recorded::Conflict,
    }
}

pub(super) const READ_COLUMNS: &str =
    "article, title, date, delivered, readers, reads, sharers, shares, favouriters";

/// Figures go in as i64 (both databases' integer); they are counts.
pub(super) fn db(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// The SQL condition of `which`, with `?1` for its one parameter (none
/// for `All`).
pub(super) fn which_condition(which: Which<'_>) -> &'static str {
    match which {
        Which::Id(_) => "id = ?1",
        Which::All => "TRUE",
        // A campaign across accounts is marked planned when its parts are
        // made; it has no batches of its own: the parts are the planned ones.
        Which::PlannedId(_) => "id = ?1 AND planned_at IS NOT NULL AND accounts IS NULL",
        Which::Planned => "planned_at IS NOT NULL AND accounts IS NULL",
        Which::PartsOf(_) => "part_of = ?1",
        // A campaign sent with the CLI (no creator) is its sender's to run.
        Which::Due(_) => {
            "created_by IS NOT NULL AND ((state = 'scheduled' AND send_at <= ?1) OR state = 'running')"
        }
    }
}

/// A count as both databases return it (i64), as a count.
pub(super) fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// The limits kept in a `wxmass_api_days` row's columns.
pub(super) fn limits_of(daily: Option<i64>, calls: Option<i64>, seconds: Option<i64>) -> ApiLimits {
    let positive = |v: Option<i64>| v.and_then(|v| u64::try_from(v).ok()).filter(|v| *v > 0);
    ApiLimits {
        daily: daily.and_then(|v| u64::try_from(v).ok()),
        rate: positive(calls).zip(positive(seconds)),
    }
}

/// The columns that keep `limits`.
pub(super) fn limit_columns(limits: &ApiLimits) -> (Option<i64>, Option<i64>, Option<i64>) {
    let signed = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
    (
        limits.daily.map(signed),
        limits.rate.map(|(calls, _)| signed(calls)),
        limits.rate.map(|(_, seconds)| signed(seconds)),
    )
}

/// What a take of `want` calls gets under `limits`, with `used` made today
/// and `period_used` in the rate's current period at `now`.
pub(super) fn grant(
    limits: &ApiLimits,
    want: u32,
    used: u64,
    period_used: u64,
    now: i64,
) -> Granted {
    let mut granted = u64::from(want);
    if let Some(daily) = limits.daily {
        granted = granted.min(daily.saturating_sub(used));
        if granted == 0 {
            return Granted::DaySpent;
        }
    }
    if let Some((calls, seconds)) = limits.rate {
        granted = granted.min(calls.saturating_sub(period_used));
        if granted == 0 {
            let seconds = i64::try_from(seconds).unwrap_or(60);
            return Granted::PeriodSpent((now.div_euclid(seconds) + 1) * seconds - now);
        }
    }
    Granted::Calls(u32::try_from(granted).unwrap_or(want).max(1))
}

/// The `wxmass_reach` columns a learnt event sets: (window_opened_at,
/// window_kind, window_closed_at, unfollowed_at, followed_at).
pub(super) type ReachColumns = (
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
);

/// The columns `learnt` sets (the others `None`: left as they are).
pub(super) fn reach_columns(learnt: &Learnt) -> Option<ReachColumns> {
    let at = Some(learnt.at);
    Some(match &learnt.event {
        ReachEvent::WindowOpened(kind) => (at, Some(kind.code()), None, None, None),
        ReachEvent::WindowClosed => (None, None, at, None, None),
        ReachEvent::Unfollowed => (None, None, None, at, None),
        ReachEvent::Followed => (None, None, None, None, at),
        // Kept in `wxmass_consents`, by template.
        ReachEvent::Consent { .. } => return None,
    })
}

/// A consent learnt: its template and whether it was given.
pub(super) fn consent_of(learnt: &Learnt) -> Option<(&str, bool)> {
    match &learnt.event {
        ReachEvent::Consent {
            template_id,
            granted,
        } => Some((template_id, *granted)),
        _ => None,
    }
}

/// Keeps a consent unless one learnt later is kept already (SQLite's `?N`;
/// PostgreSQL's `$N` by replacing `?`).
pub(super) const RECORD_CONSENT_SQL: &str = "INSERT INTO wxmass_consents \
     (appid, openid, template_id, granted, at) VALUES (?1, ?2, ?3, ?4, ?5) \
     ON CONFLICT (appid, openid, template_id) DO UPDATE SET \
     granted = excluded.granted, at = excluded.at \
     WHERE excluded.at >= wxmass_consents.at";

/// A `wxmass_reach` row as [`Reach`].
pub(super) fn reach_of(c: ReachColumns) -> Reach {
    Reach {
        window_opened: c.0.map(|at| (at, WindowKind::from_code(c.1.unwrap_or(2)))),
        window_closed_at: c.2,
        unfollowed_at: c.3,
        followed_at: c.4,
    }
}

/// Keeps each column's later time: the statement for SQLite (`?N`, NULLs
/// passed over by `coalesce`) or PostgreSQL (`$N`, `GREATEST`).
pub(super) fn record_reach_sql(postgres: bool) -> String {
    let greatest = |a: &str, b: &str| match postgres {
        true => format!("GREATEST({a}, {b})"),
        false => format!("max(coalesce({a}, {b}), coalesce({b}, {a}))"),
    };
    let mut sql = RECORD_REACH_SQL.to_owned();
    for column in [
        "window_opened_at",
        "window_closed_at",
        "unfollowed_at",
        "followed_at",
    ] {
        sql = sql.replace(
            &format!("GREATEST_OF(wxmass_reach.{column}, excluded.{column})"),
            &greatest(
                &format!("wxmass_reach.{column}"),
                &format!("excluded.{column}"),
            ),
        );
    }
    if postgres { sql.replace('?', "$") } else { sql }
}

const RECORD_REACH_SQL: &str = "INSERT INTO wxmass_reach \
     (appid, openid, window_opened_at, window_kind, window_closed_at, unfollowed_at, followed_at) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
     ON CONFLICT (appid, openid) DO UPDATE SET \
     window_kind = CASE WHEN excluded.window_opened_at >= coalesce(wxmass_reach.window_opened_at, 0) \
         THEN excluded.window_kind ELSE wxmass_reach.window_kind END, \
     window_opened_at = GREATEST_OF(wxmass_reach.window_opened_at, excluded.window_opened_at), \
     window_closed_at = GREATEST_OF(wxmass_reach.window_closed_at, excluded.window_closed_at), \
     unfollowed_at = GREATEST_OF(wxmass_reach.unfollowed_at, excluded.unfollowed_at), \
     followed_at = GREATEST_OF(wxmass_reach.followed_at, excluded.followed_at)";

/// The platform columns of an account row (`platform`, `permission_sets`,
/// `user_name`, `withdrawn_at`) as its [`Authorised`].
pub(super) fn authorised_of(
    platform: Option<String>,
    sets: Option<String>,
    user_name: Option<String>,
    withdrawn_at: Option<i64>,
) -> Option<Authorised> {
    Some(Authorised {
        component_appid: platform?,
        permission_sets: sets
            .unwrap_or_default()
            .split(',')
            .filter_map(|s| s.trim().parse().ok())
            .collect(),
        user_name: user_name.unwrap_or_default(),
        withdrawn_at,
    })
}

/// An [`Authorised`]'s permission sets as stored: `1,2,7`.
pub(super) fn sets_text(sets: &[u32]) -> String {
    sets.iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(",")
}
