//! Planning: what a face asks to send becomes a campaign in the journal,
//! after the checks WeChat would make, before anything is sent. Two steps,
//! so that the caller can show what it would address and ask (a prompt, an
//! approval) in between:
//!
//! 1. [`propose`] sizes the audience (one WeChat call for all or a tag),
//!    refuses what a quota would stop, and counts the list's followers
//!    WeChat would filter out; a campaign already in the journal under the
//!    same id comes back as [`Proposal::Existing`] (a rerun), or as
//!    [`Error::ContentChanged`] if its content differs.
//! 2. [`commit`] records the campaign, its files and its batches in one
//!    transaction.

use sha2::{Digest, Sha256};
use wxmass_api::Client;

use crate::audience::OpenIdList;
use crate::error::{Error, Result};
use crate::quota::{self, AccountType};
use crate::spec::PlannedBatch;
use crate::spec::{Audience, Campaign, Content, Files, batch_clientmsgid};
use crate::store::prelude::*;
use crate::{beijing, legacy};

/// A campaign as its face describes it.
#[derive(Debug)]
pub struct CampaignSpec {
    /// Its id ([`default_id`] when the user names none).
    pub id: String,
    /// The account.
    pub appid: String,
    /// The account's kind, when known: the quotas checked depend on it.
    pub account: Option<AccountType>,
    /// What is sent.
    pub content: Content,
    /// The bytes of every file `content` names.
    pub files: Files,
    /// To whom.
    pub audience: Audience,
    /// Openids a batch (for a list).
    pub batch_size: u32,
}

/// What [`propose`] found.
#[derive(Debug)]
pub enum Proposal {
    /// In the journal already, with the same content: nothing to plan.
    Existing(Campaign),
    /// New: what it would address, to be confirmed and then committed.
    New(NewCampaign),
}

/// A campaign checked and ready to be recorded.
#[derive(Debug)]
pub struct NewCampaign {
    /// As it will be recorded (`audience_size` filled in).
    pub campaign: Campaign,
    /// Followers of the list this account has already sent WeChat's monthly
    /// most; WeChat will filter them out.
    pub capped: u64,
    files: Files,
    batch_size: u32,
}

impl NewCampaign {
    /// The size of each batch (one, of 0, for all or a tag).
    pub fn batch_sizes(&self, list: Option<&OpenIdList>) -> Vec<u64> {
        match list {
            Some(list) => list.batch_sizes(self.batch_size),
            None => vec![0],
        }
    }
}

/// The id of a campaign the user did not name: the same for the same
/// account, content, audience and batch size, so that running the same
/// command again resumes it. (Derived as the first releases derived it,
/// so that a campaign planned before an upgrade is found after.)
pub fn default_id(
    appid: &str,
    content: &Content,
    audience: &Audience,
    list: Option<&OpenIdList>,
    batch_size: u32,
) -> String {
    let audience = match list {
        Some(list) => list.digest()[..16].to_owned(),
        None => format!(
            "{}{}",
            audience.kind(),
            audience.tag_id().map(|t| t.to_string()).unwrap_or_default()
        ),
    };
    let digest = Sha256::digest(
        format!(
            "{appid}|{}|{audience}|{batch_size}",
            legacy::id_json(content)
        )
        .as_bytes(),
    );
    format!("c-{}", hex::encode(&digest[..6]))
}

/// Step 1: checks `spec` against the journal and WeChat. `list` is the
/// openid list of an [`Audience::Openids`] campaign (its follower hashes
/// are used and then freed).
pub async fn propose(
    journal: &dyn Store,
    client: &Client,
    spec: CampaignSpec,
    list: Option<&mut OpenIdList>,
) -> Result<Proposal> {
    propose_at(journal, client, spec, list, beijing::now()).await
}

/// [`propose`] at `now` (Unix seconds): the day and month whose quota the
/// campaign counts against, on a server whose clock tests move.
pub async fn propose_at(
    journal: &dyn Store,
    client: &Client,
    spec: CampaignSpec,
    list: Option<&mut OpenIdList>,
    now: i64,
) -> Result<Proposal> {
    if let Some(existing) = journal.planned_campaign(&spec.id).await? {
        if legacy::id_json(&existing.content) != legacy::id_json(&spec.content) {
            return Err(Error::ContentChanged(spec.id.clone()));
        }
        return Ok(Proposal::Existing(existing));
    }
    let size = match (&spec.audience, list.as_deref()) {
        (Audience::All, _) => {
            let total = client.users().followers_page(None).await?.total;
            match total.unwrap_or(0) {
                0 => {
                    return Err(Error::Invalid(
                        "the account has no followers: nothing to send".into(),
                    ));
                }
                n => n,
            }
        }
        (Audience::Tag { tag_id }, _) => {
            let tags = client.tags().list().await?;
            let tag = tags.iter().find(|t| t.id == *tag_id).ok_or_else(|| {
                Error::Invalid(format!(
                    "no tag {tag_id} on this account; see `wxmass tags list`"
                ))
            })?;
            if tag.count == 0 {
                return Err(Error::Invalid(format!(
                    "tag {} ({}) has no followers: nothing to send (a job would still count against the account's quota; on a subscription account it is the day's one mass message)",
                    tag.id,
                    tag.name.escape_debug()
                )));
            }
            tag.count
        }
        (Audience::Openids, Some(list)) => list.distinct(),
        (Audience::Openids, None) => {
            return Err(Error::Invalid(
                "a campaign to an openid list needs the list".into(),
            ));
        }
    };
    quota::check(journal, &spec.appid, spec.account, &spec.audience, now).await?;
    let capped = match list {
        Some(list) => {
            let capped =
                quota::followers_at_cap(journal, &spec.appid, spec.account, list, &spec.id, now)
                    .await?;
            list.forget_hashes();
            capped
        }
        None => 0,
    };
    Ok(Proposal::New(NewCampaign {
        campaign: Campaign::sent_now(spec.id, spec.appid, spec.content, spec.audience, size, now),
        capped,
        files: spec.files,
        batch_size: spec.batch_size,
    }))
}

/// Step 2 for a fan-out campaign (a [`Content::Notice`]): records it with
/// its recipients, cut from `list` (repeats skipped) in chunks of
/// [`crate::notices::CHUNK`], all planned, in one transaction. No mass-send
/// quota applies: each channel's own is WeChat's to count.
pub async fn commit_notice(
    journal: &dyn Store,
    campaign: &Campaign,
    list: &OpenIdList,
) -> Result<()> {
    if !campaign.content.is_notice() {
        return Err(Error::Invalid(format!(
            "campaign {:?} is a mass message: plan it with plan::commit",
            campaign.id
        )));
    }
    let chunks = list.batches(crate::notices::CHUNK as u32, |_| String::new())?;
    let mut chunks = chunks.map(|b| b.map(|b| b.openids));
    journal.plan_recipients(campaign, &mut chunks).await
}

/// Step 2: records the campaign, its files and its batches (cut from
/// `list`, repeats skipped) in one transaction.
pub async fn commit(
    journal: &dyn Store,
    new: &NewCampaign,
    list: Option<&OpenIdList>,
) -> Result<()> {
    let id = &new.campaign.id;
    match list {
        Some(list) => {
            let mut batches = list.batches(new.batch_size, |i| batch_clientmsgid(id, i))?;
            journal.plan(&new.campaign, &new.files, &mut batches).await
        }
        None => {
            let one = PlannedBatch {
                clientmsgid: batch_clientmsgid(id, 0),
                openids: Vec::new(),
            };
            journal
                .plan(&new.campaign, &new.files, &mut std::iter::once(Ok(one)))
                .await
        }
    }
}
