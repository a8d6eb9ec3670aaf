//! What the first releases wrote, read into today's types: their content
//! JSON (converted when a journal is upgraded), and the form of it that
//! names a campaign, so that the same command finds a campaign it planned
//! before the upgrade instead of planning it again.

use serde_json::{Value, json};

use crate::spec::{ArticleFile, Content, FileRef, MediaType};

/// Today's content for the JSON a first release stored, or `None` if no
/// release wrote it.
pub fn content(old: &str) -> Option<Content> {
    if let Ok(content) = serde_json::from_str::<Content>(old) {
        return Some(content);
    }
    let v: Value = serde_json::from_str(old).ok()?;
    let str_of = |field: &str| v.get(field)?.as_str().map(str::to_owned);
    let bool_of = |field: &str| v.get(field).and_then(Value::as_bool).unwrap_or(false);
    let file = |f: &Value| -> Option<FileRef> {
        Some(FileRef {
            path: f.get("path")?.as_str()?.into(),
            sha256: f.get("sha256")?.as_str()?.to_owned(),
        })
    };
    let kind = v.get("type")?.as_str()?;
    if let Some(media_id) = str_of("media_id") {
        return Some(Content::Uploaded {
            media_type: MediaType::parse(kind)?,
            media_id,
            ignore_reprint: bool_of("ignore_reprint"),
        });
    }
    Some(match kind {
        "text" => Content::Text {
            text: str_of("text")?,
        },
        "image" => Content::Images {
            files: v
                .get("files")?
                .as_array()?
                .iter()
                .map(file)
                .collect::<Option<_>>()?,
        },
        "voice" => Content::Voice {
            file: file(v.get("file")?)?,
        },
        "mpvideo" => Content::Video {
            file: file(v.get("file")?)?,
            title: str_of("title")?,
            description: str_of("description").unwrap_or_default(),
        },
        "mpnews" => Content::Articles {
            articles: v
                .get("articles")?
                .as_array()?
                .iter()
                .map(|a| {
                    Some(ArticleFile {
                        file: file(a)?,
                        cover: None,
                        pictures: Vec::new(),
                    })
                })
                .collect::<Option<_>>()?,
            draft: bool_of("draft"),
            theme: match v.get("theme") {
                None | Some(Value::Null) => None,
                Some(t) => Some(file(t)?),
            },
            fetch_remote_images: bool_of("fetch_remote_images"),
            ignore_reprint: bool_of("ignore_reprint"),
        },
        "wxcard" => Content::Card {
            card_id: str_of("card_id")?,
        },
        _ => return None,
    })
}

/// The JSON the first releases hashed into a campaign's default id. The
/// id of `wxmass send` without `--campaign` is derived from it, so the
/// command that planned a campaign before an upgrade finds it after.
pub fn id_json(content: &Content) -> Value {
    match content {
        Content::Text { text } => json!({"type": "text", "text": text}),
        Content::Images { files } => json!({"type": "image", "files": files}),
        Content::Voice { file } => json!({"type": "voice", "file": file}),
        Content::Video {
            file,
            title,
            description,
        } => json!({"type": "mpvideo", "file": file, "title": title, "description": description}),
        Content::Articles {
            articles,
            draft,
            theme,
            fetch_remote_images,
            ignore_reprint,
        } => json!({
            "type": "mpnews",
            "articles": articles.iter().map(|a| &a.file).collect::<Vec<_>>(),
            "draft": draft,
            "theme": theme,
            "fetch_remote_images": fetch_remote_images,
            "ignore_reprint": ignore_reprint,
        }),
        Content::Uploaded {
            media_type,
            media_id,
            ignore_reprint,
        } => {
            json!({"type": media_type.as_str(), "media_id": media_id, "ignore_reprint": ignore_reprint})
        }
        Content::Card { card_id } => json!({"type": "wxcard", "card_id": card_id}),
        // Newer than the first releases: its id form is its stored form.
        Content::Notice { .. } => serde_json::to_value(content).unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every shape the first releases wrote converts, and its id form is
    /// what they hashed.
    #[test]
    fn old_content_converts_and_keeps_its_id() {
        let olds = [
            r#"{"text":"hello from v1","type":"text"}"#,
            r#"{"files":[{"path":"red.png","sha256":"b8b8b8b8b8b8b8b8b8b8b8b8b8b8b8b8b8b8b8b8b8b8b8b8b8b8b8b8b8b8b8b8"}],"type":"image"}"#,
            r#"{"file":{"path":"v.amr","sha256":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},"type":"voice"}"#,
            r#"{"description":"","file":{"path":"v.mp4","sha256":"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"},"title":"T","type":"mpvideo"}"#,
            r#"{"articles":[{"path":"art/a.md","sha256":"e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0"}],"draft":false,"fetch_remote_images":false,"ignore_reprint":false,"theme":null,"type":"mpnews"}"#,
            r#"{"articles":[{"path":"a.md","sha256":"e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0"}],"draft":true,"fetch_remote_images":true,"ignore_reprint":true,"theme":{"path":"t.toml","sha256":"cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"},"type":"mpnews"}"#,
            r#"{"ignore_reprint":false,"media_id":"abc123","type":"voice"}"#,
            r#"{"ignore_reprint":true,"media_id":"n1","type":"mpnews"}"#,
            r#"{"card_id":"pX","type":"wxcard"}"#,
        ];
        for old in olds {
            let content = content(old).unwrap_or_else(|| panic!("{old} converts"));
            let value: Value = serde_json::from_str(old).expect("json");
            // serde_json orders keys: the old string is the id form's.
            assert_eq!(id_json(&content).to_string(), value.to_string(), "{old}");
            // Today's form reads back as itself.
            assert_eq!(self::content(&content.to_json()), Some(content));
        }
        assert_eq!(content(r#"{"type":"hologram"}"#), None);
        assert_eq!(content("not json"), None);
    }
}
