//! `wxmass publish --article post.md`: free publishing (发布): the articles
//! saved as a draft, the draft submitted to `freepublish/submit`, and the
//! publish followed to its end, from the PUBLISHJOBFINISH report `serve`
//! records in the same journal or from `freepublish/get`.
//!
//! A submit cannot be repeated safely (it has no clientmsgid: a second one
//! publishes twice), so the journal records each submission at once, and a
//! rerun of the same articles follows the recorded publish instead of
//! submitting again. A run killed between WeChat's answer and that record
//! leaves a draft that has left the draft box: the rerun notices, looks for
//! the articles among what was published, and submits nothing.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde_json::json;
use wxmass_api::Client;
use wxmass_api::api::publish::{Publish, PublishStatus};
use wxmass_campaign::Content;
use wxmass_campaign::publishes::PublishRecord;
use wxmass_campaign::store::prelude::*;

use crate::cli::{ContentArgs, PublishArgs};
use crate::config::Settings;

/// The journal's kind for drafts (as `articles::prepare` records them).
const DRAFT: &str = "draft";

/// `wxmass publish`.
pub async fn publish(
    settings: &Settings,
    journal: &dyn Store,
    args: &PublishArgs,
    json_out: bool,
) -> Result<()> {
    let content = ContentArgs {
        article: args.article.clone(),
        theme: args.theme.clone(),
        fetch_remote_images: args.fetch_remote_images,
        draft: true,
        ..ContentArgs::default()
    };
    let planned = crate::article::plan(&content, false)?;
    let client = settings.client()?;
    let uploads = crate::campaign::CliUploads::default();
    let mut media_id = prepare(&client, journal, &planned.content, &uploads).await?;
    let appid = &settings.appid;
    let name = args.campaign.clone().unwrap_or_else(|| {
        format!(
            "publish-{}",
            &wxmass_campaign::sha256_hex(media_id.as_bytes())[..12]
        )
    });

    let record = match recorded(journal, appid, &media_id).await? {
        Some(record) => {
            eprintln!(
                "these articles were submitted on {} (publish {}): following it, not submitting again",
                wxmass_campaign::beijing::minute(record.submitted_at.unwrap_or(0)),
                record.publish_id
            );
            record
        }
        None => {
            if !in_draft_box(&client, &media_id).await? {
                let titles = titles(&planned.content, journal).await?;
                if let Some(found) = published_with(&client, &titles).await? {
                    bail!(
                        "these articles were published already (article_id {}, {}): an earlier run's submit went through but was not recorded; nothing submitted again. `wxmass status --unknown` lists its report once serve has it",
                        found.article_id,
                        found
                            .content
                            .news_item
                            .iter()
                            .map(|a| a.url.as_str())
                            .collect::<Vec<_>>()
                            .join(" ")
                    );
                }
                // Mass-sent or deleted since: save the articles afresh.
                journal
                    .forget_media(client.appid(), DRAFT, &media_id)
                    .await?;
                media_id = prepare(&client, journal, &planned.content, &uploads).await?;
            }
            crate::commands::confirm(
                &format!(
                    "Publish {} article(s) on {appid} (without notifying followers)?",
                    args.article.len()
                ),
                "publishing",
                args.yes,
            )?;
            let submitted = client
                .publish()
                .submit(&media_id)
                .await
                .context("freepublish/submit refused the draft")?;
            let now = wxmass_campaign::beijing::now();
            journal
                .record_publish_submitted(
                    appid,
                    submitted.publish_id,
                    &media_id,
                    submitted.msg_data_id,
                    Some(&name),
                    now,
                )
                .await
                .with_context(|| {
                    format!(
                        "publish {} was submitted but could not be recorded; do not rerun before `wxmass status --unknown` or freepublish shows it",
                        submitted.publish_id
                    )
                })?;
            eprintln!("submitted: publish {}", submitted.publish_id);
            recorded(journal, appid, &media_id)
                .await?
                .context("the publish just recorded is not in the journal")?
        }
    };
    let outcome = if args.no_wait {
        Outcome::from_record(&record)
    } else {
        follow(&client, journal, &record, Duration::from_secs(args.timeout)).await?
    };
    let value = json!({
        "campaign": record.campaign, "media_id": record.media_id, "publish_id": record.publish_id,
        "msg_data_id": record.msg_data_id, "status": outcome.status.map(label),
        "article_id": outcome.article_id, "article_urls": outcome.urls,
        "fail_idx": outcome.fail_idx, "told_by": outcome.told_by,
    });
    crate::commands::print(json_out, &value, || outcome.sentence(record.publish_id));
    match outcome.status {
        Some(status) if status.is_final() && status != PublishStatus::Success => bail!(
            "publish {} ended {}: the draft stays in the box; fix the articles and run again",
            record.publish_id,
            label(status)
        ),
        _ => Ok(()),
    }
}

/// The draft's media id for the planned articles (saved once, journalled).
async fn prepare(
    client: &Client,
    journal: &dyn Store,
    content: &Content,
    uploads: &crate::campaign::CliUploads,
) -> Result<String> {
    Ok(wxmass_campaign::articles::prepare(client, journal, content, uploads).await?)
}

/// The journal's record of a publish of `media_id` on `appid`.
async fn recorded(
    journal: &dyn Store,
    appid: &str,
    media_id: &str,
) -> Result<Option<PublishRecord>> {
    find(journal, |p| {
        p.appid == appid && p.media_id.as_deref() == Some(media_id)
    })
    .await
}

/// The first publish in the journal that `matches`.
async fn find(
    journal: &dyn Store,
    matches: impl Fn(&PublishRecord) -> bool,
) -> Result<Option<PublishRecord>> {
    Ok(journal.publishes().await?.into_iter().find(|p| matches(p)))
}

/// Whether the draft box still holds `media_id`.
async fn in_draft_box(client: &Client, media_id: &str) -> Result<bool> {
    use wxmass_api::api::news::DRAFTS_PER_PAGE;
    let news = client.news();
    let mut offset = 0;
    loop {
        let page = news
            .drafts_page(offset, DRAFTS_PER_PAGE)
            .await
            .context("cannot list the draft box (draft/batchget)")?;
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
async fn titles(content: &Content, journal: &dyn Store) -> Result<Vec<String>> {
    let Content::Articles { articles, .. } = content else {
        return Ok(Vec::new());
    };
    let mut titles = Vec::new();
    for file in articles {
        let article = wxmass_campaign::articles::Article::planned(journal, file).await?;
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
        let (total, items) = client
            .publish()
            .page(page * PAGE, PAGE, false)
            .await
            .context("cannot list what was published (freepublish/batchget)")?;
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
struct Outcome {
    status: Option<PublishStatus>,
    article_id: Option<String>,
    urls: Vec<String>,
    fail_idx: Vec<u32>,
    told_by: &'static str,
}

impl Outcome {
    fn from_record(record: &PublishRecord) -> Outcome {
        Outcome {
            status: record.status.map(PublishStatus::from_code),
            article_id: record.article_id.clone(),
            urls: record.article_urls.clone(),
            fail_idx: record.fail_idx.clone(),
            told_by: if record.status.is_some() {
                "PUBLISHJOBFINISH"
            } else {
                "nobody yet"
            },
        }
    }

    fn from_get(publish: Publish) -> Outcome {
        Outcome {
            status: Some(publish.publish_status),
            article_id: Some(publish.article_id).filter(|a| !a.is_empty()),
            urls: publish
                .article_detail
                .item
                .into_iter()
                .map(|i| i.article_url)
                .collect(),
            fail_idx: publish.fail_idx.into_iter().map(|i| i.get()).collect(),
            told_by: "freepublish/get",
        }
    }

    fn sentence(&self, publish_id: i64) -> String {
        match self.status {
            None => format!(
                "publish {publish_id}: submitted; its report comes as a PUBLISHJOBFINISH push (`wxmass serve`), or rerun this command to follow it"
            ),
            Some(PublishStatus::Publishing) => {
                format!("publish {publish_id}: still publishing; rerun this command to follow it")
            }
            Some(PublishStatus::Success) => {
                let mut out = format!(
                    "publish {publish_id}: published (article_id {}), per {}",
                    self.article_id.as_deref().unwrap_or("?"),
                    self.told_by
                );
                for (i, url) in self.urls.iter().enumerate() {
                    out.push_str(&format!("\n  {} {url}", i + 1));
                }
                out
            }
            Some(other) => format!(
                "publish {publish_id}: {} (articles {:?}), per {}",
                label(other),
                self.fail_idx,
                self.told_by
            ),
        }
    }
}

/// Follows a publish until it ends or `timeout` passes: the journal first
/// (a report `serve` recorded), then WeChat.
async fn follow(
    client: &Client,
    journal: &dyn Store,
    record: &PublishRecord,
    timeout: Duration,
) -> Result<Outcome> {
    let deadline = tokio::time::Instant::now() + timeout;
    let mut pause = Duration::from_millis(200);
    let working =
        crate::progress::Working::new(format!("publish {}: publishing", record.publish_id));
    loop {
        if let Some(now) = recorded_report(journal, record).await? {
            drop(working);
            return Ok(now);
        }
        let publish = client
            .publish()
            .get(record.publish_id)
            .await
            .context("cannot ask how the publish stands (freepublish/get)")?;
        if publish.publish_status.is_final() || tokio::time::Instant::now() >= deadline {
            drop(working);
            return Ok(Outcome::from_get(publish));
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(10));
    }
}

/// The report recorded for `record`'s publish, if one came.
async fn recorded_report(journal: &dyn Store, record: &PublishRecord) -> Result<Option<Outcome>> {
    let now = find(journal, |p| {
        p.appid == record.appid && p.publish_id == record.publish_id
    })
    .await?;
    Ok(now
        .filter(|p| p.status.is_some())
        .map(|p| Outcome::from_record(&p)))
}

/// For people and `--json`: the vocabulary's words, and an undocumented
/// value by its number.
fn label(status: PublishStatus) -> String {
    match status {
        PublishStatus::Other(n) => format!("status {n}"),
        known => known.meaning().to_owned(),
    }
}
