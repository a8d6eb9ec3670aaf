//! A token store in Redis: hosts share tokens. The refresh lock is
//! `SET key owner NX PX ttl`, released by a compare-and-delete script, so a
//! holder that dies releases it by expiry and nobody releases another's lock.

use std::time::Duration;

use redis::AsyncCommands;
use redis::aio::ConnectionManager;

use super::{CachedToken, StoreFuture, TokenStore, now_ms};
use crate::error::{Error, Result};
use crate::secret::Secret;

/// Deletes KEYS[1] only if it holds ARGV[1].
const COMPARE_AND_DELETE: &str = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";

/// Tokens shared through Redis.
#[derive(Clone)]
pub struct RedisStore {
    conn: ConnectionManager,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RedisStore")
    }
}

fn store_error(e: impl std::fmt::Display) -> Error {
    Error::TokenStore(format!("redis: {e}"))
}

impl RedisStore {
    /// Connects to `url` (`redis://127.0.0.1:6379/0`); reconnects by itself.
    pub async fn connect(url: &str) -> Result<Self> {
        let client = redis::Client::open(url).map_err(store_error)?;
        let conn = ConnectionManager::new(client).await.map_err(store_error)?;
        Ok(Self { conn })
    }
}

impl TokenStore for RedisStore {
    fn load<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<CachedToken>> {
        let mut conn = self.conn.clone();
        Box::pin(async move {
            let value: Option<String> = conn.get(key).await.map_err(store_error)?;
            Ok(value.and_then(|v| {
                let (expires, token) = v.split_once(':')?;
                Some(CachedToken {
                    token: Secret::new(token),
                    expires_at_ms: expires.parse().ok()?,
                })
            }))
        })
    }

    fn save<'a>(&'a self, key: &'a str, token: &'a CachedToken) -> StoreFuture<'a, ()> {
        let mut conn = self.conn.clone();
        let value = format!("{}:{}", token.expires_at_ms, token.token.expose());
        let ttl_ms = (token.expires_at_ms - now_ms()).max(1) as u64;
        Box::pin(async move {
            conn.pset_ex::<_, _, ()>(key, value, ttl_ms)
                .await
                .map_err(store_error)
        })
    }

    fn invalidate<'a>(&'a self, key: &'a str, token: &'a str) -> StoreFuture<'a, ()> {
        let mut conn = self.conn.clone();
        Box::pin(async move {
            let current: Option<String> = conn.get(key).await.map_err(store_error)?;
            if let Some(current) = current
                && current.split_once(':').is_some_and(|(_, t)| t == token)
            {
                // Delete only this value, in case another process replaced it meanwhile.
                redis::Script::new(COMPARE_AND_DELETE)
                    .key(key)
                    .arg(&current)
                    .invoke_async::<()>(&mut conn)
                    .await
                    .map_err(store_error)?;
            }
            Ok(())
        })
    }

    fn try_lock<'a>(
        &'a self,
        key: &'a str,
        owner: &'a str,
        ttl: Duration,
    ) -> StoreFuture<'a, bool> {
        let mut conn = self.conn.clone();
        let lock_key = format!("{key}:lock");
        Box::pin(async move {
            let set: Option<String> = redis::cmd("SET")
                .arg(&lock_key)
                .arg(owner)
                .arg("NX")
                .arg("PX")
                .arg(ttl.as_millis() as u64)
                .query_async(&mut conn)
                .await
                .map_err(store_error)?;
            Ok(set.is_some())
        })
    }

    fn unlock<'a>(&'a self, key: &'a str, owner: &'a str) -> StoreFuture<'a, ()> {
        let mut conn = self.conn.clone();
        let lock_key = format!("{key}:lock");
        Box::pin(async move {
            redis::Script::new(COMPARE_AND_DELETE)
                .key(lock_key)
                .arg(owner)
                .invoke_async::<()>(&mut conn)
                .await
                .map_err(store_error)
        })
    }
}
