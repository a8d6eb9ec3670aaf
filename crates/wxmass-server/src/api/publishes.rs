//! Free publishing (发布): `POST /api/v1/publishes` saves articles as a
//! draft and submits it, under the engine's exactly-once rules (the same
//! articles submitted again answer with the first publish; a submit that
//! went through unrecorded is found, not repeated); `GET` lists each
//! publish with the PUBLISHJOBFINISH report the accounts' pushes brought:
//! its status, article id and addresses, or the articles that failed.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use wxmass_campaign::publishes::PublishRecord;
use wxmass_campaign::publishing;
use wxmass_campaign::{Content, beijing};

use crate::AppState;
use crate::auth::{Allowed, ToRead, ToSend};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::json::Body;

/// A publish, as shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublishView {
    /// The account.
    pub appid: String,
    /// The publish.
    pub publish_id: i64,
    /// The campaign that submitted it, if one did here.
    pub campaign: Option<String>,
    /// The content's id (datacube, comments), if submitted here.
    pub msg_data_id: Option<i64>,
    /// `publish_status` once reported: 0 success, 2 originality check
    /// failed, 3 failed, 4 rejected by review, 5 deleted, 6 banned.
    pub publish_status: Option<i64>,
    /// What the status means.
    pub status: Option<String>,
    /// On success.
    pub article_id: Option<String>,
    /// Each article's address.
    pub article_urls: Vec<String>,
    /// The 1-based indexes of the articles that failed.
    pub fail_idx: Vec<u32>,
    /// When the report came, Beijing time (RFC 3339).
    pub reported_at: Option<String>,
    /// A later report contradicted the first (which is shown).
    pub conflicting: bool,
}

impl From<PublishRecord> for PublishView {
    fn from(p: PublishRecord) -> PublishView {
        PublishView {
            status: p.status.map(|s| {
                wxmass_callback::PublishStatus::from_code(s)
                    .meaning()
                    .to_owned()
            }),
            appid: p.appid,
            publish_id: p.publish_id,
            campaign: p.campaign,
            msg_data_id: p.msg_data_id,
            publish_status: p.status,
            article_id: p.article_id,
            article_urls: p.article_urls,
            fail_idx: p.fail_idx,
            reported_at: p.reported_at.map(beijing::rfc3339),
            conflicting: p.conflicting,
        }
    }
}

/// Every publish the store knows, newest first.
#[utoipa::path(get, path = "/api/v1/publishes", tag = "campaigns", security(("token" = ["read"])),
    responses((status = 200, body = Vec<PublishView>), (status = 401, body = ErrorBody)))]
pub async fn list_publishes(
    Allowed(caller, _): Allowed<ToRead>,
    State(state): State<AppState>,
) -> ApiResult<Json<Vec<PublishView>>> {
    let all = state.journal().publishes().await?;
    Ok(Json(
        all.into_iter()
            .filter(|p| caller.sees(&p.appid))
            .map(PublishView::from)
            .collect(),
    ))
}

/// Articles to publish without notifying followers.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPublish {
    /// The account to publish on.
    pub appid: String,
    /// What the publish is kept under (a campaign's id, say); made from
    /// the draft when not given.
    #[serde(default)]
    pub name: Option<String>,
    /// The articles (`"type": "articles"`), their files uploaded first
    /// (`POST /api/v1/files`), as for a campaign.
    pub content: Content,
}

/// A publish submitted, or found submitted already.
#[derive(Debug, Serialize, ToSchema)]
pub struct Submitted {
    /// `false`: these articles were submitted before, and this is that
    /// publish; nothing was submitted again.
    pub submitted_now: bool,
    /// The publish (its report comes later, pushed to `/callback/{appid}`).
    pub publish: PublishView,
}

/// Saves the articles as a draft and submits it (`freepublish/submit`):
/// published without notifying followers, without using the mass-send
/// quota. 201 when submitted now; 200 with the earlier publish when the
/// same articles were submitted before; 409 when an earlier submit went
/// through unrecorded (found among what was published: nothing is
/// submitted twice).
#[utoipa::path(post, path = "/api/v1/publishes", tag = "campaigns", security(("token" = ["send"])),
    request_body = NewPublish,
    responses((status = 201, body = Submitted), (status = 200, body = Submitted),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 502, body = ErrorBody)))]
pub async fn submit_publish(
    Allowed(caller, _): Allowed<ToSend>,
    State(state): State<AppState>,
    Body(new): Body<NewPublish>,
) -> ApiResult<(StatusCode, Json<Submitted>)> {
    if let Some(name) = &new.name {
        crate::api::people::check_name("name", name)?;
    }
    if !matches!(new.content, Content::Articles { .. }) {
        return Err(ApiError::invalid(
            "content.type",
            format!(
                "only articles can be published, not {}",
                new.content.msgtype()
            ),
        ));
    }
    if !caller.sees(&new.appid) {
        return Err(ApiError::forbidden_field(
            "appid",
            format!(
                "{} is not one of the accounts this credential is scoped to",
                new.appid
            ),
        ));
    }
    crate::api::content::check(state.journal(), &new.content).await?;
    let (_, client) = crate::api::accounts::client(&state, &new.appid)
        .await
        .map_err(|e| match e {
            wxmass_campaign::Error::Invalid(_) => ApiError::invalid(
                "appid",
                "no such account: add it with POST /api/v1/accounts",
            ),
            e => e.into(),
        })?;
    let journal = state.journal();
    let plan = publishing::plan(
        &client,
        journal,
        &new.content,
        &wxmass_campaign::prepare::Silent,
    )
    .await?;
    let name = new.name.clone().unwrap_or_else(|| plan.default_name());
    let record = publishing::submit(&client, journal, &plan, &name, state.now()).await?;
    let submitted_now = plan.recorded.is_none();
    if submitted_now {
        journal
            .audit(
                &caller.user.name,
                "publish.submit",
                &name,
                &format!("{} publish {}", new.appid, record.publish_id),
                state.now(),
            )
            .await?;
    }
    let status = if submitted_now {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(Submitted {
            submitted_now,
            publish: PublishView::from(record),
        }),
    ))
}
