//! Followers (wechat-api.md §8). Reach it with [`Client::users`].

use futures_util::Stream;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::client::{Call, Client};
use crate::error::{Error, Result};

/// One page of `user/get` or `user/tag/get`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowerPage {
    /// All followers (`user/get` only).
    pub total: Option<u64>,
    /// This page's openids (up to 10,000).
    pub openids: Vec<String>,
    /// Pass back to get the next page; `None` when the list is exhausted.
    pub next_openid: Option<String>,
}

/// What `user/info` tells about a follower.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct UserInfo {
    /// 1 when following.
    pub subscribe: u8,
    /// The openid.
    pub openid: String,
    /// Unix seconds.
    #[serde(default)]
    pub subscribe_time: Option<i64>,
    /// Tag ids.
    #[serde(default)]
    pub tagid_list: Vec<u32>,
    /// The unionid, when bound to an open-platform account.
    #[serde(default)]
    pub unionid: Option<String>,
    /// The remark.
    #[serde(default)]
    pub remark: Option<String>,
}

/// Most users per `user/info/batchget`.
pub const BATCH_INFO: usize = 100;

/// Follower calls.
#[derive(Debug, Clone)]
pub struct UsersHandler<'c> {
    client: &'c Client,
}

impl Client {
    /// Followers: pages, a stream of every follower, user info.
    pub fn users(&self) -> UsersHandler<'_> {
        UsersHandler { client: self }
    }
}

/// Reads a page body; a page without `data` (or with count 0) ends the list.
pub(crate) fn page(path: &str, body: &Value) -> Result<FollowerPage> {
    let openids: Vec<String> = match body.get("data").and_then(|d| d.get("openid")) {
        None => Vec::new(),
        Some(list) => serde_json::from_value(list.clone()).map_err(|e| Error::Decode {
            path: path.into(),
            message: e.to_string(),
        })?,
    };
    let next = body
        .get("next_openid")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty() && !openids.is_empty())
        .map(str::to_owned);
    Ok(FollowerPage {
        total: body.get("total").and_then(Value::as_u64),
        openids,
        next_openid: next,
    })
}

/// Turns a page function into a stream of openids, page by page, so that
/// memory stays flat however many followers there are.
pub(crate) fn stream_pages<'c, F, Fut>(fetch: F) -> impl Stream<Item = Result<Vec<String>>> + 'c
where
    F: Fn(Option<String>) -> Fut + 'c,
    Fut: std::future::Future<Output = Result<FollowerPage>> + 'c,
{
    futures_util::stream::unfold(Some(None::<String>), move |state| {
        let fut = state.map(&fetch);
        async move {
            let page = match fut?.await {
                Ok(p) => p,
                Err(e) => return Some((Err(e), None)),
            };
            if page.openids.is_empty() {
                return None;
            }
            let next = page.next_openid.clone().map(Some);
            Some((Ok(page.openids), next))
        }
    })
}

impl UsersHandler<'_> {
    /// One page of followers after `next_openid` (10,000 at most).
    ///
    /// `GET /cgi-bin/user/get?next_openid=NEXT_OPENID`.
    pub async fn followers_page(&self, next_openid: Option<&str>) -> Result<FollowerPage> {
        let path = "/cgi-bin/user/get";
        let mut call = Call::get(path);
        if let Some(next) = next_openid {
            call = call.query("next_openid", next);
        }
        page(path, &self.client.call(call).await?)
    }

    /// Every follower, as a stream of pages of openids.
    ///
    /// ```no_run
    /// # async fn run(client: wxmass_api::Client) -> wxmass_api::Result<()> {
    /// use futures_util::TryStreamExt;
    /// let users = client.users();
    /// let mut pages = std::pin::pin!(users.followers());
    /// while let Some(page) = pages.try_next().await? {
    ///     println!("{} more followers", page.len());
    /// }
    /// # Ok(()) }
    /// ```
    pub fn followers(&self) -> impl Stream<Item = Result<Vec<String>>> + '_ {
        stream_pages(move |next| async move { self.followers_page(next.as_deref()).await })
    }

    /// A follower's info.
    ///
    /// `GET /cgi-bin/user/info?openid=OPENID&lang=zh_CN`.
    pub async fn info(&self, openid: &str) -> Result<UserInfo> {
        let path = "/cgi-bin/user/info";
        let body = self
            .client
            .call(
                Call::get(path)
                    .query("openid", openid)
                    .query("lang", "zh_CN"),
            )
            .await?;
        serde_json::from_value(body).map_err(|e| Error::Decode {
            path: path.into(),
            message: e.to_string(),
        })
    }

    /// Info for many followers, 100 per request.
    ///
    /// `POST /cgi-bin/user/info/batchget`.
    pub async fn batch_info(&self, openids: &[String]) -> Result<Vec<UserInfo>> {
        let path = "/cgi-bin/user/info/batchget";
        let mut all = Vec::with_capacity(openids.len());
        for chunk in openids.chunks(BATCH_INFO) {
            let list: Vec<Value> = chunk
                .iter()
                .map(|o| json!({"openid": o, "lang": "zh_CN"}))
                .collect();
            let body = self
                .client
                .call(Call::post(path, json!({"user_list": list})))
                .await?;
            let infos: Vec<UserInfo> =
                serde_json::from_value(body.get("user_info_list").cloned().unwrap_or_default())
                    .map_err(|e| Error::Decode {
                        path: path.into(),
                        message: e.to_string(),
                    })?;
            all.extend(infos);
        }
        Ok(all)
    }
}
