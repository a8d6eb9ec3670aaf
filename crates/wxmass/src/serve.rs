//! `wxmass serve`: the wxmass-callback receiver on the internet, recording
//! each MASSSENDJOBFINISH (and each request, for the replay guard) in the
//! journal before answering WeChat.
//!
//! Recording is a group commit (`wxmass_server::pushes`, shared with the
//! server's `/callback/{appid}`): each push is in the journal, the SQLite
//! file or the PostgreSQL database the senders share, before `success`.

use std::time::Duration;

use anyhow::{Context, Result};
use wxmass_callback::{CallbackConfig, ServeLimits};
use wxmass_campaign::beijing;
use wxmass_campaign::pushes::PushWriter;
use wxmass_campaign::store::prelude::*;

use crate::cli::ServeArgs;

/// The receiver's configuration from flags and the account's AppID.
pub fn config(args: &ServeArgs, appid: &str) -> Result<CallbackConfig> {
    let mut builder = CallbackConfig::builder(args.token.clone(), appid)
        .allow_plaintext(args.allow_plaintext)
        .timestamp_window(Duration::from_secs(args.timestamp_window.into()))
        .body_timeout(Duration::from_secs_f64(args.body_timeout));
    if let Some(key) = &args.aes_key {
        builder = builder.aes_key(key.clone());
    }
    if let Some(key) = &args.previous_aes_key {
        builder = builder.previous_aes_key(key.clone());
    }
    Ok(builder.build()?)
}

/// The accept loop's limits from flags.
pub fn limits(args: &ServeArgs) -> ServeLimits {
    ServeLimits {
        header_timeout: Duration::from_secs_f64(args.header_timeout),
        idle_timeout: Duration::from_secs_f64(args.idle_timeout),
        body_timeout: Duration::from_secs_f64(args.body_timeout),
        max_connections: usize::try_from(args.max_connections).unwrap_or(usize::MAX),
        max_connections_per_address: usize::try_from(args.max_connections_per_address)
            .unwrap_or(usize::MAX),
        ..ServeLimits::default()
    }
}

/// Serves until `shutdown` resolves.
pub async fn serve(
    config: CallbackConfig,
    limits: ServeLimits,
    listener: tokio::net::TcpListener,
    journal: std::sync::Arc<dyn Store>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let seen = journal
        .seen_requests(beijing::now())
        .await
        .context("cannot read the callback requests already used")?;
    let appid = config.appid().to_owned();
    let (writer, thread) = PushWriter::start(journal).context("cannot start the journal writer")?;
    let router = wxmass_callback::router_with_recorder(config, writer.recorder(&appid, &seen));
    drop(writer);
    wxmass_callback::serve(listener, router, limits, shutdown).await;
    // The router, and with it the last sender, is gone: the writer ends.
    tokio::task::spawn_blocking(move || thread.join())
        .await
        .ok();
    Ok(())
}
