//! Media (wechat-api.md §2–§4, §6): temporary uploads, article images,
//! permanent material, and videos prepared for mass send.

use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::Emulator;
use crate::call::{Call, int_field, opt_str, str_field};
use crate::error::{WxError, WxResult};
use crate::state::{Media, MediaKind};

/// The format of a file, from its first bytes.
pub fn detect_format(data: &[u8]) -> Option<&'static str> {
    let starts = |magic: &[u8]| data.starts_with(magic);
    if starts(&[0xFF, 0xD8, 0xFF]) {
        Some("jpg")
    } else if starts(b"\x89PNG\r\n\x1a\n") {
        Some("png")
    } else if starts(b"GIF87a") || starts(b"GIF89a") {
        Some("gif")
    } else if starts(b"BM") && data.len() > 14 {
        Some("bmp")
    } else if starts(b"#!AMR") {
        Some("amr")
    } else if starts(b"ID3") || (data.len() > 1 && data[0] == 0xFF && data[1] & 0xE0 == 0xE0) {
        Some("mp3")
    } else if starts(b"RIFF") && data.get(8..12) == Some(b"WAVE") {
        Some("wav")
    } else if starts(&[0x30, 0x26, 0xB2, 0x75]) {
        Some("wma")
    } else if data.get(4..8) == Some(b"ftyp") {
        Some("mp4")
    } else {
        None
    }
}

/// Checks an upload's format and size for `kind`, as temporary or permanent
/// material.
fn check_upload(
    emulator: &Emulator,
    kind: MediaKind,
    permanent: bool,
    data: &[u8],
) -> WxResult<&'static str> {
    if data.is_empty() {
        return Err(WxError::new(44001));
    }
    let limits = emulator.config.media_limits;
    let format = detect_format(data);
    let (allowed, limit, size_code): (&[&str], usize, i64) = match (kind, permanent) {
        (MediaKind::Image, false) => (&["jpg", "png", "gif"], limits.image, 40009),
        (MediaKind::Image, true) => (&["jpg", "png", "gif", "bmp"], limits.image, 40009),
        (MediaKind::Voice, false) => (&["amr", "mp3"], limits.voice, 40010),
        (MediaKind::Voice, true) => (&["amr", "mp3", "wav", "wma"], limits.voice, 40010),
        (MediaKind::Video, _) | (MediaKind::MpVideo, _) => (&["mp4"], limits.video, 40011),
        (MediaKind::Thumb, _) => (&["jpg"], limits.thumb, 40012),
    };
    let format = format
        .filter(|f| allowed.contains(f))
        .ok_or_else(|| WxError::new(40005))?;
    if data.len() > limit {
        return Err(WxError::new(size_code));
    }
    Ok(format)
}

fn media_part(call: &Call) -> WxResult<&crate::call::Part> {
    call.part("media").ok_or_else(|| WxError::new(41005))
}

fn kind_param(call: &Call) -> WxResult<MediaKind> {
    call.query("type")
        .and_then(MediaKind::parse)
        .ok_or_else(|| WxError::new(40004))
}

/// `POST /cgi-bin/media/upload?type=TYPE`, multipart part `media`.
pub fn upload(emulator: &Emulator, call: &Call) -> WxResult<Value> {
    let kind = kind_param(call)?;
    let part = media_part(call)?;
    let format = check_upload(emulator, kind, false, &part.data)?;
    let now = emulator.clock.now();
    let mut account = emulator.account();
    account.use_quota("media_upload", &emulator.clock)?;
    let media_id = account.add_media(Media {
        kind,
        permanent: false,
        data: part.data.clone(),
        format,
        created_at: now,
        title: None,
        description: None,
        name: part.file_name.clone().unwrap_or_default(),
    });
    Ok(json!({"type": kind.as_str(), "media_id": media_id, "created_at": now}))
}

/// `GET /cgi-bin/media/get?media_id=MEDIA_ID`: the bytes, or a video URL.
pub fn get(emulator: &Emulator, call: &Call) -> WxResult<Response> {
    let media_id = call.query("media_id").ok_or_else(|| WxError::new(41006))?;
    let now = emulator.clock.now();
    let mut account = emulator.account();
    account.use_quota("media_get", &emulator.clock)?;
    let media = account
        .media(media_id, now)
        .filter(|m| !m.permanent)
        .ok_or_else(|| WxError::new(40007))?;
    if media.kind == MediaKind::Video {
        let url =
            format!("http://vweixinf.tc.qq.com/102/20202/snsdyvideodownload?filekey={media_id}");
        return Ok(axum::Json(json!({"video_url": url})).into_response());
    }
    let content_type = match media.format {
        "jpg" => "image/jpeg",
        "png" => "image/png",
        "gif" => "image/gif",
        "amr" => "audio/amr",
        "mp3" => "audio/mpeg",
        _ => "application/octet-stream",
    };
    let disposition = format!("attachment; filename=\"{media_id}.{}\"", media.format);
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        media.data.clone(),
    )
        .into_response())
}

/// `POST /cgi-bin/media/uploadimg`: a JPEG or PNG under 1 MB for article bodies.
pub fn upload_article_image(emulator: &Emulator, call: &Call) -> WxResult<Value> {
    let part = media_part(call)?;
    if part.data.is_empty() {
        return Err(WxError::new(44001));
    }
    let format = detect_format(&part.data)
        .filter(|f| *f == "jpg" || *f == "png")
        .ok_or_else(|| WxError::new(40005))?;
    if part.data.len() >= emulator.config.media_limits.article_image {
        return Err(WxError::new(40009));
    }
    let mut account = emulator.account();
    account.use_quota("media_upload", &emulator.clock)?;
    let id = crate::ids::random_id(48);
    let url = format!("http://mmbiz.qpic.cn/mmbiz_{format}/{id}/0?wx_fmt={format}");
    account.add_article_image(url.clone(), part.data.clone());
    Ok(json!({"url": url, "errcode": 0, "errmsg": "ok"}))
}

/// `POST /cgi-bin/material/add_material?type=TYPE`, multipart part `media`;
/// videos also need `description` (`{"title","introduction"}`) as a form
/// field or, as wechatpy sends it, a query parameter.
pub fn add_material(emulator: &Emulator, call: &Call) -> WxResult<Value> {
    let kind = kind_param(call)?;
    let part = media_part(call)?;
    let format = check_upload(emulator, kind, true, &part.data)?;
    let (mut title, mut description) = (None, None);
    if kind == MediaKind::Video {
        let raw = call
            .part("description")
            .map(|p| String::from_utf8_lossy(&p.data).into_owned())
            .or_else(|| call.query("description").map(str::to_owned))
            .ok_or_else(|| {
                WxError::with_message(40007, "description missing for video material")
            })?;
        let desc: Value = serde_json::from_str(&raw).map_err(|_| WxError::new(47001))?;
        title = opt_str(&desc, "title")?.map(str::to_owned);
        description = opt_str(&desc, "introduction")?.map(str::to_owned);
        if title.as_deref().is_none_or(str::is_empty) {
            return Err(WxError::new(45003));
        }
    }
    let now = emulator.clock.now();
    let mut account = emulator.account();
    let media_id = account.add_media(Media {
        kind,
        permanent: true,
        data: part.data.clone(),
        format,
        created_at: now,
        title,
        description,
        name: part.file_name.clone().unwrap_or_default(),
    });
    let mut body = json!({"media_id": media_id});
    if kind == MediaKind::Image {
        body["url"] = json!(format!(
            "http://mmbiz.qpic.cn/mmbiz_{format}/{media_id}/0?wx_fmt={format}"
        ));
    }
    Ok(body)
}

/// `GET /cgi-bin/material/get_materialcount`.
pub fn material_count(emulator: &Emulator, _call: &Call) -> WxResult<Value> {
    let (voice, video, image, news) = emulator.account().material_counts();
    Ok(
        json!({"voice_count": voice, "video_count": video, "image_count": image, "news_count": news}),
    )
}

/// `POST /cgi-bin/material/batchget_material` with `{"type","offset","count"}`.
pub fn batchget_material(emulator: &Emulator, call: &Call) -> WxResult<Value> {
    let body = call.json()?;
    let kind = str_field(&body, "type", 40004)?;
    let offset = int_field(&body, "offset", 47001)?;
    let count = int_field(&body, "count", 47001)?;
    if offset < 0 || !(1..=20).contains(&count) {
        return Err(WxError::new(40035));
    }
    if kind == "news" {
        // After the draft-box migration, news material is no longer listed (§4.3).
        return Ok(json!({"total_count": 0, "item_count": 0, "item": []}));
    }
    let kind = MediaKind::parse(kind).ok_or_else(|| WxError::new(40004))?;
    let account = emulator.account();
    let all = account.materials(kind);
    let items: Vec<Value> = all
        .iter()
        .skip(offset as usize)
        .take(count as usize)
        .map(|(id, m)| {
            json!({"media_id": id, "name": m.name, "update_time": m.created_at,
                   "url": if m.kind == MediaKind::Image { format!("http://mmbiz.qpic.cn/mmbiz_{}/{id}/0", m.format) } else { String::new() }})
        })
        .collect();
    Ok(json!({"total_count": all.len(), "item_count": items.len(), "item": items}))
}

/// `POST /cgi-bin/material/del_material` with `{"media_id"}`.
pub fn del_material(emulator: &Emulator, call: &Call) -> WxResult<Value> {
    let body = call.json()?;
    let media_id = str_field(&body, "media_id", 40007)?;
    if !emulator.account().delete_material(media_id) {
        return Err(WxError::new(40007));
    }
    Ok(json!({}))
}

/// `POST /cgi-bin/material/add_news`: retired (§4.4).
pub fn add_news_retired(_emulator: &Emulator, _call: &Call) -> WxResult<Value> {
    Err(WxError::new(45103))
}

/// `POST /cgi-bin/media/uploadvideo` with `{"media_id","title","description"}`:
/// the media id `mpvideo` mass sends use.
pub fn upload_video(emulator: &Emulator, call: &Call) -> WxResult<Value> {
    let body = call.json()?;
    let source = str_field(&body, "media_id", 41006)?;
    let title = opt_str(&body, "title")?.unwrap_or("").to_owned();
    let description = opt_str(&body, "description")?.unwrap_or("").to_owned();
    let now = emulator.clock.now();
    let mut account = emulator.account();
    let video = account
        .media(source, now)
        .filter(|m| m.kind == MediaKind::Video)
        .ok_or_else(|| WxError::new(40007))?
        .clone();
    let media_id = account.add_media(Media {
        kind: MediaKind::MpVideo,
        permanent: true,
        title: Some(title),
        description: Some(description),
        created_at: now,
        ..video
    });
    Ok(json!({"type": "video", "media_id": media_id, "created_at": now}))
}
