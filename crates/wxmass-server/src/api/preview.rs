//! A campaign's message as it will be sent (`GET
//! /api/v1/campaigns/{id}/message`), for the approver; an article's
//! phone-width preview (`POST /api/v1/articles/preview`), for the
//! dashboard's compose page: the Markdown rendered by wxmass-article
//! exactly as it is when the campaign is prepared (the same HTML uploaded,
//! only the pictures' addresses differ: here the uploaded bytes inline,
//! there WeChat's), in the page `wxmass article render` makes, with every
//! problem the CLI would report; and any message checked as creating its
//! campaign would check it (`POST /api/v1/content/check`). A problem is
//! part of the answer, not an error, so that the page can show it while
//! someone types.

use axum::Json;
use axum::extract::{Path, State};
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use wxmass_article::{Document, Theme};
use wxmass_campaign::notices::Channel;
use wxmass_campaign::{Content, FileRef, PictureRef};

use crate::AppState;
use crate::auth::{Allowed, ToEdit, ToRead};
use crate::error::{ApiResult, ErrorBody};
use crate::json::Body;

/// The longest Markdown looked at: WeChat takes under 20,000 characters
/// of HTML, which no longer Markdown becomes.
const MAX_MARKDOWN_BYTES: usize = 256 * 1024;

/// An article being written.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ArticleDraft {
    /// The Markdown, with its front matter (title, cover, ...).
    pub markdown: String,
    /// The pictures it shows, uploaded (`POST /api/v1/files`).
    #[serde(default)]
    pub pictures: Vec<PictureRef>,
    /// Its cover, uploaded.
    #[serde(default)]
    pub cover: Option<FileRef>,
}

/// The preview.
#[derive(Debug, Serialize, ToSchema)]
pub struct ArticlePreview {
    /// The title, once the front matter has one.
    pub title: Option<String>,
    /// The page: the article at phone width (empty when it cannot be
    /// rendered).
    pub html: String,
    /// Characters of the article's HTML (WeChat takes under 20,000).
    pub characters: u64,
    /// What to fix before it can be sent, in the CLI's words.
    pub problems: Vec<String>,
}

/// `data:` address of uploaded bytes (a picture's), if the store has them.
async fn inline(state: &AppState, file: &FileRef) -> ApiResult<Option<String>> {
    let Some(data) = state.journal().blob(&file.sha256).await? else {
        return Ok(None);
    };
    let mime = wxmass_api::api::media::Format::detect(&data).map_or("image/jpeg", |f| f.mime());
    Ok(Some(format!(
        "data:{mime};base64,{}",
        base64::engine::general_purpose::STANDARD.encode(data)
    )))
}

/// Renders an article being written as a follower's phone shows it, with
/// the problems to fix.
#[utoipa::path(post, path = "/api/v1/articles/preview", tag = "campaigns", security(("token" = ["edit"])),
    request_body = ArticleDraft,
    responses((status = 200, body = ArticlePreview), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
pub async fn preview_article(
    _: Allowed<ToEdit>,
    State(state): State<AppState>,
    Body(draft): Body<ArticleDraft>,
) -> ApiResult<Json<ArticlePreview>> {
    if draft.markdown.len() > MAX_MARKDOWN_BYTES {
        return Err(crate::error::ApiError::invalid(
            "markdown",
            format!(
                "{} bytes; an article's Markdown is at most {MAX_MARKDOWN_BYTES}",
                draft.markdown.len()
            ),
        ));
    }
    Ok(Json(
        render(
            &state,
            &draft.markdown,
            &draft.pictures,
            draft.cover.as_ref(),
            &Theme::default(),
        )
        .await?,
    ))
}

/// An article as a follower's phone shows it, with its pictures from the
/// store, and the problems to fix.
async fn render(
    state: &AppState,
    markdown: &str,
    pictures: &[PictureRef],
    cover: Option<&FileRef>,
    theme: &Theme,
) -> ApiResult<ArticlePreview> {
    let document = match Document::parse("article.md", markdown) {
        Ok(d) => d,
        Err(e) => {
            return Ok(ArticlePreview {
                title: None,
                html: String::new(),
                characters: 0,
                problems: vec![e.to_string()],
            });
        }
    };
    let mut problems: Vec<String> = match document.check(true) {
        Ok(()) => Vec::new(),
        Err(errors) => errors.0.iter().map(ToString::to_string).collect(),
    };
    let mut urls = std::collections::HashMap::new();
    for image in document.images().unwrap_or_default() {
        if image.is_remote() {
            continue;
        }
        match pictures.iter().find(|p| p.src == image.src) {
            Some(p) => match inline(state, &p.file).await? {
                Some(url) => {
                    urls.insert(image.src.clone(), url);
                }
                None => problems.push(format!("{}: not uploaded (POST /api/v1/files)", image.src)),
            },
            None => problems.push(format!(
                "article.md:{}: the article shows {}: upload it",
                image.line, image.src
            )),
        }
    }
    let cover = match (&document.front.cover, cover) {
        (_, Some(file)) => inline(state, file).await?,
        (Some(name), None) => {
            problems.push(format!(
                "the front matter names the cover {name}: upload it"
            ));
            None
        }
        (None, None) => None,
    };
    // Pictures not uploaded yet show as their names.
    let content = match document.render(theme, &|src| {
        Some(urls.get(src).cloned().unwrap_or_else(|| src.to_owned()))
    }) {
        Ok(html) => html,
        Err(e) => {
            problems.push(e.to_string());
            String::new()
        }
    };
    let html = if content.is_empty() {
        String::new()
    } else {
        wxmass_article::page::page(&document, &content, cover.as_deref())
    };
    Ok(ArticlePreview {
        title: Some(document.front.title.clone()).filter(|t| !t.is_empty()),
        characters: content.chars().count() as u64,
        html,
        problems,
    })
}

/// A campaign's message, as it will be sent: what an approver reads
/// before approving.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageView {
    /// WeChat's msgtype: `text`, `image`, `voice`, `mpvideo`, `mpnews` or
    /// `wxcard`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// A text message's text.
    pub text: Option<String>,
    /// Pictures (`data:` addresses of the uploaded bytes), in order.
    pub pictures: Vec<String>,
    /// Articles, each at phone width as a follower's phone shows it.
    pub articles: Vec<ArticlePreview>,
    /// A voice's or video's file name.
    pub file: Option<String>,
    /// A video's title.
    pub title: Option<String>,
    /// A video's description.
    pub description: Option<String>,
    /// A media id sent as it is (its content is WeChat's: not shown).
    pub media_id: Option<String>,
    /// A card's id.
    pub card_id: Option<String>,
}

/// A campaign's message as it will be sent: the text, the pictures, the
/// articles rendered at phone width with their pictures and covers.
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/message", tag = "campaigns", security(("token" = ["read"])),
    params(("id" = String, Path, description = "The campaign's id")),
    responses((status = 200, body = MessageView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn campaign_message(
    Allowed(caller, _): Allowed<ToRead>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<MessageView>> {
    let c = crate::api::campaigns::find(&state, &caller, &id).await?;
    let mut view = MessageView {
        kind: c.content.msgtype(),
        text: None,
        pictures: Vec::new(),
        articles: Vec::new(),
        file: None,
        title: None,
        description: None,
        media_id: None,
        card_id: None,
    };
    let name = |f: &FileRef| f.path.display().to_string();
    match &c.content {
        Content::Text { text } => view.text = Some(text.clone()),
        Content::Images { files } => {
            for file in files {
                view.pictures
                    .push(inline(&state, file).await?.unwrap_or_else(|| name(file)));
            }
        }
        Content::Voice { file } => view.file = Some(name(file)),
        Content::Video {
            file,
            title,
            description,
        } => {
            view.file = Some(name(file));
            view.title = Some(title.clone());
            view.description = Some(description.clone());
        }
        Content::Articles {
            articles, theme, ..
        } => {
            let theme = match theme {
                Some(file) => {
                    let text =
                        String::from_utf8(state.journal().file(file).await?).unwrap_or_default();
                    Theme::from_toml(&text).unwrap_or_default()
                }
                None => Theme::default(),
            };
            for article in articles {
                let markdown = String::from_utf8(state.journal().file(&article.file).await?)
                    .unwrap_or_default();
                view.articles.push(
                    render(
                        &state,
                        &markdown,
                        &article.pictures,
                        article.cover.as_ref(),
                        &theme,
                    )
                    .await?,
                );
            }
        }
        Content::Uploaded { media_id, .. } => view.media_id = Some(media_id.clone()),
        Content::Card { card_id } => view.card_id = Some(card_id.clone()),
        // A notice: each channel's message, as lines of text.
        Content::Notice {
            via,
            template,
            subscription,
            custom_text,
        } => {
            let mut lines = Vec::new();
            for channel in via {
                let (id, data) = match channel {
                    Channel::Template => match template {
                        Some(t) => (t.template_id.as_str(), &t.data),
                        None => continue,
                    },
                    Channel::Subscription => match subscription {
                        Some(n) => (n.template_id.as_str(), &n.data),
                        None => continue,
                    },
                    Channel::CustomerService => {
                        lines.push(format!(
                            "customer_service: {}",
                            custom_text.as_deref().unwrap_or_default()
                        ));
                        continue;
                    }
                };
                lines.push(format!("{} {id}:", channel.as_str()));
                lines.extend(data.iter().map(|(k, v)| format!("  {k}: {v}")));
            }
            view.text = Some(lines.join("\n"));
        }
    }
    Ok(Json(view))
}

/// What a message being composed would be refused for.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContentCheck {
    /// The first problem, with the path of its field, in the words a
    /// campaign's creation would answer (and the CLI print); none: it can
    /// be sent.
    pub problem: Option<String>,
}

/// Checks a message being composed (`content`, as a campaign names it)
/// as creating the campaign would, without storing anything.
#[utoipa::path(post, path = "/api/v1/content/check", tag = "campaigns", security(("token" = ["edit"])),
    request_body(content = Content, description = "The `content` of a campaign"),
    responses((status = 200, body = ContentCheck), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
pub async fn check_content(
    _: Allowed<ToEdit>,
    State(state): State<AppState>,
    Body(content): Body<wxmass_campaign::Content>,
) -> ApiResult<Json<ContentCheck>> {
    let problem = match crate::api::content::check(state.journal(), &content).await {
        Ok(()) => None,
        Err(e) if e.status().is_client_error() => Some(e.message()),
        Err(e) => return Err(e),
    };
    Ok(Json(ContentCheck { problem }))
}
