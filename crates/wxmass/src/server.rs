//! `wxmass server`: wxmass-server's application on the listener, with the
//! store and the server key this command line names; `server init-admin`
//! makes the first user.

use std::io::BufRead as _;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};
use wxmass_campaign::store::prelude::*;
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

/// A password for `name`: WXMASS_ADMIN_PASSWORD, else a line of stdin.
fn admin_password(name: &str) -> Result<String> {
    Ok(match std::env::var("WXMASS_ADMIN_PASSWORD") {
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
    })
}

/// `wxmass server reset-password --name NAME`.
pub async fn reset_password(journal: &dyn Store, name: &str) -> Result<()> {
    let password = admin_password(name)?;
    let ended = wxmass_server::reset_password(journal, name, &password)
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.message()))?;
    eprintln!("{name} can sign in with the new password; {ended} of its tokens and sessions ended");
    Ok(())
}

/// `wxmass server init-admin --name NAME`: prints the token on stdout.
pub async fn init_admin(journal: &dyn Store, name: &str) -> Result<()> {
    let password = admin_password(name)?;
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
    journal: std::sync::Arc<dyn Store>,
    data: &Path,
    wechat: Option<String>,
    tokens: std::sync::Arc<dyn wxmass_api::TokenStore>,
) -> Result<()> {
    let key = server_key(args, data)?;
    if journal.users().await?.is_empty() {
        eprintln!(
            "warning: this server has no users yet: make the first with `wxmass server init-admin --name NAME`"
        );
    }
    let state =
        AppState::new(journal, key, wechat, tokens).context("cannot start the push writer")?;
    if args.movable_clock {
        eprintln!(
            "warning: --movable-clock: an admin may move this server's scheduling clock forward (for tests and demos)"
        );
        state.clock().make_movable(None);
    }
    state.trust_proxies(args.trusted_proxy.clone());
    if args.require_second_approver {
        state.require_second_approver();
    }
    state.limit_storage(args.max_storage_mb.saturating_mul(1024 * 1024));
    if let Some(settings) = platform_settings(args)? {
        let appid = settings.component_appid.clone();
        state
            .enable_platform(settings)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        eprintln!(
            "a third-party platform ({appid}): its events on /platform/events, its accounts' pushes on /platform/callback/$APPID$"
        );
    }
    let listener = listen(args).await?;
    serve_on(args, state, listener).await
}

/// The platform `--platform` and its companions describe, checked.
fn platform_settings(
    args: &ServerArgs,
) -> Result<Option<wxmass_server::platform::PlatformSettings>> {
    let Some(appid) = &args.platform else {
        if args.platform_secret_file.is_some() {
            anyhow::bail!("--platform-secret-file needs --platform COMPONENT_APPID");
        }
        return Ok(None);
    };
    let token = args.platform_token.clone().context(
        "--platform needs the platform's message token: --platform-token or WXMASS_PLATFORM_TOKEN",
    )?;
    let aes_key = args.platform_aes_key.clone().context(
        "--platform needs the platform's EncodingAESKey: --platform-aes-key or WXMASS_PLATFORM_AES_KEY",
    )?;
    let secret = match (
        std::env::var("WXMASS_PLATFORM_SECRET"),
        &args.platform_secret_file,
    ) {
        (Ok(secret), _) => secret,
        (Err(_), Some(path)) => read_secret_file(path)?,
        (Err(_), None) => anyhow::bail!(
            "--platform needs the component secret: WXMASS_PLATFORM_SECRET, or --platform-secret-file PATH"
        ),
    };
    let secret = secret.trim().to_owned();
    if secret.is_empty() {
        anyhow::bail!("the component secret is empty");
    }
    Ok(Some(wxmass_server::platform::PlatformSettings {
        component_appid: appid.clone(),
        secret: secret.into(),
        token,
        aes_key,
    }))
}

/// A secret's file: refused when others may read it.
fn read_secret_file(path: &Path) -> Result<String> {
    let meta =
        std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            anyhow::bail!(
                "{} holds a secret and is readable by others (mode {mode:o}): chmod 600 it",
                path.display()
            );
        }
    }
    let _ = meta;
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

async fn listen(args: &ServerArgs) -> Result<tokio::net::TcpListener> {
    wxmass_callback::bind(&args.listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", args.listen))
}

/// `wxmass server --demo`: the server on a throwaway store, with a built-in
/// emulator (pushing to it) as its one account, an admin whose password
/// and token are printed, and a few campaigns of history
/// ([`crate::demo_history`]).
pub async fn demo(args: &ServerArgs) -> Result<()> {
    use wxmass_emulator::config::{DEFAULT_APPID, DEFAULT_SECRET};
    use wxmass_emulator::{CallbackMode, CallbackTarget, EmulatorConfig};
    let dir = std::env::temp_dir().join(format!(
        "wxmass-server-demo-{}-{}",
        std::process::id(),
        wxmass_campaign::beijing::now()
    ));
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let journal = wxmass_campaign::store::open_sqlite(&dir.join("journal.db"))?;
    let key = ServerKey::load_or_create(&dir.join("server.key"))?;
    let listener = listen(args).await?;
    let addr = listener.local_addr()?;
    let random = |n: usize| {
        use rand::RngExt as _;
        let bytes: Vec<u8> = (0..n).map(|_| rand::rng().random()).collect();
        hex::encode(bytes)
    };
    let aes_key = wxmass_callback::crypto::AesKey::from_bytes({
        use rand::RngExt as _;
        rand::rng().random()
    })
    .to_encoding_aes_key();
    let callback_token = "wxmassdemo";
    let emulator = wxmass_emulator::start(
        EmulatorConfig {
            followers: 2_000,
            tags: 2,
            job_delay: Duration::from_millis(300),
            callback: Some(CallbackTarget {
                url: format!("http://{addr}/callback/{DEFAULT_APPID}"),
                token: callback_token.into(),
                aes_key: Some(aes_key.clone()),
                mode: CallbackMode::Safe,
            }),
            ..EmulatorConfig::default()
        },
        tokio::net::TcpListener::bind("127.0.0.1:0").await?,
    )?;
    let password = random(8);
    let token = wxmass_server::init_admin(&*journal, "demo", &password)
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.message()))?;
    let tokens = std::sync::Arc::new(wxmass_api::MemoryStore::new());
    // The demo's whole WeChat is the emulator: an account added from the
    // dashboard is tried there too (and refused unless it is the one
    // emulated), never at WeChat's own hosts.
    let state = AppState::new(journal, key, Some(emulator.base_url()), tokens)
        .context("cannot start the push writer")?;
    let emulated = emulator.emulator.clone();
    state.clock().make_movable(Some(Box::new(move |seconds| {
        emulated.clock.advance(seconds);
        emulated.jobs_changed();
    })));
    let account = wxmass_server::api::accounts::NewAccount {
        appid: DEFAULT_APPID.into(),
        name: "Demo (emulator)".into(),
        account_type: "service".into(),
        secret: DEFAULT_SECRET.into(),
        callback_token: callback_token.into(),
        aes_key,
        api_base: Some(emulator.base_url()),
    };
    wxmass_server::api::accounts::add(&state, "demo", &account)
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.message()))?;
    let base = format!("http://{addr}");
    {
        let (base, token) = (base.clone(), token.clone());
        tokio::spawn(async move {
            match crate::demo_history::seed(&base, &token, DEFAULT_APPID).await {
                Ok(()) => eprintln!(
                    "demo history ready: a finished article campaign read for two days, one scheduled, one awaiting approval (the clocks are two days on)"
                ),
                Err(e) => eprintln!("warning: the demo history could not be made: {e:#}"),
            }
        });
    }
    eprintln!("dashboard: {base}/  (sign in as demo, password {password})");
    eprintln!(
        "demo: a throwaway store in {}, the emulator (2,000 followers) as account {DEFAULT_APPID}\n\
         admin token (this run only): {token}\n\
         try:\n  \
         curl -H 'Authorization: Bearer {token}' {base}/api/v1/accounts\n  \
         curl -H 'Authorization: Bearer {token}' -H 'content-type: application/json' {base}/api/v1/campaigns \\\n    \
         -d '{{\"id\":\"hello\",\"appid\":\"{DEFAULT_APPID}\",\"name\":\"Hello\",\"content\":{{\"type\":\"text\",\"text\":\"Hello\"}},\"audience\":{{\"kind\":\"all\"}}}}'\n  \
         then POST {base}/api/v1/campaigns/hello/submit and .../approve with {{\"send_at\":\"<now, e.g. {}>\"}}\n\
         (a later send_at? POST {base}/api/v1/clock with {{\"advance_seconds\":3600}} moves the server's and the emulator's clocks)\n\
         Ctrl-C ends the demo and removes the store.",
        dir.display(),
        wxmass_campaign::beijing::rfc3339(wxmass_campaign::beijing::now()),
    );
    let served = serve_on(args, state, listener).await;
    emulator.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
    served
}

/// Serves `state` on `listener` until Ctrl-C or SIGTERM, sending due
/// campaigns meanwhile.
async fn serve_on(
    args: &ServerArgs,
    state: AppState,
    listener: tokio::net::TcpListener,
) -> Result<()> {
    let app = wxmass_server::app(state.clone());
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
        body_timeout: Duration::from_secs_f64(args.body_timeout),
        max_connections: crate::open_files::room_for(args.max_connections),
        max_connections_per_address: usize::try_from(args.max_connections_per_address)
            .unwrap_or(usize::MAX),
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
        crate::stop::requested().await;
        let _ = stopping.send(true);
    });
    wxmass_callback::serve(listener, app, limits, until_stopped(stopped)).await;
    runner.await.context("the campaign runner")?;
    Ok(())
}
