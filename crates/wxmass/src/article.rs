//! `--article`: Markdown files into an mpnews message, and `wxmass article
//! render`.
//!
//! Planning reads and checks every file (front matter, §5 limits, pictures
//! present and of the right kind) before anything is uploaded. Preparing
//! uploads each picture with `uploadimg` and each cover as a thumb, both
//! journalled by content hash (so a rerun, or another article with the same
//! picture, uploads nothing), renders the HTML with the uploaded URLs, and
//! uploads the articles (`uploadnews`, or `draft/add` with `--draft`), also
//! journalled.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde_json::json;
use wxmass_api::api::media::{ARTICLE_IMAGE_MAX_BYTES, Format, check_article_image};
use wxmass_api::{Client, MediaKind};
use wxmass_article::{Document, ImageRef, Theme};
use wxmass_campaign::{ArticleFile, Content, Files, Journal, PictureRef, sha256_hex};

use crate::campaign::Planned;
use crate::cli::ContentArgs;
use crate::uploads::{reusable_after, upload_once};

/// One article file, read and checked.
struct Article {
    path: PathBuf,
    text: String,
    document: Document,
}

impl Article {
    fn read(path: &Path) -> Result<Article> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the article {}", path.display()))?;
        Article::parse(path, text)
    }

    fn parse(path: &Path, text: String) -> Result<Article> {
        let document = Document::parse(&path.display().to_string(), &text)?;
        Ok(Article {
            path: path.to_owned(),
            text,
            document,
        })
    }

    /// An article as planned: its Markdown from the journal.
    async fn planned(journal: &Journal, file: &ArticleFile) -> Result<Article> {
        let text = String::from_utf8(journal.file(&file.file).await?)
            .with_context(|| format!("the article {} is not UTF-8", file.file.path.display()))?;
        Article::parse(&file.file.path, text)
    }

    /// A path in the article, relative to its file.
    fn beside(&self, relative: &str) -> PathBuf {
        self.path.parent().unwrap_or(Path::new(".")).join(relative)
    }

    fn at(&self, line: usize) -> String {
        format!("{}:{line}", self.path.display())
    }

    /// Reads a local picture and checks it can go in an article.
    fn picture(&self, image: &ImageRef) -> Result<Vec<u8>> {
        let path = self.beside(&image.src);
        let data = std::fs::read(&path).with_context(|| {
            format!(
                "{}: cannot read the picture {}",
                self.at(image.line),
                path.display()
            )
        })?;
        check_article_image(&data)
            .with_context(|| format!("{}: picture {}", self.at(image.line), image.src))?;
        Ok(data)
    }

    /// The cover's path and bytes, checked.
    fn cover(&self) -> Result<(PathBuf, Vec<u8>)> {
        let cover = self.document.front.cover.as_deref().unwrap_or_default();
        let line = self.document.front.line_of("cover");
        let path = self.beside(cover);
        let data = std::fs::read(&path).with_context(|| {
            format!(
                "{}: cannot read the cover {}",
                self.at(line),
                path.display()
            )
        })?;
        if !matches!(Format::detect(&data), Some(Format::Jpeg | Format::Png)) {
            bail!(
                "{}: the cover {cover} must be a JPEG or PNG picture",
                self.at(line)
            );
        }
        Ok((path, data))
    }
}

/// The theme at `path` (the default without one), and its text.
fn read_theme(path: Option<&Path>) -> Result<(Theme, Option<String>)> {
    let Some(path) = path else {
        return Ok((Theme::default(), None));
    };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the theme {}", path.display()))?;
    Ok((parse_theme(path, &text)?, Some(text)))
}

fn parse_theme(path: &Path, text: &str) -> Result<Theme> {
    Theme::from_toml(text).map_err(|e| anyhow::anyhow!("the theme {}: {e}", path.display()))
}

/// Plans `--article` content: every file read and checked, every local
/// picture and cover present and usable (and kept, with the Markdown and
/// the theme, by content), remote pictures allowed only with
/// `--fetch-remote-images`. Nothing is uploaded.
pub fn plan(c: &ContentArgs, ignore_reprint: bool) -> Result<Planned> {
    wxmass_article::check_count(c.article.len()).map_err(anyhow::Error::msg)?;
    let mut files = Files::default();
    let theme = match (c.theme.as_deref(), read_theme(c.theme.as_deref())?) {
        (Some(path), (_, Some(text))) => Some(files.add(path, text.into_bytes())),
        _ => None,
    };
    let mut articles = Vec::new();
    let mut remote = Vec::new();
    // Every problem of every article, so that one run shows all to fix.
    let mut problems: Vec<String> = Vec::new();
    for path in &c.article {
        let article = Article::read(path)?;
        if let Err(errors) = article.document.check(true) {
            problems.extend(errors.0.iter().map(ToString::to_string));
        }
        let mut cover = None;
        if article.document.front.cover.is_some() {
            match article.cover() {
                Ok((cover_path, data)) => cover = Some(files.add(cover_path, data)),
                Err(e) => problems.push(format!("{e:#}")),
            }
        }
        let mut pictures: Vec<PictureRef> = Vec::new();
        match article.document.images() {
            Ok(images) => {
                for image in images {
                    if image.is_remote() {
                        remote.push(format!("{}: {}", article.at(image.line), image.src));
                    } else if pictures.iter().any(|p| p.src == image.src) {
                        continue;
                    } else {
                        match article.picture(&image) {
                            Ok(data) => pictures.push(PictureRef {
                                file: files.add(article.beside(&image.src), data),
                                src: image.src,
                            }),
                            Err(e) => problems.push(format!("{e:#}")),
                        }
                    }
                }
            }
            Err(e) => problems.push(e.to_string()),
        }
        articles.push(ArticleFile {
            file: files.add(path, article.text.into_bytes()),
            cover,
            pictures,
        });
    }
    match problems.len() {
        0 => {}
        1 => bail!("{}", problems[0]),
        n => bail!("{n} problems to fix first:\n  {}", problems.join("\n  ")),
    }
    if !remote.is_empty() && !c.fetch_remote_images {
        bail!(
            "pictures on the web cannot go in an article as they are (WeChat shows only pictures uploaded with uploadimg):\n  {}\nsave them next to the article, or pass --fetch-remote-images to download and upload them",
            remote.join("\n  ")
        );
    }
    Ok(Planned {
        content: Content::Articles {
            articles,
            draft: c.draft,
            theme,
            fetch_remote_images: c.fetch_remote_images,
            ignore_reprint,
        },
        files,
    })
}

/// A picture's bytes as planned (kept in the journal); campaigns planned
/// by the first releases kept none, and read it beside the article, as
/// they did.
async fn picture_bytes(
    journal: &Journal,
    file: &ArticleFile,
    article: &Article,
    image: &ImageRef,
) -> Result<Vec<u8>> {
    match file.pictures.iter().find(|p| p.src == image.src) {
        Some(p) => Ok(journal.file(&p.file).await?),
        None => article.picture(image),
    }
}

/// The cover's path and bytes as planned (or, for the first releases'
/// campaigns, read beside the article).
async fn cover_bytes(
    journal: &Journal,
    file: &ArticleFile,
    article: &Article,
) -> Result<(PathBuf, Vec<u8>)> {
    match &file.cover {
        Some(cover) => Ok((cover.path.clone(), journal.file(cover).await?)),
        None => article.cover(),
    }
}

/// The uploads preparing planned `--article` content would make: pictures
/// and covers the journal has no id for, remote pictures, and the news item
/// itself unless a rerun finds it.
pub async fn planned_uploads(journal: &Journal, content: &Content) -> Result<Vec<String>> {
    let Content::Articles {
        articles, draft, ..
    } = content
    else {
        return Ok(Vec::new());
    };
    let mut uploads = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for file in articles {
        let article = Article::planned(journal, file).await?;
        for image in article.document.images()? {
            if !seen.insert(image.src.clone()) {
                continue;
            }
            if image.is_remote() {
                uploads.push(format!("picture {} (downloaded first)", image.src));
            } else {
                let data = picture_bytes(journal, file, &article, &image).await?;
                if journal
                    .media(&sha256_hex(&data), "uploadimg", 0)
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
            .media(&sha256_hex(&cover), key, reusable_after(!draft))
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

/// Prepares planned `--article` content and returns the mpnews media id.
pub async fn prepare(client: &Client, journal: &Journal, content: &Content) -> Result<String> {
    let Content::Articles {
        articles: planned,
        draft,
        theme,
        fetch_remote_images,
        ..
    } = content
    else {
        bail!("the campaign's content is not articles");
    };
    let draft = *draft;
    let theme = match theme {
        Some(file) => {
            let text = String::from_utf8(journal.file(file).await?)
                .with_context(|| format!("the theme {} is not UTF-8", file.path.display()))?;
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
                .context("cannot make an HTTP client")?,
        )
    } else {
        None
    };
    let mut articles = Vec::new();
    for file in planned {
        let article = Article::planned(journal, file).await?;
        // Pictures: uploadimg once per distinct picture.
        let mut urls = HashMap::new();
        for image in article.document.images()? {
            if urls.contains_key(&image.src) {
                continue;
            }
            let data = if image.is_remote() {
                let web = web
                    .as_ref()
                    .context("pictures on the web need --fetch-remote-images")?;
                fetch(web, &image.src)
                    .await
                    .with_context(|| format!("{}: picture {}", article.at(image.line), image.src))?
            } else {
                picture_bytes(journal, file, &article, &image).await?
            };
            let name = image.src.rsplit('/').next().unwrap_or("picture").to_owned();
            let label = format!("{} ({})", image.src, article.at(image.line));
            let url = upload_once(
                journal,
                &sha256_hex(&data),
                "uploadimg",
                false,
                &label,
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
            &sha256_hex(&cover),
            key,
            !draft,
            &label,
            async || {
                let thumb = wxmass_article::cover::thumb(&cover)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", cover_path.display()))?;
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
            .render(&theme, &|src| urls.get(src).cloned())?;
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
    let body = serde_json::to_vec(&articles)?;
    let (key, label) = if draft {
        ("draft", "the draft (draft/add)")
    } else {
        ("news", "the articles (uploadnews)")
    };
    let news = client.news();
    upload_once(
        journal,
        &sha256_hex(&body),
        key,
        !draft,
        label,
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

/// Downloads a remote picture (`--fetch-remote-images`).
async fn fetch(http: &reqwest::Client, url: &str) -> Result<Vec<u8>> {
    let response = http.get(url).send().await.context("cannot download it")?;
    if !response.status().is_success() {
        bail!("downloading it answered HTTP {}", response.status());
    }
    if response
        .content_length()
        .is_some_and(|n| n >= ARTICLE_IMAGE_MAX_BYTES as u64)
    {
        bail!("it is 1 MB or more; WeChat takes pictures under 1 MB in articles");
    }
    let data = response
        .bytes()
        .await
        .context("cannot download it")?
        .to_vec();
    check_article_image(&data)?;
    Ok(data)
}

/// `wxmass article render`: the local page, pictures from local files.
pub fn render_page(file: &Path, out: &Path, theme: Option<&Path>, json_out: bool) -> Result<()> {
    let article = Article::read(file)?;
    article.document.check(false)?;
    let (theme, _) = read_theme(theme)?;
    let mut urls = HashMap::new();
    let images = article.document.images()?;
    for image in &images {
        let src = if image.is_remote() {
            image.src.clone()
        } else {
            article.picture(image)?;
            file_url(&article.beside(&image.src))?
        };
        urls.insert(image.src.clone(), src);
    }
    let cover = match &article.document.front.cover {
        Some(_) => Some(file_url(&article.cover()?.0)?),
        None => None,
    };
    let content = article
        .document
        .render(&theme, &|src| urls.get(src).cloned())?;
    let page = wxmass_article::page::page(&article.document, &content, cover.as_deref());
    std::fs::write(out, &page).with_context(|| format!("cannot write {}", out.display()))?;
    let value = json!({"out": out, "title": article.document.front.title, "pictures": images.len(),
                       "content_characters": content.chars().count()});
    crate::commands::print(json_out, &value, || {
        format!(
            "wrote {} ({} picture(s), {} of WeChat's 20,000 characters); open it in a browser",
            out.display(),
            images.len(),
            content.chars().count()
        )
    });
    Ok(())
}

/// A `file://` URL for a local path.
fn file_url(path: &Path) -> Result<String> {
    let absolute =
        std::fs::canonicalize(path).with_context(|| format!("cannot find {}", path.display()))?;
    let mut url = String::from("file://");
    for byte in absolute.to_string_lossy().bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' | b'~' => {
                url.push(byte as char)
            }
            _ => url.push_str(&format!("%{byte:02X}")),
        }
    }
    Ok(url)
}
