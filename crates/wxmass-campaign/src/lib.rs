//! The wxmass campaign engine's core: what a campaign is, the rules WeChat
//! sets for mass sends, and the store that makes every send happen exactly
//! once. The CLI and the server are faces on top of it; this crate knows
//! no clap, no HTTP framework and no terminal, and only [`store`] knows SQL.
//!
//! # Layout
//! - [`spec`]: the types: [`Content`] (what is sent, files addressed by
//!   their SHA-256), [`Audience`], [`Campaign`], [`Batch`] and its
//!   [`BatchState`], [`Report`], and [`batch_clientmsgid`].
//! - [`audience`]: openid lists: every line checked, repeats found without
//!   holding the list, batches cut and streamed from the file.
//! - [`quota`]: WeChat's per-day, per-month and per-follower quotas,
//!   checked before anything is recorded.
//! - [`store`]: every fact kept, declared once as a trait per aggregate
//!   ([`store::CampaignStore`], [`store::BatchStore`], ...) and implemented
//!   in a SQLite file (one host) and a PostgreSQL database (many), one file
//!   per backend and aggregate, on the frozen schema of
//!   [`store::migrations`]; [`store::open`] chooses the backend.
//! - [`checks`]: what a campaign sends, checked for every face, each
//!   problem named by its field and file.
//! - [`plan`]: a [`plan::CampaignSpec`] checked ([`plan::propose`]) and,
//!   once the caller confirms, recorded ([`plan::commit`]).
//! - [`prepare`]: the message, with every upload it needs made once
//!   ([`uploads`]: kept by content hash); [`articles`]: the Markdown
//!   articles' pictures, covers and news item.
//! - [`engine`]: sending, by any number of workers under leases;
//!   [`pipeline`]: the send every face calls ([`pipeline::send_campaign`]:
//!   prepare once, work, track) and the workers' lease loop
//!   ([`pipeline::worker`]); [`publishing`]: free publishing, exactly
//!   once ([`publishes`]: its records).
//! - `pushes` (feature `receiver`): WeChat's pushes written to the store,
//!   grouped, before each is answered.
//! - [`track`]: following the jobs until final, by push or `mass/get`;
//!   [`summary`]: what a campaign's batches add up to, confirmed figures
//!   and "sent, no report" apart.
//! - [`people`]: the server's users, roles, API tokens, accounts (secrets
//!   sealed) and audit log, in the same store; [`sign_ins`]: failed
//!   sign-ins, counted for every server on the store.
//! - [`lifecycle`]: a server's campaign from draft to finished, and which
//!   step may follow which.
//! - [`across`]: a campaign across accounts, sent as one part (an
//!   ordinary campaign) per account.
//! - [`lists`]: openid lists saved by name in the store, for servers.
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
//! 2. **Prepare**: [`prepare::message`] uploads what the content needs, from
//!    the files the store kept; [`engine::keep_prepared`] keeps the
//!    message on the campaign, so every worker sends the same one.
//! 3. **Send**: [`engine::work`] claims batches under a lease (they are
//!    `submitting`, committed, before any request), sends them with their
//!    clientmsgids and records them; a rerun, or another worker once the
//!    lease runs out, resends only what may not have gone out, and WeChat
//!    refuses a duplicate (45065).
//! 4. **Track**: MASSSENDJOBFINISH reports are recorded against their
//!    batches ([`store::PushStore::record_received`], by `wxmass serve`), and
//!    [`track::track`] waits for them, asking `mass/get` for the rest.

pub mod across;
pub mod articles;
pub mod audience;
pub mod beijing;
pub mod checks;
pub mod engine;
mod error;
pub mod fanout;
pub mod legacy;
pub mod lifecycle;
pub mod lists;
pub mod notices;
pub mod openids;
pub mod people;
pub mod pipeline;
pub mod plan;
pub mod prepare;
pub mod publishes;
pub mod publishing;
#[cfg(feature = "receiver")]
pub mod pushes;
pub mod quota;
pub mod reads;
pub mod sign_ins;
pub mod spec;
pub mod store;
pub mod summary;
pub mod track;
pub mod uploads;

pub use audience::OpenIdList;
pub use error::{Error, Result};
pub use quota::AccountType;
pub use spec::{
    ArticleFile, Audience, Batch, BatchState, Campaign, Claim, Content, FileRef, Files, JobReport,
    MediaType, PictureRef, PlannedBatch, Recorded, Report, SeenRequest, StrayReport,
    batch_clientmsgid, sha256_hex,
};
pub use store::Store;
pub use summary::Summary;
