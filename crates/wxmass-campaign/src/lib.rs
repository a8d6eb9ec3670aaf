//! The wxmass campaign engine's core: what a campaign is, the rules WeChat
//! sets for mass sends, and the journal that makes every send happen
//! exactly once. The CLI (and later the server) are faces on top of it;
//! this crate knows no clap, no HTTP framework and no terminal.
//!
//! # Layout
//! - [`spec`]: the types: [`Content`] (what is sent, files addressed by
//!   their SHA-256), [`Audience`], [`Campaign`], [`Batch`] and its
//!   [`BatchState`], [`Report`], and [`batch_clientmsgid`].
//! - [`audience`]: openid lists: every line checked, repeats found without
//!   holding the list, batches cut and streamed from the file.
//! - [`quota`]: WeChat's per-day, per-month and per-follower quotas,
//!   checked before anything is recorded.
//! - [`sqlite`] and [`postgres`]: the journal in a SQLite file (one host)
//!   or a PostgreSQL database (many), with the same tables and rules
//!   (schema versions, upgrade in place, one row per batch with its openids
//!   as one blob, leases); [`journal`]: one [`Journal`] over both.
//! - [`plan`]: a [`plan::CampaignSpec`] checked ([`plan::propose`]) and,
//!   once the caller confirms, recorded ([`plan::commit`]).
//! - [`engine`]: sending, by any number of workers under leases.
//! - [`openids`]: that blob's compact form.
//! - [`legacy`]: what the first releases wrote, read into today's types.
//! - [`beijing`]: WeChat's calendar (quota periods turn at midnight, UTC+8).
//!
//! # The flow
//! 1. **Plan**: the face builds a [`plan::CampaignSpec`]; for a list,
//!    [`OpenIdList::read`] checks it and finds repeats; [`plan::propose`]
//!    sizes the audience and refuses what WeChat would not deliver
//!    ([`quota`]); the face confirms; [`plan::commit`] records the
//!    campaign, its files and its batches in one transaction before
//!    anything is sent.
//! 2. **Send**: [`engine::work`] claims batches under a lease (they are
//!    `submitting`, committed, before any request), sends them with their
//!    clientmsgids and records them; a rerun, or another worker once the
//!    lease runs out, resends only what may not have gone out, and WeChat
//!    refuses a duplicate (45065).
//! 3. **Track**: job statuses and MASSSENDJOBFINISH reports are recorded
//!    against their batches ([`Journal::record_received`], by `wxmass
//!    serve`, and [`Journal::set_status`]).

pub mod audience;
pub mod beijing;
pub mod engine;
mod error;
pub mod journal;
pub mod legacy;
pub mod openids;
pub mod plan;
pub mod postgres;
pub mod quota;
pub mod spec;
pub mod sqlite;

pub use audience::OpenIdList;
pub use error::{Error, Result};
pub use journal::Journal;
pub use postgres::PgJournal;
pub use quota::AccountType;
pub use spec::{
    ArticleFile, Audience, Batch, BatchState, Campaign, Claim, Content, FileRef, Files, JobReport,
    MediaType, PictureRef, Report, SeenRequest, batch_clientmsgid, sha256_hex,
};
pub use sqlite::{PlannedBatch, Recorded, SqliteJournal, StrayReport};
