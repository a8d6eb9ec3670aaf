//! `wxmass server`: wxmass-server's application on the listener, with the
//! store and the server key this command line names; `server init-admin`
//! makes the first user.

use std::io::BufRead as _;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};
use wxmass_campaign::Journal;
use wxmass_server::{AppState, ServerKey};

use crate::cli::ServerArgs;

/// The key from WXMASS_SERVER_KEY, else from the key file.
fn server_key(args: &ServerArgs, data: &Path) -> Result<ServerKey> {
    if let Ok(key) = std::env::var("WXMASS_SERVER_KEY") {
        return Ok(ServerKey::from_base64(&key, "in WXMASS_SERVER_KEY")?);
    }
    let path = args
        .key_file
        .clone()
        .unwrap_or_else(|| data.join("server.key"));
    Ok(ServerKey::load_or_create(&path)?)
}

/// `wxmass server init-admin --name NAME`: prints the token on stdout.
pub async fn init_admin(journal: &Journal, name: &str) -> Result<()> {
    let password = match std::env::var("WXMASS_ADMIN_PASSWORD") {
        Ok(p) => p,
        Err(_) => {
            eprintln!("password for {name} (at least 12 characters), then Enter:");
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .context("cannot read the password from stdin")?;
            line.trim_end_matches(['\r', '\n']).to_owned()
        }
    };
    let token = wxmass_server::init_admin(journal, name, &password)
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.message()))?;
    eprintln!("made the admin {name}; its API token follows, shown this once:");
    println!("{token}");
    Ok(())
}

/// `wxmass server`: serves, and sends due campaigns, until Ctrl-C or
/// SIGTERM; then stops claiming batches, lets those in flight be recorded,
/// and exits.
pub async fn run(
    args: &ServerArgs,
    journal: Journal,
    data: &Path,
    wechat: Option<String>,
) -> Result<()> {
    let key = server_key(args, data)?;
    if journal.users().await?.is_empty() {
        eprintln!(
            "warning: this server has no users yet: make the first with `wxmass server init-admin --name NAME`"
        );
    }
    let state = AppState::new(journal, key, wechat).context("cannot start the push writer")?;
    let app = wxmass_server::app(state.clone());
    let listener = wxmass_callback::bind(&args.listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", args.listen))?;
    let addr = listener.local_addr()?;
    if !addr.ip().is_loopback() {
        eprintln!(
            "warning: listening on {addr}: put HTTPS in front (a reverse proxy); API tokens travel in every request"
        );
    }
    println!("wxmass server listening on http://{addr}");
    let limits = wxmass_callback::ServeLimits {
        header_timeout: Duration::from_secs_f64(args.header_timeout),
        idle_timeout: Duration::from_secs_f64(args.idle_timeout),
        max_connections: crate::open_files::room_for(args.max_connections),
        ..wxmass_callback::ServeLimits::default()
    };
    let (stopping, stopped) = tokio::sync::watch::channel(false);
    let until_stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|&s| s).await;
    };
    let runner = tokio::spawn(wxmass_server::runner::run(
        state,
        args.sending.options(crate::campaign::worker_name()),
        until_stopped(stopped.clone()),
    ));
    tokio::spawn(async move {
        crate::worker::stop_requested().await;
        let _ = stopping.send(true);
    });
    wxmass_callback::serve(listener, app, limits, until_stopped(stopped)).await;
    runner.await.context("the campaign runner")?;
    Ok(())
}
