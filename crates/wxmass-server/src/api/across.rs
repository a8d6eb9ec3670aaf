//! Campaigns across accounts (`"accounts"` instead of `"appid"`), for the
//! campaign routes ([`crate::api::campaigns`]): what they may send and to
//! whom, who sees them, each account's quota checked at approval, and a
//! person's pause, resume or cancel carried to the parts.
//! The parts themselves are made, sent and ended by the runner
//! ([`crate::runner`]) as [`wxmass_campaign::across`] says.

use wxmass_campaign::across::{self, AccountSet};
use wxmass_campaign::lifecycle::{CampaignState, Change, Step};
use wxmass_campaign::{Audience, Campaign, Content};

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};

/// Whether `caller` sees campaign `c`: its account; for a campaign
/// across accounts, each it names (a tag may cover any: only a caller
/// that sees every account sees it).
pub(crate) fn sees(caller: &Caller, c: &Campaign) -> bool {
    match &c.accounts {
        None => caller.sees(&c.appid),
        Some(AccountSet::Listed { appids }) => appids.iter().all(|a| caller.sees(a)),
        Some(AccountSet::Tagged { .. }) => caller.require_every_account().is_ok(),
    }
}

/// What a campaign across accounts sends, and to whom, before the store
/// is read: every follower of each account, with a message every account
/// can send (`has_list`: a list or a batch size was given).
pub(crate) fn check_message(
    audience: &Audience,
    has_list: bool,
    content: &Content,
) -> Result<(), ApiError> {
    if *audience != Audience::All {
        return Err(ApiError::invalid(
            "audience",
            "a campaign across accounts goes to every follower of each account ({\"kind\": \"all\"}): a tag's id and a list's openids belong to one account",
        ));
    }
    if has_list {
        return Err(ApiError::invalid(
            "list",
            "a campaign across accounts has no list: it goes to every follower of each account",
        ));
    }
    match content {
        Content::Uploaded { .. } | Content::Card { .. } | Content::Notice { .. } => {
            Err(ApiError::invalid(
                "content",
                format!(
                    "a campaign across accounts cannot send {}: media ids, card ids and notice templates belong to one account; send text, pictures, a voice, a video or articles (each account uploads its own copy)",
                    match content {
                        Content::Uploaded { .. } => "an uploaded media id",
                        Content::Card { .. } => "a card",
                        _ => "a notice",
                    }
                ),
            ))
        }
        _ => Ok(()),
    }
}

/// The accounts of `set` against the store and `caller`'s scope: each
/// listed one exists, is the caller's and has not withdrawn; a tag is for
/// a caller that sees every account.
pub(crate) async fn check_accounts(
    state: &AppState,
    caller: &Caller,
    set: &AccountSet,
) -> ApiResult<()> {
    match set {
        AccountSet::Tagged { .. } => caller.require_every_account().map_err(|_| {
            ApiError::forbidden_field(
                "accounts",
                "this credential is scoped to some accounts, and a tag may cover others: name the accounts (`{\"kind\": \"listed\", \"appids\": [...]}`)",
            )
        }),
        AccountSet::Listed { appids } => {
            let accounts = state.journal().accounts().await?;
            for appid in appids {
                if !caller.sees(appid) {
                    return Err(ApiError::forbidden_field(
                        "accounts",
                        format!("{appid} is not one of the accounts this credential is scoped to"),
                    ));
                }
                match accounts.iter().find(|a| &a.appid == appid) {
                    None => {
                        return Err(ApiError::invalid(
                            "accounts",
                            format!("{appid}: no such account (GET /api/v1/accounts lists them)"),
                        ));
                    }
                    Some(a) if a.is_withdrawn() => {
                        return Err(ApiError::invalid(
                            "accounts",
                            format!(
                                "{appid} withdrew its authorisation of the platform: its admin authorises again, or leave it out"
                            ),
                        ));
                    }
                    Some(_) => {}
                }
            }
            Ok(())
        }
    }
}

/// The accounts `set` reaches now that can be sent for.
pub(crate) async fn available(state: &AppState, set: &AccountSet) -> ApiResult<Vec<String>> {
    let journal = state.journal();
    let members = set.members(&journal.accounts().await?, &journal.account_tags().await?);
    Ok(members
        .into_iter()
        .filter(|m| m.unavailable.is_none())
        .map(|m| m.appid)
        .collect())
}

/// Each account `set` reaches now has the quota to send to `audience` at
/// `at`; else 409 naming every account that has not, and when each frees.
pub(crate) async fn check_quotas(
    state: &AppState,
    set: &AccountSet,
    audience: &Audience,
    at: i64,
) -> ApiResult<()> {
    let journal = state.journal();
    let accounts = journal.accounts().await?;
    let members = set.members(&accounts, &journal.account_tags().await?);
    if members.is_empty() {
        return Err(ApiError::wrong_state(format!(
            "no account has the tag now: tag accounts with PUT /api/v1/accounts/{{appid}}/tags ({})",
            set.to_json()
        )));
    }
    let mut spent = Vec::new();
    for m in members.iter().filter(|m| m.unavailable.is_none()) {
        let kind = accounts
            .iter()
            .find(|a| a.appid == m.appid)
            .and_then(|a| a.account_type);
        match wxmass_campaign::quota::check(journal, &m.appid, kind, audience, at).await {
            Ok(()) => {}
            Err(wxmass_campaign::Error::Quota(why) | wxmass_campaign::Error::Invalid(why)) => {
                spent.push(format!("{}: {why}", m.appid));
            }
            Err(e) => return Err(e.into()),
        }
    }
    if spent.is_empty() {
        return Ok(());
    }
    Err(wxmass_campaign::Error::Quota(format!(
        "{} of its {} accounts cannot send then ({}); leave them out of `accounts`, or choose a time they can",
        spent.len(),
        members.len(),
        spent.join("; ")
    ))
    .into())
}

/// Carries a person's step on campaign across accounts `whole`, now in
/// `to`, to its parts: paused and cancelled with it; on resuming, the
/// paused parts are scheduled at its time again.
pub(crate) async fn carry(
    state: &AppState,
    whole: &str,
    to: CampaignState,
    now: i64,
) -> Result<(), wxmass_campaign::Error> {
    let journal = state.journal();
    let send_at = journal.campaign(whole).await?.and_then(|c| c.send_at);
    for part in journal.parts_of(whole).await? {
        let step = match across::follows(to) {
            Some(step) => step,
            None if to == CampaignState::Scheduled && part.state == CampaignState::Paused => {
                Step::Resume
            }
            None => continue,
        };
        if part.state.after(step).is_none() {
            continue;
        }
        let change = Change {
            send_at: (step == Step::Resume).then_some(send_at).flatten(),
            ..Change::default()
        };
        match journal
            .move_campaign(&part.id, part.state, step, &change, now)
            .await
        {
            // A part that moved meanwhile (it finished, or its account
            // withdrew) goes its own way.
            Ok(_) | Err(wxmass_campaign::Error::WrongState { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
