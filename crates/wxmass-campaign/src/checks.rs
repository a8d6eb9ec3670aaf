//! What a campaign sends, checked before anything is stored or sent, the
//! same way for every face: a text's length, each file's kind and size for
//! its use, each article's front matter, cover and pictures. Every problem
//! is found (one run shows all there is to fix), each named by the path of
//! the field at fault (`content.articles[2].cover`) and, when it is about a
//! file, where in it (`post.md:3`). The server answers with the field; the
//! CLI with the file or the flag.
//!
//! Files come from a [`FileSource`]: the bytes a CLI run just read
//! ([`Files`]), or those uploaded to a server ([`StoredFiles`]).

use std::fmt;

use async_trait::async_trait;
use wxmass_api::MediaKind;
use wxmass_api::api::media::{Format, check_article_image, check_file};
use wxmass_api::message::Message;

use crate::articles::{Article, parse_theme};
use crate::error::Result;
use crate::notices::{Channel, SubscriptionNotice, TemplateNotice};
use crate::spec::{ArticleFile, Content, FileRef, Files};
use crate::store::prelude::*;
use wxmass_api::api::subscribe::{self, SubscribeMessage};
use wxmass_api::api::templates::{self, MiniProgram, TemplateMessage};

/// Whether a problem is a file the content names that is not there, or
/// something wrong with what is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A file named but not found (not uploaded; not listed).
    Missing,
    /// Present, and wrong.
    Invalid,
}

/// One thing to fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The field at fault, as a path: `content.articles[0].pictures[1]`.
    pub field: String,
    /// Where in a file, when it is about one: `post.md:3`, `photo.png`.
    pub at: Option<String>,
    /// What is wrong and what to do.
    pub message: String,
    /// Missing or invalid.
    pub kind: Kind,
}

impl Problem {
    fn new(field: impl Into<String>, message: impl Into<String>) -> Problem {
        Problem {
            field: field.into(),
            at: None,
            message: message.into(),
            kind: Kind::Invalid,
        }
    }

    fn at(mut self, at: impl Into<String>) -> Problem {
        self.at = Some(at.into());
        self
    }

    fn missing(mut self) -> Problem {
        self.kind = Kind::Missing;
        self
    }

    /// The sentence for a reader who knows files, not fields: `post.md:3:
    /// ...`, or the field when no file is at fault.
    pub fn in_file(&self) -> String {
        match &self.at {
            Some(at) => format!("{at}: {}", self.message),
            None => format!("{}: {}", self.field, self.message),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.at {
            Some(at) => write!(f, "{}: {at}: {}", self.field, self.message),
            None => write!(f, "{}: {}", self.field, self.message),
        }
    }
}

/// Where the files a content names are read from.
#[async_trait]
pub trait FileSource: Send + Sync {
    /// The bytes of `file` (by its SHA-256), if there are any.
    async fn bytes(&self, file: &FileRef) -> Result<Option<Vec<u8>>>;
}

#[async_trait]
impl FileSource for Files {
    async fn bytes(&self, file: &FileRef) -> Result<Option<Vec<u8>>> {
        Ok(self
            .iter()
            .find(|(sha256, _)| sha256.eq_ignore_ascii_case(&file.sha256))
            .map(|(_, data)| data.to_vec()))
    }
}

/// The files uploaded to a store (a server's `POST /api/v1/files`).
pub struct StoredFiles<'a>(pub &'a dyn Store);

#[async_trait]
impl FileSource for StoredFiles<'_> {
    async fn bytes(&self, file: &FileRef) -> Result<Option<Vec<u8>>> {
        let hex = file.sha256.len() == 64 && file.sha256.bytes().all(|b| b.is_ascii_hexdigit());
        if !hex {
            return Ok(None);
        }
        self.0.blob(&file.sha256.to_ascii_lowercase()).await
    }
}

/// Every problem with `content` (none: it can be prepared and sent); an
/// error only when the files cannot be read at all.
pub async fn check(files: &dyn FileSource, content: &Content) -> Result<Vec<Problem>> {
    let mut problems = Vec::new();
    match content {
        Content::Text { text } => {
            if text.trim().is_empty() {
                problems.push(Problem::new(
                    "content.text",
                    "the text is empty: nothing to send",
                ));
            } else if let Err(e) = Message::text(text.as_str()).validate() {
                problems.push(Problem::new("content.text", e.to_string()));
            }
        }
        Content::Images { files: pictures } => {
            if pictures.is_empty() {
                problems.push(Problem::new("content.files", "name 1 or more pictures"));
            }
            for (i, file) in pictures.iter().enumerate() {
                let field = format!("content.files[{i}]");
                media(files, &field, file, MediaKind::Image, true, &mut problems).await?;
            }
        }
        Content::Voice { file } => {
            media(
                files,
                "content.file",
                file,
                MediaKind::Voice,
                true,
                &mut problems,
            )
            .await?;
        }
        Content::Video { file, title, .. } => {
            if title.trim().is_empty() {
                problems.push(Problem::new("content.title", "a video needs a title"));
            }
            media(
                files,
                "content.file",
                file,
                MediaKind::Video,
                false,
                &mut problems,
            )
            .await?;
        }
        Content::Articles {
            articles,
            theme,
            fetch_remote_images,
            ..
        } => {
            if let Err(e) = wxmass_article::check_count(articles.len()) {
                problems.push(Problem::new("content.articles", e));
            }
            if let Some(theme) = theme
                && let Some(data) = present(files, "content.theme", theme, &mut problems).await?
            {
                let at = theme.path.display().to_string();
                match String::from_utf8(data) {
                    Err(_) => problems.push(Problem::new("content.theme", "not UTF-8 text").at(at)),
                    Ok(text) => {
                        if let Err(e) = parse_theme(&theme.path, &text) {
                            problems.push(Problem::new("content.theme", e.to_string()));
                        }
                    }
                }
            }
            for (i, article) in articles.iter().enumerate() {
                check_article(files, i, article, *fetch_remote_images, &mut problems).await?;
            }
        }
        Content::Uploaded { media_id, .. } => {
            if media_id.trim().is_empty() || media_id.len() > 128 {
                problems.push(Problem::new(
                    "content.media_id",
                    "the media id WeChat gave (1 to 128 characters)",
                ));
            }
        }
        Content::Card { card_id } => {
            if let Err(e) = Message::WxCard(card_id.clone()).validate() {
                problems.push(Problem::new("content.card_id", e.to_string()));
            }
        }
        Content::Notice {
            via,
            template,
            subscription,
            custom_text,
        } => check_notice(
            via,
            template.as_ref(),
            subscription.as_ref(),
            custom_text.as_deref(),
            &mut problems,
        ),
    }
    Ok(problems)
}

/// A fan-out campaign's channels and each one's message, with WeChat's
/// rules for template keywords (the client's own check, so that a value
/// it would refuse is found before anything is stored).
fn check_notice(
    via: &[Channel],
    template: Option<&TemplateNotice>,
    subscription: Option<&SubscriptionNotice>,
    custom_text: Option<&str>,
    problems: &mut Vec<Problem>,
) {
    if via.is_empty() {
        problems.push(Problem::new(
            "content.via",
            "name the channels to try, in order: template, subscription, customer_service",
        ));
    }
    for (i, channel) in via.iter().enumerate() {
        if via[..i].contains(channel) {
            problems.push(Problem::new(
                format!("content.via[{i}]"),
                format!("{} is named twice", channel.as_str()),
            ));
        }
    }
    let given = [
        (Channel::Template, template.is_some(), "content.template"),
        (
            Channel::Subscription,
            subscription.is_some(),
            "content.subscription",
        ),
        (
            Channel::CustomerService,
            custom_text.is_some(),
            "content.custom_text",
        ),
    ];
    for (channel, is_given, field) in given {
        match (via.contains(&channel), is_given) {
            (true, false) => problems.push(Problem::new(
                field,
                format!(
                    "the {} channel is in via but its message is missing",
                    channel.as_str()
                ),
            )),
            (false, true) => problems.push(Problem::new(
                field,
                format!(
                    "given, but {} is not in via: add it there or remove this",
                    channel.as_str()
                ),
            )),
            _ => {}
        }
    }
    if let Some(t) = template {
        let message = TemplateMessage {
            touser: "o".into(),
            template_id: t.template_id.clone(),
            url: t.url.clone(),
            miniprogram: t.miniprogram.as_ref().map(|m| MiniProgram {
                appid: m.appid.clone(),
                pagepath: m.pagepath.clone(),
            }),
            client_msg_id: None,
            data: t.data.clone().into_iter().collect(),
        };
        if let Err(e) = templates::check(&message) {
            problems.push(Problem::new("content.template", said(&e)));
        }
    }
    if let Some(n) = subscription {
        let message = SubscribeMessage {
            touser: "o".into(),
            template_id: n.template_id.clone(),
            page: n.page.clone(),
            miniprogram: n.miniprogram.as_ref().map(|m| MiniProgram {
                appid: m.appid.clone(),
                pagepath: m.pagepath.clone(),
            }),
            data: n.data.clone().into_iter().collect(),
        };
        if let Err(e) = subscribe::bizsend_body(&message) {
            problems.push(Problem::new("content.subscription", said(&e)));
        }
    }
    if let Some(text) = custom_text {
        if text.trim().is_empty() {
            problems.push(Problem::new(
                "content.custom_text",
                "the text is empty: nothing to send",
            ));
        } else if text.len() > CUSTOM_TEXT_MAX {
            problems.push(Problem::new(
                "content.custom_text",
                format!(
                    "{} bytes: at most {CUSTOM_TEXT_MAX} (WeChat documents no limit; wxmass keeps a mass text's)",
                    text.len()
                ),
            ));
        }
    }
}

/// Checks a notice's template message against the account's templates
/// (`library`, from `templates list`): its id must be one of them and its
/// data must name exactly that template's keywords. Apart from [`check`],
/// which needs no call to WeChat.
pub fn check_template_keys(content: &Content, library: &[templates::Template]) -> Vec<Problem> {
    let Content::Notice {
        template: Some(t), ..
    } = content
    else {
        return Vec::new();
    };
    match library.iter().find(|l| l.template_id == t.template_id) {
        None => vec![Problem::new(
            "content.template.template_id",
            format!(
                "{:?} is not one of the account's templates (`wxmass templates list` names them; `templates add` adds one)",
                t.template_id
            ),
        )],
        Some(known) => match known.check_keys(t.data.keys()) {
            Ok(()) => Vec::new(),
            Err(e) => vec![Problem::new("content.template.data", said(&e))],
        },
    }
}

/// Longest customer-service text taken. WeChat documents none (the
/// reference is silent); a mass text's 2,048 bytes is kept, so that one
/// text serves both.
pub const CUSTOM_TEXT_MAX: usize = 2048;

/// A client check's words without the `invalid request: ` prefix.
fn said(e: &wxmass_api::Error) -> String {
    match e {
        wxmass_api::Error::Invalid(why) => why.clone(),
        other => other.to_string(),
    }
}

/// The bytes of `file`, or a problem for `field` saying it is missing.
async fn present(
    files: &dyn FileSource,
    field: &str,
    file: &FileRef,
    problems: &mut Vec<Problem>,
) -> Result<Option<Vec<u8>>> {
    let found = files.bytes(file).await?;
    if found.is_none() {
        problems.push(
            Problem::new(
                format!("{field}.sha256"),
                format!(
                    "no file with this SHA-256 ({}) was uploaded: upload {} first",
                    file.sha256.escape_debug(),
                    file.path.display()
                ),
            )
            .missing(),
        );
    }
    Ok(found)
}

/// A picture, voice or video sent as the message, checked for its use.
async fn media(
    files: &dyn FileSource,
    field: &str,
    file: &FileRef,
    kind: MediaKind,
    permanent: bool,
    problems: &mut Vec<Problem>,
) -> Result<()> {
    if let Some(data) = present(files, field, file, problems).await?
        && let Err(e) = check_file(kind, permanent, &data)
    {
        problems.push(
            Problem::new(
                field,
                format!("cannot be sent as the message's {}: {e}", kind.as_str()),
            )
            .at(file.path.display().to_string()),
        );
    }
    Ok(())
}

async fn check_article(
    files: &dyn FileSource,
    i: usize,
    file: &ArticleFile,
    fetch_remote_images: bool,
    problems: &mut Vec<Problem>,
) -> Result<()> {
    let field = format!("content.articles[{i}]");
    let Some(data) = present(files, &format!("{field}.file"), &file.file, problems).await? else {
        return Ok(());
    };
    let name = file.file.path.display().to_string();
    let article = match String::from_utf8(data)
        .map_err(|_| format!("{name} is not UTF-8 text"))
        .and_then(|text| Article::from_text(&file.file.path, text).map_err(|e| e.to_string()))
    {
        Ok(article) => article,
        Err(message) => {
            problems.push(Problem::new(format!("{field}.file"), message));
            return Ok(());
        }
    };
    if let Err(errors) = article.document.check(true) {
        for e in errors.0 {
            let at = match e.line {
                Some(line) => format!("{}:{line}", e.file),
                None => e.file.clone(),
            };
            problems.push(Problem::new(&field, e.message).at(at));
        }
    }
    if let Some(cover_src) = &article.document.front.cover {
        let at = article.at(article.document.front.line_of("cover"));
        match &file.cover {
            None => problems.push(
                Problem::new(
                    format!("{field}.cover"),
                    format!(
                        "the front matter names the cover {cover_src}: upload it and name it here"
                    ),
                )
                .at(at)
                .missing(),
            ),
            Some(cover) => {
                if let Some(data) =
                    present(files, &format!("{field}.cover"), cover, problems).await?
                    && !matches!(Format::detect(&data), Some(Format::Jpeg | Format::Png))
                {
                    problems.push(
                        Problem::new(
                            format!("{field}.cover"),
                            format!("the cover {cover_src} must be a JPEG or PNG picture"),
                        )
                        .at(at),
                    );
                }
            }
        }
    }
    let images = match article.document.images() {
        Ok(images) => images,
        Err(e) => {
            problems.push(Problem::new(&field, e.message).at(article.at(e.line.unwrap_or(1))));
            return Ok(());
        }
    };
    for image in images {
        let at = article.at(image.line);
        if image.is_remote() {
            if !fetch_remote_images {
                problems.push(
                    Problem::new(
                        "content.fetch_remote_images",
                        format!(
                            "{} is on the web: WeChat shows only pictures uploaded with uploadimg; keep it next to the article, or have it downloaded and uploaded (--fetch-remote-images, fetch_remote_images)",
                            image.src.escape_debug()
                        ),
                    )
                    .at(at),
                );
            }
            continue;
        }
        let Some(j) = file.pictures.iter().position(|p| p.src == image.src) else {
            problems.push(
                Problem::new(
                    format!("{field}.pictures"),
                    format!(
                        "the article shows {}: upload it and add {{\"src\": {:?}, \"file\": {{\"path\": ..., \"sha256\": ...}}}}",
                        image.src.escape_debug(),
                        image.src
                    ),
                )
                .at(at)
                .missing(),
            );
            continue;
        };
        let picture = format!("{field}.pictures[{j}]");
        if let Some(data) = present(
            files,
            &format!("{picture}.file"),
            &file.pictures[j].file,
            problems,
        )
        .await?
            && let Err(e) = check_article_image(&data)
        {
            problems.push(Problem::new(picture, format!("picture {}: {e}", image.src)).at(at));
        }
    }
    Ok(())
}
