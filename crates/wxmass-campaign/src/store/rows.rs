//! How rows read and write the model's types, the same on both backends.

use serde::Serialize;

use crate::error::{Error, Result};
use crate::lifecycle::{CampaignState, ServerCampaign, Which};
use crate::people::{AccountType, Role};
use crate::spec::Recorded;

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

pub(super) const SERVER_CAMPAIGN_COLUMNS: &str = "id, appid, name, content, audience, list, batch_size, state, send_at, created_by, approved_by, note, created_at, updated_at";

/// A row's columns, as read by either backend.
pub(super) type ServerCampaignRow = (
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<i64>,
    String,
    Option<i64>,
    String,
    Option<String>,
    String,
    i64,
    i64,
);

pub(super) fn server_campaign_of(r: ServerCampaignRow) -> Result<ServerCampaign> {
    let bad = |what: &str| Error::Store {
        advice: format!(
            "campaign {:?} in the store has {what} this build cannot read: was it written by a newer wxmass?",
            r.0
        ),
        source: None,
    };
    Ok(ServerCampaign {
        content: serde_json::from_str(&r.3).map_err(|_| bad("content"))?,
        audience: serde_json::from_str(&r.4).map_err(|_| bad("an audience"))?,
        state: CampaignState::parse(&r.7)?,
        id: r.0,
        appid: r.1,
        name: r.2,
        list: r.5,
        batch_size: r.6.and_then(|n| u32::try_from(n).ok()),
        send_at: r.8,
        created_by: r.9,
        approved_by: r.10,
        note: r.11,
        created_at: r.12,
        updated_at: r.13,
    })
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
        Which::Due(_) => "(state = 'scheduled' AND send_at <= ?1) OR state = 'running'",
    }
}

/// A count as both databases return it (i64), as a count.
pub(super) fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}
