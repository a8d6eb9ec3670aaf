//! Articles (mpnews from Markdown): each file read and checked as an
//! [`Article`], and, when a campaign is prepared, each picture uploaded
//! with `uploadimg` and each cover as a thumb, both journalled by content
//! hash, the HTML rendered with the uploaded URLs, and the articles
//! uploaded (`uploadnews`, or `draft/add` for a draft), also journalled.
//!
//! Reading the files is the face's (see the CLI's `--article`); this module
//! prepares from what the journal kept.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use wxmass_api::api::media::{ARTICLE_IMAGE_MAX_BYTES, check_article_image};
use wxmass_api::{Client, MediaKind};
use wxmass_article::{Document, ImageRef, Theme};

use crate::error::{Error, Result};
use crate::spec::{ArticleFile, Content, sha256_hex};
use crate::store::prelude::*;
use crate::uploads::{UploadObserver, reusable_after, upload_once};

/// One article file, read and checked.
#[derive(Debug)]
pub struct Article {
    /// Where it was read (pictures and cover are beside it).
    pub path: PathBuf,
    /// Its Markdown.
    pub text: String,
    /// Parsed.
    pub document: Document,
}

impl Article {
    /// Reads and parses the file at `path`.
    pub fn read(path: &Path) -> Result<Article> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::Invalid(format!("cannot read the article {}: {e}", path.display()))
        })?;
        Article::from_text(path, text)
    }

    /// Parses `text`, read from (or uploaded as) `path`.
    pub fn from_text(path: &Path, text: String) -> Result<Article> {
        let document = Document::parse(&path.display().to_string(), &text)
            .map_err(|e| Error::Invalid(e.to_string()))?;
        Ok(Article {
            path: path.to_owned(),
            text,
            document,
        })
    }

    /// An article as planned: its Markdown from the journal.
    pub async fn planned(journal: &dyn Store, file: &ArticleFile) -> Result<Article> {
        let text = String::from_utf8(journal.file(&file.file).await?).map_err(|_| {
            Error::Invalid(format!(
                "the article {} is not UTF-8",
                file.file.path.display()
            ))
        })?;
        Article::from_text(&file.file.path, text)
    }

    /// A path in the article, relative to its file.
    pub fn beside(&self, relative: &str) -> PathBuf {
        self.path.parent().unwrap_or(Path::new(".")).join(relative)
    }

    /// `FILE:LINE`, for messages.
    pub fn at(&self, line: usize) -> String {
        format!("{}:{line}", self.path.display())
    }

    /// Reads a local picture (checked for its use by [`crate::checks`]).
    pub fn picture(&self, image: &ImageRef) -> Result<Vec<u8>> {
        let path = self.beside(&image.src);
        std::fs::read(&path).map_err(|e| {
            Error::Invalid(format!(
                "{}: cannot read the picture {}: {e}",
                self.at(image.line),
                path.display()
            ))
        })
    }

    /// The cover's path and bytes (checked by [`crate::checks`]).
    pub fn cover(&self) -> Result<(PathBuf, Vec<u8>)> {
        let cover = self.document.front.cover.as_deref().unwrap_or_default();
        let line = self.document.front.line_of("cover");
        let path = self.beside(cover);
        let data = std::fs::read(&path).map_err(|e| {
            Error::Invalid(format!(
                "{}: cannot read the cover {}: {e}",
                self.at(line),
                path.display()
            ))
        })?;
        Ok((path, data))
    }
}

/// The theme in `text` (read from `path`).
pub fn parse_theme(path: &Path, text: &str) -> Result<Theme> {
    Theme::from_toml(text).map_err(|e| Error::Invalid(format!("the theme {}: {e}", path.display())))
}

/// A picture's bytes as planned (kept in the journal); campaigns planned
/// by the first releases kept none, and read it beside the article, as
/// they did.
async fn picture_bytes(
    journal: &dyn Store,
    file: &ArticleFile,
    article: &Article,
    image: &ImageRef,
) -> Result<Vec<u8>> {
    match file.pictures.iter().find(|p| p.src == image.src) {
        Some(p) => journal.file(&p.file).await,
        None => article.picture(image),
    }
}

/// The cover's path and bytes as planned (or, for the first releases'
/// campaigns, read beside the article).
async fn cover_bytes(
    journal: &dyn Store,
    file: &ArticleFile,
    article: &Article,
) -> Result<(PathBuf, Vec<u8>)> {
    match &file.cover {
        Some(cover) => Ok((cover.path.clone(), journal.file(cover).await?)),
        None => article.cover(),
    }
}

/// The uploads preparing planned articles would make: pictures and covers
/// the journal has no id for, remote pictures, and the news item itself
/// unless a rerun finds it.
pub async fn planned_uploads(
    journal: &dyn Store,
    appid: &str,
    content: &Content,
) -> Result<Vec<String>> {
    let Content::Articles {
        articles, draft, ..
    } = content
    else {
        return Ok(Vec::new());
    };
    let mut uploads = Vec::new();
    let mut seen = HashSet::new();
    for file in articles {
        let article = Article::planned(journal, file).await?;
        for image in images(&article)? {
            if !seen.insert(image.src.clone()) {
                continue;
            }
            if image.is_remote() {
                uploads.push(format!("picture {} (downloaded first)", image.src));
            } else {
                let data = picture_bytes(journal, file, &article, &image).await?;
                if journal
                    .media(appid, &sha256_hex(&data), "uploadimg", 0)
                    .await?
                    .is_none()
                {
                    uploads.push(format!("picture {}", image.src));
                }
            }
        }
        let (cover_path, cover) = cover_bytes(journal, file, &article).await?;
        let key = if *draft { "thumb_permanent" } else { "thumb" };
        if journal
            .media(appid, &sha256_hex(&cover), key, reusable_after(!draft))
            .await?
            .is_none()
        {
            uploads.push(format!("cover {}", cover_path.display()));
        }
    }
    uploads.push(if *draft {
        "the draft (draft/add), unless a rerun finds it".to_owned()
    } else {
        "the articles (uploadnews), unless a rerun finds them".to_owned()
    });
    Ok(uploads)
}

fn images(article: &Article) -> Result<Vec<ImageRef>> {
    article
        .document
        .images()
        .map_err(|e| Error::Invalid(e.to_string()))
}

/// Prepares planned articles and returns the mpnews media id.
pub async fn prepare(
    client: &Client,
    journal: &dyn Store,
    content: &Content,
    observer: &dyn UploadObserver,
) -> Result<String> {
    let Content::Articles {
        articles: planned,
        draft,
        theme,
        fetch_remote_images,
        ..
    } = content
    else {
        return Err(Error::Invalid(
            "the campaign's content is not articles".into(),
        ));
    };
    let draft = *draft;
    let theme = match theme {
        Some(file) => {
            let text = String::from_utf8(journal.file(file).await?).map_err(|_| {
                Error::Invalid(format!("the theme {} is not UTF-8", file.path.display()))
            })?;
            parse_theme(&file.path, &text)?
        }
        None => Theme::default(),
    };
    let media = client.media();
    // One HTTP client for every remote picture, made only when asked for.
    let web = if *fetch_remote_images {
        Some(
            reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .map_err(|e| Error::Invalid(format!("cannot make an HTTP client: {e}")))?,
        )
    } else {
        None
    };
    let mut articles = Vec::new();
    for file in planned {
        let article = Article::planned(journal, file).await?;
        // Pictures: uploadimg once per distinct picture.
        let mut urls = HashMap::new();
        for image in images(&article)? {
            if urls.contains_key(&image.src) {
                continue;
            }
            let data = if image.is_remote() {
                let web = web.as_ref().ok_or_else(|| {
                    Error::Invalid("pictures on the web need --fetch-remote-images".into())
                })?;
                fetch(web, &image.src).await.map_err(|why| {
                    Error::Invalid(format!(
                        "{}: picture {}: {why}",
                        article.at(image.line),
                        image.src
                    ))
                })?
            } else {
                picture_bytes(journal, file, &article, &image).await?
            };
            let name = image.src.rsplit('/').next().unwrap_or("picture").to_owned();
            let label = format!("{} ({})", image.src, article.at(image.line));
            let url = upload_once(
                journal,
                client.appid(),
                &sha256_hex(&data),
                "uploadimg",
                false,
                &label,
                observer,
                async || {
                    let url = media.upload_article_image(&name, data).await?;
                    Ok((url.clone(), Some(url)))
                },
            )
            .await?;
            urls.insert(image.src, url);
        }
        // The cover: a temporary thumb for uploadnews, permanent for drafts.
        let (cover_path, cover) = cover_bytes(journal, file, &article).await?;
        let key = if draft { "thumb_permanent" } else { "thumb" };
        let label = format!("{} (cover)", cover_path.display());
        let thumb_id = upload_once(
            journal,
            client.appid(),
            &sha256_hex(&cover),
            key,
            !draft,
            &label,
            observer,
            async || {
                let thumb = wxmass_article::cover::thumb(&cover)
                    .map_err(|e| Error::Invalid(format!("{}: {e}", cover_path.display())))?;
                if draft {
                    Ok(media
                        .add_material(MediaKind::Thumb, "cover.jpg", thumb.jpeg, None)
                        .await?)
                } else {
                    let uploaded = media
                        .upload(MediaKind::Thumb, "cover.jpg", thumb.jpeg)
                        .await?;
                    Ok((uploaded.media_id, None))
                }
            },
        )
        .await?;
        let html = article
            .document
            .render(&theme, &|src| urls.get(src).cloned())
            .map_err(|e| Error::Invalid(e.to_string()))?;
        let front = &article.document.front;
        articles.push(wxmass_api::Article {
            title: front.title.clone(),
            thumb_media_id: thumb_id,
            author: front.author.clone().unwrap_or_default(),
            digest: front.digest.clone().unwrap_or_default(),
            content: html,
            content_source_url: front.source_url.clone().unwrap_or_default(),
            show_cover_pic: front.show_cover_pic.into(),
            need_open_comment: front.need_open_comment.into(),
            only_fans_can_comment: front.only_fans_can_comment.into(),
        });
    }
    // The news item, keyed by everything in it: a rerun reuses it.
    let body = serde_json::to_vec(&articles)
        .map_err(|e| Error::Invalid(format!("cannot serialize the articles: {e}")))?;
    let (key, label) = if draft {
        ("draft", "the draft (draft/add)")
    } else {
        ("news", "the articles (uploadnews)")
    };
    let news = client.news();
    upload_once(
        journal,
        client.appid(),
        &sha256_hex(&body),
        key,
        !draft,
        label,
        observer,
        async || {
            let id = if draft {
                news.add_draft(&articles).await?
            } else {
                news.upload(&articles).await?
            };
            Ok((id, None))
        },
    )
    .await
}

/// Downloads a remote picture; the error says why, for a sentence.
async fn fetch(http: &reqwest::Client, url: &str) -> std::result::Result<Vec<u8>, String> {
    let response = http
        .get(url)
        .send()
        .await
        .map_err(|e| format!("cannot download it: {e}"))?;
    if !response.status().is_success() {
        return Err(format!(
            "downloading it answered HTTP {}",
            response.status()
        ));
    }
    if response
        .content_length()
        .is_some_and(|n| n >= ARTICLE_IMAGE_MAX_BYTES as u64)
    {
        return Err("it is 1 MB or more; WeChat takes pictures under 1 MB in articles".into());
    }
    let data = response
        .bytes()
        .await
        .map_err(|e| format!("cannot download it: {e}"))?
        .to_vec();
    check_article_image(&data).map_err(|e| e.to_string())?;
    Ok(data)
}
