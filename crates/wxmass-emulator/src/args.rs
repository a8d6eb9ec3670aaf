//! The emulator's command-line flags, shared by the `wxmass-emulator` binary
//! and `wxmass emulator`.

use std::time::Duration;

use crate::config::{
    AccountType, CallbackMode, CallbackTarget, DEFAULT_APPID, DEFAULT_SECRET, EmulatorConfig,
};

/// Flags of `wxmass-emulator` (and `wxmass emulator`).
#[derive(Debug, Clone, clap::Args)]
pub struct EmulatorArgs {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:8085", value_name = "ADDR")]
    pub listen: String,
    /// The emulated account's AppID.
    #[arg(long, default_value = DEFAULT_APPID)]
    pub appid: String,
    /// The emulated account's AppSecret (a fixture, not a real account's:
    /// it is printed at start).
    #[arg(long, default_value = DEFAULT_SECRET)]
    pub secret: String,
    /// Service accounts may send to openid lists, 4 messages per follower a
    /// month; subscription accounts send once a day.
    #[arg(long, value_enum, default_value_t = AccountType::Service)]
    pub account_type: AccountType,
    /// Seeds what followers do after a delivery (datacube's reads, shares
    /// and favourites): the same seed reads the same numbers.
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub seed: u64,
    /// Seed this many followers with realistic 28-character openids.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub followers: u32,
    /// Create this many tags and spread the seeded followers over them.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub tags: u32,
    /// Push MASSSENDJOBFINISH reports to this URL (the account's server URL).
    #[arg(long, value_name = "URL")]
    pub callback_url: Option<String>,
    /// The callback token (3–32 letters or digits).
    #[arg(long, default_value = "wxmass", value_name = "TOKEN")]
    pub callback_token: String,
    /// The 43-character EncodingAESKey, for compat and safe mode.
    #[arg(long, value_name = "KEY")]
    pub callback_aes_key: Option<String>,
    /// How pushes are signed and encrypted.
    #[arg(long, value_enum, default_value_t = CallbackMode::Plain)]
    pub callback_mode: CallbackMode,
    /// How long a send job runs before it finishes and is reported.
    #[arg(long, default_value_t = 200, value_name = "MS")]
    pub job_delay_ms: u64,
    /// Mass sends accepted per minute of the emulator's clock before 45011
    /// (WeChat: 60). Raise it to push many batches through quickly.
    #[arg(long, default_value_t = 60, value_name = "N")]
    pub mass_sends_per_minute: u32,
    /// The API IP whitelist (comma-separated). Calls from other addresses
    /// get 40164; empty: no check.
    #[arg(long, value_delimiter = ',', value_name = "IP,...")]
    pub ip_whitelist: Vec<std::net::IpAddr>,
    /// Lift every daily API quota and mass-send quota (per minute, day and
    /// month). For load tests only: WeChat enforces them.
    #[arg(long)]
    pub no_quotas: bool,
    /// Also a third-party platform with this many accounts that may
    /// authorise it (and the five release test accounts). Its credentials
    /// are printed at start.
    #[arg(long, value_name = "ACCOUNTS")]
    pub platform: Option<u32>,
    /// Followers of each of the platform's accounts.
    #[arg(long, default_value_t = 100, value_name = "N", requires = "platform")]
    pub platform_followers: u32,
    /// The platform's authorization event URL (tickets, authorisations).
    #[arg(long, value_name = "URL", requires = "platform")]
    pub platform_event_url: Option<String>,
    /// The platform's message URL; `$APPID$` stands for the account.
    #[arg(long, value_name = "URL", requires = "platform")]
    pub platform_message_url: Option<String>,
}

/// The emulated platform's component appid.
pub const PLATFORM_APPID: &str = "wx3c1f0e2d9a8b7c6d";
/// Its component secret.
pub const PLATFORM_SECRET: &str = "0a1b2c3d4e5f60718293a4b5c6d7e8f9";
/// Its message token.
pub const PLATFORM_TOKEN: &str = "wxmassplatform";
/// Its EncodingAESKey.
pub const PLATFORM_AES_KEY: &str = "PlatformKeyOfTheWxmassEmulator0123456789abc";

impl EmulatorArgs {
    /// The configuration these flags describe, checked.
    pub fn config(&self) -> Result<EmulatorConfig, String> {
        let token_ok = (3..=32).contains(&self.callback_token.len())
            && self
                .callback_token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric());
        if !token_ok {
            return Err("--callback-token must be 3 to 32 letters or digits".into());
        }
        if self.callback_mode != CallbackMode::Plain && self.callback_aes_key.is_none() {
            return Err(format!(
                "--callback-mode {:?} needs --callback-aes-key (43 characters)",
                self.callback_mode
            )
            .to_lowercase());
        }
        if let Some(key) = &self.callback_aes_key {
            wxmass_callback::crypto::AesKey::from_encoding_aes_key(key)
                .map_err(|e| format!("--callback-aes-key: {e}"))?;
        }
        if let Some(url) = &self.callback_url {
            let parsed =
                url::Url::parse(url).map_err(|e| format!("--callback-url {url:?}: {e}"))?;
            if !matches!(parsed.scheme(), "http" | "https") {
                return Err(format!("--callback-url {url:?} must be http or https"));
            }
        }
        for (flag, url) in [
            ("--platform-event-url", &self.platform_event_url),
            ("--platform-message-url", &self.platform_message_url),
        ] {
            if let Some(url) = url {
                let parsed = url::Url::parse(url).map_err(|e| format!("{flag} {url:?}: {e}"))?;
                if !matches!(parsed.scheme(), "http" | "https") {
                    return Err(format!("{flag} {url:?} must be http or https"));
                }
            }
        }
        let platform = self
            .platform
            .map(|accounts| crate::platform::PlatformConfig {
                component_appid: PLATFORM_APPID.to_owned(),
                component_secret: PLATFORM_SECRET.to_owned(),
                token: PLATFORM_TOKEN.to_owned(),
                aes_key: PLATFORM_AES_KEY.to_owned(),
                event_url: self.platform_event_url.clone(),
                message_url: self.platform_message_url.clone(),
                accounts,
                followers: self.platform_followers,
            });
        Ok(EmulatorConfig {
            platform,
            appid: self.appid.clone(),
            secret: self.secret.clone(),
            account_type: self.account_type,
            followers: self.followers,
            tags: self.tags,
            callback: self.callback_url.as_ref().map(|url| CallbackTarget {
                url: url.clone(),
                token: self.callback_token.clone(),
                aes_key: self.callback_aes_key.clone(),
                mode: self.callback_mode,
            }),
            job_delay: Duration::from_millis(self.job_delay_ms),
            mass_sends_per_minute: self.mass_sends_per_minute,
            ip_whitelist: self.ip_whitelist.clone(),
            quotas: !self.no_quotas,
            seed: self.seed,
            ..EmulatorConfig::default()
        })
    }
}
