//! `wxmass tags list|create|rename|add|remove|delete`.

use anyhow::{Context, Result};
use serde_json::json;

use crate::cli::TagsCommand;
use crate::config::Settings;

pub async fn run(settings: &Settings, command: &TagsCommand, json: bool) -> Result<()> {
    let client = settings.client()?;
    let tags = client.tags();
    match command {
        TagsCommand::List => {
            let list = tags.list().await?;
            let value = json!(
                list.iter()
                    .map(|t| json!({"id": t.id, "name": t.name, "count": t.count}))
                    .collect::<Vec<_>>()
            );
            super::print(json, &value, || {
                let mut out = format!("{:>6}  {:>10}  NAME", "ID", "FOLLOWERS");
                for t in &list {
                    out.push_str(&format!("\n{:>6}  {:>10}  {}", t.id, t.count, t.name));
                }
                out
            });
        }
        TagsCommand::Create { name } => {
            let tag = tags.create(name).await?;
            super::print(json, &json!({"id": tag.id, "name": tag.name}), || {
                format!("created tag {} {:?}", tag.id, tag.name)
            });
        }
        TagsCommand::Rename { id, name } => {
            tags.rename(*id, name).await?;
            super::print(json, &json!({"id": id, "name": name}), || {
                format!("renamed tag {id} to {name:?}")
            });
        }
        TagsCommand::Add { tag, openids } => {
            let n = batch_tag(openids, async |chunk| tags.tag_users(*tag, chunk).await).await?;
            super::print(json, &json!({"tag": tag, "tagged": n}), || {
                format!("tagged {n} followers with tag {tag}")
            });
        }
        TagsCommand::Remove { tag, openids } => {
            let n = batch_tag(openids, async |chunk| tags.untag_users(*tag, chunk).await).await?;
            super::print(json, &json!({"tag": tag, "untagged": n}), || {
                format!("removed tag {tag} from {n} followers")
            });
        }
        TagsCommand::Delete { id, yes } => {
            super::confirm(
                &format!("Delete tag {id}? Its followers keep following, untagged."),
                &format!("refusing to delete tag {id}"),
                *yes,
            )?;
            tags.delete(*id).await?;
            super::print(json, &json!({"id": id, "deleted": true}), || {
                format!("deleted tag {id}")
            });
        }
    }
    Ok(())
}

/// WeChat tags at most this many followers per request.
const PER_REQUEST: usize = 50;

/// Reads `path` twice: once to check every line (nothing is sent if one is
/// wrong), then in chunks of 50 for `call`. Memory stays flat. Returns how
/// many openids were sent.
async fn batch_tag(
    path: &std::path::Path,
    call: impl AsyncFn(&[String]) -> wxmass_api::Result<()>,
) -> Result<u64> {
    let mut total = 0u64;
    wxmass_campaign::audience::each_openid::<anyhow::Error>(path, |_| {
        total += 1;
        Ok(())
    })?;
    if total == 0 {
        anyhow::bail!("{} has no openids", path.display());
    }
    let mut progress = crate::progress::Progress::new("followers", total);
    let mut chunk = Vec::with_capacity(PER_REQUEST);
    // Chunks are sent as they fill: the file is read in step with the calls.
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<String>>(4);
    let path = path.to_owned();
    let reader = tokio::task::spawn_blocking(move || {
        wxmass_campaign::audience::each_openid::<anyhow::Error>(&path, |openid| {
            chunk.push(openid.to_owned());
            if chunk.len() == PER_REQUEST {
                let full = std::mem::replace(&mut chunk, Vec::with_capacity(PER_REQUEST));
                tx.blocking_send(full)
                    .map_err(|_| anyhow::anyhow!("stopped"))?;
            }
            Ok(())
        })?;
        if !chunk.is_empty() {
            tx.blocking_send(chunk)
                .map_err(|_| anyhow::anyhow!("stopped"))?;
        }
        anyhow::Ok(())
    });
    let mut sent = 0u64;
    while let Some(openids) = rx.recv().await {
        call(&openids).await.with_context(|| {
            format!("after {sent} of {total} followers; the rest were not sent")
        })?;
        sent += openids.len() as u64;
        progress.inc(openids.len() as u64);
    }
    reader.await??;
    progress.finish();
    Ok(sent)
}
