//! The accept loop for a receiver on the internet: [`serve`] runs a router
//! over HTTP/1.1 with a cap on open connections and a watchdog on each one.
//!
//! `axum::serve` waits for ever: a connection that sends half a header, or
//! nothing, holds a file descriptor until the client goes away, and enough
//! of them starve `accept`. Here every connection is in one of three phases,
//! each with its own limit:
//!
//! - **idle**: no byte of a request yet (just opened, or after a response):
//!   closed after [`ServeLimits::idle_timeout`];
//! - **headers**: a request has begun but its headers are not complete:
//!   closed after [`ServeLimits::header_timeout`] (slow-loris);
//! - **busy**: the router has the request. Reading its body is bounded by
//!   the router's own body timeout ([`crate::CallbackConfigBuilder::body_timeout`]).
//!
//! Connections beyond [`ServeLimits::max_connections`] are closed as soon as
//! they are accepted, so `accept` itself never blocks and never runs out of
//! descriptors before the cap does.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tower::ServiceExt;

/// Limits of [`serve`]; every one has a safe default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServeLimits {
    /// From the first byte of a request to the end of its headers (default
    /// 5 s; WeChat sends a push's headers in one packet).
    pub header_timeout: Duration,
    /// How long a connection may stay open with no request on it, new or
    /// kept alive after a response (default 15 s).
    pub idle_timeout: Duration,
    /// Open connections at most; more are closed on accept (default 10,000).
    pub max_connections: usize,
    /// Largest request head, in bytes (default 16 KiB; a push's is < 1 KiB).
    pub max_header_bytes: usize,
    /// How long a shutdown waits for requests in progress (default 5 s).
    pub shutdown_grace: Duration,
}

impl Default for ServeLimits {
    fn default() -> Self {
        ServeLimits {
            header_timeout: Duration::from_secs(5),
            idle_timeout: Duration::from_secs(15),
            max_connections: 10_000,
            max_header_bytes: 16 * 1024,
            shutdown_grace: Duration::from_secs(5),
        }
    }
}

/// Binds `addr` with a deep accept queue (4,096, as far as the kernel's
/// `somaxconn` allows; `TcpListener::bind` asks for 128). Connections that
/// arrive faster than they are accepted wait there instead of having their
/// SYN dropped, which costs the client a one-second retransmission: with
/// hundreds of idle connections arriving at once, a valid push would too.
pub async fn bind(addr: &str) -> std::io::Result<TcpListener> {
    let mut last_error = None;
    for addr in tokio::net::lookup_host(addr).await? {
        let socket = match addr {
            std::net::SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
            std::net::SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
        };
        socket.set_reuseaddr(true)?;
        match socket.bind(addr).and_then(|()| socket.listen(4096)) {
            Ok(listener) => return Ok(listener),
            Err(error) => last_error = Some(error),
        }
    }
    Err(last_error.unwrap_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "the address resolves to nothing",
        )
    }))
}

/// Serves `router` on `listener` until `shutdown` resolves, within `limits`.
///
/// ```no_run
/// use wxmass_callback::{CallbackConfig, ServeLimits};
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let config = CallbackConfig::builder("mytoken", "wx1234567890abcdef")
///     .aes_key("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG")
///     .build()?;
/// let (router, _pushes) = wxmass_callback::router(config);
/// let listener = wxmass_callback::bind("0.0.0.0:8080").await?;
/// wxmass_callback::serve(listener, router, ServeLimits::default(), async {
///     let _ = tokio::signal::ctrl_c().await;
/// })
/// .await;
/// # Ok(())
/// # }
/// ```
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ServeLimits,
    shutdown: impl Future<Output = ()> + Send,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let mut connections = tokio::task::JoinSet::new();
    let mut last_accept_warning: Option<Instant> = None;
    let mut last_cap_warning: Option<Instant> = None;
    let (stopping, stop) = tokio::sync::watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
            // Reap finished connection tasks as they end.
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
        };
        let stream = match accepted {
            Ok((stream, _peer)) => stream,
            Err(error) => {
                // Out of descriptors, or a connection reset before accept:
                // back off a little instead of spinning, and say so at most
                // once a second.
                if last_accept_warning.is_none_or(|t| t.elapsed() >= Duration::from_secs(1)) {
                    tracing::warn!(%error, "accept failed");
                    last_accept_warning = Some(Instant::now());
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            if last_cap_warning.is_none_or(|t| t.elapsed() >= Duration::from_secs(1)) {
                tracing::warn!(
                    max_connections = limits.max_connections,
                    "connection cap reached; new connections are closed at once"
                );
                last_cap_warning = Some(Instant::now());
            }
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let stop = stop.clone();
        connections.spawn(async move {
            connection(stream, router, limits, stop).await;
            drop(slot);
        });
    }
    // Stop accepting; let requests in progress finish, for a moment.
    drop(listener);
    stopping.send_replace(true);
    let drained = async { while connections.join_next().await.is_some() {} };
    if tokio::time::timeout(limits.shutdown_grace, drained)
        .await
        .is_err()
    {
        connections.shutdown().await;
    }
}

/// The phases of a connection, as the watchdog sees them.
const IDLE: u8 = 0;
const HEADERS: u8 = 1;
const BUSY: u8 = 2;

/// What a connection is doing, and since when (milliseconds after `start`).
struct Activity {
    start: Instant,
    phase: AtomicU8,
    since_ms: AtomicU64,
}

impl Activity {
    fn new() -> Self {
        Activity {
            start: Instant::now(),
            phase: AtomicU8::new(IDLE),
            since_ms: AtomicU64::new(0),
        }
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn enter(&self, phase: u8) {
        self.since_ms.store(self.now_ms(), Ordering::Relaxed);
        self.phase.store(phase, Ordering::Release);
    }

    /// Bytes arrived: an idle connection has begun a request.
    fn bytes_read(&self) {
        if self.phase.load(Ordering::Acquire) == IDLE {
            self.enter(HEADERS);
        }
    }

    /// When the current phase runs out, if it has a limit here.
    fn deadline(&self, limits: &ServeLimits) -> Option<Instant> {
        let limit = match self.phase.load(Ordering::Acquire) {
            IDLE => limits.idle_timeout,
            HEADERS => limits.header_timeout,
            _ => return None,
        };
        let since = Duration::from_millis(self.since_ms.load(Ordering::Relaxed));
        Some(self.start + since + limit)
    }
}

/// One connection: HTTP/1.1 with keep-alive, closed by the watchdog when a
/// phase outlasts its limit.
async fn connection(
    stream: TcpStream,
    router: Router,
    limits: ServeLimits,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let activity = Arc::new(Activity::new());
    let io = TokioIo::new(Watched {
        inner: stream,
        activity: activity.clone(),
    });
    let service = {
        let activity = activity.clone();
        hyper::service::service_fn(move |request: Request<Incoming>| {
            activity.enter(BUSY);
            let activity = activity.clone();
            let response = router.clone().oneshot(request.map(Body::new));
            async move {
                let response = response.await;
                activity.enter(IDLE);
                response
            }
        })
    };
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .keep_alive(true)
        .max_buf_size(limits.max_header_bytes.max(8192));
    let conn = builder.serve_connection(io, service);
    tokio::pin!(conn);
    loop {
        // While busy there is no limit here; look again later, since the
        // phase changes without waking this task.
        let deadline = activity
            .deadline(&limits)
            .unwrap_or_else(|| Instant::now() + limits.header_timeout.max(Duration::from_secs(1)));
        tokio::select! {
            _ = conn.as_mut() => return,
            Ok(()) = stop.changed() => {
                // Finish the request in progress, if any, then close.
                conn.as_mut().graceful_shutdown();
            }
            () = tokio::time::sleep_until(deadline.into()) => {
                if activity.deadline(&limits).is_some_and(|d| d <= Instant::now()) {
                    // Idle or slow: drop the connection.
                    return;
                }
            }
        }
    }
}

/// A stream that tells its [`Activity`] when bytes arrive.
struct Watched {
    inner: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.bytes_read();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}
