//! The emulated account and how the emulator behaves: what the binary's
//! flags set, and what tests build directly.

use std::time::Duration;

/// The two kinds of Official Account, which have different mass quotas
/// (wechat-api.md §17).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum AccountType {
    /// 服务号: `mass/send` allowed; each follower gets at most 4 mass messages
    /// a month; at most 4 send-to-all jobs a month.
    Service,
    /// 订阅号: one tag or send-to-all job a day; no `mass/send`.
    Subscription,
}

/// How the emulator signs and encrypts its pushes (wechat-api.md §16.3).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum CallbackMode {
    /// Plaintext XML signed with `signature`.
    Plain,
    /// Plaintext fields and an `Encrypt` element, with `msg_signature`.
    Compat,
    /// Only `ToUserName` and `Encrypt`, with `msg_signature`.
    Safe,
}

/// Where MASSSENDJOBFINISH pushes go.
#[derive(Debug, Clone)]
pub struct CallbackTarget {
    /// The account's server URL.
    pub url: String,
    /// The callback token (3–32 letters or digits).
    pub token: String,
    /// The EncodingAESKey, needed for compat and safe mode.
    pub aes_key: Option<String>,
    /// The mode.
    pub mode: CallbackMode,
}

/// Size limits per media type, in bytes (wechat-api.md §2–§4; where sources
/// disagree, the recommended emulator values).
#[derive(Debug, Clone, Copy)]
pub struct MediaLimits {
    /// image (temporary and permanent): 10 MB.
    pub image: usize,
    /// voice: 2 MB.
    pub voice: usize,
    /// video: 10 MB.
    pub video: usize,
    /// thumb: 64 KB.
    pub thumb: usize,
    /// `media/uploadimg`: under 1 MB.
    pub article_image: usize,
}

impl Default for MediaLimits {
    fn default() -> Self {
        Self {
            image: 10 * 1024 * 1024,
            voice: 2 * 1024 * 1024,
            video: 10 * 1024 * 1024,
            thumb: 64 * 1024,
            article_image: 1024 * 1024,
        }
    }
}

/// Everything the emulator needs to start.
#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    /// The account's AppID.
    pub appid: String,
    /// The account's AppSecret.
    pub secret: String,
    /// Service or subscription account.
    pub account_type: AccountType,
    /// Followers seeded at start.
    pub followers: u32,
    /// Tags seeded at start; seeded followers are spread over them.
    pub tags: u32,
    /// Where job reports are pushed, if anywhere.
    pub callback: Option<CallbackTarget>,
    /// How long a send job runs before it finishes (emulated time).
    pub job_delay: Duration,
    /// Media size limits.
    pub media_limits: MediaLimits,
    /// Mass sends (sendall and send together) accepted per minute; WeChat
    /// takes 60 (wechat-api.md §17), more give 45011.
    pub mass_sends_per_minute: u32,
    /// The account's API IP whitelist: when not empty, calls from any other
    /// address get 40164 naming the caller's IP, as WeChat does.
    pub ip_whitelist: Vec<std::net::IpAddr>,
    /// Enforce the daily API quotas and the mass-send quotas (§17). Off
    /// only for load tests, which would otherwise measure the refusals.
    pub quotas: bool,
    /// Seeds what followers do after a delivery (datacube's figures): the
    /// same seed reads the same numbers.
    pub seed: u64,
    /// The original id (`gh_...`) when it is not derived from the appid
    /// (the release test's fixed accounts).
    pub user_name: Option<String>,
    /// The third-party platform this account authorised: its pushes are
    /// sealed with the platform's component appid (wechat-notifications.md
    /// §1.13).
    pub sealed_for: Option<String>,
    /// A whole open platform beside the account, with accounts of its own
    /// to authorise it (see [`crate::platform`]).
    pub platform: Option<PlatformConfig>,
}

/// The AppID used when none is given.
pub const DEFAULT_APPID: &str = "wx5e1f0c2a9b84d37e";
/// The AppSecret used when none is given.
pub const DEFAULT_SECRET: &str = "9f8e7d6c5b4a39281706f5e4d3c2b1a0";

impl Default for EmulatorConfig {
    fn default() -> Self {
        Self {
            appid: DEFAULT_APPID.to_owned(),
            secret: DEFAULT_SECRET.to_owned(),
            account_type: AccountType::Service,
            followers: 0,
            tags: 0,
            callback: None,
            job_delay: Duration::from_millis(200),
            media_limits: MediaLimits::default(),
            mass_sends_per_minute: 60,
            ip_whitelist: Vec::new(),
            quotas: true,
            seed: 1,
            user_name: None,
            sealed_for: None,
            platform: None,
        }
    }
}

impl EmulatorConfig {
    /// The account's original id (`gh_` + 12 hex digits), derived from the appid.
    pub fn original_id(&self) -> String {
        if let Some(user_name) = &self.user_name {
            return user_name.clone();
        }
        format!(
            "gh_{:012x}",
            crate::ids::fnv1a(self.appid.as_bytes()) & 0xffff_ffff_ffff
        )
    }
}

/// The platform's settings.
#[derive(Debug, Clone)]
pub struct PlatformConfig {
    /// The component appid.
    pub component_appid: String,
    /// The component secret.
    pub component_secret: String,
    /// The message token (3–32 letters or digits).
    pub token: String,
    /// The 43-character EncodingAESKey.
    pub aes_key: String,
    /// The authorization event URL: tickets and authorisation changes.
    pub event_url: Option<String>,
    /// The message & event URL, `$APPID$` standing for the account.
    pub message_url: Option<String>,
    /// Accounts that may authorise the platform (besides the five release
    /// test accounts).
    pub accounts: u32,
    /// Followers of each.
    pub followers: u32,
}
