//! The axum [`Router`] that receives WeChat's requests: URL verification on
//! GET, pushes on POST.
//!
//! Each accepted push is answered `success` as soon as it is queued; the
//! application takes it from a channel ([`router`]) or a [`PushHandler`]
//! ([`router_with_handler`]) on its own time, so a slow handler never makes
//! WeChat wait past its 5 s. Retries of a push already accepted are answered
//! `success` and not delivered again.

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
use crate::envelope::{self, OpenedPush, PushQuery, Rejection};
use crate::event::Push;
use crate::expiring::ExpiringMap;
use crate::signature::{ReplayGuard, Seen};

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
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
/// axum::serve(listener, app).await?;
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
    (build(config, Sink::Queue(tx)), rx)
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
pub type RecordFuture = std::pin::Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;

/// Makes a push durable before WeChat is answered: the router answers
/// `success` only once `record` has succeeded, and 503 (so that WeChat
/// retries) when it fails or takes longer than the enqueue timeout. Use it
/// when a push must survive the receiver being killed right after answering.
pub trait PushRecorder: Send + Sync + 'static {
    /// Records the push. Called once per push, retries excluded.
    fn record(&self, push: Push) -> RecordFuture;
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
    accepted: Mutex<ExpiringMap<String, ()>>,
    sink: Sink,
}

/// A router that answers `success` only after `recorder` has recorded the push.
pub fn router_with_recorder<R: PushRecorder>(config: CallbackConfig, recorder: R) -> Router {
    build(config, Sink::Recorder(Arc::new(recorder)))
}

fn build(config: CallbackConfig, sink: Sink) -> Router {
    let window = config
        .timestamp_window
        .unwrap_or(std::time::Duration::from_secs(300));
    let shared = Arc::new(Shared {
        replay: Mutex::new(ReplayGuard::new(window, config.memory_capacity)),
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
    tracing::warn!(status = status.as_u16(), reason = %rejection, "wechat callback request rejected");
    (status, rejection.to_string()).into_response()
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
    match envelope::verify_url(&shared.config, &query, now_unix()) {
        Ok(echostr) => {
            tracing::info!("wechat callback URL verified");
            plain(StatusCode::OK, echostr.to_owned())
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
    let body = read_body(body, shared.config.max_body_bytes).await?;
    let opened = envelope::open_push(&shared.config, &query, &body, now_unix())?;
    let OpenedPush {
        push, replay_key, ..
    } = opened;

    let now = Instant::now();
    let seen = lock(&shared.replay).check_and_record(
        replay_key.timestamp,
        replay_key.nonce,
        replay_key.signature,
        replay_key.body_digest,
        now,
    )?;
    if seen == Seen::Duplicate {
        tracing::debug!("retry of an accepted request; answered without delivering");
        return Ok(());
    }
    let key = push.dedup_key();
    if let Some(key) = &key {
        let mut accepted = lock(&shared.accepted);
        if accepted.get(key, now).is_some() {
            tracing::debug!(key = %key, "duplicate push; answered without delivering");
            return Ok(());
        }
        accepted.insert(key.clone(), (), now);
    }
    let timeout = shared.config.enqueue_timeout;
    let delivered = match &shared.sink {
        Sink::Queue(tx) => tx
            .send_timeout(push, timeout)
            .await
            .map_err(|_| Rejection::QueueFull),
        Sink::Recorder(recorder) => {
            match tokio::time::timeout(timeout, recorder.record(push)).await {
                Ok(Ok(())) => Ok(()),
                Ok(Err(reason)) => Err(Rejection::NotRecorded(reason)),
                Err(_) => Err(Rejection::NotRecorded("recording took too long".into())),
            }
        }
    };
    match delivered {
        Ok(()) => Ok(()),
        Err(rejection) => {
            // Forget it, so that WeChat's retry is accepted.
            if let Some(key) = &key {
                lock(&shared.accepted).remove(key);
            }
            lock(&shared.replay).forget(
                replay_key.timestamp,
                replay_key.nonce,
                replay_key.signature,
            );
            Err(rejection)
        }
    }
}

async fn read_body(body: Body, limit: usize) -> Result<Bytes, Rejection> {
    axum::body::to_bytes(body, limit).await.map_err(|e| {
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
