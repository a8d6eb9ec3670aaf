//! `--article`: Markdown files read into a campaign's content, and `wxmass
//! article render`.
//!
//! Planning reads and checks every file (front matter, §5 limits, pictures
//! present and of the right kind) and keeps each, with its pictures, cover
//! and theme, by content, before anything is uploaded. Preparing (the
//! uploads, the HTML, the news item) is the engine's:
//! `wxmass_campaign::articles`.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{Context, Result};
use serde_json::json;
use wxmass_article::Theme;
use wxmass_campaign::articles::{Article, parse_theme};
use wxmass_campaign::{ArticleFile, Content, Files, PictureRef};

use crate::cli::ContentArgs;

/// What the user asked to send, read and checked, with the bytes of every
/// file it needs (kept in the journal with the campaign).
pub struct Planned {
    /// The message.
    pub content: Content,
    /// Its files.
    pub files: Files,
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

/// Plans `--article` content: every file read, and every local picture,
/// cover and theme kept with the Markdown by content, before anything is
/// uploaded; and what could not be read, said with its file and line. The
/// content itself (front matter, limits, pictures' kinds, pictures on the
/// web) is checked by the engine's checker (`campaign::read_checked`).
pub fn plan(c: &ContentArgs, ignore_reprint: bool) -> Result<(Planned, Vec<String>)> {
    let mut files = Files::default();
    let theme = match (c.theme.as_deref(), read_theme(c.theme.as_deref())?) {
        (Some(path), (_, Some(text))) => Some(files.add(path, text.into_bytes())),
        _ => None,
    };
    let mut articles = Vec::new();
    // Every problem of every article, so that one run shows all to fix.
    let mut problems: Vec<String> = Vec::new();
    for path in &c.article {
        let article = Article::read(path)?;
        let mut cover = None;
        if article.document.front.cover.is_some() {
            match article.cover() {
                Ok((cover_path, data)) => cover = Some(files.add(cover_path, data)),
                Err(e) => problems.push(format!("{e:#}")),
            }
        }
        let mut pictures: Vec<PictureRef> = Vec::new();
        // An article whose pictures cannot be found is the checker's to say.
        for image in article.document.images().unwrap_or_default() {
            if image.is_remote() || pictures.iter().any(|p| p.src == image.src) {
                continue;
            }
            match article.picture(&image) {
                Ok(data) => pictures.push(PictureRef {
                    file: files.add(article.beside(&image.src), data),
                    src: image.src,
                }),
                Err(e) => problems.push(format!("{e:#}")),
            }
        }
        articles.push(ArticleFile {
            file: files.add(path, article.text.into_bytes()),
            cover,
            pictures,
        });
    }
    let planned = Planned {
        content: Content::Articles {
            articles,
            draft: c.draft,
            theme,
            fetch_remote_images: c.fetch_remote_images,
            ignore_reprint,
        },
        files,
    };
    Ok((planned, problems))
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
    crate::output::print(json_out, &value, || {
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
