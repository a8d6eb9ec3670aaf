//! What a receiver needs to know: the token, the appid, the keys, and the
//! limits it enforces.

use std::fmt;
use std::time::Duration;

use crate::crypto::{AesKey, CryptoError, MessageCrypto};

/// The callback token from the account's server settings. `Debug` prints `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct CallbackToken(String);

impl CallbackToken {
    /// Wraps a token.
    pub fn new(token: impl Into<String>) -> Self {
        Self(token.into())
    }

    /// The token text, for signing.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for CallbackToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CallbackToken(***)")
    }
}

/// Why a configuration was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// WeChat requires a 3–32 character token of letters and digits.
    #[error(
        "callback token must be 3 to 32 letters or digits, as set in the account's server settings"
    )]
    InvalidToken,
    /// The appid is empty.
    #[error("appid is empty; it is the account's AppID (wx...)")]
    EmptyAppId,
    /// An EncodingAESKey could not be read.
    #[error("{which} {problem}")]
    Key {
        /// `current` or `previous`.
        which: &'static str,
        /// Why (not a `source`, so that a report of the chain says it once).
        problem: CryptoError,
    },
    /// A previous key without a current one.
    #[error("a previous EncodingAESKey needs a current one")]
    PreviousWithoutCurrent,
}

/// A receiver's configuration. Build it with [`CallbackConfig::builder`].
#[derive(Debug, Clone)]
pub struct CallbackConfig {
    pub(crate) token: CallbackToken,
    pub(crate) appid: String,
    pub(crate) crypto: Option<MessageCrypto>,
    pub(crate) timestamp_window: Option<Duration>,
    pub(crate) allow_plaintext: bool,
    pub(crate) max_body_bytes: usize,
    pub(crate) body_timeout: Duration,
    pub(crate) dedup_ttl: Duration,
    pub(crate) memory_capacity: usize,
    pub(crate) queue_capacity: usize,
    pub(crate) enqueue_timeout: Duration,
    pub(crate) account: Option<String>,
}

impl CallbackConfig {
    /// Starts a configuration for the account `appid` with its callback token.
    ///
    /// ```
    /// use std::time::Duration;
    /// use wxmass_callback::CallbackConfig;
    /// let config = CallbackConfig::builder("AAAAA", "wx134c8103faa5a59e")
    ///     .aes_key("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG")
    ///     .timestamp_window(Duration::from_secs(120))
    ///     .build()?;
    /// assert!(config.is_encrypted());
    /// # Ok::<(), wxmass_callback::ConfigError>(())
    /// ```
    pub fn builder(token: impl Into<String>, appid: impl Into<String>) -> CallbackConfigBuilder {
        CallbackConfigBuilder {
            token: token.into(),
            appid: appid.into(),
            aes_key: None,
            previous_aes_key: None,
            timestamp_window: Some(Duration::from_secs(300)),
            allow_plaintext: false,
            max_body_bytes: 64 * 1024,
            body_timeout: Duration::from_secs(5),
            dedup_ttl: Duration::from_secs(600),
            memory_capacity: 100_000,
            queue_capacity: 1024,
            enqueue_timeout: Duration::from_secs(2),
            account: None,
        }
    }

    /// Whether an EncodingAESKey is configured.
    pub fn is_encrypted(&self) -> bool {
        self.crypto.is_some()
    }

    /// The appid pushes are for.
    pub fn appid(&self) -> &str {
        &self.appid
    }

    /// Whether plaintext pushes are taken: only when no EncodingAESKey is
    /// configured, or when [`allow_plaintext`](CallbackConfigBuilder::allow_plaintext)
    /// says so.
    pub fn accepts_plaintext(&self) -> bool {
        self.crypto.is_none() || self.allow_plaintext
    }

    /// The crypto for this account, when a key is configured.
    pub fn crypto(&self) -> Option<&MessageCrypto> {
        self.crypto.as_ref()
    }

    /// The token, for signing replies.
    pub fn token(&self) -> &CallbackToken {
        &self.token
    }
}

/// Builder for [`CallbackConfig`].
#[derive(Clone)]
pub struct CallbackConfigBuilder {
    token: String,
    appid: String,
    aes_key: Option<String>,
    previous_aes_key: Option<String>,
    timestamp_window: Option<Duration>,
    allow_plaintext: bool,
    max_body_bytes: usize,
    body_timeout: Duration,
    dedup_ttl: Duration,
    memory_capacity: usize,
    queue_capacity: usize,
    enqueue_timeout: Duration,
    account: Option<String>,
}

impl fmt::Debug for CallbackConfigBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallbackConfigBuilder")
            .field("appid", &self.appid)
            .field("token", &"***")
            .field("aes_key", &self.aes_key.as_ref().map(|_| "***"))
            .finish_non_exhaustive()
    }
}

impl CallbackConfigBuilder {
    /// The current EncodingAESKey (43 characters): enables compatible and safe mode.
    pub fn aes_key(mut self, encoding_aes_key: impl Into<String>) -> Self {
        self.aes_key = Some(encoding_aes_key.into());
        self
    }

    /// The EncodingAESKey in force before the last change, still accepted for
    /// pushes so that none is lost while WeChat switches over.
    pub fn previous_aes_key(mut self, encoding_aes_key: impl Into<String>) -> Self {
        self.previous_aes_key = Some(encoding_aes_key.into());
        self
    }

    /// Pins the receiver to one account, by its original id (`gh_...`):
    /// a push whose `ToUserName` is another is refused (403). For a
    /// third-party platform, whose one key seals every account's pushes,
    /// so that one account's signed push cannot be replayed as another's.
    pub fn account(mut self, original_id: impl Into<String>) -> Self {
        self.account = Some(original_id.into());
        self
    }

    /// How far a request's timestamp may be from now (default 300 s).
    pub fn timestamp_window(mut self, window: Duration) -> Self {
        self.timestamp_window = Some(window);
        self
    }

    /// Accepts any timestamp: only for replaying recorded traffic in tests.
    pub fn disable_timestamp_check(mut self) -> Self {
        self.timestamp_window = None;
        self
    }

    /// Takes plaintext pushes even though an EncodingAESKey is configured.
    ///
    /// Off by default, and it should stay off: a plaintext signature covers
    /// the token, timestamp and nonce but not the body, so anyone who has
    /// seen one signed query string (a push's, or a URL verification's) can
    /// attach a body of their own. With a key configured, only the
    /// `Encrypt` part, covered by `msg_signature`, is trusted (in compatible
    /// mode too). Without a key, plaintext is the only mode and is taken.
    pub fn allow_plaintext(mut self, yes: bool) -> Self {
        self.allow_plaintext = yes;
        self
    }

    /// Largest body accepted (default 64 KiB; pushes are a few KiB).
    pub fn max_body_bytes(mut self, bytes: usize) -> Self {
        self.max_body_bytes = bytes;
        self
    }

    /// How long reading a request's body may take (default 5 s: WeChat
    /// waits 5 s for the whole answer). A slower body is answered 408.
    pub fn body_timeout(mut self, timeout: Duration) -> Self {
        self.body_timeout = timeout;
        self
    }

    /// How long an accepted push is remembered to drop WeChat's retries
    /// (default 10 minutes; WeChat retries within seconds).
    pub fn dedup_ttl(mut self, ttl: Duration) -> Self {
        self.dedup_ttl = ttl;
        self
    }

    /// Most pushes and signatures remembered at once (default 100,000).
    pub fn memory_capacity(mut self, entries: usize) -> Self {
        self.memory_capacity = entries;
        self
    }

    /// Pushes buffered for a slow handler (default 1024).
    pub fn queue_capacity(mut self, pushes: usize) -> Self {
        self.queue_capacity = pushes.max(1);
        self
    }

    /// How long a push waits for room in a full queue before the request is
    /// answered 503, so that WeChat retries it (default 2 s, inside WeChat's 5 s).
    pub fn enqueue_timeout(mut self, timeout: Duration) -> Self {
        self.enqueue_timeout = timeout;
        self
    }

    /// Checks the settings and decodes the keys.
    pub fn build(self) -> Result<CallbackConfig, ConfigError> {
        let token_ok = (3..=32).contains(&self.token.len())
            && self.token.bytes().all(|b| b.is_ascii_alphanumeric());
        if !token_ok {
            return Err(ConfigError::InvalidToken);
        }
        let appid = self.appid.trim().to_owned();
        if appid.is_empty() {
            return Err(ConfigError::EmptyAppId);
        }
        let decode = |which, key: &str| {
            AesKey::from_encoding_aes_key(key)
                .map_err(|problem| ConfigError::Key { which, problem })
        };
        let crypto = match (&self.aes_key, &self.previous_aes_key) {
            (None, None) => None,
            (None, Some(_)) => return Err(ConfigError::PreviousWithoutCurrent),
            (Some(current), previous) => {
                let mut crypto = MessageCrypto::new(appid.clone(), decode("current", current)?);
                if let Some(previous) = previous {
                    crypto = crypto.with_previous_key(decode("previous", previous)?);
                }
                Some(crypto)
            }
        };
        Ok(CallbackConfig {
            token: CallbackToken::new(self.token),
            appid,
            crypto,
            timestamp_window: self.timestamp_window,
            allow_plaintext: self.allow_plaintext,
            max_body_bytes: self.max_body_bytes,
            body_timeout: self.body_timeout,
            dedup_ttl: self.dedup_ttl,
            memory_capacity: self.memory_capacity,
            queue_capacity: self.queue_capacity,
            enqueue_timeout: self.enqueue_timeout,
            account: self.account.filter(|a| !a.is_empty()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print() {
        let builder = CallbackConfig::builder("secrettoken", "wx1")
            .aes_key("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG");
        let shown = format!("{builder:?}");
        assert!(!shown.contains("secrettoken") && !shown.contains("abcdefghij"));
        let config = builder.build().expect("valid");
        let shown = format!("{config:?}");
        assert!(
            !shown.contains("secrettoken") && !shown.contains("abcdefghij"),
            "{shown}"
        );
    }

    #[test]
    fn invalid_settings_are_explained() {
        assert_eq!(
            CallbackConfig::builder("a b", "wx1").build().err(),
            Some(ConfigError::InvalidToken)
        );
        assert_eq!(
            CallbackConfig::builder("tok", " ").build().err(),
            Some(ConfigError::EmptyAppId)
        );
        assert!(matches!(
            CallbackConfig::builder("tok", "wx1")
                .aes_key("short")
                .build(),
            Err(ConfigError::Key {
                which: "current",
                ..
            })
        ));
        assert_eq!(
            CallbackConfig::builder("tok", "wx1")
                .previous_aes_key("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG")
                .build()
                .err(),
            Some(ConfigError::PreviousWithoutCurrent)
        );
    }

    #[test]
    fn plaintext_is_taken_only_without_a_key_or_when_allowed() {
        let key = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
        let without_key = CallbackConfig::builder("tok", "wx1").build().expect("ok");
        assert!(without_key.accepts_plaintext());
        let with_key = CallbackConfig::builder("tok", "wx1").aes_key(key);
        assert!(!with_key.clone().build().expect("ok").accepts_plaintext());
        let allowed = with_key.allow_plaintext(true).build().expect("ok");
        assert!(allowed.accepts_plaintext());
    }
}
