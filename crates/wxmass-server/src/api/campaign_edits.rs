//! Changing a campaign before it runs: a draft edited, cloned or deleted;
//! a scheduled or paused campaign given another time. Each is allowed only
//! from the states named (else 409 with the state it is in), checked as
//! creating it was, and goes to the audit log.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;
use wxmass_campaign::Campaign;
use wxmass_campaign::across::AccountSet;
use wxmass_campaign::lifecycle::{CampaignState, Change};
use wxmass_campaign::{Audience, Content, beijing};

use crate::AppState;
use crate::api::campaigns::{
    Approval, CampaignView, NewCampaign, check_new, draft, find, find_managed, send_time, view,
};
use crate::auth::{Allowed, ToEdit, ToSend};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::json::Body;

/// A draft, written again.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CampaignEdit {
    /// A name for people, 1 to 100 characters.
    #[schema(
        pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f\\u200b\\u200e\\u200f\\u202a-\\u202e\\u2060-\\u2069\\ufeff]*$",
        min_length = 1,
        max_length = 100
    )]
    pub name: String,
    /// What it sends, as when it was created.
    pub content: Content,
    /// To whom, as when it was created.
    pub audience: Audience,
    /// The saved list of an `openids` campaign.
    #[schema(pattern = "^[A-Za-z0-9._-]{1,64}$", min_length = 1, max_length = 64)]
    pub list: Option<String>,
    /// Openids a batch for a list: 2 to 10,000.
    #[schema(minimum = 2, maximum = 10000)]
    pub batch_size: Option<u32>,
    /// A campaign across accounts: its accounts, again (kept when not
    /// given). A campaign of one account stays one.
    pub accounts: Option<AccountSet>,
}

fn not_draft(c: &Campaign, what: &str) -> ApiError {
    ApiError::wrong_state(format!(
        "campaign {:?} is {}: only a draft is {what}",
        c.id,
        c.state.as_str()
    ))
}

/// Edits a draft: its name, message, audience, list and batch size, all
/// checked as creating it was.
#[utoipa::path(put, path = "/api/v1/campaigns/{id}", tag = "campaigns", security(("token" = ["edit"])),
    params(("id" = String, Path, description = "The campaign's id")),
    request_body = CampaignEdit,
    responses((status = 200, body = CampaignView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn edit_campaign(
    Allowed(caller, _): Allowed<ToEdit>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Body(edit): Body<CampaignEdit>,
) -> ApiResult<Json<CampaignView>> {
    let c = find_managed(&state, &caller, &id).await?;
    if c.state != CampaignState::Draft {
        return Err(not_draft(&c, "edited"));
    }
    let new = NewCampaign {
        id: c.id.clone(),
        appid: (!c.is_across_accounts()).then(|| c.appid.clone()),
        accounts: edit.accounts.or_else(|| c.accounts.clone()),
        name: edit.name,
        content: edit.content,
        audience: edit.audience,
        list: edit.list,
        batch_size: edit.batch_size,
    };
    check_new(&state, &caller, &new).await?;
    let edited = Campaign {
        name: new.name,
        content: new.content,
        audience: new.audience,
        list: new.list,
        batch_size: new.batch_size,
        accounts: new.accounts,
        ..c
    };
    let now = state.now();
    if !state.journal().update_draft(&edited, now).await? {
        // Submitted (or deleted) meanwhile.
        let c = find(&state, &caller, &id).await?;
        return Err(not_draft(&c, "edited"));
    }
    state
        .journal()
        .audit(&caller.user.name, "campaign.edit", &id, "", now)
        .await?;
    Ok(Json(view(&state, find(&state, &caller, &id).await?).await?))
}

/// Deletes a draft.
#[utoipa::path(delete, path = "/api/v1/campaigns/{id}", tag = "campaigns", security(("token" = ["edit"])),
    params(("id" = String, Path, description = "The campaign's id")),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn delete_campaign(
    Allowed(caller, _): Allowed<ToEdit>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let c = find_managed(&state, &caller, &id).await?;
    if c.state != CampaignState::Draft || !state.journal().delete_draft(&id).await? {
        let c = find(&state, &caller, &id).await?;
        return Err(not_draft(&c, "deleted"));
    }
    state
        .journal()
        .audit(
            &caller.user.name,
            "campaign.delete",
            &id,
            &c.name,
            state.now(),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A copy's id and name.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloneOf {
    /// The copy's id: 1 to 64 of `A-Z a-z 0-9 . _ -`, unique.
    #[schema(pattern = "^[A-Za-z0-9._-]{1,64}$", min_length = 1, max_length = 64)]
    pub id: String,
    /// Its name (the original's, if none).
    #[schema(
        pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f\\u200b\\u200e\\u200f\\u202a-\\u202e\\u2060-\\u2069\\ufeff]*$",
        min_length = 1,
        max_length = 100
    )]
    pub name: Option<String>,
}

/// Copies a campaign, in any state and whoever sent it, into a new draft
/// with the same message, audience and list.
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/clone", tag = "campaigns", security(("token" = ["edit"])),
    params(("id" = String, Path, description = "The campaign's id")),
    request_body = CloneOf,
    responses((status = 201, body = CampaignView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn clone_campaign(
    Allowed(caller, _): Allowed<ToEdit>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Body(copy): Body<CloneOf>,
) -> ApiResult<(StatusCode, Json<CampaignView>)> {
    let c = find(&state, &caller, &id).await?;
    if c.audience == Audience::Openids && c.list.is_none() {
        return Err(ApiError::invalid(
            "id",
            format!(
                "campaign {id:?} went to a list the CLI read from a file: the server has no copy of it; create a campaign with a saved list instead"
            ),
        ));
    }
    let new = NewCampaign {
        id: copy.id,
        appid: (!c.is_across_accounts()).then(|| c.appid.clone()),
        accounts: c.accounts.clone(),
        name: copy.name.unwrap_or_else(|| c.name.clone()),
        content: c.content.clone(),
        audience: c.audience.clone(),
        list: c.list.clone(),
        batch_size: c.batch_size,
    };
    check_new(&state, &caller, &new).await?;
    let now = state.now();
    let draft = draft(new, &caller.user.name, now);
    state.journal().create_campaign(&draft).await?;
    state
        .journal()
        .audit(
            &caller.user.name,
            "campaign.clone",
            &draft.id,
            &format!("of {id}"),
            now,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(view(&state, draft).await?)))
}

/// Gives a scheduled or paused campaign another time to send (a paused
/// one stays paused until resumed), checked against the account's quota
/// as approving it was.
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/reschedule", tag = "campaigns", security(("token" = ["send"])),
    params(("id" = String, Path, description = "The campaign's id")),
    request_body = Approval,
    responses((status = 200, body = CampaignView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn reschedule_campaign(
    Allowed(caller, _): Allowed<ToSend>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Body(when): Body<Approval>,
) -> ApiResult<Json<CampaignView>> {
    let c = find_managed(&state, &caller, &id).await?;
    if !matches!(c.state, CampaignState::Scheduled | CampaignState::Paused) {
        return Err(ApiError::wrong_state(format!(
            "campaign {id:?} is {}: only a scheduled or paused campaign is given another time",
            c.state.as_str()
        )));
    }
    let send_at = send_time(&state, &c, &when.send_at).await?;
    let change = Change {
        send_at: Some(send_at),
        ..Change::default()
    };
    let now = state.now();
    if !state
        .journal()
        .set_campaign_state(&id, c.state, c.state, &change, now)
        .await?
    {
        let c = find(&state, &caller, &id).await?;
        return Err(ApiError::wrong_state(format!(
            "campaign {id:?} is {} now: only a scheduled or paused campaign is given another time",
            c.state.as_str()
        )));
    }
    state
        .journal()
        .audit(
            &caller.user.name,
            "campaign.reschedule",
            &id,
            &beijing::shown(send_at),
            now,
        )
        .await?;
    Ok(Json(view(&state, find(&state, &caller, &id).await?).await?))
}
