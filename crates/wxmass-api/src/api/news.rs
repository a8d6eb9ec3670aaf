//! Articles for mass send (wechat-api.md §5): `media/uploadnews`, and the
//! draft box: `draft/add`, `draft/batchget`, `draft/delete`. Reach it with
//! [`Client::news`].
//!
//! The list and delete calls are not in our reference (wechat-api.md covers
//! `draft/add` only); their paths and fields follow WeChat's draft-box pages
//! (api_draft_batchget, api_draft_delete).

use serde::Serialize;
use serde_json::{Value, json};

use crate::client::{Call, Client};
use crate::error::{Error, Result};

/// Most articles in one message.
pub const MAX_ARTICLES: usize = 8;

/// One article.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Article {
    /// The title (32 characters at most for drafts).
    pub title: String,
    /// The cover: a temporary thumb for `uploadnews`, permanent for `draft/add`.
    pub thumb_media_id: String,
    /// The author (16 characters at most for drafts).
    pub author: String,
    /// The digest (128 characters at most for drafts).
    pub digest: String,
    /// HTML; images only from `uploadimg`; under 20,000 characters and 1 MB.
    pub content: String,
    /// The "read original" URL.
    pub content_source_url: String,
    /// Show the cover in the body (0/1).
    pub show_cover_pic: u8,
    /// Open comments (0/1).
    pub need_open_comment: u8,
    /// Only followers may comment (0/1).
    pub only_fans_can_comment: u8,
}

impl Article {
    /// An article with the required fields.
    pub fn new(
        title: impl Into<String>,
        thumb_media_id: impl Into<String>,
        content: impl Into<String>,
    ) -> Self {
        Self {
            title: title.into(),
            thumb_media_id: thumb_media_id.into(),
            author: String::new(),
            digest: String::new(),
            content: content.into(),
            content_source_url: String::new(),
            show_cover_pic: 0,
            need_open_comment: 0,
            only_fans_can_comment: 0,
        }
    }

    fn validate(&self, index: usize, draft: bool) -> Result<()> {
        let n = index + 1;
        let chars = |s: &str| s.chars().count();
        let fail = |m: String| Err(Error::Invalid(format!("article {n}: {m}")));
        if self.title.trim().is_empty()
            || self.content.trim().is_empty()
            || self.thumb_media_id.is_empty()
        {
            return fail("title, content and cover are required".into());
        }
        if chars(&self.content) >= 20_000 || self.content.len() >= 1024 * 1024 {
            return fail("content must be under 20,000 characters and 1 MB".into());
        }
        if draft {
            if chars(&self.title) > 32 {
                return fail(format!(
                    "title has {} characters; drafts take 32",
                    chars(&self.title)
                ));
            }
            if chars(&self.author) > 16 {
                return fail(format!(
                    "author has {} characters; drafts take 16",
                    chars(&self.author)
                ));
            }
            if chars(&self.digest) > 128 {
                return fail(format!(
                    "digest has {} characters; drafts take 128",
                    chars(&self.digest)
                ));
            }
        }
        Ok(())
    }
}

/// News calls.
#[derive(Debug, Clone)]
pub struct NewsHandler<'c> {
    client: &'c Client,
}

impl Client {
    /// Articles: `uploadnews` and drafts.
    pub fn news(&self) -> NewsHandler<'_> {
        NewsHandler { client: self }
    }
}

fn check(articles: &[Article], draft: bool) -> Result<()> {
    if articles.is_empty() || articles.len() > MAX_ARTICLES {
        return Err(Error::Invalid(format!(
            "a message has 1 to {MAX_ARTICLES} articles, not {}",
            articles.len()
        )));
    }
    articles
        .iter()
        .enumerate()
        .try_for_each(|(i, a)| a.validate(i, draft))
}

/// One draft in the draft box.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Draft {
    /// Its media id (what `draft/delete` and mass sends take).
    pub media_id: String,
    /// Its articles' titles, in order.
    pub titles: Vec<String>,
    /// Unix seconds.
    pub update_time: i64,
}

/// A page of the draft box.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DraftPage {
    /// Drafts in the box.
    pub total_count: u64,
    /// This page's.
    pub items: Vec<Draft>,
}

/// Most drafts `draft/batchget` returns at once.
pub const DRAFTS_PER_PAGE: u32 = 20;

impl NewsHandler<'_> {
    /// A page of the draft box, newest first, without the articles' HTML.
    ///
    /// `POST /cgi-bin/draft/batchget`.
    ///
    /// ```no_run
    /// # async fn run(client: wxmass_api::Client) -> wxmass_api::Result<()> {
    /// let page = client.news().drafts_page(0, 20).await?;
    /// for draft in &page.items {
    ///     println!("{} {:?}", draft.media_id, draft.titles);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn drafts_page(&self, offset: u64, count: u32) -> Result<DraftPage> {
        if !(1..=DRAFTS_PER_PAGE).contains(&count) {
            return Err(Error::Invalid(format!(
                "draft/batchget returns 1 to {DRAFTS_PER_PAGE} drafts at a time, not {count}"
            )));
        }
        let path = "/cgi-bin/draft/batchget";
        let body = self
            .client
            .call(Call::post(
                path,
                json!({"offset": offset, "count": count, "no_content": 1}),
            ))
            .await?;
        let items = body
            .get("item")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|item| Draft {
                media_id: item["media_id"].as_str().unwrap_or_default().to_owned(),
                titles: item["content"]["news_item"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|a| a["title"].as_str().unwrap_or_default().to_owned())
                    .collect(),
                update_time: item["update_time"].as_i64().unwrap_or(0),
            })
            .collect();
        Ok(DraftPage {
            total_count: body["total_count"].as_u64().unwrap_or(0),
            items,
        })
    }

    /// Deletes a draft. It cannot be undone; what was sent from it stays.
    ///
    /// `POST /cgi-bin/draft/delete`.
    pub async fn delete_draft(&self, media_id: &str) -> Result<()> {
        if media_id.trim().is_empty() {
            return Err(Error::Invalid("draft media_id is empty".into()));
        }
        self.client
            .call(Call::post(
                "/cgi-bin/draft/delete",
                json!({"media_id": media_id}),
            ))
            .await?;
        Ok(())
    }

    /// Uploads articles for a mass send; returns the news media id.
    ///
    /// `POST /cgi-bin/media/uploadnews`.
    pub async fn upload(&self, articles: &[Article]) -> Result<String> {
        check(articles, false)?;
        self.post("/cgi-bin/media/uploadnews", articles).await
    }

    /// Adds a draft; returns its media id.
    ///
    /// `POST /cgi-bin/draft/add`.
    pub async fn add_draft(&self, articles: &[Article]) -> Result<String> {
        check(articles, true)?;
        self.post("/cgi-bin/draft/add", articles).await
    }

    async fn post(&self, path: &'static str, articles: &[Article]) -> Result<String> {
        let body = json!({"articles": articles});
        // Not repeated blindly: a repeat makes a second news item.
        let body = self
            .client
            .call(Call::post(path, body).unsafe_to_repeat())
            .await?;
        body.get("media_id")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| Error::Decode {
                path: path.into(),
                message: "no media_id".into(),
            })
    }
}
