//! Free publishing (发布), exactly once: [`plan`] (the articles saved as a
//! draft once), [`submit`] (recorded at once), [`follow`] (to the end).
//!
//! A submit cannot be repeated safely (it has no clientmsgid: a second one
//! publishes twice), so the store records each submission at once, and a
//! second request for the same articles follows the recorded publish
//! instead of submitting again. A sender killed between WeChat's answer and
//! that record leaves a draft that has left the draft box: the next attempt
//! notices, looks for the articles among what was published, and submits
//! nothing. The CLI's `wxmass publish` and the server's
//! `POST /api/v1/publishes` both go through here; the records are
//! [`crate::publishes`]'.

use std::time::Duration;

use serde::Serialize;

use wxmass_api::Client;
use wxmass_api::api::publish::{Publish, PublishStatus};

use crate::prepare::UploadObserver;
use crate::publishes::PublishRecord;
use crate::store::prelude::*;
use crate::{Content, Error, Result};

/// The store's kind for drafts (as `articles::prepare` records them).
const DRAFT: &str = "draft";

/// Articles saved as a draft, ready to be submitted, or already submitted.
#[derive(Debug, Clone)]
pub struct PublishPlan {
    /// The account.
    pub appid: String,
    /// The draft's media id.
    pub media_id: String,
    /// How many articles.
    pub articles: usize,
    /// The publish of this draft the store holds already: follow it,
    /// never submit again.
    pub recorded: Option<PublishRecord>,
}

impl PublishPlan {
    /// The name a publish is kept under when none is given: from its draft.
    pub fn default_name(&self) -> String {
        format!(
            "publish-{}",
            &crate::sha256_hex(self.media_id.as_bytes())[..12]
        )
    }
}

/// Saves `content` (articles, planned in `store`) as a draft, once, and
/// says whether it was submitted already. Refuses, submitting nothing, when
/// the draft left the box because an earlier submit went through unrecorded.
pub async fn plan(
    client: &Client,
    store: &dyn Store,
    content: &Content,
    uploads: &dyn UploadObserver,
) -> Result<PublishPlan> {
    let content = as_draft(content)?;
    let appid = client.appid().to_owned();
    let articles = match &content {
        Content::Articles { articles, .. } => articles.len(),
        _ => 0,
    };
    let mut media_id = crate::articles::prepare(client, store, &content, uploads).await?;
    if let Some(recorded) = recorded(store, &appid, &media_id).await? {
        return Ok(PublishPlan {
            appid,
            media_id,
            articles,
            recorded: Some(recorded),
        });
    }
    if !in_draft_box(client, &media_id).await? {
        let titles = titles(&content, store).await?;
        if let Some(found) = published_with(client, &titles).await? {
            return Err(Error::AlreadyPublished {
                article_id: found.article_id,
                urls: found
                    .content
                    .news_item
                    .iter()
                    .map(|a| a.url.clone())
                    .collect(),
            });
        }
        // Mass-sent or deleted since: save the articles afresh.
        store.forget_media(&appid, DRAFT, &media_id).await?;
        media_id = crate::articles::prepare(client, store, &content, uploads).await?;
    }
    Ok(PublishPlan {
        appid,
        media_id,
        articles,
        recorded: None,
    })
}

/// The content as a draft: articles only (a publish is of a draft).
fn as_draft(content: &Content) -> Result<Content> {
    match content {
        Content::Articles { .. } => {
            let mut content = content.clone();
            if let Content::Articles { draft, .. } = &mut content {
                *draft = true;
            }
            Ok(content)
        }
        other => Err(Error::Invalid(format!(
            "only articles can be published; this is {}",
            other.msgtype()
        ))),
    }
}

/// Submits `plan`'s draft (unless it was submitted already: then its record)
/// and records the submission at once under `name`.
pub async fn submit(
    client: &Client,
    store: &dyn Store,
    plan: &PublishPlan,
    name: &str,
    now: i64,
) -> Result<PublishRecord> {
    if let Some(recorded) = &plan.recorded {
        return Ok(recorded.clone());
    }
    let submitted = client.publish().submit(&plan.media_id).await?;
    let unrecorded = |source: Error| Error::PublishUnrecorded {
        publish_id: submitted.publish_id,
        source: Box::new(source),
    };
    store
        .record_publish_submitted(
            &plan.appid,
            submitted.publish_id,
            &plan.media_id,
            submitted.msg_data_id,
            Some(name),
            now,
        )
        .await
        .map_err(unrecorded)?;
    recorded(store, &plan.appid, &plan.media_id)
        .await
        .map_err(unrecorded)?
        .ok_or_else(|| {
            unrecorded(Error::Invalid(
                "the publish just recorded is not in the store".into(),
            ))
        })
}

/// The store's record of a publish of `media_id` on `appid`.
async fn recorded(store: &dyn Store, appid: &str, media_id: &str) -> Result<Option<PublishRecord>> {
    Ok(store
        .publishes()
        .await?
        .into_iter()
        .find(|p| p.appid == appid && p.media_id.as_deref() == Some(media_id)))
}

/// Whether the draft box still holds `media_id`.
async fn in_draft_box(client: &Client, media_id: &str) -> Result<bool> {
    use wxmass_api::api::news::DRAFTS_PER_PAGE;
    let news = client.news();
    let mut offset = 0;
    loop {
        let page = news.drafts_page(offset, DRAFTS_PER_PAGE).await?;
        if page.items.iter().any(|d| d.media_id == media_id) {
            return Ok(true);
        }
        offset += page.items.len() as u64;
        if page.items.is_empty() || offset >= page.total_count {
            return Ok(false);
        }
    }
}

/// The planned articles' titles, in order.
async fn titles(content: &Content, store: &dyn Store) -> Result<Vec<String>> {
    let Content::Articles { articles, .. } = content else {
        return Ok(Vec::new());
    };
    let mut titles = Vec::new();
    for file in articles {
        let article = crate::articles::Article::planned(store, file).await?;
        titles.push(article.document.front.title.clone());
    }
    Ok(titles)
}

/// A published message whose articles have `titles`, newest first (the
/// first pages only: an unrecorded submit is recent).
async fn published_with(
    client: &Client,
    titles: &[String],
) -> Result<Option<wxmass_api::api::publish::Published>> {
    use wxmass_api::api::publish::PAGE;
    for page in 0..5 {
        let (total, items) = client.publish().page(page * PAGE, PAGE, false).await?;
        if let Some(found) = items.into_iter().find(|p| {
            p.content
                .news_item
                .iter()
                .map(|a| &a.title)
                .eq(titles.iter())
        }) {
            return Ok(Some(found));
        }
        if u64::from((page + 1) * PAGE) >= total {
            break;
        }
    }
    Ok(None)
}

/// How a publish stands, and who said so.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outcome {
    /// The publish.
    pub publish_id: i64,
    /// Its status, once known (`None`: submitted, nobody said more yet).
    #[serde(serialize_with = "status_label")]
    pub status: Option<PublishStatus>,
    /// On success.
    pub article_id: Option<String>,
    /// Each article's address.
    pub article_urls: Vec<String>,
    /// The 1-based indexes of the articles that failed.
    pub fail_idx: Vec<u32>,
    /// `PUBLISHJOBFINISH`, `freepublish/get` or `nobody yet`.
    pub told_by: &'static str,
}

fn status_label<S: serde::Serializer>(
    status: &Option<PublishStatus>,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    match status {
        Some(status) => s.serialize_some(&label(*status)),
        None => s.serialize_none(),
    }
}

/// For people and JSON: the vocabulary's words, and an undocumented value
/// by its number.
pub fn label(status: PublishStatus) -> String {
    match status {
        PublishStatus::Other(n) => format!("status {n}"),
        known => known.meaning().to_owned(),
    }
}

impl Outcome {
    /// What the store knows of `record`.
    pub fn from_record(record: &PublishRecord) -> Outcome {
        Outcome {
            publish_id: record.publish_id,
            status: record.status.map(PublishStatus::from_code),
            article_id: record.article_id.clone(),
            article_urls: record.article_urls.clone(),
            fail_idx: record.fail_idx.clone(),
            told_by: if record.status.is_some() {
                "PUBLISHJOBFINISH"
            } else {
                "nobody yet"
            },
        }
    }

    fn from_get(publish_id: i64, publish: Publish) -> Outcome {
        Outcome {
            publish_id,
            status: Some(publish.publish_status),
            article_id: Some(publish.article_id).filter(|a| !a.is_empty()),
            article_urls: publish
                .article_detail
                .item
                .into_iter()
                .map(|i| i.article_url)
                .collect(),
            fail_idx: publish.fail_idx.into_iter().map(|i| i.get()).collect(),
            told_by: "freepublish/get",
        }
    }

    /// Whether it ended in anything but success.
    pub fn failed(&self) -> bool {
        self.status
            .is_some_and(|s| s.is_final() && s != PublishStatus::Success)
    }
}

/// Follows a publish until it ends or `timeout` passes: the store first
/// (a report a receiver recorded), then WeChat (`freepublish/get`).
pub async fn follow(
    client: &Client,
    store: &dyn Store,
    record: &PublishRecord,
    timeout: Duration,
) -> Result<Outcome> {
    let deadline = tokio::time::Instant::now() + timeout;
    let mut pause = Duration::from_millis(200);
    loop {
        if let Some(now) = store
            .publishes()
            .await?
            .into_iter()
            .find(|p| p.appid == record.appid && p.publish_id == record.publish_id)
            .filter(|p| p.status.is_some())
        {
            return Ok(Outcome::from_record(&now));
        }
        let publish = client.publish().get(record.publish_id).await?;
        if publish.publish_status.is_final() || tokio::time::Instant::now() >= deadline {
            return Ok(Outcome::from_get(record.publish_id, publish));
        }
        tokio::time::sleep(pause.min(deadline - tokio::time::Instant::now())).await;
        pause = (pause * 2).min(Duration::from_secs(10));
    }
}
