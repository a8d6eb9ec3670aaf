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
//! - **busy**: the router has the request. Its body must arrive whole within
//!   [`ServeLimits::body_timeout`] of the end of its headers (a body
//!   trickled a byte at a time fails, and the connection closes).
//!
//! A byte arriving on an idle connection wakes the watchdog at once, so the
//! header deadline runs from a request's first byte, not from whenever the
//! idle one would have fallen due.
//!
//! Connections beyond [`ServeLimits::max_connections`], or beyond
//! [`ServeLimits::max_connections_per_address`] from one address, are
//! closed as soon as they are accepted, so `accept` itself never blocks,
//! never runs out of descriptors before the cap does, and one address
//! cannot take every slot.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
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
    /// From the end of a request's headers to the end of its body (default
    /// 30 s).
    pub body_timeout: Duration,
    /// Open connections at most; more are closed on accept (default 10,000).
    pub max_connections: usize,
    /// Open connections from one address at most; more are closed on
    /// accept (default 256). Behind a reverse proxy every client has the
    /// proxy's address: raise it to the global cap there.
    pub max_connections_per_address: usize,
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
            body_timeout: Duration::from_secs(30),
            max_connections: 10_000,
            max_connections_per_address: 256,
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
    let per_address = Arc::new(PerAddress::default());
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
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
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
        let Some(held) = per_address.hold(peer.ip(), limits.max_connections_per_address) else {
            if last_cap_warning.is_none_or(|t| t.elapsed() >= Duration::from_secs(1)) {
                tracing::warn!(
                    max_connections_per_address = limits.max_connections_per_address,
                    "one address holds its cap of connections; its new ones are closed at once"
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
            connection(stream, peer, router, limits, stop).await;
            drop(held);
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

/// Open connections by address.
#[derive(Default)]
struct PerAddress(std::sync::Mutex<std::collections::HashMap<std::net::IpAddr, usize>>);

impl PerAddress {
    /// Counts one more connection from `ip`, unless it holds `cap` already.
    fn hold(self: &Arc<Self>, ip: std::net::IpAddr, cap: usize) -> Option<Held> {
        let mut open = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let n = open.entry(ip).or_default();
        if *n >= cap.max(1) {
            return None;
        }
        *n += 1;
        Some(Held(self.clone(), ip))
    }
}

/// One counted connection; uncounted when dropped.
struct Held(Arc<PerAddress>, std::net::IpAddr);

impl Drop for Held {
    fn drop(&mut self) {
        let mut open = (self.0).0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = open.get_mut(&self.1) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.1);
            }
        }
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
    /// Wakes the watchdog when the phase changes.
    changed: tokio::sync::Notify,
}

impl Activity {
    fn new() -> Self {
        Activity {
            start: Instant::now(),
            phase: AtomicU8::new(IDLE),
            since_ms: AtomicU64::new(0),
            changed: tokio::sync::Notify::new(),
        }
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn enter(&self, phase: u8) {
        self.since_ms.store(self.now_ms(), Ordering::Relaxed);
        self.phase.store(phase, Ordering::Release);
        // A permit is kept if the watchdog is not waiting right now.
        self.changed.notify_one();
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

/// One connection from `peer`: HTTP/1.1 with keep-alive, closed by the
/// watchdog when a phase outlasts its limit. Each request carries
/// `ConnectInfo(peer)`.
async fn connection(
    stream: TcpStream,
    peer: std::net::SocketAddr,
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
        hyper::service::service_fn(move |mut request: Request<Incoming>| {
            activity.enter(BUSY);
            // Who is asking, for handlers that limit by address (axum's
            // ConnectInfo extractor reads it).
            request
                .extensions_mut()
                .insert(axum::extract::ConnectInfo(peer));
            let activity = activity.clone();
            let deadline = tokio::time::Instant::now() + limits.body_timeout;
            let expired = Arc::new(AtomicBool::new(false));
            let request =
                request.map(|body| Body::new(Deadline::new(body, deadline, expired.clone())));
            let response = router.clone().oneshot(request);
            async move {
                let mut response = response.await;
                if expired.load(Ordering::Acquire) {
                    // Whatever the handler made of a body cut short, the
                    // client was too slow: 408, and the connection closes.
                    response = Ok(too_slow());
                }
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
            // A request began (or ended): its phase has another deadline.
            () = activity.changed.notified() => {}
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

/// A request body that fails once `deadline` passes before its end: a body
/// trickled in a byte at a time cannot hold a connection (and a handler)
/// for longer than [`ServeLimits::body_timeout`].
struct Deadline {
    inner: Incoming,
    sleep: Pin<Box<tokio::time::Sleep>>,
    /// Set when the deadline cut the body short.
    expired: Arc<AtomicBool>,
}

impl Deadline {
    fn new(inner: Incoming, deadline: tokio::time::Instant, expired: Arc<AtomicBool>) -> Self {
        Deadline {
            inner,
            sleep: Box::pin(tokio::time::sleep_until(deadline)),
            expired,
        }
    }
}

/// 408, closing the connection.
fn too_slow() -> axum::response::Response {
    axum::response::Response::builder()
        .status(axum::http::StatusCode::REQUEST_TIMEOUT)
        .header(axum::http::header::CONNECTION, "close")
        .body(Body::from("the request body took too long\n"))
        .unwrap_or_default()
}

impl hyper::body::Body for Deadline {
    type Data = bytes::Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        if let Poll::Ready(frame) = Pin::new(&mut self.inner).poll_frame(cx) {
            return Poll::Ready(frame.map(|f| f.map_err(Into::into)));
        }
        match self.sleep.as_mut().poll(cx) {
            Poll::Ready(()) => {
                self.expired.store(true, Ordering::Release);
                Poll::Ready(Some(Err("the request body took too long".into())))
            }
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.inner.size_hint()
    }
}
