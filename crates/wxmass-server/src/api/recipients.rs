//! A notice's recipients (`/api/v1/campaigns/{id}/recipients...`): what
//! they add up to by state, channel, errcode and report; those in one
//! state as a CSV download (the CLI's `status --failed` lines); and the
//! operator's decision to send the `unknown` ones again. A mass message
//! has batches instead (`/batches`).

use std::collections::BTreeMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use wxmass_campaign::Campaign;
use wxmass_campaign::fanout;
use wxmass_campaign::lifecycle::{CampaignState, Change, Step};
use wxmass_campaign::notices::{CSV_HEADER, Channel, RecipientState, Tally};

use crate::AppState;
use crate::api::campaigns::{CampaignView, RecipientsView, find, find_managed, view};
use crate::auth::{Allowed, ToRead, ToSend};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::json::Params;

/// A notice's recipients, added up.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RecipientsTally {
    /// How many.
    pub recipients: u64,
    /// By state.
    pub by_state: RecipientsView,
    /// Those WeChat took, by the channel that reached them.
    pub sent_by_channel: BTreeMap<Channel, u64>,
    /// Those WeChat refused, by errcode, most first.
    pub failed: Vec<FailedCount>,
    /// Template messages sent, by what WeChat's report said of them
    /// (`delivered`, `user_block`, `system_failed`, `freq_limit`,
    /// `other_failure`; `none`: no report yet).
    pub reported: BTreeMap<String, u64>,
}

/// Recipients refused with one errcode.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct FailedCount {
    /// WeChat's errcode (0: WeChat took it, and its report said it failed).
    pub errcode: i32,
    /// What it means.
    pub meaning: String,
    /// How many.
    pub recipients: u64,
}

impl From<Tally> for RecipientsTally {
    fn from(t: Tally) -> RecipientsTally {
        let mut failed: Vec<FailedCount> = t
            .failed_by_errcode
            .iter()
            .map(|(&errcode, &recipients)| FailedCount {
                errcode,
                meaning: match errcode {
                    0 => "WeChat took it; its report said it failed".to_owned(),
                    code => wxmass_api::Errcode::from_code(i64::from(code))
                        .meaning()
                        .to_owned(),
                },
                recipients,
            })
            .collect();
        failed.sort_by_key(|f| std::cmp::Reverse(f.recipients));
        RecipientsTally {
            recipients: t.recipients,
            by_state: RecipientsView::of(|s| t.count(s)),
            reported: t
                .reported
                .iter()
                .filter_map(|(r, &n)| {
                    let name = serde_json::to_value(r).ok()?;
                    Some((name.as_str()?.to_owned(), n))
                })
                .collect(),
            sent_by_channel: t.sent_by_channel,
            failed,
        }
    }
}

/// Campaign `id` if it is a notice, else a 409 saying where a mass
/// message's figures are.
fn notice(c: Campaign) -> ApiResult<Campaign> {
    match c.content.is_notice() {
        true => Ok(c),
        false => Err(ApiError::wrong_state(format!(
            "campaign {:?} is a mass message: it has batches, not recipients (GET /api/v1/campaigns/{{id}}/batches)",
            c.id
        ))),
    }
}

/// A notice's recipients added up: by state, by the channel that reached
/// them, by WeChat's errcode, by report. Read from every recipient's
/// record: at a million, a second or so.
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/recipients", tag = "campaigns", security(("token" = ["read"])),
    params(("id" = String, Path, description = "The campaign's id")),
    responses((status = 200, body = RecipientsTally), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn campaign_recipients(
    Allowed(caller, _): Allowed<ToRead>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<RecipientsTally>> {
    notice(find(&state, &caller, &id).await?)?;
    Ok(Json(fanout::tally(state.journal(), &id).await?.into()))
}

/// Which recipients to download.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RecipientsQuery {
    /// Those in this state (`failed` when not given).
    #[param(value_type = Option<String>, pattern = "^(planned|sending|sent|failed|unknown)$")]
    pub state: Option<String>,
}

/// A notice's recipients in one state, as CSV (`openid, channel, errcode,
/// meaning, reported, msgid, first_attempt`), the lines `wxmass status ID
/// --failed` prints: read and sent a page of chunks at a time, so that a
/// million lines take no more memory than a thousand.
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/recipients.csv", tag = "campaigns", security(("token" = ["read"])),
    params(("id" = String, Path, description = "The campaign's id"), RecipientsQuery),
    responses((status = 200, content_type = "text/csv", body = String), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn campaign_recipients_csv(
    Allowed(caller, _): Allowed<ToRead>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Params(query): Params<RecipientsQuery>,
) -> ApiResult<Response> {
    let wanted = match query.state.as_deref() {
        None => RecipientState::Failed,
        Some(s) => RecipientState::ALL
            .into_iter()
            .find(|w| w.as_str() == s)
            .ok_or_else(|| {
                ApiError::invalid(
                    "state",
                    format!("{s:?}: one of planned, sending, sent, failed, unknown"),
                )
            })?,
    };
    let c = notice(find(&state, &caller, &id).await?)?;
    // The campaign's id as a file name: only the characters that need no
    // quoting in a header.
    let file: String =
        c.id.chars()
            .filter(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '-' | '_'))
            .collect();
    let pages = futures_util::stream::unfold(Some(None), move |cursor: Option<Option<u32>>| {
        let (state, id) = (state.clone(), c.id.clone());
        async move {
            let after = cursor?;
            let mut out = String::new();
            let read = fanout::recipients_page(state.journal(), &id, after, |openid, r| {
                if r.state == wanted {
                    r.csv_line(openid, &mut out);
                }
            })
            .await;
            match read {
                Ok(Some(last)) => Some((Ok(Bytes::from(out)), Some(Some(last)))),
                Ok(None) => None,
                // The download is cut short: a client sees it incomplete.
                Err(e) => {
                    tracing::warn!(campaign = %id.escape_debug(), error = %e, "recipients download failed");
                    Some((Err(std::io::Error::other("the store failed")), None))
                }
            }
        }
    });
    let body = futures_util::stream::once(async { Ok(Bytes::from_static(CSV_HEADER.as_bytes())) })
        .chain(pages);
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file}-{}.csv\"", wanted.as_str()),
            ),
        ],
        axum::body::Body::from_stream(body),
    )
        .into_response())
}

/// What sending the unknown recipients again did.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Resent {
    /// Recipients set back to planned: sent again now.
    pub resent: u64,
    /// The campaign, scheduled again.
    pub campaign: CampaignView,
}

/// Sends a finished notice's `unknown` recipients again: their request
/// left and its answer was lost where WeChat cannot tell a repeat, so some
/// of them may get the notice twice. Never done by itself; this is the
/// operator's decision (the CLI's `notify --resend-unknown`). The campaign
/// is paused while they are set back to planned, then scheduled at once.
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/resend-unknown", tag = "campaigns", security(("token" = ["send"])),
    params(("id" = String, Path, description = "The campaign's id")),
    responses((status = 200, body = Resent), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn resend_unknown(
    Allowed(caller, _): Allowed<ToSend>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Resent>> {
    let c = notice(find_managed(&state, &caller, &id).await?)?;
    let journal = state.journal();
    if journal
        .recipient_counts(&id)
        .await?
        .of(RecipientState::Unknown)
        == 0
    {
        return Err(ApiError::wrong_state(format!(
            "no recipient of {id:?} is unknown: nothing to send again"
        )));
    }
    let now = state.now();
    // Paused first: no server sends it while its recipients change.
    journal
        .move_campaign(&id, c.state, Step::ResendUnknown, &Change::default(), now)
        .await?;
    let resent = fanout::resend_unknown(journal, &id, now).await?;
    journal
        .move_campaign(
            &id,
            CampaignState::Paused,
            Step::Resume,
            &Change::default(),
            now,
        )
        .await?;
    journal
        .audit(
            &caller.user.name,
            "campaign.resend_unknown",
            &id,
            &format!("{resent} recipient(s)"),
            now,
        )
        .await?;
    Ok(Json(Resent {
        resent,
        campaign: view(&state, find(&state, &caller, &id).await?).await?,
    }))
}
