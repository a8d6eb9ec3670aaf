//! Campaigns (`/api/v1/campaigns`): an editor writes a draft and submits
//! it; an approver approves it with a time to send (`send_at`, with an
//! explicit offset), and may pause, resume or cancel it; the server sends
//! it when its time comes. Each step is allowed only from the states the
//! lifecycle allows (else 409 with the state it is in), and goes to the
//! audit log.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use wxmass_campaign::Campaign;
use wxmass_campaign::across::AccountSet;
use wxmass_campaign::lifecycle::{CampaignState, Change, Step};
use wxmass_campaign::{Audience, Content, Summary, beijing};

use crate::AppState;
use crate::auth::{Allowed, Caller, ToEdit, ToRead, ToSend};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::json::{Body, Params};

/// A campaign, as shown (and read back by `wxmass --server`).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CampaignView {
    /// Its id.
    pub id: String,
    /// The account it is sent for (empty for a campaign across accounts).
    pub appid: String,
    /// A campaign across accounts: the accounts it is for. Its figures
    /// are its parts' added up; GET /api/v1/campaigns/{id}/accounts gives
    /// each account's.
    #[serde(default)]
    pub accounts: Option<AccountSet>,
    /// A part of a campaign across accounts: that campaign's id.
    #[serde(default)]
    pub part_of: Option<String>,
    /// A name for people.
    pub name: String,
    /// Where it is in its life.
    pub state: CampaignState,
    /// What it sends.
    pub content: Content,
    /// To whom.
    pub audience: Audience,
    /// The saved list of an `openids` campaign.
    pub list: Option<String>,
    /// Openids a batch, for a list (WeChat's most when none).
    pub batch_size: Option<u32>,
    /// When it is sent, Beijing time (RFC 3339).
    pub send_at: Option<String>,
    /// Who wrote it; `null`: sent with the CLI (or a worker), shown here
    /// and run by its sender, not by the server.
    pub created_by: Option<String>,
    /// Who approved it.
    pub approved_by: Option<String>,
    /// The last thing that happened to it.
    pub note: String,
    /// Followers addressed, once planned (0 before).
    pub audience_size: u64,
    /// Its batches, once planned.
    pub batches: u64,
    /// Of those, submitted to WeChat.
    pub submitted: u64,
    /// Reports WeChat pushed for them.
    pub reported: u64,
    /// Followers the reports say were addressed (`TotalCount`).
    pub addressed: u64,
    /// Left after WeChat's filtering, by the reports (`FilterCount`).
    pub after_filtering: u64,
    /// Followers the reports say received it (`SentCount`): confirmed.
    pub delivered: u64,
    /// Followers the reports say it failed for (`ErrorCount`).
    pub errors: u64,
    /// Submitted batches with no report: sent, their counts unknown (not
    /// in `delivered`).
    pub unreported: u64,
    /// Openids in those batches (a list's batches only).
    pub unreported_openids: u64,
    /// Of the unreported batches, those `mass/get` calls ended: their
    /// report will not come.
    pub unreported_settled: u64,
    /// A notice's recipients by state, once planned (`null` for a mass
    /// message, which has batches instead).
    #[serde(default)]
    pub recipients: Option<RecipientsView>,
}

/// A notice's recipients, counted by state.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RecipientsView {
    /// Not sent yet.
    pub planned: u64,
    /// Their request may have left; the answer is not recorded yet.
    pub sending: u64,
    /// WeChat took it.
    pub sent: u64,
    /// WeChat refused it for this follower (unfollowed, blocked, no
    /// consent, window closed), with its errcode.
    pub failed: u64,
    /// The request left and its answer was lost where WeChat cannot tell a
    /// repeat: it may or may not have arrived; never sent again by itself.
    pub unknown: u64,
}

impl RecipientsView {
    /// The counts `of` says for each state.
    pub fn of(of: impl Fn(wxmass_campaign::notices::RecipientState) -> u64) -> RecipientsView {
        use wxmass_campaign::notices::RecipientState as S;
        RecipientsView {
            planned: of(S::Planned),
            sending: of(S::Sending),
            sent: of(S::Sent),
            failed: of(S::Failed),
            unknown: of(S::Unknown),
        }
    }
}

impl From<wxmass_campaign::notices::StateCounts> for RecipientsView {
    fn from(c: wxmass_campaign::notices::StateCounts) -> RecipientsView {
        RecipientsView::of(|s| c.of(s))
    }
}

impl CampaignView {
    /// Its figures, as the engine counts them (for the one wording of
    /// [`wxmass_campaign::Summary::delivery`]).
    pub fn summary(&self) -> wxmass_campaign::Summary {
        wxmass_campaign::Summary {
            batches: self.batches,
            submitted: self.submitted,
            reported: self.reported,
            addressed: self.addressed,
            after_filtering: self.after_filtering,
            delivered: self.delivered,
            errors: self.errors,
            unreported: self.unreported,
            unreported_openids: self.unreported_openids,
            unreported_settled: self.unreported_settled,
        }
    }
}

/// A batch of a campaign, as shown.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct BatchView {
    /// 0-based.
    pub index: u32,
    /// Openids in it (0 for all followers or a tag).
    pub openids: u64,
    /// `planned`, `submitting` or `submitted`.
    pub state: String,
    /// WeChat's job, once named.
    pub msg_id: Option<i64>,
    /// The job's status from `mass/get` (`SENDING`, `SEND_SUCCESS`, ...).
    pub status: Option<String>,
    /// The server or worker that sent it.
    pub sent_by: Option<String>,
    /// Times another took it over after a lease ran out.
    pub takeovers: u32,
    /// WeChat's MASSSENDJOBFINISH report, once pushed.
    pub report: Option<ReportView>,
}

/// A job's report: the delivery funnel.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReportView {
    /// `send success`, `send fail` or `err(N)`.
    pub status: String,
    /// Followers addressed.
    pub total: i64,
    /// Left after WeChat's filtering (quota, unfollowed).
    pub after_filtering: i64,
    /// Delivered.
    pub sent: i64,
    /// Failed.
    pub errors: i64,
    /// The copyright check's CheckState, for articles.
    pub check_state: Option<i64>,
    /// The sent articles' URLs.
    pub article_urls: Vec<String>,
}

impl From<wxmass_campaign::Batch> for BatchView {
    fn from(b: wxmass_campaign::Batch) -> BatchView {
        BatchView {
            index: b.index,
            openids: b.size,
            state: b.state.as_str().to_owned(),
            msg_id: b.msg_id,
            status: b.status,
            sent_by: b.sent_by,
            takeovers: b.takeovers,
            report: b.report.map(|r| ReportView {
                status: r.status,
                total: r.total_count,
                after_filtering: r.filter_count,
                sent: r.sent_count,
                errors: r.error_count,
                check_state: r.check_state,
                article_urls: r.article_urls,
            }),
        }
    }
}

pub(crate) async fn view(state: &AppState, c: Campaign) -> ApiResult<CampaignView> {
    let (batches, audience_size) = match c.is_across_accounts() {
        // Its parts' batches, added up.
        true => {
            let parts = state.journal().parts_of(&c.id).await?;
            let batches = state.journal().batches_of_parts(&c.id).await?;
            let size = parts.iter().map(|p| p.audience_size).sum();
            (batches.into_iter().map(|(_, b)| b).collect(), size)
        }
        false => (state.journal().batches(&c.id).await?, c.audience_size),
    };
    view_with(state, c, &batches, audience_size).await
}

/// [`view`] of `c` with its `batches` read already.
async fn view_with(
    state: &AppState,
    c: Campaign,
    batches: &[wxmass_campaign::Batch],
    audience_size: u64,
) -> ApiResult<CampaignView> {
    let s = Summary::of(batches);
    let recipients = match c.content.is_notice() {
        true => Some(state.journal().recipient_counts(&c.id).await?.into()),
        false => None,
    };
    Ok(CampaignView {
        recipients,
        audience_size,
        batches: s.batches,
        submitted: s.submitted,
        reported: s.reported,
        addressed: s.addressed,
        after_filtering: s.after_filtering,
        delivered: s.delivered,
        errors: s.errors,
        unreported: s.unreported,
        unreported_openids: s.unreported_openids,
        unreported_settled: s.unreported_settled,
        send_at: c.send_at.map(beijing::rfc3339),
        state: c.state,
        id: c.id,
        appid: c.appid,
        accounts: c.accounts,
        part_of: c.part_of,
        name: c.name,
        content: c.content,
        audience: c.audience,
        list: c.list,
        batch_size: c.batch_size,
        created_by: c.created_by,
        approved_by: c.approved_by,
        note: c.note,
    })
}

/// A new campaign (a draft).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCampaign {
    /// Its id: 1 to 64 of `A-Z a-z 0-9 . _ -`, unique.
    #[schema(pattern = "^[A-Za-z0-9._-]{1,64}$", min_length = 1, max_length = 64)]
    pub id: String,
    /// The account (its AppID, added with POST /api/v1/accounts); or,
    /// instead, `accounts`.
    #[schema(pattern = "^wx[A-Za-z0-9]{16}$", min_length = 18, max_length = 18)]
    pub appid: Option<String>,
    /// Instead of `appid`, for a campaign across accounts: the accounts
    /// (`{"kind": "listed", "appids": [...]}`) or every account with a tag
    /// (`{"kind": "tagged", "tag": ...}`, those that withdrew left out),
    /// as they are when it starts. One approval and one time; each account
    /// sent its part under its own quota, once. It goes to every follower
    /// (`audience` `all`: tags and lists belong to one account) with a
    /// message made from files or text (media and card ids, and notices'
    /// templates, belong to one account).
    pub accounts: Option<AccountSet>,
    /// A name for people, 1 to 100 characters, none of them a control
    /// character or one that reorders or hides text.
    #[schema(
        pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f\\u200b\\u200e\\u200f\\u202a-\\u202e\\u2060-\\u2069\\ufeff]*$",
        min_length = 1,
        max_length = 100
    )]
    pub name: String,
    /// What it sends, by `type`; each file uploaded first (POST
    /// /api/v1/files) and named `{"path": NAME, "sha256": HASH}`. It is
    /// checked as the CLI checks it (the text's bytes, the files' formats
    /// and sizes, the articles' Markdown): a problem is a 400 naming the
    /// field.
    pub content: Content,
    /// To whom, by `kind`: every follower, a tag, or (`openids`) the saved
    /// `list`.
    pub audience: Audience,
    /// The saved list (PUT /api/v1/lists/{name}) of an `openids` campaign.
    #[schema(pattern = "^[A-Za-z0-9._-]{1,64}$", min_length = 1, max_length = 64)]
    pub list: Option<String>,
    /// Openids a batch for a list: 2 to 10,000 (WeChat's most, the default).
    #[schema(minimum = 2, maximum = 10000)]
    pub batch_size: Option<u32>,
}

fn check(new: &NewCampaign) -> Result<(), ApiError> {
    crate::api::people::check_name("id", &new.id)?;
    crate::api::people::check_display_name("name", &new.name, 100)?;
    if let Some(set) = &new.accounts {
        if new.appid.is_some() {
            return Err(ApiError::invalid(
                "accounts",
                "a campaign names its account (`appid`) or its accounts (`accounts`), not both",
            ));
        }
        if let Some(problem) = set.problem() {
            return Err(ApiError::invalid("accounts", problem));
        }
        let has_list = new.list.is_some() || new.batch_size.is_some();
        return crate::api::across::check_message(&new.audience, has_list, &new.content);
    }
    match (&new.audience, &new.list) {
        (Audience::Openids, None) => Err(ApiError::invalid(
            "list",
            "an `openids` campaign names its saved list (PUT /api/v1/lists/{name})",
        )),
        (Audience::All | Audience::Tag { .. }, Some(_)) => Err(ApiError::invalid(
            "list",
            "only an `openids` campaign has a list",
        )),
        _ => Ok(()),
    }?;
    match new.batch_size {
        Some(_) if new.list.is_none() => Err(ApiError::invalid(
            "batch_size",
            "only a campaign to a list is sent in batches",
        )),
        Some(n) if !(2..=10_000).contains(&n) => {
            Err(ApiError::invalid("batch_size", format!("{n}: 2 to 10,000")))
        }
        _ => Ok(()),
    }
}

/// Which campaigns to list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CampaignQuery {
    /// Only those in this state.
    #[param(value_type = Option<CampaignState>)]
    pub state: Option<String>,
    /// Only this account's (with its parts of campaigns across accounts;
    /// without it, those are listed as one, with their figures added up).
    pub appid: Option<String>,
    /// At most this many: 1 to 1,000 (100 when not given).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    /// After skipping this many: 0 (when not given) to 1,000,000,000.
    #[param(minimum = 0, maximum = 1000000000)]
    pub offset: Option<u64>,
}

/// The most campaigns one page lists, and the page when none is asked.
const PAGE_MAX: u32 = 1000;
const PAGE_DEFAULT: u32 = 100;
const OFFSET_MAX: u64 = 1_000_000_000;

/// Campaigns, newest first, filtered and a page at a time; `X-Total-Count`
/// says how many match.
#[utoipa::path(get, path = "/api/v1/campaigns", tag = "campaigns", security(("token" = ["read"])),
    params(CampaignQuery),
    responses((status = 200, body = Vec<CampaignView>,
        headers(("X-Total-Count" = u64, description = "Campaigns that match, on every page"))),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn list_campaigns(
    Allowed(caller, _): Allowed<ToRead>,
    State(state): State<AppState>,
    Params(query): Params<CampaignQuery>,
) -> ApiResult<(
    [(axum::http::HeaderName, String); 1],
    Json<Vec<CampaignView>>,
)> {
    let wanted = match &query.state {
        None => None,
        Some(s) => Some(
            CampaignState::ALL
                .into_iter()
                .find(|c| c.as_str() == s)
                .ok_or_else(|| {
                    ApiError::invalid(
                        "state",
                        format!(
                            "{:?} is not a state: one of {}",
                            s.escape_debug().to_string(),
                            CampaignState::ALL.map(|c| c.as_str()).join(", ")
                        ),
                    )
                })?,
        ),
    };
    let limit = query.limit.unwrap_or(PAGE_DEFAULT);
    if !(1..=PAGE_MAX).contains(&limit) {
        return Err(ApiError::invalid(
            "limit",
            format!("{limit}: 1 to {PAGE_MAX}"),
        ));
    }
    let offset = query.offset.unwrap_or(0);
    if offset > OFFSET_MAX {
        return Err(ApiError::invalid(
            "offset",
            format!("{offset}: 0 to {OFFSET_MAX}"),
        ));
    }
    let matching: Vec<Campaign> = state
        .journal()
        .campaigns()
        .await?
        .into_iter()
        .filter(|c| crate::api::across::sees(&caller, c))
        .filter(|c| wanted.is_none_or(|w| c.state == w))
        // An account's campaigns include its parts of campaigns across
        // accounts; every account's, the wholes only.
        .filter(|c| match &query.appid {
            Some(a) => &c.appid == a,
            None => c.part_of.is_none(),
        })
        .collect();
    let total = matching.len();
    // Only the page's campaigns have their batches counted.
    let mut page = Vec::new();
    let skip = usize::try_from(offset).unwrap_or(usize::MAX);
    for c in matching.into_iter().skip(skip).take(limit as usize) {
        page.push(view(&state, c).await?);
    }
    Ok((
        [(
            axum::http::HeaderName::from_static("x-total-count"),
            total.to_string(),
        )],
        Json(page),
    ))
}

/// Writes a draft.
#[utoipa::path(post, path = "/api/v1/campaigns", tag = "campaigns", security(("token" = ["edit"])),
    request_body = NewCampaign,
    responses((status = 201, body = CampaignView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create_campaign(
    Allowed(caller, _): Allowed<ToEdit>,
    State(state): State<AppState>,
    Body(new): Body<NewCampaign>,
) -> ApiResult<(StatusCode, Json<CampaignView>)> {
    check_new(&state, &caller, &new).await?;
    let now = state.now();
    let campaign = draft(new, &caller.user.name, now);
    state.journal().create_campaign(&campaign).await?;
    state
        .journal()
        .audit(&caller.user.name, "campaign.create", &campaign.id, "", now)
        .await?;
    Ok((StatusCode::CREATED, Json(view(&state, campaign).await?)))
}

/// Every check a new or edited draft passes: its fields, its content as
/// the CLI checks it, its list and its account, and a notice's template
/// against the account's templates.
pub(crate) async fn check_new(
    state: &AppState,
    caller: &Caller,
    new: &NewCampaign,
) -> ApiResult<()> {
    check(new)?;
    let appid = match (&new.appid, &new.accounts) {
        (Some(appid), None) => appid,
        (None, Some(set)) => {
            crate::api::content::check(state.journal(), &new.content).await?;
            return crate::api::across::check_accounts(state, caller, set).await;
        }
        (Some(_), Some(_)) => {
            return Err(ApiError::invalid(
                "accounts",
                "a campaign names its account (`appid`) or its accounts (`accounts`), not both",
            ));
        }
        (None, None) => {
            return Err(ApiError::invalid(
                "appid",
                "which account sends it: `appid` (or, across accounts, `accounts`)",
            ));
        }
    };
    if !caller.sees(appid) {
        return Err(ApiError::forbidden_field(
            "appid",
            format!("{appid} is not one of the accounts this credential is scoped to"),
        ));
    }
    crate::api::content::check(state.journal(), &new.content).await?;
    if let Some(list) = &new.list
        && !state
            .journal()
            .lists()
            .await?
            .iter()
            .any(|l| &l.name == list)
    {
        return Err(ApiError::invalid("list", format!("no saved list {list:?}")));
    }
    if !state
        .journal()
        .accounts()
        .await?
        .iter()
        .any(|a| &a.appid == appid)
    {
        return Err(ApiError::invalid(
            "appid",
            "no such account: add it with POST /api/v1/accounts",
        ));
    }
    crate::api::content::check_templates(state, appid, &new.content).await
}

/// Campaign `id`, if `caller` sees its account (a campaign of an account
/// outside a scoped caller's is not there, for it).
pub(crate) async fn find(state: &AppState, caller: &Caller, id: &str) -> ApiResult<Campaign> {
    state
        .journal()
        .campaign(id)
        .await?
        .filter(|c| crate::api::across::sees(caller, c))
        .ok_or_else(|| ApiError::not_found(format!("no campaign {id:?}")))
}

/// Campaign `id`, to act on: one sent with the CLI is its sender's (the
/// server did not plan it and does not run it), shown but not moved.
pub(crate) async fn find_managed(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> ApiResult<Campaign> {
    let c = find(state, caller, id).await?;
    if c.created_by.is_none() {
        return Err(ApiError::wrong_state(format!(
            "campaign {id:?} was sent with the CLI: the server shows it but does not run it; act on it with `wxmass` where it was sent"
        )));
    }
    Ok(c)
}

/// One campaign.
#[utoipa::path(get, path = "/api/v1/campaigns/{id}", tag = "campaigns", security(("token" = ["read"])),
    params(("id" = String, Path, description = "The campaign's id")),
    responses((status = 200, body = CampaignView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_campaign(
    Allowed(caller, _): Allowed<ToRead>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<CampaignView>> {
    let c = find(&state, &caller, &id).await?;
    Ok(Json(view(&state, c).await?))
}

/// A campaign's batches, in order: each job, its status and its report.
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/batches", tag = "campaigns", security(("token" = ["read"])),
    params(("id" = String, Path, description = "The campaign's id")),
    responses((status = 200, body = Vec<BatchView>), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn campaign_batches(
    Allowed(caller, _): Allowed<ToRead>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<BatchView>>> {
    let c = find(&state, &caller, &id).await?;
    let batches = state.journal().batches(&c.id).await?;
    Ok(Json(batches.into_iter().map(BatchView::from).collect()))
}

/// A campaign across accounts, account by account: each account's part,
/// with its state, its note (why it failed, or was paused) and its
/// figures. Empty until it starts; 404 for a campaign of one account.
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/accounts", tag = "campaigns", security(("token" = ["read"])),
    params(("id" = String, Path, description = "The campaign's id")),
    responses((status = 200, body = Vec<CampaignView>), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn campaign_accounts(
    Allowed(caller, _): Allowed<ToRead>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<CampaignView>>> {
    let c = find(&state, &caller, &id).await?;
    if !c.is_across_accounts() {
        return Err(ApiError::not_found(format!(
            "campaign {id:?} is sent for one account ({}): GET /api/v1/campaigns/{id} has its figures",
            c.appid
        )));
    }
    // Every part's batches in one query, not one query a part.
    let mut batches: std::collections::HashMap<String, Vec<wxmass_campaign::Batch>> =
        std::collections::HashMap::new();
    for (part, batch) in state.journal().batches_of_parts(&c.id).await? {
        batches.entry(part).or_default().push(batch);
    }
    let mut parts = Vec::new();
    for part in state.journal().parts_of(&c.id).await? {
        let of = batches.remove(&part.id).unwrap_or_default();
        let size = part.audience_size;
        parts.push(view_with(&state, part, &of, size).await?);
    }
    parts.sort_by(|a, b| a.appid.cmp(&b.appid));
    Ok(Json(parts))
}

/// Takes `step` on campaign `id` for `caller`, and logs it.
async fn take(
    state: &AppState,
    caller: &Caller,
    id: &str,
    step: Step,
    change: Change,
    action: &str,
) -> ApiResult<Json<CampaignView>> {
    let c = find_managed(state, caller, id).await?;
    let now = state.now();
    let moved = state
        .journal()
        .move_campaign(id, c.state, step, &change, now)
        .await?;
    if c.is_across_accounts() {
        crate::api::across::carry(state, id, moved, now).await?;
    }
    let detail = change.send_at.map(beijing::shown).unwrap_or_default();
    state
        .journal()
        .audit(&caller.user.name, action, id, &detail, now)
        .await?;
    Ok(Json(view(state, find(state, caller, id).await?).await?))
}

/// Hands a draft to the approvers.
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/submit", tag = "campaigns", security(("token" = ["edit"])),
    params(("id" = String, Path, description = "The campaign's id")),
    responses((status = 200, body = CampaignView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn submit_campaign(
    Allowed(caller, _): Allowed<ToEdit>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<CampaignView>> {
    take(
        &state,
        &caller,
        &id,
        Step::Submit,
        Change::default(),
        "campaign.submit",
    )
    .await
}

/// An approval.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Approval {
    /// When to send it: RFC 3339 with an offset, e.g.
    /// `2026-12-04T09:00:00+08:00`; a time past sends at once.
    #[schema(format = DateTime)]
    pub send_at: String,
}

/// Approves a submitted campaign and schedules it; refused (409) when the
/// account's quota for that day or month is spent, with when it frees.
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/approve", tag = "campaigns", security(("token" = ["send"])),
    params(("id" = String, Path, description = "The campaign's id")),
    request_body = Approval,
    responses((status = 200, body = CampaignView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn approve_campaign(
    Allowed(caller, _): Allowed<ToSend>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Body(approval): Body<Approval>,
) -> ApiResult<Json<CampaignView>> {
    let campaign = find_managed(&state, &caller, &id).await?;
    if state.second_approver_required()
        && campaign.created_by.as_deref() == Some(caller.user.name.as_str())
    {
        return Err(ApiError::forbidden(format!(
            "{} made this campaign: under the two-person rule another approver approves it",
            caller.user.name
        )));
    }
    let send_at = send_time(&state, &campaign, &approval.send_at).await?;
    let change = Change {
        send_at: Some(send_at),
        approved_by: Some(caller.user.name.clone()),
        ..Change::default()
    };
    take(
        &state,
        &caller,
        &id,
        Step::Approve,
        change,
        "campaign.approve",
    )
    .await
}

/// Refuses (409, naming them) to remove `what` while a campaign not yet
/// over `uses` it.
pub(crate) async fn refuse_if_used(
    state: &AppState,
    what: &str,
    uses: impl Fn(&Campaign) -> bool,
) -> ApiResult<()> {
    let users: Vec<String> = state
        .journal()
        .campaigns()
        .await?
        .into_iter()
        .filter(|c| !c.state.is_final() && uses(c))
        .map(|c| c.id)
        .collect();
    if users.is_empty() {
        return Ok(());
    }
    Err(ApiError::conflict(format!(
        "{what} is still used by campaign(s) {}: cancel or finish them first",
        users.join(", ")
    )))
}

/// A new draft of `new`, written by `by` at `now`.
pub(crate) fn draft(new: NewCampaign, by: &str, now: i64) -> Campaign {
    Campaign {
        id: new.id,
        appid: new.appid.unwrap_or_default(),
        accounts: new.accounts,
        part_of: None,
        name: new.name,
        content: new.content,
        audience: new.audience,
        list: new.list,
        batch_size: new.batch_size,
        state: CampaignState::Draft,
        send_at: None,
        created_by: Some(by.to_owned()),
        approved_by: None,
        note: String::new(),
        created_at: now,
        updated_at: now,
        audience_size: 0,
    }
}

/// `send_at` read (RFC 3339 with an offset) and checked against the
/// account's quota on the day (or month) `campaign` would be sent: refused
/// now, with the time it frees, rather than failing at its hour.
pub(crate) async fn send_time(
    state: &AppState,
    campaign: &Campaign,
    send_at: &str,
) -> ApiResult<i64> {
    let at = beijing::parse_rfc3339(send_at).ok_or_else(|| {
        ApiError::invalid(
            "send_at",
            format!(
                "{send_at:?} is not an RFC 3339 time with an offset, such as 2026-12-04T09:00:00+08:00"
            ),
        )
    })?;
    if let Some(set) = &campaign.accounts {
        crate::api::across::check_quotas(state, set, &campaign.audience, at.max(state.now()))
            .await?;
        return Ok(at);
    }
    let account = state
        .journal()
        .accounts()
        .await?
        .into_iter()
        .find(|a| a.appid == campaign.appid);
    // A notice counts against each channel's own daily quota, which the
    // engine reads from WeChat and keeps for every worker as it sends.
    if let Some(account) = account.filter(|_| !campaign.content.is_notice()) {
        wxmass_campaign::quota::check(
            state.journal(),
            &campaign.appid,
            account.account_type,
            &campaign.audience,
            at.max(state.now()),
        )
        .await?;
    }
    Ok(at)
}

/// Pauses a scheduled or running campaign (the batches in flight finish).
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/pause", tag = "campaigns", security(("token" = ["send"])),
    params(("id" = String, Path, description = "The campaign's id")),
    responses((status = 200, body = CampaignView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn pause_campaign(
    Allowed(caller, _): Allowed<ToSend>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<CampaignView>> {
    take(
        &state,
        &caller,
        &id,
        Step::Pause,
        Change::default(),
        "campaign.pause",
    )
    .await
}

/// Resumes a paused campaign (it is scheduled again; past its time, it
/// sends at once).
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/resume", tag = "campaigns", security(("token" = ["send"])),
    params(("id" = String, Path, description = "The campaign's id")),
    responses((status = 200, body = CampaignView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn resume_campaign(
    Allowed(caller, _): Allowed<ToSend>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<CampaignView>> {
    take(
        &state,
        &caller,
        &id,
        Step::Resume,
        Change::default(),
        "campaign.resume",
    )
    .await
}

/// Cancels a campaign for good (what WeChat has already taken stays sent).
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/cancel", tag = "campaigns", security(("token" = ["send"])),
    params(("id" = String, Path, description = "The campaign's id")),
    responses((status = 200, body = CampaignView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn cancel_campaign(
    Allowed(caller, _): Allowed<ToSend>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<CampaignView>> {
    take(
        &state,
        &caller,
        &id,
        Step::Cancel,
        Change::default(),
        "campaign.cancel",
    )
    .await
}

/// Whom a test send goes to: one of the two, a tester of the campaign's
/// account (GET /api/v1/accounts/{appid}/testers).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged, deny_unknown_fields)]
pub enum TestSend {
    /// A follower, by openid.
    OpenId {
        /// The openid.
        #[schema(pattern = "^[A-Za-z0-9_-]{1,64}$", min_length = 1, max_length = 64)]
        openid: String,
    },
    /// A person, by WeChat ID (the account allows 100 a day).
    WeChatId {
        /// The WeChat ID.
        #[schema(pattern = "^[A-Za-z0-9_-]{1,64}$", min_length = 1, max_length = 64)]
        wechat_id: String,
    },
}

/// What a test send did.
#[derive(Debug, Serialize, ToSchema)]
pub struct TestSent {
    /// WeChat's id for the preview, when it gives one.
    pub msg_id: Option<i64>,
}

/// Sends the campaign to one tester's phone (`mass/preview`), at any stage
/// before it runs; to one of the account's testers only (400 naming the
/// field otherwise).
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/test", tag = "campaigns", security(("token" = ["edit"])),
    params(("id" = String, Path, description = "The campaign's id")),
    request_body = TestSend,
    responses((status = 200, body = TestSent), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 502, body = ErrorBody)))]
pub async fn test_campaign(
    Allowed(caller, _): Allowed<ToEdit>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Body(to): Body<TestSend>,
) -> ApiResult<Json<TestSent>> {
    use wxmass_api::PreviewTarget;
    let target = match to {
        TestSend::OpenId { openid } => PreviewTarget::OpenId(openid),
        TestSend::WeChatId { wechat_id } => PreviewTarget::WeChatId(wechat_id),
    };
    let c = find_managed(&state, &caller, &id).await?;
    if matches!(
        c.state,
        CampaignState::Running
            | CampaignState::Finished
            | CampaignState::Cancelled
            | CampaignState::Failed
    ) {
        return Err(wxmass_campaign::Error::WrongState {
            id: c.id,
            state: c.state.as_str(),
        }
        .into());
    }
    // Test sends go to the account's testers only: a draft nobody
    // approved reaches nobody else's phone. Across accounts, to a tester
    // of one of them, sent by that account.
    let (field, who) = match &target {
        PreviewTarget::OpenId(o) => ("openid", o),
        PreviewTarget::WeChatId(w) => ("wechat_id", w),
    };
    let candidates = match &c.accounts {
        None => vec![c.appid.clone()],
        Some(set) => crate::api::across::available(&state, set).await?,
    };
    let mut sender = None;
    for appid in candidates {
        let testers = state.journal().testers(&appid).await?;
        let allowed = match &target {
            PreviewTarget::OpenId(o) => testers.includes(Some(o), None),
            PreviewTarget::WeChatId(w) => testers.includes(None, Some(w)),
        };
        if allowed {
            sender = Some(appid);
            break;
        }
    }
    let Some(appid) = sender else {
        let (of, path) = match c.accounts {
            None => (c.appid.clone(), c.appid.clone()),
            Some(_) => ("any of its accounts".to_owned(), "{appid}".to_owned()),
        };
        return Err(ApiError::forbidden_field(
            field,
            format!(
                "{:?} is not a tester of {of}: an admin names testers with PUT /api/v1/accounts/{path}/testers",
                who.escape_debug().to_string(),
            ),
        ));
    };
    let (_, client) = crate::api::accounts::client(&state, &appid).await?;
    let message = wxmass_campaign::prepare::message(
        &client,
        state.journal(),
        &c.content,
        &wxmass_campaign::prepare::Silent,
    )
    .await?;
    let msg_id = client
        .mass()
        .preview(&message, &target)
        .await
        .map_err(ApiError::wechat)?;
    let who = match &target {
        PreviewTarget::OpenId(o) => format!("openid {o}"),
        PreviewTarget::WeChatId(w) => format!("WeChat ID {w}"),
    };
    state
        .journal()
        .audit(&caller.user.name, "campaign.test", &c.id, &who, state.now())
        .await?;
    Ok(Json(TestSent { msg_id }))
}
