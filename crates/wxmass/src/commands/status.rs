//! `wxmass status` and `wxmass campaigns`: what the journal says.

use anyhow::{Context, Result};
use serde_json::json;

use wxmass_campaign::store::prelude::*;
use wxmass_campaign::{Content, Summary, beijing};

use crate::campaign_view::audience;
use crate::campaign_view::print_campaign;

/// `wxmass status [CAMPAIGN] [--refresh]`: with a client, each job's status
/// is asked of WeChat first.
pub async fn status(
    journal: &dyn Store,
    id: Option<&str>,
    refresh: Option<&wxmass_api::Client>,
    json_out: bool,
) -> Result<()> {
    let id = match id {
        Some(id) => id.to_owned(),
        None => journal
            .planned_campaigns()
            .await?
            .first()
            .map(|c| c.id.clone())
            .context("the journal has no campaigns yet")?,
    };
    if let Some(client) = refresh {
        let campaign = journal.planned_campaign(&id).await?.with_context(|| {
            format!("no campaign {id:?} in the journal; see `wxmass campaigns`")
        })?;
        if campaign.content.is_notice() {
            // A notice has no jobs to ask about: the reports `serve` kept
            // are folded into its recipients.
            let joined = wxmass_campaign::fanout::join_reports(journal, &campaign).await?;
            eprintln!(
                "{} report(s) joined: {} delivered, {} failed ({} of them had been unknown)",
                joined.delivered + joined.failed,
                joined.delivered,
                joined.failed,
                joined.were_unknown
            );
            return print_campaign(journal, &id, json_out).await;
        }
        if campaign.appid != client.appid() {
            anyhow::bail!(
                "campaign {id} was sent from {}, not {}: pass --profile or --appid for that account",
                campaign.appid,
                client.appid()
            );
        }
        // Batches WeChat took without naming the job are sent again to
        // learn it, once their minute has passed.
        let options = crate::campaign::work_options(journal, None);
        wxmass_campaign::engine::name_unnamed(journal, client, &campaign, &options).await?;
        let batches = journal.batches(&id).await?;
        wxmass_campaign::track::ask_statuses(
            client,
            journal,
            &id,
            &batches.iter().collect::<Vec<_>>(),
        )
        .await?;
    }
    print_campaign(journal, &id, json_out).await
}

/// `wxmass campaigns`: every campaign in the store, whoever sends it (the
/// CLI, a worker, or a server: its drafts and schedules too).
pub async fn campaigns(journal: &dyn Store, json_out: bool) -> Result<()> {
    let list = journal.campaigns().await?;
    let mut rows = Vec::new();
    for c in &list {
        let counts = Summary::of(&journal.batches(&c.id).await?);
        rows.push(json!({"id": c.id, "name": c.name, "state": c.state.as_str(), "appid": c.appid,
                         "type": c.content.msgtype(), "summary": summary(&c.content),
                         "audience": c.audience.kind(), "tag_id": c.audience.tag_id(), "audience_size": c.audience_size,
                         "batches": counts.batches, "submitted": counts.submitted, "counts": counts,
                         "created_by": c.created_by, "created_at": c.created_at}));
    }
    super::print(json_out, &json!(rows), || {
        let mut out = format!(
            "{:<16}  {:<16}  {:<18}  {:<17}  {:<8}  {:<10}  {:>9}  {:<7}  CONTENT",
            "CAMPAIGN", "CREATED", "ACCOUNT", "STATE", "TYPE", "AUDIENCE", "FOLLOWERS", "BATCHES"
        );
        for (r, c) in rows.iter().zip(&list) {
            out.push_str(&format!(
                "\n{:<16}  {:<16}  {:<18}  {:<17}  {:<8}  {:<10}  {:>9}  {:<7}  {}",
                super::clean(&c.id),
                beijing::minute(c.created_at),
                super::clean(&c.appid),
                c.state.as_str(),
                r["type"].as_str().unwrap_or(""),
                audience(&c.audience),
                c.audience_size,
                format!("{}/{}", r["submitted"], r["batches"]),
                r["summary"].as_str().unwrap_or("")
            ));
        }
        out
    });
    Ok(())
}

/// A line about a campaign's content: the text's start, the files' names,
/// the articles' files.
fn summary(content: &Content) -> String {
    let name = |f: &wxmass_campaign::FileRef| {
        f.path
            .file_name()
            .map_or(f.path.display().to_string(), |n| {
                n.to_string_lossy().into_owned()
            })
    };
    let text = match content {
        Content::Text { text } => text.clone(),
        Content::Images { files } => files.iter().map(name).collect::<Vec<_>>().join(", "),
        Content::Articles { articles, .. } => articles
            .iter()
            .map(|a| name(&a.file))
            .collect::<Vec<_>>()
            .join(", "),
        Content::Video { title, .. } => title.clone(),
        Content::Voice { file } => name(file),
        Content::Card { card_id } => card_id.clone(),
        Content::Uploaded { media_id, .. } => media_id.clone(),
        Content::Notice {
            template,
            subscription,
            custom_text,
            ..
        } => match (template, subscription, custom_text) {
            (Some(t), _, _) => format!("template {}", t.template_id),
            (_, Some(n), _) => format!("subscription {}", n.template_id),
            (_, _, Some(text)) => text.clone(),
            _ => String::new(),
        },
    };
    // One line, at most 40 characters, nothing that drives a terminal.
    let line: String = super::clean(&text).chars().take(40).collect();
    if text.chars().count() > 40 {
        format!("{line}…")
    } else {
        line
    }
}

/// `wxmass status --unknown`: reports `serve` recorded that belong to no
/// campaign's batch, and reports that contradict the first for their job.
pub async fn stray_reports(journal: &dyn Store, json_out: bool) -> Result<()> {
    let strays = journal.stray_reports().await?;
    // Free publishing's reports this journal did not submit, or that
    // contradict the first: the same list, their kind says which.
    let publishes: Vec<_> = journal
        .publishes()
        .await?
        .into_iter()
        .filter(|p| p.status.is_some() && (p.media_id.is_none() || p.conflicting))
        .collect();
    let mut listed: Vec<serde_json::Value> = strays.iter().map(|s| json!(s)).collect();
    for p in &publishes {
        let status = p.status.map(wxmass_callback::PublishStatus::from_code);
        listed.push(json!({"appid": p.appid, "publish_id": p.publish_id,
            "kind": if p.conflicting { "publish conflict" } else { "unknown publish" },
            "publish_status": p.status, "status": status.map(|s| s.meaning()),
            "article_id": p.article_id, "articles": p.article_urls.len(), "fail_idx": p.fail_idx,
            "received_at": p.reported_at}));
    }
    super::print(json_out, &json!(listed), || {
        if listed.is_empty() {
            return "no reports outside the journal's campaigns, and no conflicting reports".into();
        }
        let mut out = format!(
            "{:<20}  {:>20}  {:<16}  {:<14}  SENT",
            "APPID", "MSG_ID", "KIND", "STATUS"
        );
        for s in &strays {
            out.push_str(&format!(
                "\n{:<20}  {:>20}  {:<16}  {:<14}  {}",
                s.appid.escape_debug().to_string(),
                s.msg_id,
                s.kind,
                s.status.escape_debug().to_string(),
                s.sent_count
            ));
        }
        for p in &publishes {
            let status = p
                .status
                .map(wxmass_callback::PublishStatus::from_code)
                .map_or("", |s| s.meaning());
            out.push_str(&format!(
                "\n{:<20}  {:>20}  {:<16}  {:<14}  {} article(s)",
                p.appid.escape_debug().to_string(),
                p.publish_id,
                if p.conflicting {
                    "publish conflict"
                } else {
                    "unknown publish"
                },
                status,
                p.article_urls.len()
            ));
        }
        out.push_str(
            "\n\nAn unknown job is a report for a msg_id no batch has: another tool's send, or a report that\narrived before `send` recorded its msg_id (it joins its batch once recorded). A conflict is a\nsecond report for a job that differs from the first, which is kept; WeChat does not send those.\nAn unknown publish is a PUBLISHJOBFINISH for a publish this journal did not submit (MSG_ID is\nits publish_id).",
        );
        out
    });
    Ok(())
}
