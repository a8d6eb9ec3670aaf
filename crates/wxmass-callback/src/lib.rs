//! # wxmass-callback
//!
//! The receiving end of WeChat Official Account pushes, built for the report
//! that matters to a mass sender: `MASSSENDJOBFINISH`.
//!
//! A request flows through the modules in this order:
//!
//! 1. [`signature`]: the timestamp window, then `signature` (and, when
//!    encrypted, `msg_signature`) compared in constant time. With an
//!    EncodingAESKey configured, a plaintext push is refused here: its
//!    signature does not cover the body.
//! 2. [`xml`]: a strict reader that refuses DOCTYPEs, unknown entities and
//!    absurd nesting or control characters, used for the outer body and the
//!    decrypted message.
//! 3. [`crypto`]: AES-256-CBC "safe mode" with WeChat's 32-byte padding and
//!    the appid check; the previous EncodingAESKey is accepted during a rotation.
//! 4. [`event`]: the typed [`MassSendJobFinish`] (copyright check, article
//!    URLs, every `err(N)` status; counts and `MsgID` range-checked), or a
//!    [`GenericPush`] that keeps all fields.
//!    A MASSSENDJOBFINISH in WeChat's own layout skips step 2: a one-pass
//!    reader (`layout.rs`) fills the event directly, and hands anything
//!    unexpected back to the general reader.
//! 5. [`server`]: an axum [`Router`](axum::Router) that adds the [`replay`]
//!    guard (every signed query once, until its timestamp's window closes),
//!    then queues the push and answers `success` at once, or has a
//!    [`PushRecorder`] record it durably first.
//! 6. [`serve`]: the accept loop to run it on the internet: header, body and
//!    idle timeouts and a connection cap ([`ServeLimits`]).
//!
//! Steps 1–4 are the pure function [`open_push`]; the benchmark and the fuzz
//! targets drive it directly.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use wxmass_callback::{CallbackConfig, Push};
//!
//! let config = CallbackConfig::builder("mytoken", "wx1234567890abcdef")
//!     .aes_key("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG")
//!     .build()?;
//! let (router, mut pushes) = wxmass_callback::router(config);
//! let listener = wxmass_callback::bind("0.0.0.0:8080").await?;
//! let limits = wxmass_callback::ServeLimits::default();
//! tokio::spawn(wxmass_callback::serve(listener, router, limits, std::future::pending()));
//! while let Some(push) = pushes.recv().await {
//!     if let Push::MassSendJobFinish(job) = push {
//!         println!("{}: {} of {} sent", job.msg_id, job.sent_count, job.total_count);
//!     }
//! }
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

mod config;
pub mod crypto;
mod envelope;
pub mod event;
mod expiring;
mod layout;
mod listener;
pub mod replay;
pub mod server;
pub mod signature;
pub mod xml;

pub use config::{CallbackConfig, CallbackConfigBuilder, CallbackToken, ConfigError};
pub use envelope::{
    Envelope, OpenedPush, PushQuery, RecordError, Rejection, ReplayKey, VerifiedUrl, open_push,
    verify_url,
};
pub use event::{
    AuthorizationChange, GenericPush, MassSendJobFinish, MassStatus, PlatformEvent, PlatformInfo,
    PublishJobFinish, PublishStatus, Push, SubscriptionEvent, SubscriptionItem, SubscriptionKind,
    TemplateSendJobFinish, TemplateStatus, WindowTrigger,
};
pub use listener::{ServeLimits, bind, serve};
pub use replay::SeenRequest;
pub use server::{
    NoRuntime, PushHandler, PushReceiver, PushRecorder, RecordFuture, router, router_with_handler,
    router_with_recorder,
};
