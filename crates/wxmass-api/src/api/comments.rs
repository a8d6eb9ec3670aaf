//! Comments on sent articles (wechat-analytics.md §3): open or close them,
//! list them page by page, feature (精选) or unfeature one, delete one,
//! reply and take the reply back. Reach it with [`Client::comments`].
//!
//! Every call names an [`ArticleRef`]: the content's `msg_data_id` and the
//! article's place, which WeChat counts from 0 here and from 1 in datacube
//! and free publishing. An `ArticleRef` is made from the 1-based
//! [`ArticleIndex`] those give, and turns it into the 0-based `index` only
//! when the request is written, so the two cannot be mixed up.

use futures_util::Stream;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::api::datacube::{ArticleIndex, MsgId};
use crate::api::decode_list;
use crate::client::{Call, Client};
use crate::error::{Error, Result};

/// Most comments a page holds (`count` must be under 50).
pub const PAGE: u32 = 49;

/// Longest reply, in characters (the official doc's limit).
pub const REPLY_MAX_CHARS: usize = 600;

/// An article of sent content, as the comment calls name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ArticleRef {
    /// The content (a mass send's or a publish's `msg_data_id`).
    pub msg_data_id: i64,
    /// The article, 1-based.
    pub article: ArticleIndex,
}

impl ArticleRef {
    /// The `article`th article of `msg_data_id`.
    pub fn new(msg_data_id: i64, article: ArticleIndex) -> ArticleRef {
        ArticleRef {
            msg_data_id,
            article,
        }
    }

    /// The request fields: `index` counted from 0, as comments count.
    fn fields(self) -> Value {
        json!({"msg_data_id": self.msg_data_id, "index": self.article.get() - 1})
    }
}

impl From<MsgId> for ArticleRef {
    fn from(id: MsgId) -> ArticleRef {
        ArticleRef::new(id.msg_data_id, id.index)
    }
}

/// Which comments a page lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Which {
    /// Every one (0).
    #[default]
    All,
    /// Those not featured (1).
    Normal,
    /// Featured ones (2).
    Featured,
}

/// A follower's comment.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Comment {
    /// Its id (for featuring, deleting, replying).
    pub user_comment_id: i64,
    /// Who wrote it.
    #[serde(default)]
    pub openid: String,
    /// Unix seconds.
    #[serde(default)]
    pub create_time: i64,
    /// The text.
    #[serde(default)]
    pub content: String,
    /// 1 when featured.
    #[serde(default)]
    pub comment_type: u8,
    /// The account's reply.
    #[serde(default)]
    pub reply: Option<Reply>,
}

impl Comment {
    /// Whether it is featured (精选).
    pub fn is_featured(&self) -> bool {
        self.comment_type == 1
    }
}

/// The account's reply to a comment.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Reply {
    /// The text.
    #[serde(default)]
    pub content: String,
    /// Unix seconds.
    #[serde(default)]
    pub create_time: i64,
}

/// Comment calls.
#[derive(Debug, Clone, Copy)]
pub struct CommentsHandler<'c> {
    client: &'c Client,
}

impl Client {
    /// Comments on sent articles.
    pub fn comments(&self) -> CommentsHandler<'_> {
        CommentsHandler { client: self }
    }
}

impl CommentsHandler<'_> {
    async fn post(&self, path: &'static str, body: Value) -> Result<Value> {
        self.client.call(Call::post(path, body)).await
    }

    async fn on_comment(&self, path: &'static str, at: ArticleRef, comment: i64) -> Result<()> {
        let mut body = at.fields();
        body["user_comment_id"] = json!(comment);
        self.post(path, body).await?;
        Ok(())
    }

    /// Lets followers comment on the article.
    ///
    /// `POST /cgi-bin/comment/open`.
    pub async fn open(&self, at: ArticleRef) -> Result<()> {
        self.post("/cgi-bin/comment/open", at.fields()).await?;
        Ok(())
    }

    /// Stops comments on the article.
    ///
    /// `POST /cgi-bin/comment/close`.
    pub async fn close(&self, at: ArticleRef) -> Result<()> {
        self.post("/cgi-bin/comment/close", at.fields()).await?;
        Ok(())
    }

    /// One page: `count` (1 to 49) comments from `begin`, and how many
    /// there are in all.
    ///
    /// `POST /cgi-bin/comment/list`.
    pub async fn page(
        &self,
        at: ArticleRef,
        begin: u32,
        count: u32,
        which: Which,
    ) -> Result<(u64, Vec<Comment>)> {
        if !(1..=PAGE).contains(&count) {
            return Err(Error::Invalid(format!(
                "comment/list takes 1 to {PAGE} a page (under 50); {count} asked"
            )));
        }
        let path = "/cgi-bin/comment/list";
        let mut body = at.fields();
        body["begin"] = json!(begin);
        body["count"] = json!(count);
        body["type"] = json!(match which {
            Which::All => 0,
            Which::Normal => 1,
            Which::Featured => 2,
        });
        let answer = self.post(path, body).await?;
        let total = answer.get("total").and_then(Value::as_u64).unwrap_or(0);
        Ok((total, decode_list(path, answer.get("comment"))?))
    }

    /// Every comment, oldest first, a page at a time.
    pub fn all(&self, at: ArticleRef, which: Which) -> impl Stream<Item = Result<Comment>> + '_ {
        futures_util::stream::try_unfold(
            (0u32, Vec::<Comment>::new(), false),
            move |(mut begin, mut buffered, mut done)| async move {
                loop {
                    if let Some(c) = buffered.pop() {
                        return Ok(Some((c, (begin, buffered, done))));
                    }
                    if done {
                        return Ok(None);
                    }
                    let (total, page) = self.page(at, begin, PAGE, which).await?;
                    begin += page.len() as u32;
                    done = page.is_empty() || u64::from(begin) >= total;
                    buffered = page.into_iter().rev().collect();
                }
            },
        )
    }

    /// Features a comment (精选).
    ///
    /// `POST /cgi-bin/comment/markelect`.
    pub async fn feature(&self, at: ArticleRef, comment: i64) -> Result<()> {
        self.on_comment("/cgi-bin/comment/markelect", at, comment)
            .await
    }

    /// Takes a comment out of the featured ones.
    ///
    /// `POST /cgi-bin/comment/unmarkelect`.
    pub async fn unfeature(&self, at: ArticleRef, comment: i64) -> Result<()> {
        self.on_comment("/cgi-bin/comment/unmarkelect", at, comment)
            .await
    }

    /// Deletes a comment.
    ///
    /// `POST /cgi-bin/comment/delete`.
    pub async fn delete(&self, at: ArticleRef, comment: i64) -> Result<()> {
        self.on_comment("/cgi-bin/comment/delete", at, comment)
            .await
    }

    /// Replies to a comment (1 to 600 characters; one reply a comment).
    ///
    /// `POST /cgi-bin/comment/reply/add`.
    pub async fn reply(&self, at: ArticleRef, comment: i64, text: &str) -> Result<()> {
        let n = text.chars().count();
        if text.trim().is_empty() || n > REPLY_MAX_CHARS {
            return Err(Error::Invalid(format!(
                "a reply is 1 to {REPLY_MAX_CHARS} characters; this one is {n}"
            )));
        }
        let mut body = at.fields();
        body["user_comment_id"] = json!(comment);
        body["content"] = json!(text);
        self.post("/cgi-bin/comment/reply/add", body).await?;
        Ok(())
    }

    /// Takes the account's reply back.
    ///
    /// `POST /cgi-bin/comment/reply/delete`.
    pub async fn delete_reply(&self, at: ArticleRef, comment: i64) -> Result<()> {
        self.on_comment("/cgi-bin/comment/reply/delete", at, comment)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_article_is_index_0_for_comments() {
        let first = ArticleRef::new(12003, ArticleIndex::new(1).expect("1"));
        assert_eq!(first.fields()["index"], 0);
        let third: ArticleRef = MsgId::parse("12003_3").expect("msgid").into();
        assert_eq!(third.fields()["index"], 2);
        assert_eq!(third.fields()["msg_data_id"], 12003);
    }
}
