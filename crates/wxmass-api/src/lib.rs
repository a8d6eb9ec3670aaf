//! # wxmass-api
//!
//! A typed async client for the WeChat Official Account APIs that mass
//! messaging touches.
//!
//! - [`Client`] (built with [`Client::builder`]) holds the account, the hosts
//!   (with failover), the HTTP client, the retry policy and the token
//!   manager. Every call goes through one function that adds the token,
//!   refreshes it once on 40001/40014/42001, backs off on transient codes,
//!   and retries only what is safe to repeat.
//! - [`token`]: tokens cached with expiry, refreshed ahead of it, fetched once
//!   for any number of concurrent callers; a [`TokenStore`] shares them across
//!   processes and hosts.
//! - [`error`]: one [`Error`]; [`Errcode`] knows every code of the reference
//!   and how to react to it.
//! - [`message`]: [`Message`] and [`Audience`] and the exact JSON they make.
//! - [`api`]: one handler per area: `client.mass()` ...
//!
//! A mass send is repeated only with a clientmsgid, and every send gets one
//! unless told otherwise, so a retry can never deliver twice; a 45065 answer
//! is [`Sent::AlreadySubmitted`], not an error.

#![warn(missing_docs)]

pub mod api;
mod client;
mod date;
pub mod error;
mod ids;
pub mod message;
mod secret;
pub mod token;

pub use api::component::{Authorization, AuthorizerInfo, Component, ListedAuthorizer};
pub use api::mass::{ClientMsgId, JobStatus, MassHandler, Sent, Speed};
pub use api::media::{Format, MediaContent, MediaHandler, MediaKind, Uploaded};
pub use api::news::{Article, NewsHandler};
pub use api::quota::{ApiQuota, QuotaHandler};
pub use api::tags::{Tag, TagsHandler};
pub use api::templates::{TemplateMessage, TemplateSent, TemplatesHandler};
pub use api::users::{FollowerPage, UserInfo, UsersHandler};
pub use client::{Client, ClientBuilder, DEFAULT_HOSTS, Now, RetryPolicy, TokenMode};
pub use error::{Errcode, Error, Reaction, Result};
pub use ids::is_appid;
pub use message::{Audience, Message, PreviewTarget};
pub use secret::Secret;
#[cfg(feature = "postgres")]
pub use token::PostgresStore;
#[cfg(feature = "redis")]
pub use token::RedisStore;
pub use token::{
    CachedToken, MemoryStore, RefreshTokens, SqliteStore, StoredRefreshTokens, TokenStore,
};
