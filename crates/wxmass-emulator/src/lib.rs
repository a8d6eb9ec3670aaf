//! # wxmass-emulator
//!
//! A local WeChat Official Account API server for mass messaging, faithful
//! enough that our client, our tests, and unmodified third-party SDKs can run
//! against it with no network and no account.
//!
//! - [`http`] routes every `/cgi-bin/...` path of wechat-api.md §1–§14 through
//!   one dispatcher: method check, token check, injected faults, handler.
//! - [`api`] holds the handlers, one module per area (token, media, news,
//!   tags, users, mass).
//! - [`state`] is the account: tokens with their real lifetimes and overlap,
//!   followers, tags, media, news, jobs, quotas, the delivery ledger.
//! - [`push`] finishes jobs when the [`clock`] reaches them and pushes
//!   MASSSENDJOBFINISH to the callback URL, in plain, compatible or safe mode.
//! - [`admin`] is the `/_emulator/...` API for tests: seed followers, read
//!   jobs and pushes, inject faults, move the clock.
//!
//! ```no_run
//! # async fn run() -> std::io::Result<()> {
//! use wxmass_emulator::{EmulatorConfig, start};
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let running = start(EmulatorConfig { followers: 1000, tags: 3, ..Default::default() }, listener)?;
//! println!("WeChat at {}", running.base_url());
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

pub mod admin;
pub mod api;
mod args;
pub mod call;
pub mod clock;
pub mod config;
pub mod error;
pub mod http;
pub mod ids;
pub mod platform;
pub mod push;
pub mod state;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::{Notify, oneshot};
use tokio::task::JoinHandle;

pub use args::{EmulatorArgs, PLATFORM_AES_KEY, PLATFORM_APPID, PLATFORM_SECRET, PLATFORM_TOKEN};
pub use clock::Clock;
pub use config::{AccountType, CallbackMode, CallbackTarget, EmulatorConfig, MediaLimits};
pub use http::{Faults, PathFault};
pub use push::PushAttempt;
pub use state::Account;

/// The running emulator's shared state.
#[derive(Debug)]
pub struct Emulator {
    /// What it was started with.
    pub config: EmulatorConfig,
    /// The emulated clock (an open platform's accounts share its clock).
    pub clock: Arc<Clock>,
    account: Mutex<Account>,
    faults: Mutex<Faults>,
    calls: Mutex<BTreeMap<String, u64>>,
    errors: Mutex<BTreeMap<i64, u64>>,
    business_calls: AtomicU64,
    pushes: Mutex<Vec<PushAttempt>>,
    comments: Mutex<Vec<api::comments::Thread>>,
    templates: Mutex<api::templates::Templates>,
    windows: Mutex<api::custom::Windows>,
    subscriptions: Mutex<api::subscribe::Subscriptions>,
    jobs_notify: Notify,
    /// Pushes in flight at once: WeChat's push servers do not open tens of
    /// thousands of connections to one receiver when many jobs end together.
    push_slots: tokio::sync::Semaphore,
    /// Template reports taken from the due queue and not pushed yet.
    reports_queued: Arc<tokio::sync::Semaphore>,
    http: reqwest::Client,
    /// The open platform, when configured.
    platform: Option<platform::Platform>,
    /// Where pushes go now: the configured callback, or (an open
    /// platform's accounts) the message URL set since.
    callback: Mutex<Option<config::CallbackTarget>>,
}

/// A lock that survives a panicked holder: the state stays usable.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Emulator {
    /// A new emulator with its account seeded.
    pub fn new(config: EmulatorConfig) -> Arc<Emulator> {
        let clock = Arc::new(Clock::default());
        let platform = config
            .platform
            .clone()
            .map(|p| platform::Platform::new(p, &config, &clock));
        Self::with_clock(config, clock, platform)
    }

    /// An emulator on `clock`, shared with others (an open platform's
    /// accounts).
    fn with_clock(
        config: EmulatorConfig,
        clock: Arc<Clock>,
        platform: Option<platform::Platform>,
    ) -> Arc<Emulator> {
        // reqwest needs a rustls provider for https callback URLs.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let account = Account::new(config.clone(), clock.now());
        Arc::new(Emulator {
            callback: Mutex::new(config.callback.clone()),
            config,
            clock,
            account: Mutex::new(account),
            faults: Mutex::new(Faults::default()),
            calls: Mutex::new(BTreeMap::new()),
            errors: Mutex::new(BTreeMap::new()),
            business_calls: AtomicU64::new(0),
            pushes: Mutex::new(Vec::new()),
            comments: Mutex::new(Vec::new()),
            templates: Mutex::new(api::templates::Templates::default()),
            windows: Mutex::new(api::custom::Windows::default()),
            subscriptions: Mutex::new(api::subscribe::Subscriptions::default()),
            jobs_notify: Notify::new(),
            push_slots: tokio::sync::Semaphore::new(PUSHES_AT_ONCE),
            reports_queued: Arc::new(tokio::sync::Semaphore::new(REPORTS_QUEUED)),
            http: reqwest::Client::builder()
                .pool_max_idle_per_host(4)
                .build()
                .unwrap_or_default(),
            platform,
        })
    }

    /// Where pushes go now.
    pub fn callback(&self) -> Option<config::CallbackTarget> {
        lock(&self.callback).clone()
    }

    fn set_callback(&self, target: Option<config::CallbackTarget>) {
        *lock(&self.callback) = target;
    }

    /// The open platform, when configured.
    pub fn platform(&self) -> Option<&platform::Platform> {
        self.platform.as_ref()
    }

    /// The router: `/cgi-bin/...` and `/_emulator/...`.
    pub fn router(self: &Arc<Self>) -> Router {
        admin::router()
            .fallback(http::dispatch)
            // The dispatcher reads bodies itself, capped at http::MAX_BODY_BYTES,
            // and answers oversized uploads with WeChat's errcodes.
            .layer(axum::extract::DefaultBodyLimit::disable())
            .with_state(self.clone())
    }

    /// Whether the emulator serves the API at `path` (`/cgi-bin/...`).
    pub fn serves(&self, path: &str) -> bool {
        http::is_route(path)
    }

    /// The account, locked.
    pub fn account(&self) -> MutexGuard<'_, Account> {
        lock(&self.account)
    }

    /// Comments on sent articles, by article.
    pub fn comments(&self) -> MutexGuard<'_, Vec<api::comments::Thread>> {
        lock(&self.comments)
    }

    /// Template messages: the library, the account's templates, the
    /// quotas, the ledger. Locked after the account when both are.
    pub fn templates(&self) -> MutexGuard<'_, api::templates::Templates> {
        lock(&self.templates)
    }

    /// Followers' customer-service windows.
    pub fn windows(&self) -> MutexGuard<'_, api::custom::Windows> {
        lock(&self.windows)
    }

    /// Subscription consents and notice templates.
    pub fn subscriptions(&self) -> MutexGuard<'_, api::subscribe::Subscriptions> {
        lock(&self.subscriptions)
    }

    /// The injected faults.
    pub fn faults(&self) -> MutexGuard<'_, Faults> {
        lock(&self.faults)
    }

    /// Replaces the injected faults.
    pub fn set_faults(&self, faults: Faults) {
        *lock(&self.faults) = faults;
        self.business_calls.store(0, Ordering::Relaxed);
    }

    /// Whether the token-invalidation fault fires on this business call.
    fn token_fault_due(&self) -> bool {
        let every = lock(&self.faults).invalidate_token_every;
        let n = self.business_calls.fetch_add(1, Ordering::Relaxed) + 1;
        every > 0 && n.is_multiple_of(every)
    }

    fn count_call(&self, path: &str) {
        *lock(&self.calls).entry(path.to_owned()).or_insert(0) += 1;
    }

    fn count_error(&self, code: i64) {
        *lock(&self.errors).entry(code).or_insert(0) += 1;
    }

    /// Errcodes answered so far, by code.
    pub fn errors(&self) -> BTreeMap<i64, u64> {
        lock(&self.errors).clone()
    }

    /// Calls per path so far.
    pub fn calls(&self) -> BTreeMap<String, u64> {
        lock(&self.calls).clone()
    }

    fn record_push(&self, attempt: PushAttempt) {
        lock(&self.pushes).push(attempt);
    }

    /// Every push attempt so far.
    pub fn pushes(&self) -> Vec<PushAttempt> {
        lock(&self.pushes).clone()
    }

    /// Wakes the job runner: a job was created or the clock moved.
    pub fn jobs_changed(&self) {
        self.jobs_notify.notify_one();
    }
}

/// Pushes the emulator makes at once, at most.
pub const PUSHES_AT_ONCE: usize = 256;

/// Template reports waiting for a push slot, at most: a million falling due
/// at once (the clock moved past them) are taken a few thousand at a time
/// instead of a million tasks at once.
pub const REPORTS_QUEUED: usize = 4096;

/// An emulator serving on a listener.
#[derive(Debug)]
pub struct RunningEmulator {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its state, for in-process tests.
    pub emulator: Arc<Emulator>,
    shutdown: Option<oneshot::Sender<()>>,
    server: JoinHandle<()>,
    jobs: JoinHandle<()>,
}

impl RunningEmulator {
    /// `http://HOST:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops serving and waits for the server task to end.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.jobs.abort();
        let _ = (&mut self.server).await;
    }
}

impl Drop for RunningEmulator {
    fn drop(&mut self) {
        self.jobs.abort();
        self.server.abort();
    }
}

/// Starts an emulator on `listener` (bind port 0 in tests). Must be called
/// inside a Tokio runtime.
pub fn start(config: EmulatorConfig, listener: TcpListener) -> std::io::Result<RunningEmulator> {
    let addr = listener.local_addr()?;
    let emulator = Emulator::new(config);
    let app = emulator.router();
    let (tx, rx) = oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        // The peer address feeds the IP whitelist check (40164).
        let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
        let serve = axum::serve(listener, app).with_graceful_shutdown(async {
            let _ = rx.await;
        });
        if let Err(e) = serve.await {
            tracing::error!(error = %e, "emulator server stopped");
        }
    });
    let jobs = tokio::spawn(run_everything(emulator.clone()));
    Ok(RunningEmulator {
        addr,
        emulator,
        shutdown: Some(tx),
        server,
        jobs,
    })
}

/// The emulator's background work: its jobs, and an open platform's
/// tickets and its accounts' jobs.
async fn run_everything(emulator: Arc<Emulator>) {
    let mut tasks = tokio::task::JoinSet::new();
    tasks.spawn(push::run_jobs(emulator.clone()));
    if let Some(platform) = emulator.platform() {
        for account in platform.accounts() {
            tasks.spawn(push::run_jobs(account.clone()));
        }
        tasks.spawn(platform::run(emulator.clone()));
    }
    // Aborting this task drops the set, which aborts them all.
    while tasks.join_next().await.is_some() {}
}

/// Runs the emulator described by command-line flags until Ctrl-C: what
/// `wxmass-emulator` and `wxmass emulator` do. Prints
/// `wxmass-emulator listening on http://HOST:PORT` as the first stdout line.
pub async fn run(args: &EmulatorArgs) -> Result<(), String> {
    use std::io::Write as _;
    let config = args.config()?;
    let (appid, secret) = (config.appid.clone(), config.secret.clone());
    let kind = match config.account_type {
        config::AccountType::Service => "service",
        config::AccountType::Subscription => "subscription",
    };
    let listener = TcpListener::bind(&args.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    let running = start(config, listener).map_err(|e| e.to_string())?;
    let mut stdout = std::io::stdout();
    let _ = writeln!(
        stdout,
        "wxmass-emulator listening on {}",
        running.base_url()
    );
    // The emulated account's own credentials: what a client needs to talk
    // to it (no real account's secret is ever printed).
    let _ = writeln!(
        stdout,
        "account: AppID {appid} AppSecret {secret} ({kind} account)\ntry: WXMASS_APPID={appid} WXMASS_SECRET={secret} WXMASS_API_BASE={} wxmass token",
        running.base_url()
    );
    if let Some(platform) = running.emulator.platform() {
        let p = &platform.config;
        let _ = writeln!(
            stdout,
            "platform: component AppID {} secret {} token {} EncodingAESKey {} ({} accounts)",
            p.component_appid, p.component_secret, p.token, p.aes_key, p.accounts
        );
    }
    let _ = stdout.flush();
    let _ = tokio::signal::ctrl_c().await;
    running.shutdown().await;
    Ok(())
}

/// Logs to stderr, filtered by `WXMASS_LOG` or `RUST_LOG` (default `warn`): the setup of
/// both binaries, `wxmass-emulator` and `wxmass`.
pub fn init_logging() {
    use std::io::IsTerminal as _;
    // WXMASS_LOG first, then the usual RUST_LOG; warnings and errors otherwise.
    let filter = tracing_subscriber::EnvFilter::try_from_env("WXMASS_LOG")
        .or_else(|_| tracing_subscriber::EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| "warn".into());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colours only for a person at a terminal, never into a log file.
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}
