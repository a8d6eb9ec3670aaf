//! News for mass send (wechat-api.md §5): `media/uploadnews` and `draft/add`.

use serde_json::{Value, json};

use crate::Emulator;
use crate::call::{Call, int_field, opt_int, opt_str, str_field};
use crate::error::{WxError, WxResult};
use crate::state::{Article, MediaKind, News};

/// Most articles in one news item (current docs; the 2014 wiki said 10).
pub const MAX_ARTICLES: usize = 8;
/// Content limit in characters.
pub const MAX_CONTENT_CHARS: usize = 20_000;
/// Content limit in bytes.
pub const MAX_CONTENT_BYTES: usize = 1024 * 1024;

fn articles(body: &Value) -> WxResult<&Vec<Value>> {
    let articles = match body.get("articles") {
        None | Some(Value::Null) => return Err(WxError::new(44003)),
        Some(Value::Array(a)) => a,
        Some(_) => return Err(WxError::new(47001)),
    };
    if articles.is_empty() {
        return Err(WxError::new(44003));
    }
    if articles.len() > MAX_ARTICLES {
        return Err(WxError::new(45008));
    }
    Ok(articles)
}

/// Reads and checks one article. `draft` applies `draft/add`'s limits:
/// title ≤ 32 characters, author ≤ 16, digest ≤ 128, permanent cover.
fn article(emulator: &Emulator, value: &Value, draft: bool) -> WxResult<Article> {
    let title = str_field(value, "title", 44003)?;
    let content = str_field(value, "content", 44003)?;
    let thumb = str_field(value, "thumb_media_id", 40007)?;
    let author = opt_str(value, "author")?.unwrap_or("");
    let digest = opt_str(value, "digest")?.unwrap_or("");
    let source_url = opt_str(value, "content_source_url")?.unwrap_or("");
    if title.trim().is_empty() || content.trim().is_empty() {
        return Err(WxError::new(44003));
    }
    if content.chars().count() >= MAX_CONTENT_CHARS || content.len() >= MAX_CONTENT_BYTES {
        return Err(WxError::new(45002));
    }
    if draft {
        if title.chars().count() > 32 {
            return Err(WxError::new(45003));
        }
        if author.chars().count() > 16 {
            return Err(WxError::with_message(45003, "author size out of limit"));
        }
        if digest.chars().count() > 128 {
            return Err(WxError::new(45004));
        }
        if source_url.len() > 1024 {
            return Err(WxError::with_message(
                45002,
                "content_source_url size out of limit",
            ));
        }
    }
    let now = emulator.clock.now();
    let account = emulator.account();
    let cover_ok = account.media(thumb, now).is_some_and(|m| {
        matches!(m.kind, MediaKind::Thumb | MediaKind::Image) && m.permanent == draft
    });
    if !cover_ok {
        // uploadnews takes a temporary thumb or image; draft/add a permanent one.
        return Err(WxError::new(40007));
    }
    let filtered_images = image_sources(content)
        .filter(|src| !account.is_article_image(src))
        .map(str::to_owned)
        .collect();
    Ok(Article {
        filtered_images,
        title: title.to_owned(),
        thumb_media_id: thumb.to_owned(),
        author: author.to_owned(),
        digest: digest.to_owned(),
        content: content.to_owned(),
        content_source_url: source_url.to_owned(),
    })
}

/// `POST /cgi-bin/media/uploadnews` with `{"articles":[...]}`.
pub fn upload_news(emulator: &Emulator, call: &Call) -> WxResult<Value> {
    let body = call.json()?;
    let articles = articles(&body)?
        .iter()
        .map(|a| article(emulator, a, false))
        .collect::<WxResult<Vec<_>>>()?;
    let now = emulator.clock.now();
    let mut account = emulator.account();
    account.use_quota("uploadnews", &emulator.clock)?;
    let media_id = account.add_news(News {
        articles,
        draft: false,
        created_at: now,
    });
    Ok(json!({"type": "news", "media_id": media_id, "created_at": now}))
}

/// `POST /cgi-bin/draft/add` with `{"articles":[...]}`.
pub fn draft_add(emulator: &Emulator, call: &Call) -> WxResult<Value> {
    let body = call.json()?;
    let articles = articles(&body)?
        .iter()
        .map(|a| article(emulator, a, true))
        .collect::<WxResult<Vec<_>>>()?;
    let now = emulator.clock.now();
    let mut account = emulator.account();
    account.use_quota("draft", &emulator.clock)?;
    let media_id = account.add_news(News {
        articles,
        draft: true,
        created_at: now,
    });
    Ok(json!({"media_id": media_id}))
}

/// The `src` of every `<img>` in article HTML (double-quoted, as editors and
/// SDKs write it).
fn image_sources(html: &str) -> impl Iterator<Item = &str> {
    html.match_indices("<img").filter_map(move |(at, _)| {
        let tag = &html[at..];
        let tag = &tag[..tag.find('>').unwrap_or(tag.len())];
        let start = tag.find("src=\"")? + 5;
        let len = tag[start..].find('"')?;
        Some(&tag[start..start + len])
    })
}

/// `POST /cgi-bin/draft/batchget` with `{"offset","count","no_content"}`:
/// the draft box, newest first, `count` 1..20.
pub fn draft_batchget(emulator: &Emulator, call: &Call) -> WxResult<Value> {
    let body = call.json()?;
    let offset = int_field(&body, "offset", 47001)?;
    let count = int_field(&body, "count", 47001)?;
    let no_content = opt_int(&body, "no_content")?.unwrap_or(0) == 1;
    if offset < 0 || !(1..=20).contains(&count) {
        return Err(WxError::new(40035));
    }
    let mut account = emulator.account();
    account.use_quota("draft", &emulator.clock)?;
    let drafts = account.drafts();
    let items: Vec<Value> = drafts
        .iter()
        .skip(offset as usize)
        .take(count as usize)
        .map(|(id, news)| {
            let articles: Vec<Value> = news
                .articles
                .iter()
                .map(|a| {
                    let mut item = json!({"title": a.title, "author": a.author, "digest": a.digest,
                        "content_source_url": a.content_source_url, "thumb_media_id": a.thumb_media_id,
                        "url": format!("http://mp.weixin.qq.com/s?__biz=emulator&mid={id}")});
                    if !no_content {
                        item["content"] = json!(a.content);
                    }
                    item
                })
                .collect();
            json!({"media_id": id, "content": {"news_item": articles}, "update_time": news.created_at})
        })
        .collect();
    Ok(json!({"total_count": drafts.len(), "item_count": items.len(), "item": items}))
}

/// `POST /cgi-bin/draft/delete` with `{"media_id"}`.
pub fn draft_delete(emulator: &Emulator, call: &Call) -> WxResult<Value> {
    let body = call.json()?;
    let media_id = str_field(&body, "media_id", 40007)?;
    let mut account = emulator.account();
    account.use_quota("draft", &emulator.clock)?;
    if !account.delete_draft(media_id) {
        return Err(WxError::new(40007));
    }
    Ok(json!({}))
}
