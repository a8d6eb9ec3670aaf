//! Fan-out campaigns, as types: a notice sent follower by follower (a
//! template message, a subscription notice or a customer-service text), the
//! channels it may take, and each recipient's state, kept compactly.
//!
//! WeChat's one idempotency key for one-by-one messages is the template
//! message's `client_msg_id`, good for 10 minutes; customer-service and
//! subscription sends have none. So each recipient is
//! `planned -> sending -> sent | failed | unknown`, `sending` committed
//! before its request: after a crash a template recipient still `sending`
//! is sent again with its key while its first attempt is recent
//! ([`RESEND_WITHIN`]) and is `unknown` after; a recipient of the other
//! channels is `unknown` at once. `unknown` is never sent again by itself.
//!
//! A campaign's recipients are kept in chunks of [`CHUNK`], a row each (the
//! openids packed as batches' are, see [`crate::openids`], and one
//! [`Record`] of [`RECORD_BYTES`] per recipient): a million recipients take
//! a thousand rows, not a million.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Recipients a chunk holds (the last one fewer).
pub const CHUNK: usize = 1000;

/// How long after its first attempt a template recipient cut off mid-send
/// is sent again with its `client_msg_id`: WeChat holds the key for 10
/// minutes; 2 minutes are left for clocks that disagree and the time the
/// request took. After that the recipient is `unknown`.
pub const RESEND_WITHIN: i64 = 8 * 60;

/// A way to reach one follower.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// A template message (`message/template/send`): to followers, with a
    /// daily quota; the one channel with an idempotency key.
    Template,
    /// A subscription notice (`message/subscribe/bizsend`): to a follower
    /// who consented, once per consent.
    Subscription,
    /// A customer-service message (`message/custom/send`): inside the 48
    /// hours after the follower last wrote, clicked or scanned.
    CustomerService,
}

impl Channel {
    /// Every channel, in the order `--via auto` tries them: the free one
    /// first.
    pub const AUTO: [Channel; 2] = [Channel::CustomerService, Channel::Template];

    /// The name the store, the API and the CLI use.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Template => "template",
            Channel::Subscription => "subscription",
            Channel::CustomerService => "customer_service",
        }
    }

    /// The channel a stored code stands for.
    fn from_code(code: u8) -> Option<Channel> {
        Some(match code {
            1 => Channel::Template,
            2 => Channel::Subscription,
            3 => Channel::CustomerService,
            _ => return None,
        })
    }

    fn code(self) -> u8 {
        match self {
            Channel::Template => 1,
            Channel::Subscription => 2,
            Channel::CustomerService => 3,
        }
    }

    /// Whether WeChat can tell a repeat of a send on it from a new one.
    pub fn has_key(self) -> bool {
        self == Channel::Template
    }
}

/// A mini program page a notice opens.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MiniProgramPage {
    /// The mini program, linked to the account.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 64))]
    pub appid: String,
    /// The page, with its query.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 1024))]
    pub pagepath: String,
}

/// A template message, the same for every recipient.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateNotice {
    /// The account's template (`wxmass templates list`).
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 128))]
    pub template_id: String,
    /// Each keyword's value by key (`thing1`, `time2`, ...), each keeping
    /// its type's rule.
    pub data: BTreeMap<String, String>,
    /// A web page it opens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// A mini program page it opens (wins over `url`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub miniprogram: Option<MiniProgramPage>,
}

/// A subscription notice, the same for every recipient.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionNotice {
    /// The notice template (`priTmplId`).
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 128))]
    pub template_id: String,
    /// Each keyword's value by key; the template rules apply.
    pub data: BTreeMap<String, String>,
    /// A web page it opens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<String>,
    /// A mini program page it opens (wins over `page`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub miniprogram: Option<MiniProgramPage>,
}

/// The client_msg_id of a template recipient: the same on every run and
/// host, so that WeChat sends a repeat within 10 minutes to nobody.
pub fn notice_client_msg_id(campaign: &str, openid: &str) -> String {
    let digest = Sha256::digest(format!("{campaign}\n{openid}").as_bytes());
    format!("wxn{}", hex::encode(&digest[..14]))
}

/// Where a recipient is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RecipientState {
    /// Recorded, not yet sent.
    #[default]
    Planned,
    /// Its request may have left (committed before it did).
    Sending,
    /// WeChat took it.
    Sent,
    /// WeChat refused it, with an errcode (or its report said it failed).
    Failed,
    /// Its request left and its answer was lost where WeChat has no key
    /// (or the key's 10 minutes passed): it may or may not have arrived.
    Unknown,
}

impl RecipientState {
    /// Every state, in order.
    pub const ALL: [RecipientState; 5] = [
        RecipientState::Planned,
        RecipientState::Sending,
        RecipientState::Sent,
        RecipientState::Failed,
        RecipientState::Unknown,
    ];

    /// The name shown and kept.
    pub fn as_str(self) -> &'static str {
        match self {
            RecipientState::Planned => "planned",
            RecipientState::Sending => "sending",
            RecipientState::Sent => "sent",
            RecipientState::Failed => "failed",
            RecipientState::Unknown => "unknown",
        }
    }

    fn code(self) -> u8 {
        self as u8
    }

    fn from_code(code: u8) -> Option<RecipientState> {
        RecipientState::ALL.get(usize::from(code)).copied()
    }

    /// Whether a worker still has something to do for it.
    pub fn pending(self) -> bool {
        matches!(self, RecipientState::Planned | RecipientState::Sending)
    }
}

/// What WeChat's TEMPLATESENDJOBFINISH said of a template message sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reported {
    /// No report (yet; customer-service and subscription sends get none).
    #[default]
    None,
    /// `success`: delivered.
    Delivered,
    /// `failed:user block`: the follower refuses the account's messages.
    UserBlock,
    /// `failed: system failed`.
    SystemFailed,
    /// `failed:freq limit`: the follower had too many.
    FreqLimit,
    /// Another `failed:...`.
    OtherFailure,
}

impl Reported {
    /// Every kind, in order.
    pub const ALL: [Reported; 6] = [
        Reported::None,
        Reported::Delivered,
        Reported::UserBlock,
        Reported::SystemFailed,
        Reported::FreqLimit,
        Reported::OtherFailure,
    ];

    /// WeChat's words (`success`, `failed:user block`, ...); empty for none.
    pub fn as_wechat(self) -> &'static str {
        match self {
            Reported::None => "",
            Reported::Delivered => "success",
            Reported::UserBlock => "failed:user block",
            Reported::SystemFailed => "failed: system failed",
            Reported::FreqLimit => "failed:freq limit",
            Reported::OtherFailure => "failed",
        }
    }

    /// The kind of a report's `Status` text.
    pub fn of_status(status: &str) -> Reported {
        let status = status.trim();
        if status == "success" {
            return Reported::Delivered;
        }
        match status.strip_prefix("failed:").map(str::trim) {
            Some("user block") => Reported::UserBlock,
            Some("system failed") => Reported::SystemFailed,
            Some("freq limit") => Reported::FreqLimit,
            _ => Reported::OtherFailure,
        }
    }

    /// The stored code.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// The kind a stored code stands for.
    pub fn from_code(code: u8) -> Reported {
        Reported::ALL
            .get(usize::from(code))
            .copied()
            .unwrap_or(Reported::OtherFailure)
    }
}

/// What is known of reaching one follower of an account, from what the
/// receiver saw (the last action that opens a customer-service window, an
/// unfollow) and from what was sent (WeChat refused the window, or the
/// follower). Unix seconds; `None`: never seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Reach {
    /// The last action that opened a customer-service window, and what it
    /// was (how long the window lasts).
    pub window_opened: Option<(i64, WindowKind)>,
    /// WeChat last refused a customer-service message (45015, 45047).
    pub window_closed_at: Option<i64>,
    /// The follower unfollowed (the event, or WeChat's 43004).
    pub unfollowed_at: Option<i64>,
    /// The follower followed (again).
    pub followed_at: Option<i64>,
}

/// What opened a customer-service window: a message from the follower
/// opens it for 48 hours; a menu click, a follow or a QR scan for one
/// minute (wechat-notifications.md §3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowKind {
    /// The follower wrote: 48 hours.
    Message,
    /// A click, a follow, a scan: a minute.
    Short,
}

impl WindowKind {
    /// How long the window stays open, in seconds.
    pub fn seconds(self) -> i64 {
        match self {
            WindowKind::Message => 48 * 3600,
            WindowKind::Short => 60,
        }
    }

    /// The stored code.
    pub fn code(self) -> i64 {
        match self {
            WindowKind::Message => 1,
            WindowKind::Short => 2,
        }
    }

    /// The kind a stored code stands for.
    pub fn from_code(code: i64) -> WindowKind {
        if code == 1 {
            WindowKind::Message
        } else {
            WindowKind::Short
        }
    }
}

impl Reach {
    /// Whether the follower's customer-service window is known open at
    /// `now` (`Some(true)`), known closed (`Some(false)`: it expired, or
    /// WeChat refused it since it opened), or not known (`None`).
    pub fn window_open(&self, now: i64) -> Option<bool> {
        match (self.window_opened, self.window_closed_at) {
            (Some((opened, _)), Some(closed)) if closed >= opened => Some(false),
            (Some((opened, kind)), _) => Some(now < opened + kind.seconds()),
            (None, Some(_)) => Some(false),
            (None, None) => None,
        }
    }

    /// Whether the follower is known to have unfollowed (and not followed
    /// again since).
    pub fn unfollowed(&self) -> bool {
        match (self.unfollowed_at, self.followed_at) {
            (Some(gone), Some(back)) => gone > back,
            (Some(_), None) => true,
            _ => false,
        }
    }
}

/// Something learnt about reaching a follower.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReachEvent {
    /// The follower acted: a customer-service window opened.
    WindowOpened(WindowKind),
    /// WeChat refused a customer-service message (45015, 45047).
    WindowClosed,
    /// The follower unfollowed (the event, or 43004).
    Unfollowed,
    /// The follower followed.
    Followed,
    /// The follower gave or withheld consent to a subscription notice
    /// template: a pop-up's accept or reject, a withdrawal in their
    /// settings, or WeChat's 43101 to a send.
    Consent {
        /// The notice template (`priTmplId`).
        template_id: String,
        /// Accepted.
        granted: bool,
    },
}

/// What [`ReachEvent`] was learnt of whom, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Learnt {
    /// The follower.
    pub openid: String,
    /// Unix seconds.
    pub at: i64,
    /// What.
    pub event: ReachEvent,
}

/// WeChat's limits on one API of an account, as `openapi/quota/get`
/// reports them: shared by every worker through the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ApiLimits {
    /// Calls a Beijing day.
    pub daily: Option<u64>,
    /// `(calls, seconds)`: at most so many calls in each period.
    pub rate: Option<(u64, u64)>,
}

/// What a take of calls from the shared limits got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Granted {
    /// This many calls (at least one).
    Calls(u32),
    /// The day's calls are spent.
    DaySpent,
    /// The period's calls are spent: the next period starts in this many
    /// seconds.
    PeriodSpent(i64),
}

/// The API path each channel sends through, as `openapi/quota/get` names
/// it.
pub fn api_path(channel: Channel) -> &'static str {
    match channel {
        Channel::Template => "/cgi-bin/message/template/send",
        Channel::Subscription => "/cgi-bin/message/subscribe/bizsend",
        Channel::CustomerService => "/cgi-bin/message/custom/send",
    }
}

/// A TEMPLATESENDJOBFINISH report, as kept until it is joined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeReport {
    /// The follower (`FromUserName`).
    pub openid: String,
    /// The message's msgid (0 when WeChat gave none).
    pub msg_id: i64,
    /// WeChat's `CreateTime`, Unix seconds.
    pub created_at: i64,
    /// What it said.
    pub reported: Reported,
}

/// One recipient's record, as kept in its chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Record {
    /// Where it is.
    pub state: RecipientState,
    /// The channel of its last attempt.
    pub channel: Option<Channel>,
    /// WeChat's errcode, for `failed` (0 otherwise).
    pub errcode: i32,
    /// Unix seconds of the first attempt on its channel (0: none yet).
    pub first_at: u32,
    /// WeChat's msgid, for a template message sent (0: none given).
    pub msg_id: i64,
    /// What WeChat's report said, once joined.
    pub reported: Reported,
}

/// Bytes a [`Record`] takes: state, channel, errcode (i32), first attempt
/// (u32), msgid (i64), report, little-endian.
pub const RECORD_BYTES: usize = 19;

/// The first line of a recipients' CSV (`status --failed`, the server's
/// download); [`Record::csv_line`] writes the others.
pub const CSV_HEADER: &str = "openid,channel,errcode,meaning,reported,msgid,first_attempt\n";

impl Record {
    /// Appends its line of a recipients' CSV: the openid, channel,
    /// errcode and what it means, the report, msgid and first attempt
    /// (Beijing time). Openids are WeChat's letters, digits, `-` and `_`;
    /// the meaning is quoted.
    pub fn csv_line(&self, openid: &str, out: &mut String) {
        use std::fmt::Write;
        let meaning = match self.errcode {
            0 => "",
            code => wxmass_api::Errcode::from_code(i64::from(code)).meaning(),
        };
        let first = match self.first_at {
            0 => String::new(),
            t => crate::beijing::rfc3339(i64::from(t)),
        };
        let _ = writeln!(
            out,
            "{openid},{},{},\"{}\",{},{},{first}",
            self.channel.map_or("", |c| c.as_str()),
            self.errcode,
            meaning.replace('"', "'"),
            self.reported.as_wechat(),
            self.msg_id,
        );
    }

    fn write(&self, out: &mut [u8]) {
        out[0] = self.state.code();
        out[1] = self.channel.map_or(0, Channel::code);
        out[2..6].copy_from_slice(&self.errcode.to_le_bytes());
        out[6..10].copy_from_slice(&self.first_at.to_le_bytes());
        out[10..18].copy_from_slice(&self.msg_id.to_le_bytes());
        out[18] = self.reported.code();
    }

    fn read(b: &[u8]) -> Record {
        let mut i32b = [0u8; 4];
        let mut u32b = [0u8; 4];
        let mut i64b = [0u8; 8];
        i32b.copy_from_slice(&b[2..6]);
        u32b.copy_from_slice(&b[6..10]);
        i64b.copy_from_slice(&b[10..18]);
        Record {
            // Only this code writes states; one it does not know is not
            // taken for sent (nor sent again).
            state: RecipientState::from_code(b[0]).unwrap_or(RecipientState::Unknown),
            channel: Channel::from_code(b[1]),
            errcode: i32::from_le_bytes(i32b),
            first_at: u32::from_le_bytes(u32b),
            msg_id: i64::from_le_bytes(i64b),
            reported: Reported::from_code(b[18]),
        }
    }
}

/// A chunk's records, in the order of its openids.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Records(pub Vec<Record>);

impl Records {
    /// `n` recipients, all planned.
    pub fn planned(n: usize) -> Records {
        Records(vec![Record::default(); n])
    }

    /// The stored form.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![0u8; self.0.len() * RECORD_BYTES];
        for (record, slot) in self.0.iter().zip(out.chunks_exact_mut(RECORD_BYTES)) {
            record.write(slot);
        }
        out
    }

    /// Reads the stored form; `None` if it is not whole records.
    pub fn decode(blob: &[u8]) -> Option<Records> {
        if !blob.len().is_multiple_of(RECORD_BYTES) {
            return None;
        }
        Some(Records(
            blob.chunks_exact(RECORD_BYTES).map(Record::read).collect(),
        ))
    }

    /// How many still have something to do.
    pub fn pending(&self) -> usize {
        self.0.iter().filter(|r| r.state.pending()).count()
    }

    /// How many are in each state, and how many were reported delivered.
    pub fn counts(&self) -> StateCounts {
        let mut counts = StateCounts::default();
        for r in &self.0 {
            counts.by_state[usize::from(r.state.code())] += 1;
            counts.delivered += u64::from(r.reported == Reported::Delivered);
        }
        counts
    }
}

/// Recipients in each state, and those reported delivered: what a chunk
/// keeps beside its records, so that a campaign's counts are a sum over
/// its chunks, not a read of every record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct StateCounts {
    /// Indexed as [`RecipientState::ALL`].
    pub by_state: [u64; 5],
    /// Sent, and WeChat's report says delivered.
    pub delivered: u64,
}

impl StateCounts {
    /// Those in `state`.
    pub fn of(&self, state: RecipientState) -> u64 {
        self.by_state[usize::from(state.code())]
    }

    /// Those a worker still has something to do for.
    pub fn pending(&self) -> u64 {
        self.of(RecipientState::Planned) + self.of(RecipientState::Sending)
    }

    /// Every recipient.
    pub fn total(&self) -> u64 {
        self.by_state.iter().sum()
    }
}

/// What a fan-out campaign's recipients add up to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    /// Recipients.
    pub recipients: u64,
    /// By state.
    pub by_state: BTreeMap<RecipientState, u64>,
    /// Sent, by channel.
    pub sent_by_channel: BTreeMap<Channel, u64>,
    /// Failed, by errcode (0: WeChat took it, and its report said it
    /// failed: see `reported`).
    pub failed_by_errcode: BTreeMap<i32, u64>,
    /// Template messages by what their report said (none yet included).
    pub reported: BTreeMap<Reported, u64>,
}

impl Tally {
    /// Adds a chunk's records.
    pub fn add(&mut self, records: &Records) {
        for r in &records.0 {
            self.recipients += 1;
            *self.by_state.entry(r.state).or_default() += 1;
            if r.channel == Some(Channel::Template)
                && matches!(r.state, RecipientState::Sent | RecipientState::Failed)
                && (r.reported != Reported::None || r.state == RecipientState::Sent)
            {
                *self.reported.entry(r.reported).or_default() += 1;
            }
            match (r.state, r.channel) {
                (RecipientState::Sent, Some(channel)) => {
                    *self.sent_by_channel.entry(channel).or_default() += 1;
                }
                (RecipientState::Failed, _) => {
                    *self.failed_by_errcode.entry(r.errcode).or_default() += 1;
                }
                _ => {}
            }
        }
    }

    /// Recipients in `state`.
    pub fn count(&self, state: RecipientState) -> u64 {
        self.by_state.get(&state).copied().unwrap_or(0)
    }

    /// Recipients a worker still has something to do for.
    pub fn pending(&self) -> u64 {
        self.count(RecipientState::Planned) + self.count(RecipientState::Sending)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip() {
        let mut records = Records::planned(3);
        records.0[1] = Record {
            state: RecipientState::Sent,
            channel: Some(Channel::Template),
            errcode: 0,
            first_at: 1_800_000_000,
            msg_id: 4_000_000_000_123,
            reported: Reported::Delivered,
        };
        records.0[2] = Record {
            state: RecipientState::Failed,
            channel: Some(Channel::CustomerService),
            errcode: 45015,
            first_at: 7,
            msg_id: 0,
            reported: Reported::None,
        };
        let blob = records.encode();
        assert_eq!(blob.len(), 3 * RECORD_BYTES);
        assert_eq!(Records::decode(&blob), Some(records.clone()));
        assert_eq!(records.pending(), 1);
        assert_eq!(Records::decode(&blob[1..]), None);
        let mut tally = Tally::default();
        tally.add(&records);
        assert_eq!(tally.count(RecipientState::Sent), 1);
        assert_eq!(tally.sent_by_channel.get(&Channel::Template), Some(&1));
        assert_eq!(tally.failed_by_errcode.get(&45015), Some(&1));
    }

    #[test]
    fn client_msg_ids_are_stable_per_recipient_and_short() {
        let a = notice_client_msg_id("c-1", "o1");
        assert_eq!(a, notice_client_msg_id("c-1", "o1"));
        assert_ne!(a, notice_client_msg_id("c-1", "o2"));
        assert_ne!(a, notice_client_msg_id("c-2", "o1"));
        assert_eq!(a.len(), 31);
        assert!(a.len() <= wxmass_api::api::templates::CLIENT_MSG_ID_MAX);
    }
}
