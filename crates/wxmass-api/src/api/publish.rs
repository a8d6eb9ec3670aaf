//! Free publishing (发布能力, wechat-analytics.md §2): a draft goes out
//! without notifying followers and without mass-send quota. Reach it with
//! [`Client::publish`].
//!
//! `submit` only starts the job; WeChat reports the end with a
//! PUBLISHJOBFINISH push (wxmass-callback's `PublishJobFinish`), or
//! [`PublishHandler::get`] tells. Articles are numbered from 1 here, as in
//! datacube: [`ArticleIndex`].

use futures_util::Stream;
use serde::{Deserialize, Deserializer};
use serde_json::{Value, json};

use crate::api::datacube::ArticleIndex;
use crate::api::{decode, decode_list};
use crate::client::{Call, Client};
use crate::error::{Error, Result};

/// Most items `freepublish/batchget` returns a page.
pub const PAGE: u32 = 20;

/// What `submit` started.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Submitted {
    /// The job, for [`PublishHandler::get`] and the push.
    #[serde(deserialize_with = "number_or_string")]
    pub publish_id: i64,
    /// The content's id, as datacube and comments name it.
    #[serde(default)]
    pub msg_data_id: Option<i64>,
}

pub use wxmass_vocab::PublishStatus;

/// A publish job, as `freepublish/get` tells it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Publish {
    /// Its id.
    #[serde(deserialize_with = "number_or_string")]
    pub publish_id: i64,
    /// How it stands.
    pub publish_status: PublishStatus,
    /// The published articles' id, on success (empty before).
    #[serde(default)]
    pub article_id: String,
    /// Each article's address, on success.
    #[serde(default)]
    pub article_detail: ArticleDetail,
    /// The articles that failed.
    #[serde(default)]
    pub fail_idx: Vec<ArticleIndex>,
}

/// The published articles.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ArticleDetail {
    /// How many.
    #[serde(default)]
    pub count: u32,
    /// Each one.
    #[serde(default)]
    pub item: Vec<PublishedUrl>,
}

/// One published article's address.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PublishedUrl {
    /// Which article.
    pub idx: ArticleIndex,
    /// Its address.
    pub article_url: String,
}

/// An article of a publish.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct NewsItem {
    /// Title.
    #[serde(default)]
    pub title: String,
    /// Author.
    #[serde(default)]
    pub author: String,
    /// Digest.
    #[serde(default)]
    pub digest: String,
    /// HTML, unless asked without.
    #[serde(default)]
    pub content: Option<String>,
    /// Its address.
    #[serde(default)]
    pub url: String,
    /// Deleted since it was published.
    #[serde(default)]
    pub is_deleted: bool,
}

/// One published message of `freepublish/batchget`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Published {
    /// Its id.
    pub article_id: String,
    /// Its articles.
    pub content: PublishedContent,
    /// Unix seconds.
    #[serde(default)]
    pub update_time: i64,
}

/// The articles of a published message.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PublishedContent {
    /// In order.
    #[serde(default)]
    pub news_item: Vec<NewsItem>,
}

impl<'de> Deserialize<'de> for ArticleIndex {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<ArticleIndex, D::Error> {
        let n = u32::deserialize(d)?;
        ArticleIndex::new(n)
            .ok_or_else(|| serde::de::Error::custom("an article index counts from 1; got 0"))
    }
}

/// WeChat writes some ids as strings and some as numbers.
fn number_or_string<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<i64, D::Error> {
    let v = Value::deserialize(d)?;
    crate::client::as_i64(&v)
        .ok_or_else(|| serde::de::Error::custom(format!("expected an id, got {v}")))
}

/// Free publishing calls.
#[derive(Debug, Clone, Copy)]
pub struct PublishHandler<'c> {
    client: &'c Client,
}

impl Client {
    /// Free publishing: submit a draft, follow, list, delete.
    pub fn publish(&self) -> PublishHandler<'_> {
        PublishHandler { client: self }
    }
}

impl PublishHandler<'_> {
    /// Starts publishing the draft `media_id` (from `draft/add`). Not
    /// repeated on a lost answer: a second submit would publish twice.
    ///
    /// `POST /cgi-bin/freepublish/submit`.
    pub async fn submit(&self, media_id: &str) -> Result<Submitted> {
        if media_id.trim().is_empty() {
            return Err(Error::Invalid(
                "give the draft's media_id (from draft/add)".into(),
            ));
        }
        let path = "/cgi-bin/freepublish/submit";
        let answer = self
            .client
            .call(Call::post(path, json!({"media_id": media_id})).unsafe_to_repeat())
            .await?;
        decode(path, Some(&answer))
    }

    /// How a publish stands.
    ///
    /// `POST /cgi-bin/freepublish/get`.
    pub async fn get(&self, publish_id: i64) -> Result<Publish> {
        let path = "/cgi-bin/freepublish/get";
        let answer = self
            .client
            .call(Call::post(
                path,
                json!({"publish_id": publish_id.to_string()}),
            ))
            .await?;
        decode(path, Some(&answer))
    }

    /// Deletes one article of a publish, or every one (`None`).
    ///
    /// `POST /cgi-bin/freepublish/delete`.
    pub async fn delete(&self, article_id: &str, index: Option<ArticleIndex>) -> Result<()> {
        let path = "/cgi-bin/freepublish/delete";
        let index = index.map_or(0, ArticleIndex::get);
        self.client
            .call(Call::post(
                path,
                json!({"article_id": article_id, "index": index}),
            ))
            .await?;
        Ok(())
    }

    /// The articles of a publish.
    ///
    /// `POST /cgi-bin/freepublish/getarticle`.
    pub async fn article(&self, article_id: &str) -> Result<Vec<NewsItem>> {
        let path = "/cgi-bin/freepublish/getarticle";
        let answer = self
            .client
            .call(Call::post(path, json!({"article_id": article_id})))
            .await?;
        decode_list(path, answer.get("news_item"))
    }

    /// One page of what was published, newest first: `count` 1 to 20.
    ///
    /// `POST /cgi-bin/freepublish/batchget`.
    pub async fn page(
        &self,
        offset: u32,
        count: u32,
        with_content: bool,
    ) -> Result<(u64, Vec<Published>)> {
        if !(1..=PAGE).contains(&count) {
            return Err(Error::Invalid(format!(
                "freepublish/batchget takes 1 to {PAGE} a page; {count} asked"
            )));
        }
        let path = "/cgi-bin/freepublish/batchget";
        let answer = self
            .client
            .call(Call::post(
                path,
                json!({"offset": offset, "count": count, "no_content": u8::from(!with_content)}),
            ))
            .await?;
        let total = answer
            .get("total_count")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        let items = decode_list(path, answer.get("item"))?;
        Ok((total, items))
    }

    /// Everything published, newest first, a page at a time.
    pub fn all(&self, with_content: bool) -> impl Stream<Item = Result<Published>> + '_ {
        futures_util::stream::try_unfold(
            (0u32, Vec::<Published>::new(), false),
            move |(mut offset, mut buffered, mut done)| async move {
                loop {
                    if let Some(item) = buffered.pop() {
                        return Ok(Some((item, (offset, buffered, done))));
                    }
                    if done {
                        return Ok(None);
                    }
                    let (total, page) = self.page(offset, PAGE, with_content).await?;
                    offset += page.len() as u32;
                    done = page.is_empty() || u64::from(offset) >= total;
                    buffered = page.into_iter().rev().collect();
                }
            },
        )
    }
}
