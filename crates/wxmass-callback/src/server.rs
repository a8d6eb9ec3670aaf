//! The axum [`Router`] that receives WeChat's requests: URL verification on
//! GET, pushes on POST.
//!
//! Each accepted push is answered `success` as soon as it is queued; the
//! application takes it from a channel ([`router`]) or a [`PushHandler`]
//! ([`router_with_handler`]) on its own time, so a slow handler never makes
//! WeChat wait past its 5 s. Or a [`PushRecorder`] makes it durable first
//! ([`router_with_recorder`]). Every request passes the replay guard
//! ([`crate::replay`]) first; retries of a push already accepted are
//! answered `success` and not delivered again.

use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::sync::mpsc;

use crate::config::CallbackConfig;
use crate::envelope::{self, OpenedPush, PushQuery, RecordError, Rejection, ReplayKey};
use crate::event::Push;
use crate::expiring::ExpiringMap;
use crate::replay::{ReplayGuard, SeenRequest, Verdict};

/// Receives pushes one at a time, in the order they were accepted.
///
/// ```no_run
/// use wxmass_callback::{CallbackConfig, Push, PushHandler};
///
/// struct Log;
/// impl PushHandler for Log {
///     async fn handle(&self, push: Push) {
///         if let Push::MassSendJobFinish(job) = push {
///             println!("job {} finished: {} ({} sent)", job.msg_id, job.status, job.sent_count);
///         }
///     }
/// }
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let config = CallbackConfig::builder("mytoken", "wx1234567890abcdef").build()?;
/// let app = axum::Router::new().nest("/wechat", wxmass_callback::router_with_handler(config, Log)?);
/// let listener = wxmass_callback::bind("127.0.0.1:8080").await?;
/// wxmass_callback::serve(listener, app, Default::default(), std::future::pending()).await;
/// # Ok(())
/// # }
/// ```
pub trait PushHandler: Send + Sync + 'static {
    /// Handles one accepted push. WeChat has already been answered.
    fn handle(&self, push: Push) -> impl Future<Output = ()> + Send;
}

/// The channel end [`router`] hands pushes to.
pub type PushReceiver = mpsc::Receiver<Push>;

/// A handler needs a Tokio runtime to run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("router_with_handler must be called inside a Tokio runtime")]
pub struct NoRuntime;

/// A router whose accepted pushes arrive on the returned channel. It answers
/// at `/`; mount it where the account's server URL points (`Router::nest`).
///
/// If the receiver is dropped, pushes are refused with 503 so that WeChat
/// keeps them for a retry.
pub fn router(config: CallbackConfig) -> (Router, PushReceiver) {
    let (tx, rx) = mpsc::channel(config.queue_capacity);
    (build(config, Sink::Queue(tx), Vec::new()), rx)
}

/// A router that hands each accepted push to `handler` on a task of its own.
pub fn router_with_handler<H: PushHandler>(
    config: CallbackConfig,
    handler: H,
) -> Result<Router, NoRuntime> {
    let runtime = tokio::runtime::Handle::try_current().map_err(|_| NoRuntime)?;
    let (router, mut rx) = router(config);
    runtime.spawn(async move {
        while let Some(push) = rx.recv().await {
            handler.handle(push).await;
        }
    });
    Ok(router)
}

/// A future a [`PushRecorder`] returns.
pub type RecordFuture =
    std::pin::Pin<Box<dyn Future<Output = Result<(), crate::RecordError>> + Send>>;

/// Makes a push durable before WeChat is answered: the router answers
/// `success` only once `record` has succeeded, and 503 (so that WeChat
/// retries) when it fails or takes longer than the enqueue timeout. Use it
/// when a push must survive the receiver being killed right after answering.
///
/// A recorder also keeps the replay guard's memory: it stores each
/// [`SeenRequest`] with its push and hands back those whose window is still
/// open when the router is built, so that a restart opens no replay.
pub trait PushRecorder: Send + Sync + 'static {
    /// Records the push and the request that carried it, in one durable
    /// step. Called once per request; a retry of a recorded request is
    /// answered without calling it again. Two different requests may carry
    /// the same push (WeChat's own retries come with new nonces): the
    /// recorder keeps one.
    fn record(&self, push: Push, request: SeenRequest) -> RecordFuture;

    /// Records a request that carried no push: a URL verification, kept so
    /// that its query can never be reused for a push.
    fn record_request(&self, request: SeenRequest) -> RecordFuture {
        let _ = request;
        Box::pin(async { Ok(()) })
    }

    /// The requests recorded earlier, read once when the router is built.
    fn seen_requests(&self) -> Vec<SeenRequest> {
        Vec::new()
    }
}

/// Where accepted pushes go.
enum Sink {
    /// A channel drained by the application after the answer.
    Queue(mpsc::Sender<Push>),
    /// Recorded before the answer.
    Recorder(Arc<dyn PushRecorder>),
}

struct Shared {
    config: CallbackConfig,
    replay: Mutex<ReplayGuard>,
    /// Pushes handed to a queue, by their retry key (a recorder dedupes
    /// durably itself).
    accepted: Mutex<ExpiringMap<String, ()>>,
    sink: Sink,
}

/// A router that answers `success` only after `recorder` has recorded the push.
pub fn router_with_recorder<R: PushRecorder>(config: CallbackConfig, recorder: R) -> Router {
    let seen = recorder.seen_requests();
    build(config, Sink::Recorder(Arc::new(recorder)), seen)
}

fn build(config: CallbackConfig, sink: Sink, seen: Vec<SeenRequest>) -> Router {
    let mut replay = ReplayGuard::new(config.timestamp_window, config.memory_capacity);
    let now = now_unix();
    for request in seen {
        replay.remember(request, now);
    }
    let shared = Arc::new(Shared {
        replay: Mutex::new(replay),
        accepted: Mutex::new(ExpiringMap::new(config.dedup_ttl, config.memory_capacity)),
        config,
        sink,
    });
    Router::new()
        .route("/", get(verify_url).post(receive_push))
        .with_state(shared)
}

fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn parse_query(uri: &Uri) -> Result<PushQuery, Rejection> {
    Query::<PushQuery>::try_from_uri(uri)
        .map(|Query(q)| q)
        .map_err(|_| Rejection::BadQuery)
}

fn reject(rejection: Rejection) -> Response {
    let status = rejection.status();
    // Reasons quote what the request sent: escaped, so that no value can
    // split the log line or reach the terminal as a control sequence.
    let reason = rejection.to_string();
    tracing::warn!(status = status.as_u16(), reason = %reason.escape_debug(), "wechat callback request rejected");
    (status, reason).into_response()
}

fn plain(status: StatusCode, body: impl Into<Body>) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body.into(),
    )
        .into_response()
}

async fn verify_url(State(shared): State<Arc<Shared>>, uri: Uri) -> Response {
    let query = match parse_query(&uri) {
        Ok(q) => q,
        Err(r) => return reject(r),
    };
    let verified = match envelope::verify_url(&shared.config, &query, now_unix()) {
        Ok(verified) => verified,
        Err(r) => return reject(r),
    };
    // The query is used up: it can never carry a push.
    let sink = &shared.sink;
    let recorded = guarded(&shared, &verified.replay_key, |request| async move {
        match sink {
            Sink::Recorder(recorder) => recorder
                .record_request(request)
                .await
                .map_err(Rejection::NotRecorded),
            Sink::Queue(_) => Ok(()),
        }
    })
    .await;
    match recorded {
        Ok(()) => {
            tracing::info!("wechat callback URL verified");
            plain(StatusCode::OK, verified.echostr.to_owned())
        }
        Err(r) => reject(r),
    }
}

async fn receive_push(State(shared): State<Arc<Shared>>, uri: Uri, body: Body) -> Response {
    match accept(&shared, &uri, body).await {
        Ok(()) => plain(StatusCode::OK, "success"),
        Err(r) => reject(r),
    }
}

async fn accept(shared: &Shared, uri: &Uri, body: Body) -> Result<(), Rejection> {
    let query = parse_query(uri)?;
    let body = read_body(body, &shared.config).await?;
    let opened = envelope::open_push(&shared.config, &query, &body, now_unix())?;
    let OpenedPush {
        push, replay_key, ..
    } = opened;
    guarded(shared, &replay_key, |request| {
        deliver(shared, push, request)
    })
    .await
}

/// Runs `handle` for a request the replay guard has not seen, and settles
/// the guard with its outcome. A retry of an accepted request is answered
/// at once; a copy that arrives while the first is being handled waits for
/// it; the same query with other content is refused as a replay.
async fn guarded<F, Fut>(shared: &Shared, key: &ReplayKey<'_>, handle: F) -> Result<(), Rejection>
where
    F: FnOnce(SeenRequest) -> Fut,
    Fut: Future<Output = Result<(), Rejection>>,
{
    let verdict = lock(&shared.replay).check(key, now_unix())?;
    match verdict {
        Verdict::Retry => {
            tracing::debug!("retry of an accepted request; answered without delivering");
            Ok(())
        }
        Verdict::InFlight(mut outcome) => {
            let wait = outcome.wait_for(Option::is_some);
            match tokio::time::timeout(shared.config.enqueue_timeout, wait).await {
                Ok(Ok(accepted)) if *accepted == Some(true) => Ok(()),
                _ => Err(Rejection::NotRecorded(RecordError::EarlierCopyPending)),
            }
        }
        Verdict::New(request) => {
            // Settles the guard even if this future is dropped half-way (the
            // client hung up): the request is then forgotten, so a retry
            // gets through, and copies waiting on it are told.
            let mut claim = Claim {
                shared,
                timestamp: key.timestamp,
                nonce: key.nonce,
                accepted: false,
            };
            let outcome = handle(request).await;
            claim.accepted = outcome.is_ok();
            outcome
        }
    }
}

struct Claim<'a> {
    shared: &'a Shared,
    timestamp: i64,
    nonce: &'a str,
    accepted: bool,
}

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        lock(&self.shared.replay).settle(self.timestamp, self.nonce, self.accepted);
    }
}

/// Hands a push to the application: recorded before the answer, or queued.
async fn deliver(shared: &Shared, push: Push, request: SeenRequest) -> Result<(), Rejection> {
    let timeout = shared.config.enqueue_timeout;
    match &shared.sink {
        Sink::Recorder(recorder) => {
            match tokio::time::timeout(timeout, recorder.record(push, request)).await {
                Ok(result) => result.map_err(Rejection::NotRecorded),
                Err(_) => Err(Rejection::NotRecorded(RecordError::TimedOut)),
            }
        }
        Sink::Queue(tx) => {
            // WeChat retries a push with a new nonce too: drop those by the
            // push's own key (MsgID, or sender and time).
            let key = push.dedup_key();
            let now = Instant::now();
            if let Some(key) = &key {
                let mut accepted = lock(&shared.accepted);
                if accepted.get(key, now).is_some() {
                    tracing::debug!(key = %key.escape_debug(), "duplicate push; answered without delivering");
                    return Ok(());
                }
                accepted.insert(key.clone(), (), now);
            }
            let sent = tx.send_timeout(push, timeout).await;
            if sent.is_err() {
                // Forget it, so that WeChat's retry is accepted.
                if let Some(key) = &key {
                    lock(&shared.accepted).remove(key);
                }
                return Err(Rejection::QueueFull);
            }
            Ok(())
        }
    }
}

async fn read_body(body: Body, config: &CallbackConfig) -> Result<Bytes, Rejection> {
    let limit = config.max_body_bytes;
    let read = axum::body::to_bytes(body, limit);
    let read = match tokio::time::timeout(config.body_timeout, read).await {
        Ok(read) => read,
        Err(_) => return Err(Rejection::BodyTimeout(config.body_timeout)),
    };
    read.map_err(|e| {
        let too_large = std::error::Error::source(&e)
            .is_some_and(|s| s.is::<http_body_util::LengthLimitError>());
        if too_large {
            Rejection::BodyTooLarge { limit }
        } else {
            Rejection::BodyUnreadable(e.to_string())
        }
    })
}

/// A poisoned lock only means another request panicked mid-update; the maps
/// stay consistent enough to keep serving.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
