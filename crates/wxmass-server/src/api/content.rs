//! What a campaign sends, checked as the CLI checks it before anything is
//! stored, each problem answered with the path of the field at fault
//! (`content.articles[2]`): a text's length, each file's kind and size for
//! its use, each article's front matter and pictures. Files are those
//! uploaded to the server (`POST /api/v1/files`), by SHA-256: a campaign
//! never names a path on the server's disk.

use wxmass_api::MediaKind;
use wxmass_api::api::media::{Format, check_article_image, check_file};
use wxmass_api::message::Message;
use wxmass_campaign::Content;
use wxmass_campaign::spec::{ArticleFile, FileRef};
use wxmass_campaign::store::prelude::*;

use crate::error::{ApiError, ApiResult};

/// Checks `content`; `Ok` means the server can prepare and send it.
pub async fn check(journal: &dyn Store, content: &Content) -> ApiResult<()> {
    match content {
        Content::Text { text } => {
            if text.trim().is_empty() {
                return Err(ApiError::invalid("content.text", "empty"));
            }
            Message::text(text.as_str())
                .validate()
                .map_err(|e| ApiError::invalid("content.text", e.to_string()))
        }
        Content::Images { files } => {
            if files.is_empty() {
                return Err(ApiError::invalid(
                    "content.files",
                    "name 1 or more pictures",
                ));
            }
            for (i, file) in files.iter().enumerate() {
                let field = format!("content.files[{i}]");
                let data = uploaded(journal, &field, file).await?;
                for_use(&field, check_file(MediaKind::Image, true, &data))?;
            }
            Ok(())
        }
        Content::Voice { file } => {
            let data = uploaded(journal, "content.file", file).await?;
            for_use("content.file", check_file(MediaKind::Voice, true, &data))
        }
        Content::Video { file, title, .. } => {
            if title.trim().is_empty() {
                return Err(ApiError::invalid("content.title", "a video needs a title"));
            }
            let data = uploaded(journal, "content.file", file).await?;
            for_use("content.file", check_file(MediaKind::Video, false, &data))
        }
        Content::Articles {
            articles,
            theme,
            fetch_remote_images,
            ..
        } => {
            wxmass_article::check_count(articles.len())
                .map_err(|e| ApiError::invalid("content.articles", e))?;
            if let Some(theme) = theme {
                let data = uploaded(journal, "content.theme", theme).await?;
                let text = String::from_utf8(data)
                    .map_err(|_| ApiError::invalid("content.theme", "not UTF-8 text"))?;
                wxmass_campaign::articles::parse_theme(&theme.path, &text)
                    .map_err(|e| ApiError::invalid("content.theme", e.to_string()))?;
            }
            for (i, article) in articles.iter().enumerate() {
                check_article(journal, i, article, *fetch_remote_images).await?;
            }
            Ok(())
        }
        Content::Uploaded { media_id, .. } => {
            if media_id.trim().is_empty() || media_id.len() > 128 {
                return Err(ApiError::invalid(
                    "content.media_id",
                    "the media id WeChat gave (1 to 128 characters)",
                ));
            }
            Ok(())
        }
        Content::Card { card_id } => Message::WxCard(card_id.clone())
            .validate()
            .map_err(|e| ApiError::invalid("content.card_id", e.to_string())),
    }
}

/// The bytes of an uploaded file, or 400 for `field`.
async fn uploaded(journal: &dyn Store, field: &str, file: &FileRef) -> ApiResult<Vec<u8>> {
    let hex = file.sha256.len() == 64 && file.sha256.bytes().all(|b| b.is_ascii_hexdigit());
    let found = if hex {
        journal.blob(&file.sha256.to_ascii_lowercase()).await?
    } else {
        None
    };
    found.ok_or_else(|| {
        ApiError::invalid(
            &format!("{field}.sha256"),
            format!(
                "no file uploaded with this SHA-256 ({}): upload it first with POST /api/v1/files?name={}",
                file.sha256.escape_debug(),
                file.path.display()
            ),
        )
    })
}

fn for_use(field: &str, checked: wxmass_api::Result<Format>) -> ApiResult<()> {
    checked
        .map(|_| ())
        .map_err(|e| ApiError::invalid(field, e.to_string()))
}

async fn check_article(
    journal: &dyn Store,
    i: usize,
    file: &ArticleFile,
    fetch_remote_images: bool,
) -> ApiResult<()> {
    let field = format!("content.articles[{i}]");
    uploaded(journal, &format!("{field}.file"), &file.file).await?;
    let article = wxmass_campaign::articles::Article::planned(journal, file)
        .await
        .map_err(|e| ApiError::invalid(&format!("{field}.file"), e.to_string()))?;
    if let Err(errors) = article.document.check(true) {
        let all: Vec<String> = errors.0.iter().map(|e| e.message.clone()).collect();
        return Err(ApiError::invalid(&field, all.join("; ")));
    }
    if article.document.front.cover.is_some() {
        let Some(cover) = &file.cover else {
            return Err(ApiError::invalid(
                &format!("{field}.cover"),
                "the front matter names a cover: upload it (POST /api/v1/files) and name it here",
            ));
        };
        let data = uploaded(journal, &format!("{field}.cover"), cover).await?;
        if !matches!(Format::detect(&data), Some(Format::Jpeg | Format::Png)) {
            return Err(ApiError::invalid(
                &format!("{field}.cover"),
                "a cover must be a JPEG or PNG picture",
            ));
        }
    }
    let images = article
        .document
        .images()
        .map_err(|e| ApiError::invalid(&field, e.message))?;
    for image in images {
        if image.is_remote() {
            if !fetch_remote_images {
                return Err(ApiError::invalid(
                    "content.fetch_remote_images",
                    format!(
                        "article {i} shows {} from the web (line {}): WeChat shows only uploaded pictures; upload it and name it in pictures, or set fetch_remote_images",
                        image.src.escape_debug(),
                        image.line
                    ),
                ));
            }
            continue;
        }
        let Some(j) = file.pictures.iter().position(|p| p.src == image.src) else {
            return Err(ApiError::invalid(
                &format!("{field}.pictures"),
                format!(
                    "the article shows {} (line {}): upload it and add {{\"src\": {:?}, \"file\": {{\"path\": ..., \"sha256\": ...}}}}",
                    image.src.escape_debug(),
                    image.line,
                    image.src
                ),
            ));
        };
        let picture = format!("{field}.pictures[{j}]");
        let data = uploaded(journal, &format!("{picture}.file"), &file.pictures[j].file).await?;
        for_use(&picture, check_article_image(&data))?;
    }
    Ok(())
}
