//! The [`Client`]: configuration, the token manager, and the one function
//! every API call goes through ([`Client::call`]), which adds the token,
//! reacts to the errcode, retries what is safe to retry, and fails over to
//! the next host when one cannot be reached.

use std::sync::{Arc, Mutex as StdMutex};
use std::time::Duration;

use rand::RngExt as _;
use serde_json::Value;
use tokio::sync::Mutex;

use crate::error::{Errcode, Error, Reaction, Result, split_rid};
use crate::secret::Secret;
use crate::token::{CachedToken, MemoryStore, RefreshTokens, StoreFuture, TokenStore, now_ms};

/// The hosts of wechat-api.md §18, in failover order.
pub const DEFAULT_HOSTS: [&str; 5] = [
    "https://api.weixin.qq.com",
    "https://api2.weixin.qq.com",
    "https://sh.api.weixin.qq.com",
    "https://sz.api.weixin.qq.com",
    "https://hk.api.weixin.qq.com",
];

/// Which endpoint tokens come from (§1); the two kinds are isolated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TokenMode {
    /// `POST /cgi-bin/stable_token`: the same token for every caller until it
    /// nears expiry, so independent processes do not knock each other out.
    #[default]
    Stable,
    /// `GET /cgi-bin/token`: each fetch issues a new token (the old one lives
    /// 5 more minutes).
    Classic,
}

/// How transient failures are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// The first backoff; it doubles each retry, with ±50% jitter.
    pub base_delay: Duration,
    /// The longest backoff.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 4,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    fn delay(&self, retry: u32) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(2u32.saturating_pow(retry))
            .min(self.max_delay);
        let jitter = rand::rng().random_range(0.5..1.5);
        exp.mul_f64(jitter).min(self.max_delay)
    }
}

/// Builds a [`Client`].
#[derive(Debug)]
pub struct ClientBuilder {
    pub(crate) appid: String,
    pub(crate) secret: Secret,
    hosts: Vec<String>,
    timeout: Duration,
    connect_timeout: Duration,
    token_mode: TokenMode,
    retry: RetryPolicy,
    pub(crate) store: Option<Arc<dyn TokenStore>>,
    pub(crate) refresh_tokens: Option<Arc<dyn RefreshTokens>>,
    refresh_ahead: Duration,
    clock: Option<NowFn>,
}

/// Unix milliseconds now, as a client's tokens judge their expiry.
pub type Now = Arc<dyn Fn() -> i64 + Send + Sync>;

impl std::fmt::Debug for dyn TokenStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenStore")
    }
}

impl std::fmt::Debug for dyn RefreshTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RefreshTokens")
    }
}

impl ClientBuilder {
    /// API base URLs, tried in order when one cannot be reached (default:
    /// the five hosts of §18). Point it at the emulator for tests.
    pub fn base_urls<I, S>(mut self, urls: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.hosts = urls.into_iter().map(Into::into).collect();
        self
    }

    /// One API base URL.
    pub fn base_url(self, url: impl Into<String>) -> Self {
        self.base_urls([url.into()])
    }

    /// Time allowed for a whole request (default 30 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Time allowed to connect (default 5 s); a connect failure moves to the next host.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Stable (default) or classic tokens.
    pub fn token_mode(mut self, mode: TokenMode) -> Self {
        self.token_mode = mode;
        self
    }

    /// The retry policy.
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Where tokens are shared (default: in memory, this process only).
    pub fn token_store(mut self, store: Arc<dyn TokenStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// Where a platform keeps its authorised accounts' refresh tokens
    /// (default: the token store; see [`RefreshTokens`]). Only
    /// [`build_component`](Self::build_component) uses it.
    pub fn refresh_tokens(mut self, refresh_tokens: Arc<dyn RefreshTokens>) -> Self {
        self.refresh_tokens = Some(refresh_tokens);
        self
    }

    /// The clock tokens' expiry is judged by (default the machine's): a
    /// server whose clock tests move with the emulator's (`--movable-clock`)
    /// refreshes its tokens as their ends come on that clock.
    pub fn clock(mut self, now_ms: Now) -> Self {
        self.clock = Some(NowFn(now_ms));
        self
    }

    /// How long before expiry a token is replaced (default 5 minutes, the
    /// window in which a stable token rotates).
    pub fn refresh_ahead(mut self, margin: Duration) -> Self {
        self.refresh_ahead = margin;
        self
    }

    /// Checks the settings and builds the client. Installs rustls's `ring`
    /// provider if no provider is installed yet.
    pub fn build(self) -> Result<Client> {
        let credential = Credential::Account {
            secret: self.secret.clone(),
            mode: self.token_mode,
        };
        self.build_with(credential)
    }

    pub(crate) fn build_with(self, credential: Credential) -> Result<Client> {
        if self.appid.trim().is_empty() {
            return Err(Error::Invalid(
                "appid is empty; it is the account's AppID (wx...)".into(),
            ));
        }
        if self.secret.is_empty() {
            return Err(Error::Invalid(
                "secret is empty; it is the account's AppSecret".into(),
            ));
        }
        let mut hosts = Vec::with_capacity(self.hosts.len());
        for host in &self.hosts {
            let usage = "give a whole URL such as https://api.weixin.qq.com, or http://127.0.0.1:8085 for the emulator";
            let url = url::Url::parse(host).map_err(|e| {
                Error::Invalid(format!("base URL {host:?} is not a URL ({e}): {usage}"))
            })?;
            if !matches!(url.scheme(), "http" | "https") {
                return Err(Error::Invalid(format!(
                    "base URL {host:?} must start with http:// or https://: {usage}"
                )));
            }
            hosts.push(host.trim_end_matches('/').to_owned());
        }
        if hosts.is_empty() {
            return Err(Error::Invalid("no base URL".into()));
        }
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(self.timeout)
            .connect_timeout(self.connect_timeout)
            .pool_max_idle_per_host(64)
            .build()
            .map_err(|e| Error::Invalid(format!("HTTP client: {e}")))?;
        let store = self.store.unwrap_or_else(|| Arc::new(MemoryStore::new()));
        let now = self.clock.unwrap_or_else(|| NowFn(Arc::new(now_ms)));
        Ok(Client {
            inner: Arc::new(Inner {
                tokens: TokenManager::new(
                    credential.token_key(&self.appid),
                    store,
                    self.refresh_ahead,
                    now,
                ),
                appid: self.appid,
                credential,
                hosts,
                http,
                retry: self.retry,
            }),
        })
    }
}

/// Where a client's access token comes from.
pub(crate) enum Credential {
    /// The account's own AppSecret (`stable_token` or `token`).
    Account { secret: Secret, mode: TokenMode },
    /// Elsewhere: a third-party platform's token, or an authorised
    /// account's ([`crate::api::component`]).
    Source(Arc<dyn TokenSource>),
}

/// A token that does not come from the account's own AppSecret.
pub(crate) trait TokenSource: Send + Sync + 'static {
    /// Fetches a new one for `client` (no cache involved).
    fn fetch<'a>(&'a self, client: &'a Client) -> StoreFuture<'a, CachedToken>;
    /// What kind it is, in the store's key (`component`, ...).
    fn kind(&self) -> String;
    /// The query parameter it goes in.
    fn param(&self) -> &'static str;
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the secret.
        f.write_str(match self {
            Credential::Account { .. } => "Account",
            Credential::Source(_) => "Source",
        })
    }
}

impl Credential {
    /// The store's key for the token: one per account and kind, so that
    /// an account's own token and the one a platform holds for it never
    /// meet.
    fn token_key(&self, appid: &str) -> String {
        match self {
            Credential::Account {
                mode: TokenMode::Stable,
                ..
            } => format!("wxmass:token:{appid}:stable"),
            Credential::Account {
                mode: TokenMode::Classic,
                ..
            } => format!("wxmass:token:{appid}:classic"),
            Credential::Source(source) => format!("wxmass:token:{appid}:{}", source.kind()),
        }
    }

    /// The query parameter the token travels in.
    fn token_param(&self) -> &'static str {
        match self {
            Credential::Source(source) => source.param(),
            Credential::Account { .. } => "access_token",
        }
    }
}

/// The WeChat client. Cheap to clone; share one per account.
///
/// ```no_run
/// # async fn run() -> wxmass_api::Result<()> {
/// use wxmass_api::{Audience, Client, Message};
/// let client = Client::builder("wx1234567890abcdef", "the AppSecret").build()?;
/// let sent = client
///     .mass()
///     .send(&Message::text("Hello, followers"), &Audience::Tag(100))
///     .await?;
/// println!("{sent:?}");
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    appid: String,
    credential: Credential,
    hosts: Vec<String>,
    http: reqwest::Client,
    retry: RetryPolicy,
    tokens: TokenManager,
}

/// The body of a request.
#[derive(Debug, Clone)]
pub(crate) enum Body {
    None,
    /// Serialised JSON.
    Json(String),
    /// A file under form field `media`, plus text fields; rebuilt per attempt.
    Multipart {
        file_name: String,
        mime: &'static str,
        data: bytes::Bytes,
        fields: Vec<(&'static str, String)>,
    },
}

/// One API call.
#[derive(Debug, Clone)]
pub(crate) struct Call {
    pub get: bool,
    pub path: &'static str,
    pub query: Vec<(&'static str, String)>,
    pub body: Body,
    /// Whether sending it twice is harmless (reads, idempotent updates,
    /// uploads, mass sends with a clientmsgid).
    pub safe_to_repeat: bool,
    pub needs_token: bool,
}

impl Call {
    pub fn get(path: &'static str) -> Self {
        Self {
            get: true,
            path,
            query: Vec::new(),
            body: Body::None,
            safe_to_repeat: true,
            needs_token: true,
        }
    }

    pub fn post(path: &'static str, body: Value) -> Self {
        // Serialised once: retries resend the same bytes.
        Self::post_body(path, Body::Json(body.to_string()))
    }

    pub fn post_body(path: &'static str, body: Body) -> Self {
        Self {
            get: false,
            path,
            query: Vec::new(),
            body,
            safe_to_repeat: true,
            needs_token: true,
        }
    }

    pub fn query(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.query.push((name, value.into()));
        self
    }

    pub fn unsafe_to_repeat(mut self) -> Self {
        self.safe_to_repeat = false;
        self
    }
}

/// What one attempt produced.
enum Attempt {
    /// A JSON body (errcode not yet looked at), or raw bytes.
    Answer(Answer),
    /// Nothing was sent: every host refused the connection.
    Unreachable(String),
    /// Sent, but no complete answer: the request may have been processed.
    Lost(String),
    /// An HTTP status WeChat does not use for API errors.
    Status(u16),
}

/// A successful HTTP answer.
#[derive(Debug)]
pub(crate) enum Answer {
    Json(Value),
    Bytes {
        content_type: String,
        data: bytes::Bytes,
    },
}

impl Client {
    /// Starts building a client for an account.
    pub fn builder(appid: impl Into<String>, secret: impl Into<Secret>) -> ClientBuilder {
        ClientBuilder {
            appid: appid.into(),
            secret: secret.into(),
            hosts: DEFAULT_HOSTS.iter().map(|h| h.to_string()).collect(),
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(5),
            token_mode: TokenMode::default(),
            retry: RetryPolicy::default(),
            store: None,
            refresh_tokens: None,
            clock: None,
            refresh_ahead: Duration::from_secs(300),
        }
    }

    /// The account's AppID.
    pub fn appid(&self) -> &str {
        &self.inner.appid
    }

    /// A valid access token, fetched if needed.
    pub async fn access_token(&self) -> Result<Secret> {
        self.inner.tokens.get(self).await
    }

    /// Fetches a new token now, whatever the cache holds: `stable_token`
    /// with `force_refresh` (WeChat allows 20 a day, 30 s apart; sooner, it
    /// answers with the current token), or a classic `token` call, which
    /// always issues a new one. Either way the previous token keeps working
    /// for a few minutes.
    pub async fn refresh_token(&self) -> Result<CachedToken> {
        let _guard = self.inner.tokens.refresh.lock().await;
        let token = self.fetch_token(true).await?;
        self.inner
            .tokens
            .store
            .save(&self.inner.tokens.key, &token)
            .await?;
        self.inner.tokens.remember(&token);
        Ok(token)
    }

    /// A client for `appid` whose token comes from `source` (an account
    /// that authorised the platform this client is for): it shares this
    /// client's connections, hosts, retry policy, clock and token store.
    pub(crate) fn sharing(&self, source: Arc<dyn TokenSource>, appid: &str) -> Client {
        let credential = Credential::Source(source);
        let tokens = &self.inner.tokens;
        Client {
            inner: Arc::new(Inner {
                tokens: TokenManager::new(
                    credential.token_key(appid),
                    tokens.store.clone(),
                    tokens.refresh_ahead,
                    tokens.now.clone(),
                ),
                appid: appid.to_owned(),
                credential,
                hosts: self.inner.hosts.clone(),
                http: self.inner.http.clone(),
                retry: self.inner.retry,
            }),
        }
    }

    /// The store tokens are shared through.
    pub(crate) fn token_store(&self) -> &Arc<dyn TokenStore> {
        &self.inner.tokens.store
    }

    /// Keeps `token`, which an answer carried unasked (`api_query_auth`
    /// hands over the account's first token), as this client's token.
    pub(crate) async fn keep_token(&self, token: &CachedToken) -> Result<()> {
        let tokens = &self.inner.tokens;
        tokens.store.save(&tokens.key, token).await?;
        tokens.remember(token);
        Ok(())
    }

    /// The token as cached, without fetching.
    pub async fn cached_token(&self) -> Result<Option<CachedToken>> {
        self.inner.tokens.store.load(&self.inner.tokens.key).await
    }

    /// Calls an API and returns its JSON body after the errcode check.
    pub(crate) async fn call(&self, call: Call) -> Result<Value> {
        match self.call_raw(call).await? {
            Answer::Json(v) => Ok(v),
            Answer::Bytes { .. } => Err(Error::Decode {
                path: "(json call)".into(),
                message: "expected JSON, got a file".into(),
            }),
        }
    }

    /// Calls an API; the answer may be a file (`media/get`).
    pub(crate) async fn call_raw(&self, call: Call) -> Result<Answer> {
        let mut acted = None;
        match self.attempts(&call, &mut acted).await {
            // A repeat that did nothing does not undo an earlier attempt
            // that may have acted (its answer lost, or a 5xx): the caller
            // learns that an answer was lost, not that nothing was done,
            // or it would send again, unkeyed, what may have arrived.
            Err(e) if e.says_nothing_was_done() => match acted {
                Some(message) => Err(Error::AnswerLost {
                    path: call.path.to_owned(),
                    message: format!("{message}; a repeat then failed: {e}"),
                }),
                None => Err(e),
            },
            other => other,
        }
    }

    /// [`Client::call_raw`]'s attempts, with its retries; `acted` keeps
    /// why an attempt may have acted without its answer arriving.
    async fn attempts(&self, call: &Call, acted: &mut Option<String>) -> Result<Answer> {
        let retry = self.inner.retry;
        let mut refreshed = false;
        let mut retries = 0u32;
        loop {
            let token = if call.needs_token {
                Some(self.access_token().await?)
            } else {
                None
            };
            let started = std::time::Instant::now();
            let attempt = self.attempt(call, token.as_ref()).await;
            // The path only: the token and secret travel in the query and
            // body, never in a log line.
            let elapsed_ms = started.elapsed().as_millis() as u64;
            // For whoever installs a metrics recorder (the server's
            // /metrics); a no-op otherwise.
            metrics::histogram!("wxmass_wechat_call_seconds", "path" => call.path)
                .record(started.elapsed().as_secs_f64());
            let failure = match attempt {
                Attempt::Answer(Answer::Json(body)) => {
                    let code = body.get("errcode").and_then(Value::as_i64).unwrap_or(0);
                    tracing::debug!(
                        path = call.path,
                        errcode = code,
                        elapsed_ms,
                        "called WeChat"
                    );
                    if code == 0 {
                        return Ok(Answer::Json(body));
                    }
                    let errcode = Errcode::from_code(code);
                    let errmsg = body
                        .get("errmsg")
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    let (errmsg, rid) = split_rid(errmsg);
                    let msg_id = body.get("msg_id").and_then(as_i64);
                    let error = Error::Api {
                        path: call.path.to_owned(),
                        code: errcode,
                        errmsg,
                        rid,
                        msg_id,
                    };
                    match errcode.reaction() {
                        Reaction::RefreshToken if call.needs_token && !refreshed => {
                            // Drop the token only if it is still the one that failed.
                            if let Some(t) = &token {
                                self.inner.tokens.invalidate(t.expose()).await?;
                            }
                            refreshed = true;
                            tracing::debug!(
                                path = call.path,
                                code,
                                "token rejected; refreshing once"
                            );
                            continue;
                        }
                        Reaction::Retry if call.safe_to_repeat => error,
                        _ => return Err(error),
                    }
                }
                Attempt::Answer(answer) => return Ok(answer),
                // Nothing reached WeChat: always safe to try again.
                Attempt::Unreachable(message) => Error::Transport {
                    path: call.path.to_owned(),
                    message,
                },
                Attempt::Lost(message) if call.safe_to_repeat => {
                    *acted = Some(message.clone());
                    Error::AnswerLost {
                        path: call.path.to_owned(),
                        message,
                    }
                }
                Attempt::Lost(message) => {
                    return Err(Error::AnswerLost {
                        path: call.path.to_owned(),
                        message,
                    });
                }
                Attempt::Status(status) if call.safe_to_repeat && status >= 500 => {
                    *acted = Some(format!("{}: HTTP {status}", call.path));
                    Error::Http {
                        path: call.path.to_owned(),
                        status,
                    }
                }
                Attempt::Status(status) => {
                    return Err(Error::Http {
                        path: call.path.to_owned(),
                        status,
                    });
                }
            };
            if retries >= retry.max_retries {
                return Err(failure);
            }
            let delay = retry.delay(retries);
            retries += 1;
            tracing::debug!(path = call.path, retry = retries, ?delay, error = %failure, "retrying");
            tokio::time::sleep(delay).await;
        }
    }

    /// One attempt, over the hosts in order until one can be connected to.
    async fn attempt(&self, call: &Call, token: Option<&Secret>) -> Attempt {
        let mut last_error = String::new();
        for host in &self.inner.hosts {
            // The URL is built as one string: reqwest's `query` would parse
            // and re-serialise it on every call.
            let query = {
                let mut query = String::with_capacity(192);
                if let Some(token) = token {
                    query.push_str(self.inner.credential.token_param());
                    query.push('=');
                    push_encoded(&mut query, token.expose());
                }
                for (name, value) in &call.query {
                    if !query.is_empty() {
                        query.push('&');
                    }
                    query.push_str(name);
                    query.push('=');
                    push_encoded(&mut query, value);
                }
                query
            };
            let url = if query.is_empty() {
                format!("{host}{}", call.path)
            } else {
                format!("{host}{}?{query}", call.path)
            };
            let mut request = if call.get {
                self.inner.http.get(&url)
            } else {
                self.inner.http.post(&url)
            };
            request = match &call.body {
                Body::None => request,
                Body::Json(v) => request
                    .header("content-type", "application/json; charset=utf-8")
                    .body(v.clone()),
                Body::Multipart {
                    file_name,
                    mime,
                    data,
                    fields,
                } => {
                    let part = reqwest::multipart::Part::bytes(data.to_vec())
                        .file_name(file_name.clone())
                        .mime_str(mime)
                        .unwrap_or_else(|_| reqwest::multipart::Part::bytes(data.to_vec()));
                    let mut form = reqwest::multipart::Form::new().part("media", part);
                    for (name, value) in fields {
                        form = form.text(*name, value.clone());
                    }
                    request.multipart(form)
                }
            };
            let response = match request.send().await {
                Ok(r) => r,
                Err(e) if e.is_connect() => {
                    let error = transport_error(e);
                    tracing::debug!(host = %host, %error, "cannot connect; trying the next host");
                    last_error = format!("{host}: {error}");
                    continue;
                }
                Err(e) => return Attempt::Lost(transport_error(e)),
            };
            let status = response.status().as_u16();
            if status != 200 {
                return Attempt::Status(status);
            }
            let content_type = response
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            let data = match response.bytes().await {
                Ok(d) => d,
                Err(e) => return Attempt::Lost(transport_error(e)),
            };
            // Detect JSON by the body: WeChat's Content-Type is not reliable.
            let looks_json = data.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
            if looks_json && let Ok(v) = serde_json::from_slice::<Value>(&data) {
                return Attempt::Answer(Answer::Json(v));
            }
            if content_type.contains("json") || content_type.starts_with("text/plain") && looks_json
            {
                return Attempt::Lost(format!("{}: unreadable JSON body", call.path));
            }
            return Attempt::Answer(Answer::Bytes { content_type, data });
        }
        Attempt::Unreachable(last_error)
    }

    /// Fetches a token from WeChat (no cache involved); `force` asks
    /// `stable_token` for a new one.
    async fn fetch_token(&self, force: bool) -> Result<CachedToken> {
        let inner = &self.inner;
        let (secret, mode) = match &inner.credential {
            Credential::Account { secret, mode } => (secret, *mode),
            Credential::Source(source) => return Box::pin(source.fetch(self)).await,
        };
        let call = match mode {
            TokenMode::Classic => Call {
                needs_token: false,
                ..Call::get("/cgi-bin/token")
                    .query("grant_type", "client_credential")
                    .query("appid", inner.appid.clone())
                    .query("secret", secret.expose().to_owned())
            },
            TokenMode::Stable => Call {
                needs_token: false,
                ..Call::post(
                    "/cgi-bin/stable_token",
                    serde_json::json!({
                        "grant_type": "client_credential",
                        "appid": inner.appid,
                        "secret": secret.expose(),
                        "force_refresh": force,
                    }),
                )
            },
        };
        let path = call.path;
        metrics::counter!("wxmass_token_fetches_total").increment(1);
        // Boxed: a business call may need a token, whose fetch is a call.
        let body = Box::pin(self.call(call)).await?;
        token_of(path, &body, "access_token", self.now_ms())
    }

    /// Unix milliseconds now, on the clock tokens are judged by.
    pub(crate) fn now_ms(&self) -> i64 {
        (self.inner.tokens.now.0)()
    }
}

/// The token an answer carries in `field`, with its `expires_in` (7,200
/// seconds when absent).
pub(crate) fn token_of(path: &str, body: &Value, field: &str, now_ms: i64) -> Result<CachedToken> {
    let token = body
        .get(field)
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| Error::Decode {
            path: path.into(),
            message: format!("no {field}"),
        })?;
    let expires_in = body
        .get("expires_in")
        .and_then(Value::as_i64)
        .filter(|s| *s > 0)
        .unwrap_or(7200);
    Ok(CachedToken {
        token: Secret::new(token),
        expires_at_ms: now_ms + expires_in * 1000,
    })
}

/// Appends `value` form-encoded; tokens and ids are already URL-safe, and
/// are copied as they are.
fn push_encoded(out: &mut String, value: &str) {
    if value
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~'))
    {
        out.push_str(value);
    } else {
        out.extend(url::form_urlencoded::byte_serialize(value.as_bytes()));
    }
}

/// The error and its sources, one line.
/// What a failed request says, without its URL: a WeChat URL carries the
/// access token (and, for the classic token call, the AppSecret) in its
/// query, and reqwest's message names the URL.
fn transport_error(e: reqwest::Error) -> String {
    error_chain(&e.without_url())
}

fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

/// Caches the token in the process and coordinates refreshes.
#[derive(Debug)]
pub(crate) struct TokenManager {
    key: String,
    owner: String,
    store: Arc<dyn TokenStore>,
    cached: StdMutex<Option<CachedToken>>,
    refresh: Mutex<()>,
    refresh_ahead: Duration,
    now: NowFn,
}

/// A [`Now`] that debug-prints.
#[derive(Clone)]
struct NowFn(Now);

impl std::fmt::Debug for NowFn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Now")
    }
}

impl TokenManager {
    fn new(key: String, store: Arc<dyn TokenStore>, refresh_ahead: Duration, now: NowFn) -> Self {
        TokenManager {
            key,
            owner: crate::ids::random_hex(16),
            store,
            cached: StdMutex::new(None),
            refresh: Mutex::new(()),
            refresh_ahead,
            now,
        }
    }

    fn fresh_cached(&self) -> Option<Secret> {
        let cached = self.cached.lock().ok()?;
        cached
            .as_ref()
            .filter(|t| t.fresh((self.now.0)(), self.refresh_ahead))
            .map(|t| t.token.clone())
    }

    fn remember(&self, token: &CachedToken) {
        if let Ok(mut cached) = self.cached.lock() {
            *cached = Some(token.clone());
        }
    }

    async fn fresh_stored(&self) -> Result<Option<CachedToken>> {
        Ok(self
            .store
            .load(&self.key)
            .await?
            .filter(|t| t.fresh((self.now.0)(), self.refresh_ahead)))
    }

    /// A fresh token: from this process's cache, the store, or WeChat, in
    /// that order, with one fetch at a time.
    async fn get(&self, client: &Client) -> Result<Secret> {
        if let Some(token) = self.fresh_cached() {
            return Ok(token);
        }
        let _guard = self.refresh.lock().await;
        if let Some(token) = self.fresh_cached() {
            return Ok(token);
        }
        if let Some(token) = self.fresh_stored().await? {
            self.remember(&token);
            return Ok(token.token);
        }
        // Across processes: wait for the store's lock, watching for a token
        // another holder writes meanwhile.
        let lock_ttl = Duration::from_secs(10);
        let deadline = tokio::time::Instant::now() + lock_ttl + Duration::from_secs(5);
        loop {
            if self
                .store
                .try_lock(&self.key, &self.owner, lock_ttl)
                .await?
            {
                break;
            }
            if tokio::time::Instant::now() > deadline {
                return Err(Error::TokenStore(
                    "timed out waiting for another process to refresh the token".into(),
                ));
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
            if let Some(token) = self.fresh_stored().await? {
                self.remember(&token);
                return Ok(token.token);
            }
        }
        let result = async {
            if let Some(token) = self.fresh_stored().await? {
                return Ok(token);
            }
            // A stale token is replaced in the ordinary way: forcing would
            // spend the 20-a-day allowance and knock out other processes.
            let token = client.fetch_token(false).await?;
            self.store.save(&self.key, &token).await?;
            Ok(token)
        }
        .await;
        let unlocked = self.store.unlock(&self.key, &self.owner).await;
        let token = result?;
        unlocked?;
        self.remember(&token);
        Ok(token.token)
    }

    /// Drops `failed` from the cache and the store, if it is still there.
    async fn invalidate(&self, failed: &str) -> Result<()> {
        if let Ok(mut cached) = self.cached.lock()
            && cached.as_ref().is_some_and(|t| t.token.expose() == failed)
        {
            *cached = None;
        }
        self.store.invalidate(&self.key, failed).await
    }
}

/// A number that may come as a JSON number or a numeric string (WeChat
/// sends ids both ways).
pub(crate) fn as_i64(v: &Value) -> Option<i64> {
    v.as_i64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
}
