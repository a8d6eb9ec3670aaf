//! The emulated account: tokens, followers, tags, media, news, send jobs,
//! quotas and the ledger of what was delivered to whom.
//!
//! Everything here is plain data behind one mutex (see [`crate::Emulator`]);
//! the HTTP layer parses and validates requests, then calls these methods.

use std::collections::{BTreeMap, HashMap, HashSet};

use bytes::Bytes;
use serde::Serialize;

use crate::clock::Clock;
use crate::config::{AccountType, EmulatorConfig};
use crate::error::{WxError, WxResult};
use crate::ids::{self, OpenIdCodec};

/// Token lifetime (wechat-api.md §1).
pub const TOKEN_TTL_MS: i64 = 7_200_000;
/// How long a superseded token keeps working, and how early a stable token rotates.
pub const TOKEN_OVERLAP_MS: i64 = 300_000;
/// Temporary media live three days.
pub const TEMP_MEDIA_TTL_MS: i64 = 3 * 86_400_000;
/// Most tags an account may have.
pub const MAX_TAGS: usize = 100;
/// Most tags on one follower.
pub const MAX_TAGS_PER_USER: usize = 20;
/// Page size of `user/get` and `user/tag/get`.
pub const PAGE_SIZE: usize = 10_000;
/// Mass messages one follower of a service account receives per month.
pub const MONTHLY_CAP_PER_FOLLOWER: u8 = 4;

/// Which endpoint issued a token; the two kinds are isolated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    /// `/cgi-bin/token`.
    Classic,
    /// `/cgi-bin/stable_token`.
    Stable,
}

#[derive(Debug, Clone)]
struct IssuedToken {
    kind: TokenKind,
    expires_ms: i64,
    /// Set when a newer token supersedes this one.
    valid_until_ms: Option<i64>,
}

#[derive(Debug, Default)]
struct Tokens {
    issued: HashMap<String, IssuedToken>,
    classic: Option<String>,
    stable: Option<String>,
    forced_day: i64,
    forced_today: u32,
    last_forced_ms: Option<i64>,
}

/// A follower. Seeded followers have no stored openid: it is derived from
/// their index (see [`OpenIdCodec`]).
#[derive(Debug, Clone)]
pub struct Follower {
    explicit_openid: Option<Box<str>>,
    /// Tag ids, at most [`MAX_TAGS_PER_USER`].
    pub tags: Vec<u32>,
    /// Unix seconds.
    pub subscribe_time: i64,
    month: i64,
    month_count: u8,
    /// Still following.
    pub subscribed: bool,
}

/// A tag and its follower count.
#[derive(Debug, Clone, Serialize)]
pub struct Tag {
    /// Its id.
    pub id: u32,
    /// Its name.
    pub name: String,
    /// Followers carrying it.
    pub count: u64,
}

/// The kind of a media item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MediaKind {
    /// A picture.
    Image,
    /// A voice clip.
    Voice,
    /// A video.
    Video,
    /// A small JPEG cover.
    Thumb,
    /// A video prepared for mass send by `media/uploadvideo`.
    MpVideo,
}

impl MediaKind {
    /// The `type` parameter value.
    pub fn as_str(self) -> &'static str {
        match self {
            MediaKind::Image => "image",
            MediaKind::Voice => "voice",
            MediaKind::Video => "video",
            MediaKind::Thumb => "thumb",
            MediaKind::MpVideo => "mpvideo",
        }
    }

    /// Parses a `type` parameter (not `mpvideo`, which no upload takes).
    pub fn parse(s: &str) -> Option<MediaKind> {
        match s {
            "image" => Some(MediaKind::Image),
            "voice" => Some(MediaKind::Voice),
            "video" => Some(MediaKind::Video),
            "thumb" => Some(MediaKind::Thumb),
            _ => None,
        }
    }
}

/// An uploaded file.
#[derive(Debug, Clone)]
pub struct Media {
    /// What it is.
    pub kind: MediaKind,
    /// Permanent material, or temporary (three days).
    pub permanent: bool,
    /// The file's bytes.
    pub data: Bytes,
    /// The detected format (`jpg`, `png`, `mp3`, ...).
    pub format: &'static str,
    /// Unix seconds.
    pub created_at: i64,
    /// Title and introduction, for videos.
    pub title: Option<String>,
    /// Description or introduction, for videos.
    pub description: Option<String>,
    /// A name for `batchget_material`.
    pub name: String,
}

/// One article of a news item.
#[derive(Debug, Clone, Serialize)]
pub struct Article {
    /// The title.
    pub title: String,
    /// The cover's media id.
    pub thumb_media_id: String,
    /// The author.
    pub author: String,
    /// The digest.
    pub digest: String,
    /// The HTML content.
    pub content: String,
    /// The "read original" URL.
    pub content_source_url: String,
    /// `<img src>` URLs not issued by `uploadimg`, which WeChat filters out
    /// of the article (wechat-api.md §3).
    pub filtered_images: Vec<String>,
}

/// A news item from `media/uploadnews` or `draft/add`.
#[derive(Debug, Clone, Serialize)]
pub struct News {
    /// Its articles, in order.
    pub articles: Vec<Article>,
    /// Made by `draft/add` (deleted after a send-to-all).
    pub draft: bool,
    /// Unix seconds.
    pub created_at: i64,
}

/// Who a job goes to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Audience {
    /// Every follower.
    All,
    /// Followers carrying a tag.
    Tag {
        /// The tag id.
        tag_id: u32,
    },
    /// A list of openids (`mass/send`).
    OpenIds {
        /// The openids as sent.
        #[serde(skip)]
        openids: Vec<String>,
    },
}

/// A job's `mass/get` status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum JobStatus {
    /// Running.
    #[serde(rename = "SENDING")]
    Sending,
    /// Finished and delivered.
    #[serde(rename = "SEND_SUCCESS")]
    SendSuccess,
    /// Finished, nothing delivered.
    #[serde(rename = "SEND_FAIL")]
    SendFail,
    /// Deleted with `mass/delete`.
    #[serde(rename = "DELETE")]
    Deleted,
}

/// A mass-send job.
#[derive(Debug, Clone, Serialize)]
pub struct Job {
    /// Its id.
    pub msg_id: i64,
    /// For mpnews sends.
    pub msg_data_id: Option<i64>,
    /// The developer's clientmsgid, or the implicit one.
    pub clientmsgid: String,
    /// Whether the clientmsgid was the caller's.
    pub clientmsgid_given: bool,
    /// `text`, `mpnews`, ...
    pub msgtype: String,
    /// A hash of msgtype and content, independent of audience and clientmsgid.
    pub content_digest: String,
    /// The media id, for media messages.
    pub media_id: Option<String>,
    /// Who it goes to.
    pub audience: Audience,
    /// How many were addressed.
    pub audience_size: u64,
    /// Its status.
    pub status: JobStatus,
    /// Followers addressed.
    pub total_count: u64,
    /// Left after filtering.
    pub filter_count: u64,
    /// Delivered.
    pub sent_count: u64,
    /// Failed.
    pub error_count: u64,
    /// Unix seconds.
    pub created_at: i64,
    /// Emulated milliseconds at which it finishes.
    #[serde(skip)]
    pub finishes_at_ms: i64,
    /// Emulated Unix seconds at which it finished.
    pub finished_at: Option<i64>,
    /// Articles and their URLs, for mpnews.
    pub article_urls: Vec<String>,
    /// The articles' titles, for mpnews.
    pub article_titles: Vec<String>,
    /// Indices of the followers it was delivered to.
    #[serde(skip)]
    pub recipients: Vec<u32>,
}

/// Counters for `GET /_emulator/stats`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Stats {
    /// Tokens issued by `/cgi-bin/token`.
    pub token_fetches_classic: u64,
    /// Tokens returned by `/cgi-bin/stable_token` without force.
    pub token_fetches_stable: u64,
    /// Forced stable token refreshes.
    pub token_fetches_stable_forced: u64,
    /// Calls per path.
    pub calls: BTreeMap<String, u64>,
    /// Jobs created.
    pub jobs: u64,
    /// Messages delivered (follower × job).
    pub deliveries: u64,
    /// Deliveries of a content digest to a follower who already had it,
    /// on any channel.
    pub duplicate_deliveries: u64,
    /// Deliveries by channel: `mass`, `template`.
    pub deliveries_by_channel: BTreeMap<&'static str, u64>,
    /// Previews sent.
    pub previews: u64,
}

#[derive(Debug, Default)]
struct Quotas {
    day: i64,
    used: HashMap<&'static str, u32>,
    month: i64,
    to_all_this_month: u32,
    sends_today: u32,
    minute: i64,
    sends_this_minute: u32,
    clears_month: i64,
    clears: u32,
}

/// Daily call quotas (wechat-api.md §17), by quota name.
pub fn daily_quota(name: &str) -> u32 {
    match name {
        "token" => 2_000,
        "stable_token" => 500_000,
        "media_upload" => 100_000,
        "media_get" => 200_000,
        "mass" => 100,
        "uploadnews" => 10,
        "user_get" => 500,
        "user_info" => 5_000_000,
        "draft" => 1_000,
        "preview_wxname" => 100,
        "tags" => 1_000,
        _ => 1_000_000,
    }
}

/// The whole emulated account.
#[derive(Debug)]
pub struct Account {
    /// What it was started with.
    pub config: EmulatorConfig,
    codec: OpenIdCodec,
    tokens: Tokens,
    followers: Vec<Follower>,
    explicit: HashMap<Box<str>, u32>,
    /// Followers with `subscribed` set, kept as they are added: every page
    /// of `user/get` reports it, and counting a million each time made
    /// paging quadratic.
    subscribed: u64,
    tags: BTreeMap<u32, Tag>,
    next_tag_id: u32,
    media: HashMap<String, Media>,
    news: HashMap<String, News>,
    article_images: HashMap<String, Bytes>,
    jobs: Vec<Job>,
    /// Jobs still sending, soonest to finish first: (finishes_at_ms, index).
    /// A heap, so that finishing jobs costs nothing per job already done.
    sending: std::collections::BinaryHeap<std::cmp::Reverse<(i64, usize)>>,
    job_index: HashMap<i64, usize>,
    clientmsgids: HashMap<String, (i64, i64)>,
    next_msg_id: i64,
    next_msg_data_id: i64,
    quotas: Quotas,
    speed: u8,
    delivered: HashSet<(u32, u64), ids::IntHashing>,
    /// One-by-one messages each follower received, by channel (template,
    /// custom, subscribe).
    one_by_one: HashMap<u32, BTreeMap<&'static str, u32>>,
    /// Free publishing's jobs, in submission order.
    pub publishes: Vec<Publish>,
    /// How the next publishes end (`POST /_emulator/publish_outcome`):
    /// success when empty.
    pub publish_outcomes: std::collections::VecDeque<PublishOutcome>,
    /// Counters.
    pub stats: Stats,
}

/// How a free publish ends.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct PublishOutcome {
    /// `publish_status`: 0 success, 2 originality check failed, 3 failed,
    /// 4 rejected by review.
    pub status: i64,
    /// The failed articles, 1-based.
    #[serde(default)]
    pub fail_idx: Vec<u32>,
}

/// A free publish (`freepublish/submit`).
#[derive(Debug, Clone)]
pub struct Publish {
    /// Its id.
    pub publish_id: i64,
    /// The content's id, as datacube and comments name it.
    pub msg_data_id: i64,
    /// The draft it was made from.
    pub media_id: String,
    /// The draft's articles.
    pub articles: Vec<Article>,
    /// 1 while publishing, then the outcome's.
    pub status: i64,
    /// On success.
    pub article_id: Option<String>,
    /// Each article's address, on success.
    pub urls: Vec<String>,
    /// Articles deleted since (`freepublish/delete`), 1-based.
    pub deleted: Vec<u32>,
    /// How it ends.
    pub outcome: PublishOutcome,
    /// Emulated milliseconds at which it ends.
    pub finishes_at_ms: i64,
    /// Unix seconds it was submitted.
    pub submitted_at: i64,
}

impl Account {
    /// A new account with the configured followers and tags.
    pub fn new(config: EmulatorConfig, now: i64) -> Self {
        let mut account = Account {
            codec: OpenIdCodec::for_appid(&config.appid),
            tokens: Tokens::default(),
            followers: Vec::new(),
            explicit: HashMap::new(),
            subscribed: 0,
            tags: BTreeMap::new(),
            next_tag_id: 100,
            media: HashMap::new(),
            news: HashMap::new(),
            article_images: HashMap::new(),
            jobs: Vec::new(),
            sending: std::collections::BinaryHeap::new(),
            job_index: HashMap::new(),
            clientmsgids: HashMap::new(),
            next_msg_id: 1_000_000_001,
            next_msg_data_id: 2_247_484_313,
            quotas: Quotas::default(),
            speed: 0,
            delivered: HashSet::default(),
            one_by_one: HashMap::new(),
            publishes: Vec::new(),
            publish_outcomes: std::collections::VecDeque::new(),
            stats: Stats::default(),
            config,
        };
        // Reserved tag 2 is the star group ("星标组"), as on a real account.
        account.tags.insert(
            2,
            Tag {
                id: 2,
                name: "星标组".into(),
                count: 0,
            },
        );
        let tag_ids: Vec<u32> = (0..account.config.tags)
            .filter_map(|i| account.create_tag(&format!("tag{}", i + 1)).ok())
            .collect();
        account.seed_followers(account.config.followers, &tag_ids, now);
        account
    }

    // ----- tokens ---------------------------------------------------------

    /// Checks a business call's token.
    pub fn check_token(&self, token: Option<&str>, now_ms: i64) -> WxResult<TokenKind> {
        let token = match token {
            None | Some("") => return Err(WxError::new(41001)),
            Some(t) => t,
        };
        let Some(issued) = self.tokens.issued.get(token) else {
            let well_formed = token.len() >= 32
                && token
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
            return Err(WxError::new(if well_formed { 40001 } else { 40014 }));
        };
        if now_ms >= issued.expires_ms {
            return Err(WxError::new(42001));
        }
        if issued.valid_until_ms.is_some_and(|until| now_ms >= until) {
            return Err(WxError::new(40001));
        }
        Ok(issued.kind)
    }

    fn issue(&mut self, kind: TokenKind, now_ms: i64) -> (String, i64) {
        let token = ids::random_id(136);
        let expires_ms = now_ms + TOKEN_TTL_MS;
        self.tokens.issued.insert(
            token.clone(),
            IssuedToken {
                kind,
                expires_ms,
                valid_until_ms: None,
            },
        );
        (token, expires_ms)
    }

    fn supersede(&mut self, token: Option<String>, until_ms: i64) {
        if let Some(issued) = token.and_then(|t| self.tokens.issued.get_mut(&t)) {
            let until = issued.valid_until_ms.unwrap_or(i64::MAX).min(until_ms);
            issued.valid_until_ms = Some(until.min(issued.expires_ms));
        }
    }

    /// `/cgi-bin/token`: a new token; the previous one works 5 more minutes.
    pub fn classic_token(&mut self, now_ms: i64) -> (String, i64) {
        self.prune_tokens(now_ms);
        let previous = self.tokens.classic.take();
        self.supersede(previous, now_ms + TOKEN_OVERLAP_MS);
        let (token, expires_ms) = self.issue(TokenKind::Classic, now_ms);
        self.tokens.classic = Some(token.clone());
        self.stats.token_fetches_classic += 1;
        (token, (expires_ms - now_ms) / 1000)
    }

    /// `/cgi-bin/stable_token`: the same token until 5 minutes before it
    /// expires; `force` replaces it at once (20 a day, 30 s apart).
    pub fn stable_token(
        &mut self,
        force: bool,
        now_ms: i64,
        today: i64,
    ) -> WxResult<(String, i64)> {
        self.prune_tokens(now_ms);
        let current = self.tokens.stable.clone().and_then(|t| {
            let expires = self.tokens.issued.get(&t)?.expires_ms;
            Some((t, expires))
        });
        if force {
            if self.tokens.forced_day != today {
                self.tokens.forced_day = today;
                self.tokens.forced_today = 0;
            }
            let too_soon = self
                .tokens
                .last_forced_ms
                .is_some_and(|last| now_ms - last < 30_000);
            if self.tokens.forced_today >= 20 {
                return Err(WxError::new(45009));
            }
            if !too_soon || current.is_none() {
                self.tokens.forced_today += 1;
                self.tokens.last_forced_ms = Some(now_ms);
                let previous = self.tokens.stable.take();
                self.supersede(previous, now_ms);
                let (token, expires_ms) = self.issue(TokenKind::Stable, now_ms);
                self.tokens.stable = Some(token.clone());
                self.stats.token_fetches_stable_forced += 1;
                return Ok((token, (expires_ms - now_ms) / 1000));
            }
        }
        self.stats.token_fetches_stable += 1;
        match current {
            Some((token, expires_ms)) if now_ms < expires_ms - TOKEN_OVERLAP_MS => {
                Ok((token, (expires_ms - now_ms) / 1000))
            }
            _ => {
                // Rotation: the old token keeps working until it expires.
                let (token, expires_ms) = self.issue(TokenKind::Stable, now_ms);
                self.tokens.stable = Some(token.clone());
                Ok((token, (expires_ms - now_ms) / 1000))
            }
        }
    }

    /// Makes every current token invalid now (fault injection).
    pub fn invalidate_tokens(&mut self, now_ms: i64) {
        let classic = self.tokens.classic.take();
        let stable = self.tokens.stable.take();
        self.supersede(classic, now_ms);
        self.supersede(stable, now_ms);
    }

    fn prune_tokens(&mut self, now_ms: i64) {
        if self.tokens.issued.len() > 4096 {
            self.tokens.issued.retain(|_, t| t.expires_ms > now_ms);
        }
    }

    // ----- quotas ---------------------------------------------------------

    fn roll_quota_periods(&mut self, clock: &Clock) {
        let day = clock.day();
        if self.quotas.day != day {
            self.quotas.day = day;
            self.quotas.used.clear();
            self.quotas.sends_today = 0;
        }
        let month = clock.month();
        if self.quotas.month != month {
            self.quotas.month = month;
            self.quotas.to_all_this_month = 0;
        }
    }

    /// Counts one call against a daily quota; 45009 when it is spent.
    pub fn use_quota(&mut self, name: &'static str, clock: &Clock) -> WxResult<()> {
        if !self.config.quotas {
            return Ok(());
        }
        self.roll_quota_periods(clock);
        let used = self.quotas.used.entry(name).or_insert(0);
        if *used >= daily_quota(name) {
            return Err(WxError::new(45009));
        }
        *used += 1;
        Ok(())
    }

    /// One message delivered to `follower` on `channel` (a template
    /// message, ...): counted, and a duplicate if the follower had the same
    /// content (`digest`) before.
    pub fn record_delivery(&mut self, channel: &'static str, follower: u32, digest: u64) {
        if !self.delivered.insert((follower, digest)) {
            self.stats.duplicate_deliveries += 1;
        }
        self.stats.deliveries += 1;
        *self.stats.deliveries_by_channel.entry(channel).or_default() += 1;
        *self
            .one_by_one
            .entry(follower)
            .or_default()
            .entry(channel)
            .or_default() += 1;
    }

    /// The one-by-one messages `follower` received, by channel.
    pub fn received(&self, follower: u32) -> BTreeMap<&'static str, u32> {
        self.one_by_one.get(&follower).cloned().unwrap_or_default()
    }

    /// `clear_quota`: resets daily counters, 10 times a month.
    pub fn clear_quota(&mut self, clock: &Clock) -> WxResult<()> {
        let month = clock.month();
        if self.quotas.clears_month != month {
            self.quotas.clears_month = month;
            self.quotas.clears = 0;
        }
        if self.quotas.clears >= 10 {
            return Err(WxError::new(48006));
        }
        self.quotas.clears += 1;
        self.quotas.used.clear();
        self.quotas.sends_today = 0;
        Ok(())
    }

    // ----- followers ------------------------------------------------------

    /// Adds `count` generated followers, spread over `tag_ids` round-robin.
    pub fn seed_followers(&mut self, count: u32, tag_ids: &[u32], now: i64) -> Vec<u32> {
        let start = self.followers.len() as u32;
        self.followers.reserve(count as usize);
        for i in 0..count {
            let tags = if tag_ids.is_empty() {
                Vec::new()
            } else {
                vec![tag_ids[(i as usize) % tag_ids.len()]]
            };
            for tag in &tags {
                if let Some(t) = self.tags.get_mut(tag) {
                    t.count += 1;
                }
            }
            self.followers.push(Follower {
                explicit_openid: None,
                tags,
                subscribe_time: now - i64::from(i % 86_400),
                month: 0,
                month_count: 0,
                subscribed: true,
            });
        }
        self.subscribed += u64::from(count);
        (start..start + count).collect()
    }

    /// Adds followers with given openids (existing ones are kept).
    pub fn add_followers(&mut self, openids: &[String], tag_id: Option<u32>, now: i64) -> Vec<u32> {
        let mut indices = Vec::with_capacity(openids.len());
        for openid in openids {
            let index = match self.index_of(openid) {
                Some(i) => i,
                None => {
                    let index = self.followers.len() as u32;
                    self.followers.push(Follower {
                        explicit_openid: Some(openid.as_str().into()),
                        tags: Vec::new(),
                        subscribe_time: now,
                        month: 0,
                        month_count: 0,
                        subscribed: true,
                    });
                    self.explicit.insert(openid.as_str().into(), index);
                    self.subscribed += 1;
                    index
                }
            };
            if let Some(tag) = tag_id {
                let _ = self.tag_follower(index, tag);
            }
            indices.push(index);
        }
        indices
    }

    /// The follower index of an openid of this account.
    pub fn index_of(&self, openid: &str) -> Option<u32> {
        if let Some(&i) = self.explicit.get(openid) {
            return Some(i);
        }
        let i = self.codec.decode(openid)?;
        let follower = self.followers.get(i as usize)?;
        follower.explicit_openid.is_none().then_some(i)
    }

    /// The openid of a follower index.
    pub fn openid_of(&self, index: u32) -> String {
        match self
            .followers
            .get(index as usize)
            .and_then(|f| f.explicit_openid.as_deref())
        {
            Some(openid) => openid.to_owned(),
            None => self.codec.encode(index),
        }
    }

    /// A follower, by index.
    pub fn follower(&self, index: u32) -> Option<&Follower> {
        self.followers.get(index as usize)
    }

    /// Followers still subscribed.
    pub fn subscribed_count(&self) -> u64 {
        self.subscribed
    }

    /// One page of followers after `next_openid` (all, or those with `tag`).
    pub fn follower_page(
        &self,
        next_openid: &str,
        tag: Option<u32>,
    ) -> WxResult<(Vec<String>, String)> {
        let start = if next_openid.is_empty() {
            0
        } else {
            self.index_of(next_openid)
                .ok_or_else(|| WxError::new(40003))? as usize
                + 1
        };
        let mut page = Vec::new();
        let mut last = None;
        for (i, f) in self.followers.iter().enumerate().skip(start) {
            if !f.subscribed || tag.is_some_and(|t| !f.tags.contains(&t)) {
                continue;
            }
            page.push(self.openid_of(i as u32));
            last = Some(i as u32);
            if page.len() == PAGE_SIZE {
                break;
            }
        }
        let next = last.map(|i| self.openid_of(i)).unwrap_or_default();
        Ok((page, next))
    }

    // ----- tags -----------------------------------------------------------

    /// Every tag, in id order.
    pub fn tags(&self) -> impl Iterator<Item = &Tag> {
        self.tags.values()
    }

    /// A tag by id.
    pub fn tag(&self, id: u32) -> Option<&Tag> {
        self.tags.get(&id)
    }

    fn check_tag_name(&self, name: &str, except: Option<u32>) -> WxResult<()> {
        if name.trim().is_empty() {
            return Err(WxError::new(45157));
        }
        if name.len() > 30 {
            return Err(WxError::new(45158));
        }
        if self
            .tags
            .values()
            .any(|t| t.name == name && Some(t.id) != except)
        {
            return Err(WxError::new(45157));
        }
        Ok(())
    }

    /// `tags/create`.
    pub fn create_tag(&mut self, name: &str) -> WxResult<u32> {
        self.check_tag_name(name, None)?;
        if self.tags.len() >= MAX_TAGS {
            return Err(WxError::new(45056));
        }
        let id = self.next_tag_id;
        self.next_tag_id += 1;
        self.tags.insert(
            id,
            Tag {
                id,
                name: name.to_owned(),
                count: 0,
            },
        );
        Ok(id)
    }

    /// `tags/update`.
    pub fn rename_tag(&mut self, id: u32, name: &str) -> WxResult<()> {
        if id <= 2 {
            return Err(WxError::new(45058));
        }
        if !self.tags.contains_key(&id) {
            return Err(WxError::new(45159));
        }
        self.check_tag_name(name, Some(id))?;
        if let Some(tag) = self.tags.get_mut(&id) {
            tag.name = name.to_owned();
        }
        Ok(())
    }

    /// `tags/delete`.
    pub fn delete_tag(&mut self, id: u32) -> WxResult<()> {
        if id <= 2 {
            return Err(WxError::new(45058));
        }
        let tag = self.tags.get(&id).ok_or_else(|| WxError::new(45159))?;
        if tag.count > 100_000 {
            return Err(WxError::new(45057));
        }
        self.tags.remove(&id);
        for f in &mut self.followers {
            f.tags.retain(|&t| t != id);
        }
        Ok(())
    }

    /// The follower to (un)tag: 45159 for an unknown tag, 40003 for an
    /// unknown follower.
    fn follower_for_tagging(&mut self, index: u32, tag: u32) -> WxResult<&mut Follower> {
        if !self.tags.contains_key(&tag) {
            return Err(WxError::new(45159));
        }
        self.followers
            .get_mut(index as usize)
            .ok_or_else(|| WxError::new(40003))
    }

    /// Puts a tag on a follower.
    pub fn tag_follower(&mut self, index: u32, tag: u32) -> WxResult<()> {
        let follower = self.follower_for_tagging(index, tag)?;
        if follower.tags.contains(&tag) {
            return Ok(());
        }
        if follower.tags.len() >= MAX_TAGS_PER_USER {
            return Err(WxError::new(45059));
        }
        follower.tags.push(tag);
        if let Some(t) = self.tags.get_mut(&tag) {
            t.count += 1;
        }
        Ok(())
    }

    /// Takes a tag off a follower.
    pub fn untag_follower(&mut self, index: u32, tag: u32) -> WxResult<()> {
        let follower = self.follower_for_tagging(index, tag)?;
        let before = follower.tags.len();
        follower.tags.retain(|&t| t != tag);
        if follower.tags.len() < before
            && let Some(t) = self.tags.get_mut(&tag)
        {
            t.count = t.count.saturating_sub(1);
        }
        Ok(())
    }

    // ----- media and news -------------------------------------------------

    /// Stores media and returns its new id.
    pub fn add_media(&mut self, media: Media) -> String {
        let id = ids::random_id(64);
        self.media.insert(id.clone(), media);
        id
    }

    /// A media item that still exists at `now`.
    pub fn media(&self, id: &str, now: i64) -> Option<&Media> {
        self.media
            .get(id)
            .filter(|m| m.permanent || (now - m.created_at) * 1000 < TEMP_MEDIA_TTL_MS)
    }

    /// Counts of permanent material by kind.
    pub fn material_counts(&self) -> (u64, u64, u64, u64) {
        let count = |kind| {
            self.media
                .values()
                .filter(|m| m.permanent && m.kind == kind)
                .count() as u64
        };
        let news = self.news.values().filter(|n| n.draft).count() as u64;
        (
            count(MediaKind::Voice),
            count(MediaKind::Video),
            count(MediaKind::Image),
            news,
        )
    }

    /// Permanent material of one kind, sorted by id, for `batchget_material`.
    pub fn materials(&self, kind: MediaKind) -> Vec<(&String, &Media)> {
        let mut items: Vec<_> = self
            .media
            .iter()
            .filter(|(_, m)| m.permanent && m.kind == kind)
            .collect();
        items.sort_by(|a, b| b.1.created_at.cmp(&a.1.created_at).then(a.0.cmp(b.0)));
        items
    }

    /// Keeps an image uploaded for article bodies, under its URL.
    pub fn add_article_image(&mut self, url: String, data: Bytes) {
        self.article_images.insert(url, data);
    }

    /// Whether `url` was issued by `media/uploadimg`.
    pub fn is_article_image(&self, url: &str) -> bool {
        self.article_images.contains_key(url)
    }

    /// Stores a news item and returns its media id.
    pub fn add_news(&mut self, news: News) -> String {
        let id = ids::random_id(64);
        self.news.insert(id.clone(), news);
        id
    }

    /// A news item.
    pub fn news(&self, id: &str) -> Option<&News> {
        self.news.get(id)
    }

    /// The draft box, newest first, for `draft/batchget`.
    pub fn drafts(&self) -> Vec<(&String, &News)> {
        let mut drafts: Vec<_> = self.news.iter().filter(|(_, n)| n.draft).collect();
        drafts.sort_by(|a, b| b.1.created_at.cmp(&a.1.created_at).then(a.0.cmp(b.0)));
        drafts
    }

    /// Removes a draft; false when `id` is no draft.
    pub fn delete_draft(&mut self, id: &str) -> bool {
        if self.news.get(id).is_some_and(|n| n.draft) {
            self.news.remove(id);
            true
        } else {
            false
        }
    }

    /// Removes permanent material; false when `id` is none.
    pub fn delete_material(&mut self, id: &str) -> bool {
        if self.media.get(id).is_some_and(|m| m.permanent) {
            self.media.remove(id);
            true
        } else {
            false
        }
    }

    // ----- jobs -----------------------------------------------------------

    /// The mass-send quota checks of §17 and the per-minute limit, before a
    /// job is created. `to_all` is a send to every follower.
    pub fn check_mass_quota(&mut self, to_all: bool, clock: &Clock) -> WxResult<()> {
        if !self.config.quotas {
            return Ok(());
        }
        self.roll_quota_periods(clock);
        let minute = clock.now().div_euclid(60);
        if self.quotas.minute != minute {
            self.quotas.minute = minute;
            self.quotas.sends_this_minute = 0;
        }
        if self.quotas.sends_this_minute >= self.config.mass_sends_per_minute {
            return Err(WxError::new(45011));
        }
        match self.config.account_type {
            AccountType::Subscription if self.quotas.sends_today >= 1 => {
                return Err(WxError::new(45028));
            }
            AccountType::Service if to_all && self.quotas.to_all_this_month >= 4 => {
                return Err(WxError::new(45028));
            }
            _ => {}
        }
        self.use_quota("mass", clock)?;
        Ok(())
    }

    /// Records a job that passed every check, and counts it against quotas.
    pub fn create_job(&mut self, mut job: Job, clock: &Clock) -> &Job {
        let to_all = job.audience == Audience::All;
        self.quotas.sends_today += 1;
        self.quotas.sends_this_minute += 1;
        if to_all {
            self.quotas.to_all_this_month += 1;
        }
        job.msg_id = self.next_msg_id;
        self.next_msg_id += 1;
        if job.msgtype == "mpnews" {
            job.msg_data_id = Some(self.take_msg_data_id());
        }
        self.clientmsgids
            .insert(job.clientmsgid.clone(), (job.msg_id, clock.now_ms()));
        self.stats.jobs += 1;
        let index = self.jobs.len();
        self.job_index.insert(job.msg_id, index);
        self.sending
            .push(std::cmp::Reverse((job.finishes_at_ms, index)));
        self.jobs.push(job);
        &self.jobs[index]
    }

    /// The clientmsgid rules of §9.3: 45066 within a minute, 45065 with the
    /// original msg_id within 24 hours.
    pub fn check_clientmsgid(&self, clientmsgid: &str, now_ms: i64) -> WxResult<()> {
        if let Some(&(msg_id, at)) = self.clientmsgids.get(clientmsgid) {
            let age = now_ms - at;
            if age < 60_000 {
                return Err(WxError::new(45066));
            }
            if age < 86_400_000 {
                return Err(WxError::new(45065).with_field("msg_id", msg_id));
            }
        }
        Ok(())
    }

    /// A job by msg_id.
    pub fn job(&self, msg_id: i64) -> Option<&Job> {
        self.job_index.get(&msg_id).map(|&i| &self.jobs[i])
    }

    /// Every job, oldest first.
    pub fn jobs(&self) -> &[Job] {
        &self.jobs
    }

    /// The next content id (`msg_data_id`), shared by mass sends and
    /// publishing.
    pub fn take_msg_data_id(&mut self) -> i64 {
        let id = self.next_msg_data_id;
        self.next_msg_data_id += 1;
        id
    }

    /// Removes a draft after a successful send-to-all or publish (§5.2).
    pub fn remove_draft(&mut self, media_id: &str) {
        if self.news.get(media_id).is_some_and(|n| n.draft) {
            self.news.remove(media_id);
        }
    }

    /// `mass/delete`.
    pub fn delete_job(&mut self, msg_id: i64, article_idx: u32) -> WxResult<()> {
        let &index = self
            .job_index
            .get(&msg_id)
            .ok_or_else(|| WxError::new(40059))?;
        let job = &mut self.jobs[index];
        if job.msgtype != "mpnews" && job.msgtype != "mpvideo" {
            return Err(WxError::new(40008));
        }
        if job.status != JobStatus::SendSuccess && job.status != JobStatus::Deleted {
            return Err(WxError::new(40059));
        }
        let articles = job.article_urls.len().max(1) as u32;
        if article_idx > articles {
            return Err(WxError::new(40060));
        }
        if article_idx == 0 || articles == 1 {
            job.status = JobStatus::Deleted;
        }
        Ok(())
    }

    /// The msg_id of the job whose article URL is `url`.
    pub fn job_by_url(&self, url: &str) -> Option<i64> {
        self.jobs
            .iter()
            .find(|j| j.article_urls.iter().any(|u| u == url))
            .map(|j| j.msg_id)
    }

    /// When the next sending job finishes (emulated milliseconds).
    pub fn next_job_due(&self) -> Option<i64> {
        self.sending.peek().map(|r| r.0.0)
    }

    /// Finishes every job due at `now_ms`: resolves the audience, applies the
    /// monthly cap, records deliveries. Returns the finished msg_ids.
    pub fn finish_due_jobs(&mut self, clock: &Clock) -> Vec<i64> {
        let now_ms = clock.now_ms();
        let month = clock.month();
        let mut due = Vec::new();
        while let Some(&std::cmp::Reverse((at, index))) = self.sending.peek() {
            if at > now_ms {
                break;
            }
            self.sending.pop();
            if self.jobs[index].status == JobStatus::Sending {
                due.push(index);
            }
        }
        let mut finished = Vec::with_capacity(due.len());
        for index in due {
            let candidates = self.audience_indices(&self.jobs[index].audience);
            let digest = digest_u64(&self.jobs[index].content_digest);
            let capped = self.config.account_type == AccountType::Service;
            let mut recipients = Vec::with_capacity(candidates.len());
            for i in candidates {
                let Some(f) = self.followers.get_mut(i as usize) else {
                    continue;
                };
                if !f.subscribed {
                    continue;
                }
                if f.month != month {
                    f.month = month;
                    f.month_count = 0;
                }
                if capped && f.month_count >= MONTHLY_CAP_PER_FOLLOWER {
                    continue;
                }
                f.month_count = f.month_count.saturating_add(1);
                recipients.push(i);
                if !self.delivered.insert((i, digest)) {
                    self.stats.duplicate_deliveries += 1;
                }
            }
            self.stats.deliveries += recipients.len() as u64;
            *self.stats.deliveries_by_channel.entry("mass").or_default() += recipients.len() as u64;
            let job = &mut self.jobs[index];
            job.filter_count = recipients.len() as u64;
            job.sent_count = recipients.len() as u64;
            job.error_count = 0;
            job.status = if recipients.is_empty() && job.total_count > 0 {
                JobStatus::SendFail
            } else {
                JobStatus::SendSuccess
            };
            job.finished_at = Some(now_ms.div_euclid(1000));
            job.recipients = recipients;
            finished.push(job.msg_id);
        }
        finished
    }

    /// Follower indices an audience addresses now.
    fn audience_indices(&self, audience: &Audience) -> Vec<u32> {
        match audience {
            Audience::All => (0..self.followers.len() as u32).collect(),
            Audience::Tag { tag_id } => self
                .followers
                .iter()
                .enumerate()
                .filter(|(_, f)| f.tags.contains(tag_id))
                .map(|(i, _)| i as u32)
                .collect(),
            Audience::OpenIds { openids } => {
                let mut seen =
                    HashSet::with_capacity_and_hasher(openids.len(), ids::IntHashing::default());
                openids
                    .iter()
                    .filter_map(|o| self.index_of(o))
                    .filter(|i| seen.insert(*i))
                    .collect()
            }
        }
    }

    /// How many followers an audience addresses now.
    pub fn audience_size(&self, audience: &Audience) -> u64 {
        match audience {
            Audience::All => self.subscribed_count(),
            Audience::Tag { tag_id } => self.tags.get(tag_id).map_or(0, |t| t.count),
            Audience::OpenIds { openids } => openids.len() as u64,
        }
    }

    /// The speed level (0 fastest .. 4 slowest).
    pub fn speed(&self) -> u8 {
        self.speed
    }

    /// Sets the speed level.
    pub fn set_speed(&mut self, speed: u8) {
        self.speed = speed;
    }
}

/// The 64-bit key of a content digest, for the delivery ledger.
fn digest_u64(digest: &str) -> u64 {
    u64::from_str_radix(digest.get(..16).unwrap_or(digest), 16)
        .unwrap_or_else(|_| ids::fnv1a(digest.as_bytes()))
}

/// realspeed (10,000 messages a minute) of a speed level (§14).
pub fn realspeed(speed: u8) -> u32 {
    match speed {
        0 => 80,
        1 => 60,
        2 => 45,
        3 => 30,
        _ => 10,
    }
}
