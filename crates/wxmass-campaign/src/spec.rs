//! What a campaign is, as types: its content, its audience, its batches and
//! their states, and the reports WeChat sends back. These are what the store
//! keeps (as JSON in a versioned form) and what every face of wxmass builds.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::across::AccountSet;
use crate::lifecycle::CampaignState;
use crate::notices::{Channel, SubscriptionNotice, TemplateNotice};
use sha2::{Digest, Sha256};

/// A file the message needs, addressed by its content: the bytes are kept
/// in the store under `sha256` when the campaign is planned, so a send
/// hours later (or on another host) never depends on the file still being
/// where it was. `path` is where it was read, for messages.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileRef {
    /// Where the file was read when the campaign was planned (on a server:
    /// the name it was uploaded under).
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub path: PathBuf,
    /// Hex SHA-256 of its bytes (64 lowercase hex digits: anything else
    /// is refused as it is read).
    #[cfg_attr(feature = "openapi", schema(pattern = "^[0-9a-f]{64}$"))]
    #[serde(deserialize_with = "sha256_of")]
    pub sha256: String,
}

/// A SHA-256 as the store writes it, or an error.
fn sha256_of<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let s = String::deserialize(d)?;
    if s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        Ok(s)
    } else {
        Err(serde::de::Error::custom(
            "a sha256 is 64 lowercase hex digits, as POST /api/v1/files answers",
        ))
    }
}

impl FileRef {
    /// The reference for `data` read from `path`.
    pub fn new(path: impl Into<PathBuf>, data: &[u8]) -> FileRef {
        FileRef {
            path: path.into(),
            sha256: sha256_hex(data),
        }
    }

    /// The bytes at `path`, if they are still those planned: for campaigns
    /// planned by the first releases, which kept only the path.
    pub fn read_as_planned(&self) -> crate::Result<Vec<u8>> {
        let data = std::fs::read(&self.path).map_err(|source| crate::Error::Read {
            path: self.path.display().to_string(),
            source,
        })?;
        if sha256_hex(&data) != self.sha256 {
            return Err(crate::Error::FileChanged(self.path.display().to_string()));
        }
        Ok(data)
    }

    /// The file's name, for an upload.
    pub fn file_name(&self) -> &str {
        self.path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("media")
    }
}

/// The bytes of the files a campaign sends, gathered while its content is
/// read, to be kept in the journal with it (each distinct file once).
#[derive(Debug, Default)]
pub struct Files(Vec<(String, Vec<u8>)>);

impl Files {
    /// Adds the bytes read from `path` and returns their reference.
    pub fn add(&mut self, path: impl Into<PathBuf>, data: Vec<u8>) -> FileRef {
        let file = FileRef::new(path, &data);
        if !self.0.iter().any(|(sha, _)| *sha == file.sha256) {
            self.0.push((file.sha256.clone(), data));
        }
        file
    }

    /// (SHA-256, bytes) of each.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.0
            .iter()
            .map(|(sha, data)| (sha.as_str(), data.as_slice()))
    }
}

/// A picture an article shows, as written in the Markdown (`src`), and the
/// file it was when planned.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PictureRef {
    /// The picture's address in the Markdown.
    pub src: String,
    /// Its bytes.
    pub file: FileRef,
}

/// One Markdown article of an mpnews message.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArticleFile {
    /// The Markdown.
    pub file: FileRef,
    /// Its cover. `None` in campaigns planned by the first releases, which
    /// read the cover again when sending.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cover: Option<FileRef>,
    /// Its local pictures (remote ones are fetched when preparing). Empty in
    /// campaigns planned by the first releases.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pictures: Vec<PictureRef>,
}

/// The kind of an already uploaded media id sent as it is (`--media-id`).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MediaType {
    /// An mpnews item (uploadnews or a draft).
    Mpnews,
    /// A permanent image.
    Image,
    /// A voice.
    Voice,
    /// An mpvideo (from uploadvideo).
    Mpvideo,
}

impl MediaType {
    /// WeChat's msgtype.
    pub fn as_str(self) -> &'static str {
        match self {
            MediaType::Mpnews => "mpnews",
            MediaType::Image => "image",
            MediaType::Voice => "voice",
            MediaType::Mpvideo => "mpvideo",
        }
    }

    /// The msgtype for a `--type` value; `video` is what `media upload`
    /// calls an mpvideo.
    pub fn parse(s: &str) -> Option<MediaType> {
        Some(match s {
            "mpnews" => MediaType::Mpnews,
            "image" => MediaType::Image,
            "voice" => MediaType::Voice,
            "mpvideo" | "video" => MediaType::Mpvideo,
            _ => return None,
        })
    }
}

/// What a campaign sends.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Content {
    /// A text message.
    Text {
        /// At most 2,048 bytes of UTF-8.
        #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 2048))]
        text: String,
    },
    /// One or more pictures, uploaded as permanent images.
    Images {
        /// In order.
        #[cfg_attr(feature = "openapi", schema(min_items = 1))]
        files: Vec<FileRef>,
    },
    /// A voice, uploaded as permanent material.
    Voice {
        /// The audio.
        file: FileRef,
    },
    /// A video: uploaded, then turned into an mpvideo with its title.
    Video {
        /// The video.
        file: FileRef,
        /// Not empty.
        #[cfg_attr(feature = "openapi", schema(min_length = 1))]
        title: String,
        /// May be empty (default: empty).
        #[serde(default)]
        description: String,
    },
    /// Markdown articles, uploaded with their pictures and covers.
    Articles {
        /// One to eight.
        #[cfg_attr(feature = "openapi", schema(min_items = 1, max_items = 8))]
        articles: Vec<ArticleFile>,
        /// Through `draft/add` instead of `uploadnews` (default: false).
        #[serde(default)]
        draft: bool,
        /// A theme file, if not the default.
        #[serde(default)]
        theme: Option<FileRef>,
        /// Pictures on the web are downloaded and uploaded (default:
        /// false).
        #[serde(default)]
        fetch_remote_images: bool,
        /// Send even if WeChat judges it a reprint (default: false).
        #[serde(default)]
        ignore_reprint: bool,
    },
    /// A media id uploaded before.
    Uploaded {
        /// Its kind.
        media_type: MediaType,
        /// The id.
        media_id: String,
        /// For mpnews: send even if WeChat judges it a reprint (default:
        /// false).
        #[serde(default)]
        ignore_reprint: bool,
    },
    /// A card.
    Card {
        /// The card id.
        card_id: String,
    },
    /// A notice sent follower by follower (a fan-out campaign): each
    /// recipient gets the first channel of `via` that is open for them,
    /// with that channel's message.
    Notice {
        /// The channels, in order: at least one, each once, each with its
        /// message below.
        #[cfg_attr(feature = "openapi", schema(min_items = 1, max_items = 3))]
        via: Vec<Channel>,
        /// The message for `template`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        template: Option<TemplateNotice>,
        /// The message for `subscription`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        subscription: Option<SubscriptionNotice>,
        /// The text for `customer_service` (at most 2,048 bytes).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 2048))]
        custom_text: Option<String>,
    },
}

impl Content {
    /// Every file it sends or is made from (pictures, covers, articles,
    /// a theme, a voice or video), in order.
    pub fn files(&self) -> Vec<&FileRef> {
        match self {
            Content::Images { files } => files.iter().collect(),
            Content::Voice { file } | Content::Video { file, .. } => vec![file],
            Content::Articles {
                articles, theme, ..
            } => articles
                .iter()
                .flat_map(|a| {
                    std::iter::once(&a.file)
                        .chain(a.cover.as_ref())
                        .chain(a.pictures.iter().map(|p| &p.file))
                })
                .chain(theme.as_ref())
                .collect(),
            Content::Text { .. }
            | Content::Uploaded { .. }
            | Content::Card { .. }
            | Content::Notice { .. } => vec![],
        }
    }

    /// WeChat's msgtype for it.
    pub fn msgtype(&self) -> &'static str {
        match self {
            Content::Text { .. } => "text",
            Content::Images { .. } => "image",
            Content::Voice { .. } => "voice",
            Content::Video { .. } => "mpvideo",
            Content::Articles { .. } => "mpnews",
            Content::Uploaded { media_type, .. } => media_type.as_str(),
            Content::Card { .. } => "wxcard",
            Content::Notice { .. } => "notice",
        }
    }

    /// Whether it is sent follower by follower (a fan-out campaign, whose
    /// recipients are kept one by one) rather than as mass-send batches.
    pub fn is_notice(&self) -> bool {
        matches!(self, Content::Notice { .. })
    }

    /// The form kept in the store (and hashed into a campaign's id).
    pub fn to_json(&self) -> String {
        // A derived Serialize of strings, bools and vectors cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// Who a campaign goes to.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "kind",
    rename_all = "lowercase",
    deny_unknown_fields,
    from = "AudienceRead"
)]
pub enum Audience {
    /// Every follower: one `sendall` job.
    All,
    /// The followers with a tag: one `sendall` job.
    Tag {
        /// The tag's id.
        tag_id: u32,
    },
    /// A list of openids: one `mass/send` job per batch.
    Openids,
}

/// [`Audience`] as it is read: serde lets an internally tagged enum's unit
/// variants take any other field (`{"kind": "all", "everyone": true}`),
/// which `deny_unknown_fields` refuses only for variants with fields. Here
/// every variant has fields, none for two.
#[derive(Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
enum AudienceRead {
    All {},
    Tag { tag_id: u32 },
    Openids {},
}

impl From<AudienceRead> for Audience {
    fn from(read: AudienceRead) -> Audience {
        match read {
            AudienceRead::All {} => Audience::All,
            AudienceRead::Tag { tag_id } => Audience::Tag { tag_id },
            AudienceRead::Openids {} => Audience::Openids,
        }
    }
}

impl Audience {
    /// `all`, `tag` or `openids`.
    pub fn kind(&self) -> &'static str {
        match self {
            Audience::All => "all",
            Audience::Tag { .. } => "tag",
            Audience::Openids => "openids",
        }
    }

    /// The tag, for a tag.
    pub fn tag_id(&self) -> Option<u32> {
        match self {
            Audience::Tag { tag_id } => Some(*tag_id),
            _ => None,
        }
    }
}

/// Where a batch is on its way to WeChat. Only forward: a batch is
/// `Submitting` (committed) before its request leaves and `Submitted`, with
/// its job, after WeChat answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BatchState {
    /// Recorded, not yet sent.
    Planned,
    /// Its request may have left: a resend carries the same clientmsgid.
    Submitting,
    /// WeChat took it; `msg_id` names the job.
    Submitted,
}

impl BatchState {
    /// The name kept in the store.
    pub fn as_str(self) -> &'static str {
        match self {
            BatchState::Planned => "planned",
            BatchState::Submitting => "submitting",
            BatchState::Submitted => "submitted",
        }
    }

    /// The state a stored name stands for.
    pub fn parse(s: &str) -> Option<BatchState> {
        Some(match s {
            "planned" => BatchState::Planned,
            "submitting" => BatchState::Submitting,
            "submitted" => BatchState::Submitted,
            _ => return None,
        })
    }
}

/// A campaign: what it sends, to whom, and where it is in its life. One
/// model for every face: a server's campaign is written as a draft and
/// approved; a CLI send is created running, with no creator (a server shows
/// it, read-only); both are planned (their batches recorded) when they
/// start, and the engine sends them the same way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Campaign {
    /// Its id.
    pub id: String,
    /// The account it is sent for (empty for a campaign across accounts).
    pub appid: String,
    /// A name for people (the id, for a CLI send).
    pub name: String,
    /// What it sends.
    pub content: Content,
    /// To whom.
    pub audience: Audience,
    /// A server's saved list, for an [`Audience::Openids`] campaign.
    pub list: Option<String>,
    /// Openids a batch, for a list.
    pub batch_size: Option<u32>,
    /// Where it is.
    pub state: CampaignState,
    /// When to send it (Unix seconds), once approved (a CLI send: when it
    /// was sent).
    pub send_at: Option<i64>,
    /// Who wrote it; `None`: sent with the CLI (or a worker), which a
    /// server shows but does not run.
    pub created_by: Option<String>,
    /// Who approved it.
    pub approved_by: Option<String>,
    /// The last thing that happened to it, for people (an error, "ran late").
    pub note: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub updated_at: i64,
    /// Followers addressed, once planned (0 before).
    pub audience_size: u64,
    /// A campaign across accounts: the accounts it is for (its `appid` is
    /// then empty; it is sent as one part per account, see [`crate::across`]).
    pub accounts: Option<AccountSet>,
    /// A part of a campaign across accounts: that campaign's id.
    pub part_of: Option<String>,
}

impl Campaign {
    /// A campaign sent now by whoever plans it (the CLI's `send`): running
    /// from `now`, named by its id, with no creator.
    pub fn sent_now(
        id: String,
        appid: String,
        content: Content,
        audience: Audience,
        audience_size: u64,
        now: i64,
    ) -> Campaign {
        Campaign {
            name: id.clone(),
            id,
            appid,
            content,
            audience,
            list: None,
            batch_size: None,
            state: CampaignState::Running,
            send_at: Some(now),
            created_by: None,
            approved_by: None,
            note: String::new(),
            created_at: now,
            updated_at: now,
            audience_size,
            accounts: None,
            part_of: None,
        }
    }

    /// Whether it is a campaign across accounts (sent as its parts).
    pub fn is_across_accounts(&self) -> bool {
        self.accounts.is_some()
    }
}

/// One batch as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Batch {
    /// 0-based.
    pub index: u32,
    /// The clientmsgid it is sent with.
    pub clientmsgid: String,
    /// Openids in it (0 for all/tag).
    pub size: u64,
    /// Where it is.
    pub state: BatchState,
    /// The job, once known.
    pub msg_id: Option<i64>,
    /// For articles: what datacube and comments call the sent content.
    pub msg_data_id: Option<i64>,
    /// Unix seconds it was recorded submitted.
    pub submitted_at: Option<i64>,
    /// mass/get status, once polled.
    pub status: Option<String>,
    /// WeChat's MASSSENDJOBFINISH report, once received.
    pub report: Option<Report>,
    /// The worker that recorded it submitted.
    pub sent_by: Option<String>,
    /// How often a worker took it over from another whose lease ran out
    /// while it was `submitting` (and resent it with its clientmsgid).
    pub takeovers: u32,
}

/// How long after a batch was sent without WeChat naming its job (a
/// takeover that learned only that it had gone) it may be sent again to
/// learn the msg_id from WeChat's 45065: WeChat recognises a clientmsgid
/// for 24 hours, and after that a resend would be a second delivery.
/// 20 hours leaves room for clocks that disagree.
pub const NAME_BY_RESENDING_WITHIN: i64 = 20 * 3600;

/// Seconds after a batch's last request before it is sent again to learn
/// the job WeChat took without naming: WeChat answers a clientmsgid sent
/// within the last minute with 45066 and no msg_id, and one sent earlier
/// (within 24 hours) with 45065 and the job's msg_id. A minute, and a
/// margin for the two clocks.
pub const NAME_AFTER: i64 = 75;

/// A campaign's batches WeChat took without naming the job, that may
/// still be sent again to learn it (see [`NAME_BY_RESENDING_WITHIN`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Unnamed {
    /// How many.
    pub count: u64,
    /// How long until the first of them may be sent again (see
    /// [`NAME_AFTER`]); zero: now.
    pub ready_in: std::time::Duration,
}

/// A batch a worker holds the lease of: it alone sends it until the lease
/// runs out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// The campaign.
    pub campaign: String,
    /// The batch.
    pub index: u32,
    /// Its clientmsgid.
    pub clientmsgid: String,
    /// Another worker's lease on it ran out while it was `submitting`.
    pub takeover: bool,
}

impl Batch {
    /// Whether it may still have to be sent: not submitted, or submitted
    /// without the job's id.
    pub fn pending(&self) -> bool {
        self.state != BatchState::Submitted || self.msg_id.is_none()
    }
}

/// A MASSSENDJOBFINISH report, as kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// `send success`, `send fail` or `err(N)`.
    pub status: String,
    /// Followers addressed.
    pub total_count: i64,
    /// Left after filtering (quota, unfollowed).
    pub filter_count: i64,
    /// Delivered.
    pub sent_count: i64,
    /// Failed.
    pub error_count: i64,
    /// The copyright check's CheckState, for mpnews.
    pub check_state: Option<i64>,
    /// The sent articles' URLs.
    pub article_urls: Vec<String>,
}

impl Report {
    /// The job's status as `mass/get` names it, read from the report:
    /// `send success` is `SEND_SUCCESS`; `send fail` and every `err(N)`
    /// (the review refused it, or it timed out) are `SEND_FAIL`. (The
    /// reference lists both vocabularies but not this mapping; it is what
    /// a final job can be, `DELETE` coming only later.)
    pub fn job_status(&self) -> &'static str {
        if self.status == "send success" {
            "SEND_SUCCESS"
        } else {
            "SEND_FAIL"
        }
    }
}

/// A job report received for an account, to be recorded: the report, and
/// the whole event as received (kept to tell a retry from a contradiction).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobReport {
    /// The job.
    pub msg_id: i64,
    /// Its counts.
    pub report: Report,
    /// The event, as JSON.
    pub event: String,
}

/// The replay guard's entry, kept as the receiver made it.
pub use wxmass_vocab::SeenRequest;

/// The clientmsgid of a batch: the same for every run of the campaign, on
/// every host, so that WeChat refuses a resend as a duplicate (45065). At
/// most 32 bytes, as WeChat requires.
pub fn batch_clientmsgid(campaign: &str, index: u32) -> String {
    let digest = Sha256::digest(format!("{campaign}:{index}").as_bytes());
    format!("wxm{}", hex::encode(&digest[..12]))
}

/// The hex SHA-256 of some bytes: how files and uploads are addressed.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// A batch to record: its openids (empty for all/tag) and clientmsgid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedBatch {
    /// The clientmsgid it will be sent with.
    pub clientmsgid: String,
    /// Its openids, in order; empty for every follower or a tag.
    pub openids: Vec<String>,
}

/// What became of a report handed to [`crate::store::PushStore::record_received`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// Recorded; `known` says whether a batch of a campaign has its job
    /// (a report can also arrive before the sender has written the msg_id).
    New {
        /// A batch has this job.
        known: bool,
    },
    /// The same report was recorded before (WeChat's retry, or a restart).
    Duplicate,
    /// A different report for a job already reported: kept apart, the first
    /// stays.
    Conflict,
    /// The request carried no job report.
    NoReport,
}

/// A report no batch knows, or a second report that contradicts the first.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StrayReport {
    /// The account.
    pub appid: String,
    /// The job.
    pub msg_id: i64,
    /// `unknown job` or `conflict`.
    pub kind: &'static str,
    /// The report's status.
    pub status: String,
    /// Delivered, as reported.
    pub sent_count: i64,
    /// Unix seconds.
    pub received_at: i64,
}

/// One article's figures so far on one day (summed over the campaign's
/// jobs), as the server keeps them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReadPoint {
    /// The article, from 1.
    pub article: u32,
    /// Its title.
    pub title: String,
    /// The day, YYYY-MM-DD.
    pub date: String,
    /// Followers it reached.
    pub delivered: u64,
    /// People who read it, so far.
    pub readers: u64,
    /// Reads, so far.
    pub reads: u64,
    /// People who shared it, so far.
    pub sharers: u64,
    /// Shares, so far.
    pub shares: u64,
    /// People who added it to favourites, so far.
    pub favouriters: u64,
}

/// A campaign's kept series and the day it was last pulled.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReadSeries {
    /// WeChat's day of the last pull, YYYY-MM-DD (none yet: `None`).
    pub pulled_on: Option<String>,
    /// Per article and day, in that order.
    pub points: Vec<ReadPoint>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clientmsgids_are_stable_and_short() {
        let a = batch_clientmsgid("c-1", 0);
        assert_eq!(a, batch_clientmsgid("c-1", 0));
        assert_ne!(a, batch_clientmsgid("c-1", 1));
        assert!(a.len() <= 32);
        // The scheme of the first releases: journals they wrote resume
        // with the same ids.
        assert_eq!(a.len(), 27);
    }

    #[test]
    fn content_round_trips_and_refuses_unknown_fields() {
        let content = Content::Video {
            file: FileRef::new("v.mp4", b"video"),
            title: "t".into(),
            description: String::new(),
        };
        let json = content.to_json();
        assert_eq!(serde_json::from_str::<Content>(&json).ok(), Some(content));
        assert!(
            serde_json::from_str::<Content>(r#"{"type":"text","text":"x","extra":1}"#).is_err()
        );
        let state: BatchState = serde_json::from_str("\"submitting\"").expect("state");
        assert_eq!(state, BatchState::Submitting);
    }
}
