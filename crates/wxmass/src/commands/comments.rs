//! `wxmass comments CAMPAIGN`: the comments on a campaign's articles, and
//! what an operator does with them: open or close them, feature (精选) one,
//! reply to one, delete one. Articles are numbered from 1, as everywhere in
//! wxmass; the comment API's 0-based index stays inside wxmass-api.

use std::collections::BTreeSet;

use anyhow::{Context, Result, bail};
use futures_util::TryStreamExt as _;
use serde_json::json;
use wxmass_api::Client;
use wxmass_api::api::comments::{ArticleRef, Which};
use wxmass_api::api::datacube::ArticleIndex;
use wxmass_campaign::store::prelude::*;
use wxmass_campaign::{Content, beijing};

/// What to do, besides listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// List the comments.
    List,
    /// Let followers comment.
    Open,
    /// Stop comments.
    Close,
    /// Reply to a comment.
    Reply(i64, String),
    /// Feature a comment.
    Elect(i64),
    /// Delete a comment.
    Delete(i64),
}

/// `wxmass comments CAMPAIGN`.
pub async fn comments(
    client: &Client,
    journal: &dyn Store,
    campaign: &str,
    article: Option<u32>,
    action: Action,
    json_out: bool,
) -> Result<()> {
    let c = journal.planned_campaign(campaign).await?.with_context(|| {
        format!("no campaign {campaign:?} in the journal: `wxmass campaigns` lists them")
    })?;
    let articles = match &c.content {
        Content::Articles { articles, .. } => articles.len() as u32,
        other => bail!(
            "campaign {campaign} sent {}: comments are on articles only",
            other.msgtype()
        ),
    };
    let data_ids: BTreeSet<i64> = journal
        .batches(campaign)
        .await?
        .iter()
        .filter_map(|b| b.msg_data_id)
        .collect();
    if data_ids.is_empty() {
        bail!("campaign {campaign} has no job WeChat named yet: send it first");
    }
    let chosen: Vec<u32> = match article {
        Some(n) if (1..=articles).contains(&n) => vec![n],
        Some(n) => {
            bail!("--article {n}: campaign {campaign} has {articles} article(s), 1 to {articles}")
        }
        None if action != Action::List && articles > 1 => bail!(
            "campaign {campaign} has {articles} articles: say which with --article N (1 to {articles})"
        ),
        None => (1..=articles).collect(),
    };
    let mut listed = Vec::new();
    for data_id in &data_ids {
        for n in &chosen {
            let index = ArticleIndex::new(*n).context("articles count from 1")?;
            let at = ArticleRef::new(*data_id, index);
            let api = client.comments();
            match &action {
                Action::List => {}
                Action::Open => api.open(at).await?,
                Action::Close => api.close(at).await?,
                Action::Reply(id, text) => api.reply(at, *id, text).await?,
                Action::Elect(id) => api.feature(at, *id).await?,
                Action::Delete(id) => api.delete(at, *id).await?,
            }
            let all: Vec<_> = api.all(at, Which::All).try_collect().await?;
            for comment in all {
                listed.push((*data_id, *n, comment));
            }
        }
    }
    let value = json!(
        listed
            .iter()
            .map(|(data_id, n, c)| json!({
                "msg_data_id": data_id, "article": n, "id": c.user_comment_id, "openid": c.openid,
                "created_at": c.create_time, "content": c.content, "featured": c.is_featured(),
                "reply": c.reply.as_ref().map(|r| r.content.clone()),
            }))
            .collect::<Vec<_>>()
    );
    super::print(json_out, &value, || {
        if listed.is_empty() {
            return format!("no comments on campaign {campaign} (open them with --open)");
        }
        let mut out = format!(
            "{:<7}  {:>6}  {:<8}  {:<16}  COMMENT / REPLY",
            "ARTICLE", "ID", "FEATURED", "WHEN"
        );
        for (_, n, c) in &listed {
            out.push_str(&format!(
                "\n{:<7}  {:>6}  {:<8}  {:<16}  {}",
                n,
                c.user_comment_id,
                if c.is_featured() { "yes" } else { "" },
                beijing::minute(c.create_time),
                c.content.escape_debug()
            ));
            if let Some(reply) = &c.reply {
                out.push_str(&format!("\n{:<45}  ↳ {}", "", reply.content.escape_debug()));
            }
        }
        out
    });
    Ok(())
}
