//! Datacube (数据统计, wechat-analytics.md §1): how the articles sent were
//! read and shared, and how the followers grew. Reach it with
//! [`Client::datacube`].
//!
//! Every call asks about a [`DateRange`] of Beijing days. WeChat limits
//! each endpoint's span ([`Endpoint::max_span`]) and takes only days up
//! to yesterday; both are checked here before anything is sent, so a
//! mistake costs no API quota. A day's figures are ready after 08:00
//! Beijing time of the next day: asked earlier, WeChat answers 61503,
//! returned as [`Error::NotReady`] with the time to try again.
//! [`walk`] cuts a long range into allowed spans.
//!
//! Articles are named by [`MsgId`]: the job's `msg_data_id` and the
//! article's [`ArticleIndex`], 1-based as datacube and free publishing
//! count (comments count from 0, through their own type).

use std::fmt;
use std::num::NonZeroU32;

use serde::{Deserialize, Deserializer};
use serde_json::{Value, json};

use crate::client::{Call, Client};
use crate::error::{Errcode, Error, Result};

pub use crate::date::Date;

/// Reading a date from people (its errors are the client's).
impl Date {
    /// The day `YYYY-MM-DD`.
    pub fn parse(text: &str) -> Result<Date> {
        let bad = || {
            Error::Invalid(format!(
                "{:?} is not a date: give YYYY-MM-DD, e.g. 2026-12-01",
                text.escape_debug().to_string()
            ))
        };
        let b = text.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return Err(bad());
        }
        let number = |r: std::ops::Range<usize>| -> Option<i64> {
            let s = &text[r];
            s.bytes()
                .all(|c| c.is_ascii_digit())
                .then(|| s.parse().ok())?
        };
        let (Some(y), Some(m), Some(d)) = (number(0..4), number(5..7), number(8..10)) else {
            return Err(bad());
        };
        let date = Date::from_ymd(y, m, d);
        if date.ymd() != (y, m, d) {
            return Err(bad());
        }
        Ok(date)
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Date, D::Error> {
        let text = String::deserialize(d)?;
        Date::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// The first day WeChat has figures for.
pub const FIRST_DAY: Date = Date(16_405); // 2014-12-01

/// Days `begin` to `end`, both included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateRange {
    /// The first day.
    pub begin: Date,
    /// The last day.
    pub end: Date,
}

impl DateRange {
    /// `begin..=end`; refused when `end` is before `begin`.
    pub fn new(begin: Date, end: Date) -> Result<DateRange> {
        if end < begin {
            return Err(Error::Invalid(format!(
                "the range ends ({end}) before it begins ({begin})"
            )));
        }
        Ok(DateRange { begin, end })
    }

    /// The one day `day`.
    pub fn day(day: Date) -> DateRange {
        DateRange {
            begin: day,
            end: day,
        }
    }

    /// Days in it.
    pub fn days(&self) -> i64 {
        self.end.since(self.begin) + 1
    }

    /// Consecutive ranges of at most `span` days covering this one.
    pub fn spans(self, span: u32) -> impl Iterator<Item = DateRange> {
        let span = i64::from(span.max(1));
        let mut begin = self.begin;
        std::iter::from_fn(move || {
            if begin > self.end {
                return None;
            }
            let end = begin.plus(span - 1).min(self.end);
            let part = DateRange { begin, end };
            begin = end.plus(1);
            Some(part)
        })
    }
}

/// A datacube endpoint, with its limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// New and cancelled followers by day and source.
    UserSummary,
    /// Followers at the end of each day.
    UserCumulate,
    /// Each article sent on a day: that day's figures.
    ArticleSummary,
    /// Each article sent on a day: cumulative figures for the days after.
    ArticleTotal,
    /// Reads by day and source.
    UserRead,
    /// Reads by hour and source.
    UserReadHour,
    /// Shares by day and scene.
    UserShare,
    /// Shares by hour and scene.
    UserShareHour,
    /// Each article's readers that day, by source (newer API).
    ArticleRead,
    /// Each article's sharers that day (newer API, from 2025-11-01).
    ArticleShare,
    /// The account's daily totals (newer API).
    BizSummary,
    /// Articles published on a day, cumulative figures (newer API).
    ArticleTotalDetail,
}

impl Endpoint {
    /// `POST /datacube/...`.
    pub fn path(self) -> &'static str {
        match self {
            Endpoint::UserSummary => "/datacube/getusersummary",
            Endpoint::UserCumulate => "/datacube/getusercumulate",
            Endpoint::ArticleSummary => "/datacube/getarticlesummary",
            Endpoint::ArticleTotal => "/datacube/getarticletotal",
            Endpoint::UserRead => "/datacube/getuserread",
            Endpoint::UserReadHour => "/datacube/getuserreadhour",
            Endpoint::UserShare => "/datacube/getusershare",
            Endpoint::UserShareHour => "/datacube/getusersharehour",
            Endpoint::ArticleRead => "/datacube/getarticleread",
            Endpoint::ArticleShare => "/datacube/getarticleshare",
            Endpoint::BizSummary => "/datacube/getbizsummary",
            Endpoint::ArticleTotalDetail => "/datacube/getarticletotaldetail",
        }
    }

    /// The most days one call may ask about (wechat-analytics.md §1; the
    /// newer endpoints' spans are not in the copies of the doc read, and
    /// are taken as 1 day for articles and 7 for the account: unsure).
    pub fn max_span(self) -> u32 {
        match self {
            Endpoint::UserSummary
            | Endpoint::UserCumulate
            | Endpoint::UserShare
            | Endpoint::BizSummary => 7,
            Endpoint::UserRead => 3,
            _ => 1,
        }
    }

    /// The first day it has figures for.
    pub fn first_day(self) -> Date {
        match self {
            Endpoint::ArticleShare => Date::from_ymd(2025, 11, 1),
            _ => FIRST_DAY,
        }
    }

    /// Checks `range` as WeChat would, with `today` the Beijing day now.
    pub fn check(self, range: DateRange, today: Date) -> Result<()> {
        let path = self.path();
        if range.days() > i64::from(self.max_span()) {
            return Err(Error::Invalid(format!(
                "{path} takes at most {} day(s) a call; {} to {} is {} (walk it with datacube::walk)",
                self.max_span(),
                range.begin,
                range.end,
                range.days()
            )));
        }
        if range.end >= today {
            return Err(Error::Invalid(format!(
                "{path} has figures up to yesterday ({}); {} is not over yet",
                today.plus(-1),
                range.end
            )));
        }
        if range.begin < self.first_day() {
            return Err(Error::Invalid(format!(
                "{path} has figures from {}; {} is earlier",
                self.first_day(),
                range.begin
            )));
        }
        Ok(())
    }
}

/// Calls `each` for consecutive parts of `range` of at most `span` days,
/// in order, and joins what they return.
///
/// ```no_run
/// # async fn run(client: wxmass_api::Client) -> wxmass_api::Result<()> {
/// use wxmass_api::api::datacube::{self, Date, DateRange, Endpoint};
/// let month = DateRange::new(Date::parse("2026-11-01")?, Date::parse("2026-11-30")?)?;
/// let dc = client.datacube();
/// let reads = datacube::walk(month, Endpoint::UserRead.max_span(), |part| dc.user_read(part)).await?;
/// # Ok(()) }
/// ```
pub async fn walk<T, F, Fut>(range: DateRange, span: u32, mut each: F) -> Result<Vec<T>>
where
    F: FnMut(DateRange) -> Fut,
    Fut: Future<Output = Result<Vec<T>>>,
{
    let mut all = Vec::new();
    for part in range.spans(span) {
        all.extend(each(part).await?);
    }
    Ok(all)
}

/// An article's place in its message, 1-based (as datacube and free
/// publishing number them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ArticleIndex(NonZeroU32);

impl ArticleIndex {
    /// The `n`th article (1 = the first); `None` for 0.
    pub fn new(n: u32) -> Option<ArticleIndex> {
        NonZeroU32::new(n).map(ArticleIndex)
    }

    /// 1 for the first article.
    pub fn get(self) -> u32 {
        self.0.get()
    }
}

/// An article of a sent message: `"12003_3"` is the third article of the
/// job whose `msg_data_id` is 12003.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MsgId {
    /// What MASSSENDJOBFINISH and free publishing call the sent content.
    pub msg_data_id: i64,
    /// Which article.
    pub index: ArticleIndex,
}

impl MsgId {
    /// Parses `"<msg_data_id>_<index>"`.
    pub fn parse(text: &str) -> Option<MsgId> {
        let (data, index) = text.split_once('_')?;
        Some(MsgId {
            msg_data_id: data.parse().ok()?,
            index: ArticleIndex::new(index.parse().ok()?)?,
        })
    }
}

impl fmt::Display for MsgId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}_{}", self.msg_data_id, self.index.get())
    }
}

impl<'de> Deserialize<'de> for MsgId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<MsgId, D::Error> {
        let text = String::deserialize(d)?;
        MsgId::parse(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("msgid {text:?} is not DATAID_INDEX")))
    }
}

/// Where a reader came from (`user_source`); values not in the reference
/// are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum UserSource {
    /// Every source together (99999999).
    All,
    /// The conversation the message arrived in (0).
    Conversation,
    /// Shared by a friend (1).
    Friends,
    /// Moments, 朋友圈 (2).
    Moments,
    /// The account's history page (4).
    History,
    /// 看一看 (6).
    Kanyikan,
    /// 搜一搜 (7).
    Souyisou,
    /// Elsewhere (getarticletotal's `other`).
    Other,
    /// A value the reference does not list.
    Unknown(i64),
}

impl UserSource {
    /// From WeChat's number.
    pub fn from_code(code: i64) -> UserSource {
        match code {
            99_999_999 => UserSource::All,
            0 => UserSource::Conversation,
            1 => UserSource::Friends,
            2 => UserSource::Moments,
            4 => UserSource::History,
            6 => UserSource::Kanyikan,
            7 => UserSource::Souyisou,
            other => UserSource::Unknown(other),
        }
    }

    /// For people.
    pub fn label(self) -> String {
        match self {
            UserSource::All => "all".into(),
            UserSource::Conversation => "conversation".into(),
            UserSource::Friends => "friends".into(),
            UserSource::Moments => "moments".into(),
            UserSource::History => "history".into(),
            UserSource::Kanyikan => "kanyikan".into(),
            UserSource::Souyisou => "souyisou".into(),
            UserSource::Other => "other".into(),
            UserSource::Unknown(n) => format!("source {n}"),
        }
    }
}

impl<'de> Deserialize<'de> for UserSource {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<UserSource, D::Error> {
        Ok(UserSource::from_code(i64::deserialize(d)?))
    }
}

/// Where a share went (`share_scene`); values not in the reference are
/// kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ShareScene {
    /// To a friend (1).
    Friends,
    /// To Moments (2).
    Moments,
    /// Tencent Weibo (3, old lists only).
    TencentWeibo,
    /// Elsewhere (255).
    Other,
    /// A value the reference does not list.
    Unknown(i64),
}

impl<'de> Deserialize<'de> for ShareScene {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<ShareScene, D::Error> {
        Ok(match i64::deserialize(d)? {
            1 => ShareScene::Friends,
            2 => ShareScene::Moments,
            3 => ShareScene::TencentWeibo,
            255 => ShareScene::Other,
            other => ShareScene::Unknown(other),
        })
    }
}

/// Reads, shares and favourites: people (`_user`) and times (`_count`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub struct Figures {
    /// People who read the article.
    #[serde(default, rename = "int_page_read_user")]
    pub readers: u64,
    /// Reads.
    #[serde(default, rename = "int_page_read_count")]
    pub reads: u64,
    /// People who opened the original link (阅读原文).
    #[serde(default, rename = "ori_page_read_user")]
    pub original_readers: u64,
    /// Opens of the original link.
    #[serde(default, rename = "ori_page_read_count")]
    pub original_reads: u64,
    /// People who shared it.
    #[serde(default, rename = "share_user")]
    pub sharers: u64,
    /// Shares.
    #[serde(default, rename = "share_count")]
    pub shares: u64,
    /// People who added it to favourites.
    #[serde(default, rename = "add_to_fav_user")]
    pub favouriters: u64,
    /// Times it was added to favourites.
    #[serde(default, rename = "add_to_fav_count")]
    pub favourites: u64,
}

/// A row of getarticlesummary: an article's figures on the day it was sent.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ArticleDay {
    /// The day.
    pub ref_date: Date,
    /// The article.
    pub msgid: MsgId,
    /// Its title.
    #[serde(default)]
    pub title: String,
    /// Its figures.
    #[serde(flatten)]
    pub figures: Figures,
}

/// A row of getarticletotal: an article, its figures so far on each day
/// after its send.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ArticleTotal {
    /// The send day.
    pub ref_date: Date,
    /// The article.
    pub msgid: MsgId,
    /// Its title.
    #[serde(default)]
    pub title: String,
    /// Its address.
    #[serde(default)]
    pub url: String,
    /// One a day, cumulative.
    #[serde(default)]
    pub details: Vec<ArticleTotalDay>,
}

/// An article's figures up to `stat_date`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ArticleTotalDay {
    /// Up to this day.
    pub stat_date: Date,
    /// Followers it was delivered to.
    #[serde(default)]
    pub target_user: u64,
    /// The figures so far.
    #[serde(flatten)]
    pub figures: Figures,
    /// The rest of the row (readers by source: `int_page_from_session_read_user`, ...).
    #[serde(flatten)]
    pub by_source: std::collections::BTreeMap<String, Value>,
}

impl ArticleTotalDay {
    /// Readers so far who came from `source` (conversation, Moments,
    /// friends, history, 看一看, 搜一搜, other).
    pub fn readers_from(&self, source: UserSource) -> u64 {
        let name = match source {
            UserSource::Conversation => "session",
            UserSource::Moments => "feed",
            UserSource::Friends => "friends",
            UserSource::History => "hist_msg",
            UserSource::Kanyikan => "kanyikan",
            UserSource::Souyisou => "souyisou",
            UserSource::Other => "other",
            UserSource::All => return self.figures.readers,
            UserSource::Unknown(_) => return 0,
        };
        self.by_source
            .get(&format!("int_page_from_{name}_read_user"))
            .and_then(Value::as_u64)
            .unwrap_or(0)
    }
}

/// A row of getuserread or getuserreadhour.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ReadRow {
    /// The day.
    pub ref_date: Date,
    /// The hour (`1300` is 13:00 to 14:00), for getuserreadhour.
    #[serde(default)]
    pub ref_hour: Option<u32>,
    /// Where readers came from.
    pub user_source: UserSource,
    /// The figures.
    #[serde(flatten)]
    pub figures: Figures,
}

/// A row of getusershare or getusersharehour.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ShareRow {
    /// The day.
    pub ref_date: Date,
    /// The hour, for getusersharehour.
    #[serde(default)]
    pub ref_hour: Option<u32>,
    /// Where it was shared.
    pub share_scene: ShareScene,
    /// Shares.
    #[serde(default)]
    pub share_count: u64,
    /// People who shared.
    #[serde(default)]
    pub share_user: u64,
}

/// A row of getusersummary.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct GrowthRow {
    /// The day.
    pub ref_date: Date,
    /// How they came (0 other, 1 search, 17 business card, 30 QR code, ...;
    /// the list keeps growing, so the number is kept as it is).
    pub user_source: i64,
    /// New followers.
    #[serde(default)]
    pub new_user: u64,
    /// Followers who left.
    #[serde(default)]
    pub cancel_user: u64,
}

/// A row of getusercumulate.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct FollowersRow {
    /// The day.
    pub ref_date: Date,
    /// Followers at its end.
    pub cumulate_user: u64,
}

/// A row of getarticleread.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ArticleReaders {
    /// The day.
    pub ref_date: Date,
    /// The article.
    pub msgid: MsgId,
    /// Its readers.
    pub detail: ReadersDetail,
}

/// Readers, all and by source.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ReadersDetail {
    /// Readers that day.
    #[serde(default)]
    pub read_user: u64,
    /// By source.
    #[serde(default)]
    pub read_user_source: Vec<SourceReaders>,
}

/// Readers from one source.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SourceReaders {
    /// The source.
    pub user_source: UserSource,
    /// Readers.
    #[serde(default)]
    pub read_user: u64,
}

/// A row of getarticleshare.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ArticleSharers {
    /// The day.
    pub ref_date: Date,
    /// The article.
    pub msgid: MsgId,
    /// People who shared it.
    #[serde(default)]
    pub share_user: u64,
}

/// A row of getbizsummary: the account's day.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AccountDay {
    /// The day.
    pub ref_date: Date,
    /// Readers of any article.
    #[serde(default)]
    pub read_user: u64,
    /// Sharers.
    #[serde(default)]
    pub share_user: u64,
    /// People who tapped 在看.
    #[serde(default)]
    pub zaikan_user: u64,
    /// People who liked.
    #[serde(default)]
    pub like_user: u64,
    /// Comments.
    #[serde(default)]
    pub comment_count: u64,
}

/// How an article went out (getarticletotaldetail's `publish_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublishType {
    /// A mass send, with notification (0).
    MassSend,
    /// Published without notification (1).
    Published,
    /// A value the reference does not list.
    Unknown(i64),
}

impl<'de> Deserialize<'de> for PublishType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<PublishType, D::Error> {
        Ok(match i64::deserialize(d)? {
            0 => PublishType::MassSend,
            1 => PublishType::Published,
            other => PublishType::Unknown(other),
        })
    }
}

/// A row of getarticletotaldetail.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PublishedArticle {
    /// The day it went out.
    pub ref_date: Date,
    /// The article.
    pub msgid: MsgId,
    /// Its title.
    #[serde(default)]
    pub title: String,
    /// How it went out.
    pub publish_type: PublishType,
    /// Cumulative, a row a day.
    #[serde(default)]
    pub detail_list: Vec<PublishedDay>,
}

/// An article's figures up to `stat_date`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PublishedDay {
    /// Up to this day.
    pub stat_date: Date,
    /// Readers so far.
    #[serde(default)]
    pub read_user: u64,
    /// Sharers so far.
    #[serde(default)]
    pub share_user: u64,
    /// Favouriters so far.
    #[serde(default)]
    pub add_to_fav_user: u64,
}

/// Datacube calls.
#[derive(Debug, Clone, Copy)]
pub struct DatacubeHandler<'c> {
    client: &'c Client,
    today: Option<Date>,
}

impl Client {
    /// Datacube: reads, shares and follower growth.
    pub fn datacube(&self) -> DatacubeHandler<'_> {
        DatacubeHandler {
            client: self,
            today: None,
        }
    }
}

impl<'c> DatacubeHandler<'c> {
    /// The same, judging "yesterday" as if today were `today` (WeChat's
    /// clock, when it is not this machine's: an emulator moved forward).
    pub fn as_of(self, today: Date) -> DatacubeHandler<'c> {
        DatacubeHandler {
            today: Some(today),
            ..self
        }
    }

    /// Checks `range` for `endpoint`, asks, and decodes `list`.
    async fn list<T: for<'de> Deserialize<'de>>(
        &self,
        endpoint: Endpoint,
        range: DateRange,
    ) -> Result<Vec<T>> {
        endpoint.check(range, self.today.unwrap_or_else(Date::today))?;
        let path = endpoint.path();
        let body =
            json!({"begin_date": range.begin.to_string(), "end_date": range.end.to_string()});
        let answer = match self.client.call(Call::post(path, body)).await {
            Err(Error::Api {
                code: Errcode::DataNotReady,
                ..
            }) => {
                // Ready at 08:00 the day after the range ends; WeChat said
                // no after that, so try again in an hour.
                let ready = range.end.plus(1).unix_at(8);
                let now = self
                    .today
                    .map_or_else(|| Date::today().unix_at(0), |t| t.unix_at(0));
                return Err(Error::NotReady {
                    path: path.into(),
                    retry_at: if ready > now { ready } else { now + 3600 },
                });
            }
            other => other?,
        };
        crate::api::decode_list(path, answer.get("list"))
    }

    /// New and cancelled followers by day and source (at most 7 days).
    ///
    /// `POST /datacube/getusersummary`.
    pub async fn user_summary(&self, range: DateRange) -> Result<Vec<GrowthRow>> {
        self.list(Endpoint::UserSummary, range).await
    }

    /// Followers at the end of each day (at most 7 days).
    ///
    /// `POST /datacube/getusercumulate`.
    pub async fn user_cumulate(&self, range: DateRange) -> Result<Vec<FollowersRow>> {
        self.list(Endpoint::UserCumulate, range).await
    }

    /// Each article sent on `day`, with that day's figures.
    ///
    /// `POST /datacube/getarticlesummary`.
    pub async fn article_summary(&self, day: Date) -> Result<Vec<ArticleDay>> {
        self.list(Endpoint::ArticleSummary, DateRange::day(day))
            .await
    }

    /// Each article sent on `sent`, with its cumulative figures for each
    /// day since (WeChat keeps about 7).
    ///
    /// `POST /datacube/getarticletotal`.
    pub async fn article_total(&self, sent: Date) -> Result<Vec<ArticleTotal>> {
        self.list(Endpoint::ArticleTotal, DateRange::day(sent))
            .await
    }

    /// Reads by day and source (at most 3 days).
    ///
    /// `POST /datacube/getuserread`.
    pub async fn user_read(&self, range: DateRange) -> Result<Vec<ReadRow>> {
        self.list(Endpoint::UserRead, range).await
    }

    /// Reads on `day` by hour and source.
    ///
    /// `POST /datacube/getuserreadhour`.
    pub async fn user_read_hour(&self, day: Date) -> Result<Vec<ReadRow>> {
        self.list(Endpoint::UserReadHour, DateRange::day(day)).await
    }

    /// Shares by day and scene (at most 7 days).
    ///
    /// `POST /datacube/getusershare`.
    pub async fn user_share(&self, range: DateRange) -> Result<Vec<ShareRow>> {
        self.list(Endpoint::UserShare, range).await
    }

    /// Shares on `day` by hour and scene.
    ///
    /// `POST /datacube/getusersharehour`.
    pub async fn user_share_hour(&self, day: Date) -> Result<Vec<ShareRow>> {
        self.list(Endpoint::UserShareHour, DateRange::day(day))
            .await
    }

    /// Each article's readers on `day`, by source (the newer API).
    ///
    /// `POST /datacube/getarticleread`.
    pub async fn article_read(&self, day: Date) -> Result<Vec<ArticleReaders>> {
        self.list(Endpoint::ArticleRead, DateRange::day(day)).await
    }

    /// Each article's sharers on `day` (the newer API, from 2025-11-01).
    ///
    /// `POST /datacube/getarticleshare`.
    pub async fn article_share(&self, day: Date) -> Result<Vec<ArticleSharers>> {
        self.list(Endpoint::ArticleShare, DateRange::day(day)).await
    }

    /// The account's daily totals (the newer API).
    ///
    /// `POST /datacube/getbizsummary`.
    pub async fn biz_summary(&self, range: DateRange) -> Result<Vec<AccountDay>> {
        self.list(Endpoint::BizSummary, range).await
    }

    /// Articles that went out on `day`, mass-sent or published, with
    /// cumulative figures (the newer API).
    ///
    /// `POST /datacube/getarticletotaldetail`.
    pub async fn article_total_detail(&self, day: Date) -> Result<Vec<PublishedArticle>> {
        self.list(Endpoint::ArticleTotalDetail, DateRange::day(day))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_parse_print_and_refuse_what_is_not_a_day() {
        let d = Date::parse("2026-12-03").expect("a day");
        assert_eq!(d.to_string(), "2026-12-03");
        assert_eq!(Date::parse("2014-12-01").expect("first"), FIRST_DAY);
        assert_eq!(
            Date::parse("2024-02-29").expect("leap").plus(1).to_string(),
            "2024-03-01"
        );
        for bad in [
            "2026-02-29",
            "2026-00-10",
            "2026-1-10",
            "2026/01/10",
            "",
            "2026-01-1x",
        ] {
            assert!(Date::parse(bad).is_err(), "{bad}");
        }
        // 2026-12-03 00:30 Beijing is 2026-12-02 16:30 UTC.
        assert_eq!(Date::of_unix(d.unix_at(0) + 1800), d);
        assert_eq!(Date::of_unix(d.unix_at(0) - 1), d.plus(-1));
    }

    #[test]
    fn spans_cover_a_range_without_overlap() {
        let begin = Date::parse("2026-11-01").expect("day");
        let month = DateRange::new(begin, begin.plus(29)).expect("range");
        let parts: Vec<DateRange> = month.spans(7).collect();
        assert_eq!(parts.len(), 5);
        assert_eq!(parts[0], DateRange::new(begin, begin.plus(6)).expect("r"));
        assert_eq!(parts[4].end, month.end);
        assert_eq!(parts.iter().map(DateRange::days).sum::<i64>(), 30);
        for w in parts.windows(2) {
            assert_eq!(w[1].begin, w[0].end.plus(1));
        }
        assert!(DateRange::new(begin, begin.plus(-1)).is_err());
    }

    #[test]
    fn limits_are_checked_before_asking() {
        let today = Date::parse("2026-12-03").expect("day");
        let yesterday = today.plus(-1);
        let week = DateRange::new(yesterday.plus(-6), yesterday).expect("r");
        assert!(Endpoint::UserSummary.check(week, today).is_ok());
        assert!(
            Endpoint::UserRead.check(week, today).is_err(),
            "3 days at most"
        );
        assert!(
            Endpoint::UserSummary
                .check(DateRange::day(today), today)
                .is_err()
        );
        let early = DateRange::day(Date::parse("2014-11-30").expect("day"));
        assert!(Endpoint::UserCumulate.check(early, today).is_err());
        let before_shares = DateRange::day(Date::parse("2025-10-31").expect("day"));
        assert!(Endpoint::ArticleShare.check(before_shares, today).is_err());
    }

    #[test]
    fn msgids_keep_a_1_based_index() {
        let id = MsgId::parse("12003_3").expect("msgid");
        assert_eq!((id.msg_data_id, id.index.get()), (12003, 3));
        assert_eq!(id.to_string(), "12003_3");
        assert!(MsgId::parse("12003_0").is_none(), "articles count from 1");
        assert!(MsgId::parse("12003").is_none());
        assert_eq!(UserSource::from_code(42), UserSource::Unknown(42));
    }
}
