//! Free publishing's reports (`GET /api/v1/publishes`): each
//! PUBLISHJOBFINISH the accounts' pushes brought, with its status, article
//! id and addresses, or the articles that failed; and the publishes
//! submitted from this store.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;
use wxmass_campaign::beijing;
use wxmass_campaign::publishes::PublishRecord;

use crate::AppState;
use crate::auth::{Allowed, ToRead};
use crate::error::{ApiResult, ErrorBody};

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
