//! `wxmass publish --article post.md`: free publishing (发布): the articles
//! saved as a draft, the draft submitted to `freepublish/submit`, and the
//! publish followed to its end, from the PUBLISHJOBFINISH report `serve`
//! records in the same journal or from `freepublish/get`.
//!
//! The exactly-once rules are the engine's (`wxmass_campaign::publishes`,
//! shared with the server's `POST /api/v1/publishes`): a rerun of the same
//! articles follows the recorded publish instead of submitting again.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde_json::json;
use wxmass_api::api::publish::PublishStatus;
use wxmass_campaign::publishing::{self, Outcome};
use wxmass_campaign::store::prelude::*;

use crate::cli::{ContentArgs, PublishArgs};
use crate::config::Settings;

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
    let planned = crate::campaign::read_checked(&content, None, false).await?;
    let client = settings.client()?;
    let uploads = crate::campaign::CliUploads::default();
    let plan = match publishing::plan(&client, journal, &planned.content, &uploads).await {
        Ok(plan) => plan,
        Err(wxmass_campaign::Error::AlreadyPublished { article_id, urls }) => bail!(
            "these articles were published already (article_id {article_id}, {}): an earlier run's submit went through but was not recorded; nothing submitted again. `wxmass status --unknown` lists its report once serve has it",
            urls.join(" ")
        ),
        Err(e) => return Err(crate::campaign::engine_error(e)),
    };
    let appid = &settings.appid;
    let name = args.campaign.clone().unwrap_or_else(|| plan.default_name());
    if let Some(record) = &plan.recorded {
        eprintln!(
            "these articles were submitted on {} (publish {}): following it, not submitting again",
            wxmass_campaign::beijing::minute(record.submitted_at.unwrap_or(0)),
            record.publish_id
        );
    } else {
        crate::commands::confirm(
            &format!(
                "Publish {} article(s) on {appid} (without notifying followers)?",
                plan.articles
            ),
            "publishing",
            args.yes,
        )?;
    }
    let record = publishing::submit(
        &client,
        journal,
        &plan,
        &name,
        wxmass_campaign::beijing::now(),
    )
    .await
    .map_err(|e| match e {
        wxmass_campaign::Error::Api(e) => {
            anyhow::Error::new(e).context("freepublish/submit refused the draft")
        }
        e => e.into(),
    })?;
    if plan.recorded.is_none() {
        eprintln!("submitted: publish {}", record.publish_id);
    }
    let outcome = if args.no_wait {
        Outcome::from_record(&record)
    } else {
        let working =
            crate::progress::Working::new(format!("publish {}: publishing", record.publish_id));
        let outcome =
            publishing::follow(&client, journal, &record, Duration::from_secs(args.timeout))
                .await
                .map_err(crate::campaign::engine_error)
                .context("cannot ask how the publish stands (freepublish/get)")?;
        drop(working);
        outcome
    };
    let value = json!({
        "campaign": record.campaign, "media_id": record.media_id, "publish_id": record.publish_id,
        "msg_data_id": record.msg_data_id, "status": outcome.status.map(publishing::label),
        "article_id": outcome.article_id, "article_urls": outcome.article_urls,
        "fail_idx": outcome.fail_idx, "told_by": outcome.told_by,
    });
    crate::commands::print(json_out, &value, || sentence(&outcome));
    if outcome.failed() {
        bail!(
            "publish {} ended {}: the draft stays in the box; fix the articles and run again",
            record.publish_id,
            outcome.status.map(publishing::label).unwrap_or_default()
        );
    }
    Ok(())
}

/// How a publish stands, for people.
fn sentence(outcome: &Outcome) -> String {
    let publish_id = outcome.publish_id;
    match outcome.status {
        None => format!(
            "publish {publish_id}: submitted; its report comes as a PUBLISHJOBFINISH push (`wxmass serve`), or rerun this command to follow it"
        ),
        Some(PublishStatus::Publishing) => {
            format!("publish {publish_id}: still publishing; rerun this command to follow it")
        }
        Some(PublishStatus::Success) => {
            let mut out = format!(
                "publish {publish_id}: published (article_id {}), per {}",
                outcome.article_id.as_deref().unwrap_or("?"),
                outcome.told_by
            );
            for (i, url) in outcome.article_urls.iter().enumerate() {
                out.push_str(&format!("\n  {} {url}", i + 1));
            }
            out
        }
        Some(other) => format!(
            "publish {publish_id}: {} (articles {:?}), per {}",
            publishing::label(other),
            outcome.fail_idx,
            outcome.told_by
        ),
    }
}
