//! Media (wechat-api.md §2–§4, §6). Reach it with [`Client::media`].
//! Files are checked for format and size before they are uploaded.

use bytes::Bytes;
use serde_json::{Value, json};

use crate::client::{Answer, Body, Call, Client};
use crate::error::{Error, Result};

/// What an upload is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaKind {
    /// A picture: JPEG, PNG or GIF (BMP too as permanent material), 10 MB.
    Image,
    /// A voice clip: AMR or MP3 (WAV, WMA as permanent material), 2 MB, 60 s.
    Voice,
    /// An MP4 video, 10 MB.
    Video,
    /// A JPEG cover, 64 KB.
    Thumb,
}

impl MediaKind {
    /// The `type` parameter.
    pub fn as_str(self) -> &'static str {
        match self {
            MediaKind::Image => "image",
            MediaKind::Voice => "voice",
            MediaKind::Video => "video",
            MediaKind::Thumb => "thumb",
        }
    }

    /// "an image", "a voice message", "a video", "a thumb": for messages.
    pub fn with_article(self) -> &'static str {
        match self {
            MediaKind::Image => "an image",
            MediaKind::Voice => "a voice message",
            MediaKind::Video => "a video",
            MediaKind::Thumb => "a thumb (cover picture)",
        }
    }

    /// The size limit in bytes.
    pub fn max_bytes(self) -> usize {
        match self {
            MediaKind::Image | MediaKind::Video => 10 * 1024 * 1024,
            MediaKind::Voice => 2 * 1024 * 1024,
            MediaKind::Thumb => 64 * 1024,
        }
    }

    fn formats(self, permanent: bool) -> &'static [Format] {
        match (self, permanent) {
            (MediaKind::Image, false) => &[Format::Jpeg, Format::Png, Format::Gif],
            (MediaKind::Image, true) => &[Format::Jpeg, Format::Png, Format::Gif, Format::Bmp],
            (MediaKind::Voice, false) => &[Format::Amr, Format::Mp3],
            (MediaKind::Voice, true) => &[Format::Amr, Format::Mp3, Format::Wav, Format::Wma],
            (MediaKind::Video, _) => &[Format::Mp4],
            (MediaKind::Thumb, _) => &[Format::Jpeg],
        }
    }
}

/// A file format, told from the file's first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// JPEG.
    Jpeg,
    /// PNG.
    Png,
    /// GIF.
    Gif,
    /// BMP.
    Bmp,
    /// AMR.
    Amr,
    /// MP3.
    Mp3,
    /// WAV.
    Wav,
    /// WMA.
    Wma,
    /// MP4.
    Mp4,
}

impl Format {
    /// Detects the format from the first bytes.
    pub fn detect(data: &[u8]) -> Option<Format> {
        let starts = |m: &[u8]| data.starts_with(m);
        Some(if starts(&[0xFF, 0xD8, 0xFF]) {
            Format::Jpeg
        } else if starts(b"\x89PNG\r\n\x1a\n") {
            Format::Png
        } else if starts(b"GIF87a") || starts(b"GIF89a") {
            Format::Gif
        } else if starts(b"BM") && data.len() > 14 {
            Format::Bmp
        } else if starts(b"#!AMR") {
            Format::Amr
        } else if starts(b"ID3") || (data.len() > 1 && data[0] == 0xFF && data[1] & 0xE0 == 0xE0) {
            Format::Mp3
        } else if starts(b"RIFF") && data.get(8..12) == Some(b"WAVE") {
            Format::Wav
        } else if starts(&[0x30, 0x26, 0xB2, 0x75]) {
            Format::Wma
        } else if data.get(4..8) == Some(b"ftyp") {
            Format::Mp4
        } else {
            return None;
        })
    }

    /// Its usual name, as people write it.
    pub fn name(self) -> &'static str {
        match self {
            Format::Jpeg => "JPEG",
            Format::Png => "PNG",
            Format::Gif => "GIF",
            Format::Bmp => "BMP",
            Format::Amr => "AMR",
            Format::Mp3 => "MP3",
            Format::Wav => "WAV",
            Format::Wma => "WMA",
            Format::Mp4 => "MP4",
        }
    }

    /// The MIME type.
    pub fn mime(self) -> &'static str {
        match self {
            Format::Jpeg => "image/jpeg",
            Format::Png => "image/png",
            Format::Gif => "image/gif",
            Format::Bmp => "image/bmp",
            Format::Amr => "audio/amr",
            Format::Mp3 => "audio/mpeg",
            Format::Wav => "audio/wav",
            Format::Wma => "audio/x-ms-wma",
            Format::Mp4 => "video/mp4",
        }
    }
}

/// Checks a file for `kind` and returns its format.
pub fn check_file(kind: MediaKind, permanent: bool, data: &[u8]) -> Result<Format> {
    if data.is_empty() {
        return Err(Error::Invalid("the file is empty".into()));
    }
    let allowed = kind.formats(permanent);
    let names: Vec<&str> = allowed.iter().map(|f| f.name()).collect();
    let format = Format::detect(data)
        .filter(|f| allowed.contains(f))
        .ok_or_else(|| {
            Error::Invalid(format!(
                "{} must be {}; this file is {}",
                kind.with_article(),
                or_list(&names),
                Format::detect(data).map_or("of an unknown format".to_owned(), |f| {
                    f.name().to_owned()
                })
            ))
        })?;
    if data.len() > kind.max_bytes() {
        return Err(Error::Invalid(format!(
            "{} may be {} bytes at most; this file is {} bytes",
            kind.with_article(),
            kind.max_bytes(),
            data.len()
        )));
    }
    Ok(format)
}

/// "JPEG", "JPEG or PNG", "JPEG, PNG or GIF".
fn or_list(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

/// `uploadimg` takes pictures under this many bytes (wechat-api.md §3).
pub const ARTICLE_IMAGE_MAX_BYTES: usize = 1024 * 1024;

/// Checks a picture for an article body (`uploadimg`: JPEG or PNG under
/// 1 MB) and returns its format.
pub fn check_article_image(data: &[u8]) -> Result<Format> {
    let format = match Format::detect(data) {
        Some(f @ (Format::Jpeg | Format::Png)) => f,
        _ => return Err(Error::Invalid("article images must be JPEG or PNG".into())),
    };
    if data.len() >= ARTICLE_IMAGE_MAX_BYTES {
        return Err(Error::Invalid(format!(
            "article images must be under 1 MB; this one is {} bytes",
            data.len()
        )));
    }
    Ok(format)
}

/// An uploaded temporary media item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uploaded {
    /// Its id (valid 3 days).
    pub media_id: String,
    /// Unix seconds.
    pub created_at: i64,
}

/// What `media/get` returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaContent {
    /// The file.
    File {
        /// Its MIME type.
        content_type: String,
        /// Its bytes.
        data: Bytes,
    },
    /// A video's download URL.
    VideoUrl(String),
}

/// One item of permanent material.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Material {
    /// Its media id.
    pub media_id: String,
    /// The file name it was uploaded under.
    pub name: String,
    /// Unix seconds.
    pub update_time: i64,
    /// Its URL, for images.
    pub url: Option<String>,
}

/// A page of permanent material.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MaterialPage {
    /// Items of this kind in all.
    pub total_count: u64,
    /// This page's.
    pub items: Vec<Material>,
}

/// Media calls.
#[derive(Debug, Clone)]
pub struct MediaHandler<'c> {
    client: &'c Client,
}

impl Client {
    /// Media: temporary uploads, article images, permanent material, videos for mass send.
    pub fn media(&self) -> MediaHandler<'_> {
        MediaHandler { client: self }
    }
}

fn field(path: &str, body: &Value, name: &str) -> Result<String> {
    body.get(name)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| Error::Decode {
            path: path.into(),
            message: format!("no {name}"),
        })
}

/// A multipart upload of `data` as part `media`, with extra text fields.
fn upload_call(
    path: &'static str,
    file_name: &str,
    format: Format,
    data: Bytes,
    fields: Vec<(&'static str, String)>,
) -> Call {
    Call::post_body(
        path,
        Body::Multipart {
            file_name: file_name.to_owned(),
            mime: format.mime(),
            data,
            fields,
        },
    )
}

impl MediaHandler<'_> {
    /// Uploads temporary media (3 days).
    ///
    /// `POST /cgi-bin/media/upload?type=TYPE`, part `media`.
    pub async fn upload(
        &self,
        kind: MediaKind,
        file_name: &str,
        data: impl Into<Bytes>,
    ) -> Result<Uploaded> {
        let data = data.into();
        let format = check_file(kind, false, &data)?;
        let path = "/cgi-bin/media/upload";
        let call =
            upload_call(path, file_name, format, data, Vec::new()).query("type", kind.as_str());
        let body = self.client.call(call).await?;
        Ok(Uploaded {
            media_id: field(path, &body, "media_id")?,
            created_at: body.get("created_at").and_then(Value::as_i64).unwrap_or(0),
        })
    }

    /// Downloads temporary media, or a video's URL.
    ///
    /// `GET /cgi-bin/media/get?media_id=MEDIA_ID`.
    pub async fn get(&self, media_id: &str) -> Result<MediaContent> {
        let path = "/cgi-bin/media/get";
        match self
            .client
            .call_raw(Call::get(path).query("media_id", media_id))
            .await?
        {
            Answer::Bytes { content_type, data } => Ok(MediaContent::File { content_type, data }),
            Answer::Json(body) => Ok(MediaContent::VideoUrl(field(path, &body, "video_url")?)),
        }
    }

    /// Uploads a JPEG or PNG under 1 MB for use inside article HTML; returns its URL.
    ///
    /// `POST /cgi-bin/media/uploadimg`.
    pub async fn upload_article_image(
        &self,
        file_name: &str,
        data: impl Into<Bytes>,
    ) -> Result<String> {
        let data = data.into();
        let format = check_article_image(&data)?;
        let path = "/cgi-bin/media/uploadimg";
        let body = self
            .client
            .call(upload_call(path, file_name, format, data, Vec::new()))
            .await?;
        field(path, &body, "url")
    }

    /// Adds permanent material; videos need a title (and an introduction).
    /// Returns the media id and, for images, the URL.
    ///
    /// `POST /cgi-bin/material/add_material?type=TYPE`.
    pub async fn add_material(
        &self,
        kind: MediaKind,
        file_name: &str,
        data: impl Into<Bytes>,
        video: Option<(&str, &str)>,
    ) -> Result<(String, Option<String>)> {
        let data = data.into();
        let format = check_file(kind, true, &data)?;
        let mut fields = Vec::new();
        if kind == MediaKind::Video {
            let (title, introduction) = video
                .filter(|(t, _)| !t.trim().is_empty())
                .ok_or_else(|| Error::Invalid("video material needs a title".into()))?;
            fields.push((
                "description",
                json!({"title": title, "introduction": introduction}).to_string(),
            ));
        }
        let path = "/cgi-bin/material/add_material";
        let call = upload_call(path, file_name, format, data, fields).query("type", kind.as_str());
        let body = self.client.call(call).await?;
        Ok((
            field(path, &body, "media_id")?,
            body.get("url").and_then(Value::as_str).map(str::to_owned),
        ))
    }

    /// Turns an uploaded video into the media id `mpvideo` sends use.
    ///
    /// A page of permanent material of one kind, newest first.
    ///
    /// `POST /cgi-bin/material/batchget_material` (1 to 20 at a time).
    pub async fn material_page(
        &self,
        kind: MediaKind,
        offset: u64,
        count: u32,
    ) -> Result<MaterialPage> {
        if !(1..=20).contains(&count) {
            return Err(Error::Invalid(format!(
                "batchget_material returns 1 to 20 items at a time, not {count}"
            )));
        }
        let path = "/cgi-bin/material/batchget_material";
        let body = self
            .client
            .call(Call::post(
                path,
                json!({"type": kind.as_str(), "offset": offset, "count": count}),
            ))
            .await?;
        let items = body
            .get("item")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|item| Material {
                media_id: item["media_id"].as_str().unwrap_or_default().to_owned(),
                name: item["name"].as_str().unwrap_or_default().to_owned(),
                update_time: item["update_time"].as_i64().unwrap_or(0),
                url: item["url"]
                    .as_str()
                    .filter(|u| !u.is_empty())
                    .map(str::to_owned),
            })
            .collect();
        Ok(MaterialPage {
            total_count: body["total_count"].as_u64().unwrap_or(0),
            items,
        })
    }

    /// Deletes permanent material. It cannot be undone.
    ///
    /// `POST /cgi-bin/material/del_material` (not in our reference, which
    /// covers adding, counting and listing; path and body follow WeChat's
    /// api_delmaterial page).
    pub async fn delete_material(&self, media_id: &str) -> Result<()> {
        if media_id.trim().is_empty() {
            return Err(Error::Invalid("material media_id is empty".into()));
        }
        self.client
            .call(Call::post(
                "/cgi-bin/material/del_material",
                json!({"media_id": media_id}),
            ))
            .await?;
        Ok(())
    }

    /// `POST /cgi-bin/media/uploadvideo`.
    pub async fn upload_video(
        &self,
        video_media_id: &str,
        title: &str,
        description: &str,
    ) -> Result<String> {
        let path = "/cgi-bin/media/uploadvideo";
        let body = json!({"media_id": video_media_id, "title": title, "description": description});
        let body = self.client.call(Call::post(path, body)).await?;
        field(path, &body, "media_id")
    }
}
