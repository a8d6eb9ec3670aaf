//! How a campaign's articles were read (`GET /api/v1/campaigns/{id}/reads`):
//! the series the server pulls from WeChat's datacube once a day for a
//! week after the send (see `runner`), per article and day, for the
//! dashboard's charts.

use axum::Json;
use axum::extract::{Path, State};
use serde::Serialize;
use utoipa::ToSchema;
use wxmass_campaign::reads::ReadSeries;

use crate::AppState;
use crate::auth::{Allowed, ToRead};
use crate::error::{ApiResult, ErrorBody};

/// A campaign's reads.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReadsView {
    /// The campaign.
    pub campaign: String,
    /// WeChat's day (YYYY-MM-DD) of the last pull; none yet: null (the
    /// first comes after 08:00 Beijing time the day after the send).
    pub pulled_on: Option<String>,
    /// Each article, from 1.
    pub articles: Vec<ArticleReads>,
}

/// One article's figures, day by day.
#[derive(Debug, Serialize, ToSchema)]
pub struct ArticleReads {
    /// From 1.
    pub index: u32,
    /// Its title.
    pub title: String,
    /// Each day's figures so far (cumulative), oldest first.
    pub days: Vec<DayReads>,
}

/// An article's figures so far on one day.
#[derive(Debug, Serialize, ToSchema)]
pub struct DayReads {
    /// YYYY-MM-DD, Beijing time.
    pub date: String,
    /// Followers it reached.
    pub delivered: u64,
    /// People who read it.
    pub readers: u64,
    /// Reads.
    pub reads: u64,
    /// People who shared it.
    pub sharers: u64,
    /// Shares.
    pub shares: u64,
    /// People who added it to favourites.
    pub favouriters: u64,
}

impl ReadsView {
    fn new(campaign: String, series: ReadSeries) -> ReadsView {
        let mut articles: Vec<ArticleReads> = Vec::new();
        for p in series.points {
            if articles.last().is_none_or(|a| a.index != p.article) {
                articles.push(ArticleReads {
                    index: p.article,
                    title: p.title.clone(),
                    days: Vec::new(),
                });
            }
            if let Some(a) = articles.last_mut() {
                a.days.push(DayReads {
                    date: p.date,
                    delivered: p.delivered,
                    readers: p.readers,
                    reads: p.reads,
                    sharers: p.sharers,
                    shares: p.shares,
                    favouriters: p.favouriters,
                });
            }
        }
        ReadsView {
            campaign,
            pulled_on: series.pulled_on,
            articles,
        }
    }
}

/// How a campaign's articles were read, day by day, as last pulled from
/// WeChat's datacube.
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/reads", tag = "campaigns", security(("token" = ["read"])),
    params(("id" = String, Path, description = "The campaign's id")),
    responses((status = 200, body = ReadsView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn campaign_reads(
    Allowed(caller, _): Allowed<ToRead>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<ReadsView>> {
    crate::api::campaigns::find(&state, &caller, &id).await?;
    let series = state.journal().read_series(&id).await?;
    Ok(Json(ReadsView::new(id, series)))
}
