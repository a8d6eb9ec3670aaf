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

pub async fn preview(settings: &Settings, args: &PreviewArgs, json: bool) -> Result<()> {
    args.content.check()?;
    let client = settings.client()?;
    let message = crate::campaign::preview_message(&client, settings, args).await?;
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
    let mut items = Vec::new();
    loop {
        let page = client
            .media()
            .material_page(kind, items.len() as u64, 20)
            .await?;
        let done =
            page.items.is_empty() || items.len() + page.items.len() >= page.total_count as usize;
        items.extend(page.items);
        if done {
            break;
        }
    }
    super::print(json, &json!(items), || {
        let mut out = format!("{:<64}  {:<16}  NAME", "MEDIA_ID", "UPDATED");
        for m in &items {
            out.push_str(&format!(
                "\n{:<64}  {:<16}  {}",
                m.media_id,
                crate::quota::beijing_minute(m.update_time),
                m.name.escape_debug()
            ));
        }
        out
    });
    Ok(())
}

/// `wxmass drafts list|delete`.
pub async fn drafts(settings: &Settings, command: &DraftsCommand, json: bool) -> Result<()> {
    let client = settings.client()?;
    match command {
        DraftsCommand::List => {
            let mut drafts = Vec::new();
            loop {
                let page = client
                    .news()
                    .drafts_page(drafts.len() as u64, wxmass_api::api::news::DRAFTS_PER_PAGE)
                    .await?;
                let done = page.items.is_empty()
                    || drafts.len() + page.items.len() >= page.total_count as usize;
                drafts.extend(page.items);
                if done {
                    break;
                }
            }
            super::print(json, &json!(drafts), || {
                let mut out = format!("{:<64}  {:<16}  TITLES", "MEDIA_ID", "UPDATED");
                for d in &drafts {
                    out.push_str(&format!(
                        "\n{:<64}  {:<16}  {}",
                        d.media_id,
                        crate::quota::beijing_minute(d.update_time),
                        d.titles.join(" | ").escape_debug()
                    ));
                }
                out
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
    journal: &std::path::Path,
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
            if *article_idx == 0 {
                // The journal says what WeChat now says: mass/get answers DELETE.
                crate::journal::Journal::open(journal)?.set_status_of_job(
                    &settings.appid,
                    *msg_id,
                    "DELETE",
                )?;
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
