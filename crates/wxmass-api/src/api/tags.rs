//! Tags and the legacy groups (wechat-api.md §7). Reach it with [`Client::tags`].

use futures_util::Stream;
use serde::Deserialize;
use serde_json::json;

use crate::api::decode;
use crate::api::users::{FollowerPage, page, stream_pages};
use crate::client::{Call, Client};
use crate::error::{Error, Result};

/// A tag.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Tag {
    /// Its id.
    pub id: u32,
    /// Its name.
    pub name: String,
    /// Followers carrying it.
    #[serde(default)]
    pub count: u64,
}

/// Most openids per (un)tagging request.
pub const BATCH_TAGGING: usize = 50;

/// Tag calls.
#[derive(Debug, Clone)]
pub struct TagsHandler<'c> {
    client: &'c Client,
}

impl Client {
    /// Tags: list, create, rename, delete, members, (un)tagging.
    pub fn tags(&self) -> TagsHandler<'_> {
        TagsHandler { client: self }
    }
}

fn check_name(name: &str) -> Result<()> {
    if name.trim().is_empty() || name.len() > 30 {
        return Err(Error::Invalid(format!(
            "tag names are 1 to 30 bytes of UTF-8 (10 Chinese characters); {name:?} is {} bytes",
            name.len()
        )));
    }
    Ok(())
}

impl TagsHandler<'_> {
    /// Every tag.
    ///
    /// `GET /cgi-bin/tags/get`.
    pub async fn list(&self) -> Result<Vec<Tag>> {
        let path = "/cgi-bin/tags/get";
        let body = self.client.call(Call::get(path)).await?;
        decode(path, body.get("tags"))
    }

    /// Creates a tag (names are at most 30 bytes).
    ///
    /// `POST /cgi-bin/tags/create`.
    pub async fn create(&self, name: &str) -> Result<Tag> {
        check_name(name)?;
        let path = "/cgi-bin/tags/create";
        let body = self
            .client
            .call(Call::post(path, json!({"tag": {"name": name}})).unsafe_to_repeat())
            .await?;
        decode(path, body.get("tag"))
    }

    /// Renames a tag.
    ///
    /// `POST /cgi-bin/tags/update`.
    pub async fn rename(&self, id: u32, name: &str) -> Result<()> {
        check_name(name)?;
        self.client
            .call(Call::post(
                "/cgi-bin/tags/update",
                json!({"tag": {"id": id, "name": name}}),
            ))
            .await?;
        Ok(())
    }

    /// Deletes a tag (refused above 100,000 followers: untag first).
    ///
    /// `POST /cgi-bin/tags/delete`.
    pub async fn delete(&self, id: u32) -> Result<()> {
        self.client
            .call(Call::post(
                "/cgi-bin/tags/delete",
                json!({"tag": {"id": id}}),
            ))
            .await?;
        Ok(())
    }

    /// One page of a tag's followers.
    ///
    /// `POST /cgi-bin/user/tag/get`.
    pub async fn members_page(&self, id: u32, next_openid: Option<&str>) -> Result<FollowerPage> {
        let path = "/cgi-bin/user/tag/get";
        let body = json!({"tagid": id, "next_openid": next_openid.unwrap_or("")});
        page(path, &self.client.call(Call::post(path, body)).await?)
    }

    /// A tag's followers, as a stream of pages.
    pub fn members(&self, id: u32) -> impl Stream<Item = Result<Vec<String>>> + '_ {
        stream_pages(move |next| async move { self.members_page(id, next.as_deref()).await })
    }

    /// Tags followers, 50 per request.
    ///
    /// `POST /cgi-bin/tags/members/batchtagging`.
    pub async fn tag_users(&self, id: u32, openids: &[String]) -> Result<()> {
        self.batch("/cgi-bin/tags/members/batchtagging", id, openids)
            .await
    }

    /// Untags followers, 50 per request.
    ///
    /// `POST /cgi-bin/tags/members/batchuntagging`.
    pub async fn untag_users(&self, id: u32, openids: &[String]) -> Result<()> {
        self.batch("/cgi-bin/tags/members/batchuntagging", id, openids)
            .await
    }

    async fn batch(&self, path: &'static str, id: u32, openids: &[String]) -> Result<()> {
        for chunk in openids.chunks(BATCH_TAGGING) {
            self.client
                .call(Call::post(path, json!({"openid_list": chunk, "tagid": id})))
                .await?;
        }
        Ok(())
    }

    /// The tags of one follower.
    ///
    /// `POST /cgi-bin/tags/getidlist`.
    pub async fn of_user(&self, openid: &str) -> Result<Vec<u32>> {
        let path = "/cgi-bin/tags/getidlist";
        let body = self
            .client
            .call(Call::post(path, json!({"openid": openid})))
            .await?;
        decode(path, body.get("tagid_list"))
    }

    /// The legacy groups list (tags with the reserved groups 0 and 1).
    ///
    /// `GET /cgi-bin/groups/get`.
    pub async fn groups(&self) -> Result<Vec<Tag>> {
        let path = "/cgi-bin/groups/get";
        let body = self.client.call(Call::get(path)).await?;
        decode(path, body.get("groups"))
    }
}
