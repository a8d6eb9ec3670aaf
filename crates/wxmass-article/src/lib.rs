//! Articles for WeChat mass sends, written in Markdown.
//!
//! A writer keeps an article as Markdown with a front matter block (title,
//! author, digest, cover, ...). This crate turns it into what `uploadnews`
//! and `draft/add` take (wechat-api.md §5), checking WeChat's limits first,
//! so that nothing is uploaded for an article WeChat would refuse:
//!
//! - [`front`]: the front matter block, with the line of each field.
//! - [`Document`]: a parsed file: [`Document::images`] lists the pictures
//!   to upload (with their lines), [`Document::check`] applies §5's limits,
//!   [`Document::render`] makes the HTML once the pictures have URLs.
//! - [`render`]: Markdown to HTML that WeChat keeps: inline styles only, no
//!   raw HTML, no scripts or event attributes; links become numbered
//!   references at the end, since WeChat does not make them clickable.
//! - [`theme`]: the colours and fonts of that HTML, from a TOML file.
//! - [`cover`]: a cover picture recompressed into a thumb WeChat accepts.
//! - [`page`]: a local HTML page showing the article as a follower sees it.
//!
//! The flow in `wxmass send --article`: parse and check every file, upload
//! each picture (`uploadimg`) and cover (thumb), render with the uploaded
//! URLs, then `uploadnews` (or `draft/add`) and send.

pub mod cover;
pub mod front;
pub mod page;
pub mod render;
pub mod theme;

use std::fmt;

pub use front::FrontMatter;
pub use render::{ImageRef, Reference};
pub use theme::Theme;

/// Articles per message (wechat-api.md §5: 1–8 in the current docs).
pub const MAX_ARTICLES: usize = 8;
/// Title length in characters (`draft/add`; applied to `uploadnews` too).
pub const MAX_TITLE_CHARS: usize = 32;
/// Author length in characters.
pub const MAX_AUTHOR_CHARS: usize = 16;
/// Digest length in characters.
pub const MAX_DIGEST_CHARS: usize = 128;
/// `content_source_url` length in bytes.
pub const MAX_SOURCE_URL_BYTES: usize = 1024;
/// Content: under 20,000 characters ...
pub const MAX_CONTENT_CHARS: usize = 20_000;
/// ... and under 1 MB.
pub const MAX_CONTENT_BYTES: usize = 1024 * 1024;
/// A Markdown file larger than this cannot fit in an article; it is refused
/// before it is parsed.
pub const MAX_SOURCE_BYTES: usize = 1024 * 1024;
/// Lists and quotes nested deeper than this are refused (WeChat's editor
/// shows a few levels; deeper is a mistake or an attack).
pub const MAX_NESTING: usize = 8;

/// What is wrong with an article, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArticleError {
    /// The file, as the user named it.
    pub file: String,
    /// The 1-based line at fault, when there is one.
    pub line: Option<usize>,
    /// What is wrong and what to do.
    pub message: String,
}

impl fmt::Display for ArticleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.file, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

impl std::error::Error for ArticleError {}

/// Every problem found in an article at once, in file order, so that one
/// run shows all there is to fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArticleErrors(pub Vec<ArticleError>);

impl fmt::Display for ArticleErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ArticleErrors {}

/// A parsed article file.
#[derive(Debug, Clone)]
pub struct Document {
    /// The file name used in errors.
    pub file: String,
    /// The front matter.
    pub front: FrontMatter,
    body: String,
    /// The line of the file where the body starts (1-based).
    body_line: usize,
}

impl Document {
    /// Parses `text`, read from `file` (used in errors only).
    pub fn parse(file: &str, text: &str) -> Result<Document, ArticleError> {
        let error = |line: Option<usize>, message: String| ArticleError {
            file: file.to_owned(),
            line,
            message,
        };
        if text.len() > MAX_SOURCE_BYTES {
            return Err(error(
                None,
                format!(
                    "the file is {:.1} MB; an article's content must be under 1 MB, so split it",
                    text.len() as f64 / 1_048_576.0
                ),
            ));
        }
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let (front, body_start, body_line) =
            front::parse(text).map_err(|(line, message)| error(Some(line), message))?;
        let document = Document {
            file: file.to_owned(),
            front,
            body: text[body_start..].to_owned(),
            body_line,
        };
        if document.body.trim().is_empty() {
            return Err(error(
                Some(body_line),
                "the article has no body after the front matter".into(),
            ));
        }
        Ok(document)
    }

    /// The Markdown body.
    pub fn body(&self) -> &str {
        &self.body
    }

    fn error(&self, line: Option<usize>, message: String) -> ArticleError {
        ArticleError {
            file: self.file.clone(),
            line,
            message,
        }
    }

    /// Checks the limits of wechat-api.md §5 that the front matter decides.
    /// `needs_cover`: sending needs one; a local preview does not.
    pub fn check(&self, needs_cover: bool) -> Result<(), ArticleErrors> {
        let f = &self.front;
        let mut problems = Vec::new();
        let chars = |s: &str| s.chars().count();
        let mut too_long = |field: &str, value: &str, max: usize| {
            let n = chars(value);
            if n > max {
                problems.push(self.error(
                    Some(f.line_of(field)),
                    format!("{field} has {n} characters; WeChat takes {max}"),
                ));
            }
        };
        too_long("title", &f.title, MAX_TITLE_CHARS);
        too_long(
            "author",
            f.author.as_deref().unwrap_or(""),
            MAX_AUTHOR_CHARS,
        );
        too_long(
            "digest",
            f.digest.as_deref().unwrap_or(""),
            MAX_DIGEST_CHARS,
        );
        if let Some(url) = &f.source_url {
            if url.len() > MAX_SOURCE_URL_BYTES {
                problems.push(self.error(
                    Some(f.line_of("source_url")),
                    format!("source_url is {} bytes; WeChat takes 1,024", url.len()),
                ));
            }
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                problems.push(self.error(
                    Some(f.line_of("source_url")),
                    format!("source_url {url:?} must start with https:// or http://"),
                ));
            }
        }
        if needs_cover && f.cover.is_none() {
            problems.push(self.error(
                Some(1),
                "no cover: WeChat needs a cover picture for every article; add `cover: cover.jpg` to the front matter".into(),
            ));
        }
        // In file order: the user fixes them top to bottom.
        problems.sort_by_key(|p| p.line);
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ArticleErrors(problems))
        }
    }

    /// The pictures in the body, in order, with their lines. Also refuses
    /// nesting deeper than [`MAX_NESTING`].
    pub fn images(&self) -> Result<Vec<ImageRef>, ArticleError> {
        let found = render::scan(&self.body)
            .map_err(|(offset, m)| self.error(Some(self.line_at(offset)), m))?;
        Ok(found
            .into_iter()
            .map(|(src, offset)| ImageRef {
                src,
                line: self.line_at(offset),
            })
            .collect())
    }

    /// Renders the body to WeChat-safe HTML, with each picture's `src`
    /// replaced by `resolve(src)`. Checks the content limits.
    pub fn render(
        &self,
        theme: &Theme,
        resolve: &dyn Fn(&str) -> Option<String>,
    ) -> Result<String, ArticleError> {
        self.images()?;
        let html = render::render(&self.body, theme, resolve)
            .map_err(|(offset, m)| self.error(Some(self.line_at(offset)), m))?;
        let n = html.chars().count();
        if n >= MAX_CONTENT_CHARS || html.len() >= MAX_CONTENT_BYTES {
            return Err(self.error(
                None,
                format!(
                    "the article's HTML has {n} characters ({} bytes); WeChat takes under 20,000 characters and 1 MB: shorten it or split it into two articles",
                    html.len()
                ),
            ));
        }
        Ok(html)
    }

    /// The line of the file at a byte offset of the body.
    fn line_at(&self, offset: usize) -> usize {
        let offset = offset.min(self.body.len());
        self.body_line
            + self.body.as_bytes()[..offset]
                .iter()
                .filter(|&&b| b == b'\n')
                .count()
    }
}

/// Checks the number of articles in one message.
pub fn check_count(n: usize) -> Result<(), String> {
    if n == 0 || n > MAX_ARTICLES {
        return Err(format!(
            "a message takes 1 to {MAX_ARTICLES} articles; {n} given"
        ));
    }
    Ok(())
}

/// Escapes text for HTML element content and attribute values.
pub(crate) fn escape(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}
