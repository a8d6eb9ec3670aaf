//! Access tokens: cached with their expiry, refreshed ahead of it, fetched by
//! one caller at a time in a process (a mutex) and across processes or hosts
//! (the [`TokenStore`]'s lock). A token that WeChat rejects is dropped only if
//! it is still the one that failed, so that a fresher token written by
//! another process is never thrown away.

use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex as StdMutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::error::{Error, Result};
use crate::secret::Secret;

#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "redis")]
mod redis;
mod sqlite;

#[cfg(feature = "postgres")]
pub use self::postgres::PostgresStore;
#[cfg(feature = "redis")]
pub use self::redis::RedisStore;
pub use sqlite::SqliteStore;

/// A token and when it expires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedToken {
    /// The access token.
    pub token: Secret,
    /// Unix milliseconds.
    pub expires_at_ms: i64,
}

impl CachedToken {
    /// Whether it is good for at least `margin` more.
    pub fn fresh(&self, now_ms: i64, margin: Duration) -> bool {
        self.expires_at_ms - now_ms > margin.as_millis() as i64
    }
}

/// A boxed future, so that stores can be used as trait objects.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T>> + Send + 'a>>;

/// Where tokens are shared. `key` identifies the account and token kind.
pub trait TokenStore: Send + Sync + 'static {
    /// The stored token, if any.
    fn load<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<CachedToken>>;
    /// Stores a token.
    fn save<'a>(&'a self, key: &'a str, token: &'a CachedToken) -> StoreFuture<'a, ()>;
    /// Removes the token only if it is still `token` (compare-and-delete).
    fn invalidate<'a>(&'a self, key: &'a str, token: &'a str) -> StoreFuture<'a, ()>;
    /// Tries to take the refresh lock for `ttl` as `owner`; `false` if
    /// another holder has it. A holder that dies releases it by expiry.
    fn try_lock<'a>(&'a self, key: &'a str, owner: &'a str, ttl: Duration)
    -> StoreFuture<'a, bool>;
    /// Releases the lock if `owner` still holds it.
    fn unlock<'a>(&'a self, key: &'a str, owner: &'a str) -> StoreFuture<'a, ()>;
}

/// A store for one process: tokens live as long as the client.
#[derive(Debug, Default)]
pub struct MemoryStore {
    tokens: StdMutex<std::collections::HashMap<String, CachedToken>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

impl TokenStore for MemoryStore {
    fn load<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<CachedToken>> {
        let token = self
            .tokens
            .lock()
            .map(|t| t.get(key).cloned())
            .map_err(|_| Error::TokenStore("memory store poisoned".into()));
        Box::pin(async move { token })
    }

    fn save<'a>(&'a self, key: &'a str, token: &'a CachedToken) -> StoreFuture<'a, ()> {
        if let Ok(mut tokens) = self.tokens.lock() {
            tokens.insert(key.to_owned(), token.clone());
        }
        Box::pin(async { Ok(()) })
    }

    fn invalidate<'a>(&'a self, key: &'a str, token: &'a str) -> StoreFuture<'a, ()> {
        if let Ok(mut tokens) = self.tokens.lock()
            && tokens.get(key).is_some_and(|t| t.token.expose() == token)
        {
            tokens.remove(key);
        }
        Box::pin(async { Ok(()) })
    }

    fn try_lock<'a>(
        &'a self,
        _key: &'a str,
        _owner: &'a str,
        _ttl: Duration,
    ) -> StoreFuture<'a, bool> {
        // One process: the manager's mutex is the lock.
        Box::pin(async { Ok(true) })
    }

    fn unlock<'a>(&'a self, _key: &'a str, _owner: &'a str) -> StoreFuture<'a, ()> {
        Box::pin(async { Ok(()) })
    }
}

/// Where a third-party platform keeps the refresh token of each account
/// that authorised it: the long-lived credential its tokens come from,
/// replaced by every answer that carries one (a re-authorisation kills the
/// old one). Keep it durable: one lost means the account's admin
/// authorises again, unless `api_get_authorizer_list` still has it.
pub trait RefreshTokens: Send + Sync + 'static {
    /// The account's refresh token, if known.
    fn load<'a>(&'a self, authorizer_appid: &'a str) -> StoreFuture<'a, Option<Secret>>;
    /// Replaces the account's refresh token.
    fn save<'a>(
        &'a self,
        authorizer_appid: &'a str,
        refresh_token: &'a Secret,
    ) -> StoreFuture<'a, ()>;
}

/// Refresh tokens kept in a [`TokenStore`], under
/// `wxmass:refresh:{component_appid}:{authorizer_appid}`: the default,
/// shared as the tokens are. A store that seals its secrets at rest (as
/// `wxmass server` does) is better for a credential that lives for years.
pub struct StoredRefreshTokens {
    store: std::sync::Arc<dyn TokenStore>,
    component_appid: String,
}

impl StoredRefreshTokens {
    /// Refresh tokens of `component_appid`'s accounts in `store`.
    pub fn new(store: std::sync::Arc<dyn TokenStore>, component_appid: impl Into<String>) -> Self {
        Self {
            store,
            component_appid: component_appid.into(),
        }
    }

    fn key(&self, authorizer_appid: &str) -> String {
        format!("wxmass:refresh:{}:{authorizer_appid}", self.component_appid)
    }
}

/// How long a stored refresh token is kept: it has no expiry of its own
/// (it lives until the account withdraws), but stores want one.
const REFRESH_TOKEN_KEPT: Duration = Duration::from_secs(10 * 365 * 86_400);

impl RefreshTokens for StoredRefreshTokens {
    fn load<'a>(&'a self, authorizer_appid: &'a str) -> StoreFuture<'a, Option<Secret>> {
        Box::pin(async move {
            let key = self.key(authorizer_appid);
            Ok(self.store.load(&key).await?.map(|t| t.token))
        })
    }

    fn save<'a>(
        &'a self,
        authorizer_appid: &'a str,
        refresh_token: &'a Secret,
    ) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let token = CachedToken {
                token: refresh_token.clone(),
                expires_at_ms: now_ms() + REFRESH_TOKEN_KEPT.as_millis() as i64,
            };
            self.store.save(&self.key(authorizer_appid), &token).await
        })
    }
}

/// Unix milliseconds now.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
