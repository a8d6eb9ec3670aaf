//! Preparing: the message a campaign sends, made from its planned content
//! with every upload it needs. Each upload is made once: its media id (and
//! URL) is journalled under the hash of what was uploaded the moment
//! WeChat hands it back, so a rerun, another worker, or another campaign
//! with the same picture reuses it instead of uploading again. Files come
//! from the journal (kept at plan time), never from the operator's disk.
//!
//! [`message`] prepares; [`keep_prepared`](crate::engine::keep_prepared)
//! then keeps the result on the campaign, so that every worker sends the
//! same message.

use sha2::{Digest, Sha256};
use wxmass_api::{Client, MediaKind, Message};

use crate::articles;
use crate::error::Result;
use crate::spec::{Content, FileRef, MediaType};
use crate::store::prelude::*;
pub use crate::uploads::{
    Silent, TEMPORARY_REUSE_SECONDS, UploadObserver, reusable_after, upload_once,
};

/// [`upload_once`] for a file the campaign keeps: `upload` gets its name
/// and its bytes as planned.
async fn upload_file(
    journal: &dyn Store,
    appid: &str,
    file: &FileRef,
    key: &str,
    observer: &dyn UploadObserver,
    upload: impl AsyncFnOnce(&str, Vec<u8>) -> Result<(String, Option<String>)>,
) -> Result<String> {
    let label = file.path.display().to_string();
    upload_once(
        journal,
        appid,
        &file.sha256,
        key,
        false,
        &label,
        observer,
        async || {
            let data = journal.file(file).await?;
            upload(file.file_name(), data).await
        },
    )
    .await
}

/// The journal key of an mpvideo upload: its id depends on the title and
/// description as well as the bytes, so they are part of the key.
fn mpvideo_key(title: &str, description: &str) -> String {
    let digest = Sha256::digest(format!("{title}\n{description}"));
    format!("mpvideo:{}", hex::encode(&digest[..8]))
}

/// The message `content` sends, uploading what it needs once.
pub async fn message(
    client: &Client,
    journal: &dyn Store,
    content: &Content,
    observer: &dyn UploadObserver,
) -> Result<Message> {
    let media = client.media();
    let permanent = |kind: MediaKind| {
        let media = &media;
        async move |name: &str, data: Vec<u8>| -> Result<(String, Option<String>)> {
            Ok(media.add_material(kind, name, data, None).await?)
        }
    };
    Ok(match content {
        Content::Text { text } => Message::text(text.as_str()),
        Content::Images { files } => {
            let mut ids = Vec::new();
            for file in files {
                let key = "image_permanent";
                ids.push(
                    upload_file(
                        journal,
                        client.appid(),
                        file,
                        key,
                        observer,
                        permanent(MediaKind::Image),
                    )
                    .await?,
                );
            }
            Message::Images {
                media_ids: ids,
                recommend: None,
                need_open_comment: false,
                only_fans_can_comment: false,
            }
        }
        Content::Articles { ignore_reprint, .. } => Message::MpNews {
            media_id: articles::prepare(client, journal, content, observer).await?,
            send_ignore_reprint: *ignore_reprint,
        },
        Content::Voice { file } => Message::Voice(
            upload_file(
                journal,
                client.appid(),
                file,
                "voice_permanent",
                observer,
                permanent(MediaKind::Voice),
            )
            .await?,
        ),
        Content::Video {
            file,
            title,
            description,
        } => {
            let key = mpvideo_key(title, description);
            let media_id = upload_file(
                journal,
                client.appid(),
                file,
                &key,
                observer,
                async |name, data| {
                    let video = media.upload(MediaKind::Video, name, data).await?;
                    let id = media
                        .upload_video(&video.media_id, title, description)
                        .await?;
                    Ok((id, None))
                },
            )
            .await?;
            Message::MpVideo {
                media_id,
                title: Some(title.clone()),
                description: Some(description.clone()),
            }
        }
        Content::Uploaded {
            media_type,
            media_id,
            ignore_reprint,
        } => match media_type {
            MediaType::Mpnews => Message::MpNews {
                media_id: media_id.clone(),
                send_ignore_reprint: *ignore_reprint,
            },
            MediaType::Image => Message::Images {
                media_ids: vec![media_id.clone()],
                recommend: None,
                need_open_comment: false,
                only_fans_can_comment: false,
            },
            MediaType::Voice => Message::Voice(media_id.clone()),
            MediaType::Mpvideo => Message::MpVideo {
                media_id: media_id.clone(),
                title: None,
                description: None,
            },
        },
        Content::Card { card_id } => Message::WxCard(card_id.clone()),
        Content::Notice { .. } => {
            return Err(crate::Error::Invalid(
                "a notice is sent follower by follower (crate::fanout), not as a mass message"
                    .into(),
            ));
        }
    })
}

/// The uploads preparing `content` would make (files the journal has no
/// media id for yet), for a dry run.
pub async fn planned_uploads(
    journal: &dyn Store,
    appid: &str,
    content: &Content,
) -> Result<Vec<String>> {
    let files: Vec<(&FileRef, String, &str)> = match content {
        Content::Images { files } => files
            .iter()
            .map(|f| (f, "image_permanent".to_owned(), "image"))
            .collect(),
        Content::Voice { file } => vec![(file, "voice_permanent".to_owned(), "voice")],
        Content::Video {
            file,
            title,
            description,
        } => vec![(
            file,
            mpvideo_key(title, description),
            "video (then uploadvideo)",
        )],
        Content::Articles { .. } => {
            return articles::planned_uploads(journal, appid, content).await;
        }
        Content::Text { .. }
        | Content::Uploaded { .. }
        | Content::Card { .. }
        | Content::Notice { .. } => vec![],
    };
    let mut uploads = Vec::new();
    for (file, key, what) in files {
        if journal.media(appid, &file.sha256, &key, 0).await?.is_none() {
            uploads.push(format!("{what} {}", file.path.display()));
        }
    }
    Ok(uploads)
}
