//! The single-call commands: `preview`, `media upload`, `mass get|delete`, `speed`.

use anyhow::{Context, Result};
use serde_json::json;
use wxmass_api::{MediaKind, PreviewTarget};

use crate::cli::{DraftsCommand, MassCommand, MediaCommand, PreviewArgs, SpeedAction};
use crate::config::Settings;

fn media_kind(kind: &str) -> MediaKind {
    match kind {
        "voice" => MediaKind::Voice,
        "video" => MediaKind::Video,
        "thumb" => MediaKind::Thumb,
        _ => MediaKind::Image,
    }
}

pub async fn preview(
    settings: &Settings,
    journal: &dyn wxmass_campaign::Store,
    args: &PreviewArgs,
    json: bool,
) -> Result<()> {
    args.content.check()?;
    let client = settings.client()?;
    let message = crate::campaign::preview_message(&client, journal, args).await?;
    let to = match (&args.to, &args.wxname) {
        (Some(openid), _) => PreviewTarget::OpenId(openid.clone()),
        (None, Some(name)) => PreviewTarget::WeChatId(name.clone()),
        (None, None) => anyhow::bail!("give --to OPENID or --wxname ID"),
    };
    let msg_id = client.mass().preview(&message, &to).await?;
    let who = args.to.as_deref().or(args.wxname.as_deref()).unwrap_or("");
    super::print(
        json,
        &json!({"previewed": true, "to": who, "msg_id": msg_id}),
        || format!("preview sent to {who}"),
    );
    Ok(())
}

pub async fn media(settings: &Settings, command: &MediaCommand, json: bool) -> Result<()> {
    let client = settings.client()?;
    let (file, kind, permanent, title, description) = match command {
        MediaCommand::Upload {
            file,
            kind,
            permanent,
            title,
            description,
        } => (file, kind, permanent, title, description),
        MediaCommand::List { kind } => return list_material(&client, media_kind(kind), json).await,
        MediaCommand::Delete { media_id, yes } => {
            super::confirm(
                &format!("Delete permanent material {media_id}? This cannot be undone."),
                &format!("refusing to delete material {media_id}"),
                *yes,
            )?;
            client.media().delete_material(media_id).await?;
            super::print(
                json,
                &json!({"media_id": media_id, "deleted": true}),
                || format!("deleted material {media_id}"),
            );
            return Ok(());
        }
    };
    let data = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let name = file
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("file")
        .to_owned();
    let kind = media_kind(kind);
    let working = crate::progress::Working::new(format!("uploading {}", file.display()));
    let (media_id, url) = if *permanent {
        let video = title
            .as_deref()
            .map(|t| (t, description.as_deref().unwrap_or("")));
        client
            .media()
            .add_material(kind, &name, data, video)
            .await?
    } else {
        (
            client.media().upload(kind, &name, data).await?.media_id,
            None,
        )
    };
    drop(working);
    super::print(
        json,
        &json!({"media_id": media_id, "url": url, "type": kind.as_str(), "permanent": permanent}),
        || {
            format!(
                "{media_id}{}",
                url.as_deref()
                    .map(|u| format!("\\n{u}"))
                    .unwrap_or_default()
            )
        },
    );
    Ok(())
}

/// Every item of one kind, 20 a request.
async fn list_material(client: &wxmass_api::Client, kind: MediaKind, json: bool) -> Result<()> {
    let items = every_page(async |offset| {
        let page = client.media().material_page(kind, offset, 20).await?;
        Ok((page.items, page.total_count))
    })
    .await?;
    super::print(json, &json!(items), || {
        id_table(
            "NAME",
            items
                .iter()
                .map(|m| (m.media_id.as_str(), m.update_time, m.name.clone())),
        )
    });
    Ok(())
}

/// Every item of a paged list: `page(offset)` gives a page and the total.
async fn every_page<T>(page: impl AsyncFn(u64) -> Result<(Vec<T>, u64)>) -> Result<Vec<T>> {
    let mut all = Vec::new();
    loop {
        let (items, total) = page(all.len() as u64).await?;
        let done = items.is_empty() || (all.len() + items.len()) as u64 >= total;
        all.extend(items);
        if done {
            return Ok(all);
        }
    }
}

/// A table of media ids, when each was updated (Beijing time), and a last
/// column (names or titles, escaped: they come from WeChat).
fn id_table<'a>(last: &str, rows: impl Iterator<Item = (&'a str, i64, String)>) -> String {
    let mut out = format!("{:<64}  {:<16}  {last}", "MEDIA_ID", "UPDATED");
    for (id, updated, text) in rows {
        out.push_str(&format!(
            "\n{id:<64}  {:<16}  {}",
            wxmass_campaign::beijing::minute(updated),
            text.escape_debug()
        ));
    }
    out
}

/// `wxmass drafts list|delete`.
pub async fn drafts(settings: &Settings, command: &DraftsCommand, json: bool) -> Result<()> {
    let client = settings.client()?;
    match command {
        DraftsCommand::List => {
            let drafts = every_page(async |offset| {
                let per_page = wxmass_api::api::news::DRAFTS_PER_PAGE;
                let page = client.news().drafts_page(offset, per_page).await?;
                Ok((page.items, page.total_count))
            })
            .await?;
            super::print(json, &json!(drafts), || {
                id_table(
                    "TITLES",
                    drafts
                        .iter()
                        .map(|d| (d.media_id.as_str(), d.update_time, d.titles.join(" | "))),
                )
            });
        }
        DraftsCommand::Delete { media_id, yes } => {
            super::confirm(
                &format!("Delete draft {media_id}? This cannot be undone."),
                &format!("refusing to delete draft {media_id}"),
                *yes,
            )?;
            client.news().delete_draft(media_id).await?;
            super::print(
                json,
                &json!({"media_id": media_id, "deleted": true}),
                || format!("deleted draft {media_id}"),
            );
        }
    }
    Ok(())
}

pub async fn mass(
    settings: &Settings,
    journal: Option<&dyn wxmass_campaign::Store>,
    command: &MassCommand,
    json: bool,
) -> Result<()> {
    let client = settings.client()?;
    match command {
        MassCommand::Get { msg_id } => {
            let status = client.mass().get(*msg_id).await?;
            let name = status.as_str().to_owned();
            super::print(json, &json!({"msg_id": msg_id, "status": name}), || {
                format!("{msg_id}: {name}")
            });
        }
        MassCommand::Delete {
            msg_id,
            article_idx,
            yes,
        } => {
            let what = match article_idx {
                0 => format!("job {msg_id}"),
                n => format!("article {n} of job {msg_id}"),
            };
            super::confirm(
                &format!("Delete {what} from followers' chats? This cannot be undone."),
                &format!("refusing to delete {what}"),
                *yes,
            )?;
            client.mass().delete(*msg_id, *article_idx).await?;
            if let Some(journal) = journal.filter(|_| *article_idx == 0) {
                // The journal says what WeChat now says: mass/get answers DELETE.
                journal
                    .set_status_of_job(&settings.appid, *msg_id, "DELETE")
                    .await?;
            }
            super::print(
                json,
                &json!({"msg_id": msg_id, "article_idx": article_idx, "deleted": true}),
                || match article_idx {
                    0 => format!("deleted job {msg_id}"),
                    n => format!("deleted article {n} of job {msg_id}"),
                },
            );
        }
    }
    Ok(())
}

pub async fn speed(settings: &Settings, action: Option<&SpeedAction>, json: bool) -> Result<()> {
    let client = settings.client()?;
    if let Some(SpeedAction::Set { level }) = action {
        client.mass().set_speed(*level).await?;
    }
    let speed = client.mass().speed().await?;
    super::print(
        json,
        &json!({"speed": speed.speed, "realspeed": speed.realspeed}),
        || {
            format!(
                "speed {} ({}0,000 messages a minute)",
                speed.speed, speed.realspeed
            )
        },
    );
    Ok(())
}
