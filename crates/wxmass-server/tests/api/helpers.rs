//! The app of one test, and calls to it.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, Request};
use serde_json::Value;
use tower::ServiceExt as _;
use wxmass_server::{AppState, ServerKey};

/// A password every test user has.
pub const PASSWORD: &str = "correct horse battery staple";

/// The account the test WeChat emulates, and its AppSecret.
pub use wxmass_emulator::config::{DEFAULT_APPID as APPID, DEFAULT_SECRET as SECRET};

/// One test's server: its app, its state, the folder of its store, and the
/// emulated WeChat it calls (on a loopback port of its own).
pub struct TestApp {
    pub app: axum::Router,
    pub state: AppState,
    /// Kept running for the test's length (dropped: stopped).
    _wechat: wxmass_emulator::RunningEmulator,
    _dir: tempfile::TempDir,
    /// The app on a loopback port, when WeChat must reach it (a platform).
    serving: Option<tokio::task::JoinHandle<()>>,
    /// Its address then.
    base: Option<String>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(serving) = &self.serving {
            serving.abort();
        }
    }
}

/// The emulated platform's message token in tests.
pub const PLATFORM_TOKEN: &str = wxmass_emulator::PLATFORM_TOKEN;

impl TestApp {
    /// A server on a new SQLite store, with no users yet, calling an
    /// emulated WeChat whose account is [`APPID`].
    pub fn new() -> TestApp {
        TestApp::with_followers(0)
    }

    /// The same, with an account of `followers` followers.
    pub fn with_followers(followers: u32) -> TestApp {
        let dir = tempfile::tempdir().expect("dir");
        let store =
            wxmass_campaign::store::open_sqlite(&dir.path().join("journal.db")).expect("store");
        let key = ServerKey::load_or_create(&dir.path().join("server.key")).expect("key");
        let tokens = Arc::new(wxmass_api::MemoryStore::new());
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
        let config = wxmass_emulator::EmulatorConfig {
            followers,
            ..wxmass_emulator::EmulatorConfig::default()
        };
        let wechat = wxmass_emulator::start(config, listener).expect("emulator");
        let state = AppState::new(store, key, Some(wechat.base_url()), tokens).expect("state");
        TestApp {
            app: wxmass_server::app(state.clone()),
            state,
            _wechat: wechat,
            _dir: dir,
            serving: None,
            base: None,
        }
    }

    /// A server running as the emulator's third-party platform, serving on
    /// a loopback port (WeChat pushes to it): the platform has `accounts`
    /// accounts of `followers` followers each, besides the five release
    /// test accounts. Its first ticket is pushed at start.
    pub fn platform(accounts: u32, followers: u32) -> TestApp {
        let dir = tempfile::tempdir().expect("dir");
        let store =
            wxmass_campaign::store::open_sqlite(&dir.path().join("journal.db")).expect("store");
        let key = ServerKey::load_or_create(&dir.path().join("server.key")).expect("key");
        let tokens =
            Arc::new(wxmass_api::SqliteStore::open(dir.path().join("tokens.db")).expect("tokens"));
        let bind = || {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            listener.set_nonblocking(true).expect("nonblocking");
            tokio::net::TcpListener::from_std(listener).expect("listener")
        };
        let (server_listener, wechat_listener) = (bind(), bind());
        let server = format!("http://{}", server_listener.local_addr().expect("addr"));
        let config = wxmass_emulator::EmulatorConfig {
            platform: Some(wxmass_emulator::platform::PlatformConfig {
                component_appid: wxmass_emulator::PLATFORM_APPID.into(),
                component_secret: wxmass_emulator::PLATFORM_SECRET.into(),
                token: PLATFORM_TOKEN.into(),
                aes_key: wxmass_emulator::PLATFORM_AES_KEY.into(),
                event_url: Some(format!("{server}/platform/events")),
                message_url: Some(format!("{server}/platform/callback/$APPID$")),
                accounts,
                followers,
            }),
            job_delay: std::time::Duration::from_millis(50),
            ..wxmass_emulator::EmulatorConfig::default()
        };
        let wechat = wxmass_emulator::start(config, wechat_listener).expect("emulator");
        let state = AppState::new(store, key, Some(wechat.base_url()), tokens).expect("state");
        state
            .enable_platform(wxmass_server::platform::PlatformSettings {
                component_appid: wxmass_emulator::PLATFORM_APPID.into(),
                secret: wxmass_emulator::PLATFORM_SECRET.into(),
                token: PLATFORM_TOKEN.into(),
                aes_key: wxmass_emulator::PLATFORM_AES_KEY.into(),
            })
            .expect("platform");
        let app = wxmass_server::app(state.clone());
        let serving = tokio::spawn({
            let app = app.clone();
            async move {
                let _ = axum::serve(server_listener, app).await;
            }
        });
        TestApp {
            app,
            state,
            _wechat: wechat,
            _dir: dir,
            serving: Some(serving),
            base: Some(server),
        }
    }

    /// Where the app listens (a platform's).
    pub fn base_url(&self) -> String {
        self.base
            .clone()
            .expect("an app serving on a port (TestApp::platform)")
    }

    /// The emulator's admin API: `POST path` with `body`, its JSON answer.
    pub async fn wechat_admin(&self, path: &str, body: Value) -> Value {
        let url = format!("{}{path}", self._wechat.base_url());
        let client = reqwest::Client::new();
        let request = if body.is_null() {
            client.get(url)
        } else {
            client.post(url).json(&body)
        };
        request
            .send()
            .await
            .expect("emulator admin")
            .json()
            .await
            .expect("json")
    }

    /// The first admin, `alice`; its API token.
    pub async fn first_admin(&self) -> String {
        wxmass_server::init_admin(self.state.journal(), "alice", PASSWORD)
            .await
            .expect("init admin")
    }

    /// One call with a bearer `token` (or none): status and JSON body.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let bearer = token.map(|t| format!("Bearer {t}"));
        let headers: Vec<(&str, &str)> = bearer
            .iter()
            .map(|b| ("authorization", b.as_str()))
            .collect();
        let (status, _, body) = self.call_with(method, path, &headers, body).await;
        (status, body)
    }

    /// One call with `headers`: status, the answer's headers, JSON body.
    pub async fn call_with(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> (u16, HeaderMap, Value) {
        let (status, headers, bytes) = self.call_raw(method, path, headers, body).await;
        (
            status,
            headers,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    /// A GET with a bearer `token` of what is not JSON (a download):
    /// status, headers and the text.
    pub async fn download(&self, path: &str, token: &str) -> (u16, HeaderMap, String) {
        let bearer = format!("Bearer {token}");
        let (status, headers, bytes) = self
            .call_raw("GET", path, &[("authorization", &bearer)], None)
            .await;
        (status, headers, String::from_utf8(bytes).expect("UTF-8"))
    }

    /// One call with `headers`: status, the answer's headers and bytes.
    async fn call_raw(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> (u16, HeaderMap, Vec<u8>) {
        let mut request = Request::builder().method(method).uri(path);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = match body {
            Some(body) => request
                .header("content-type", "application/json")
                .body(Body::from(body.to_string())),
            None => request.body(Body::empty()),
        }
        .expect("request");
        let response = self.app.clone().oneshot(request).await.expect("answer");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("body");
        (status, headers, bytes.to_vec())
    }
}

impl TestApp {
    /// A client of the emulated WeChat, as [`APPID`]: to see what reached
    /// it, or to act behind the server's back.
    pub fn wechat(&self) -> wxmass_api::Client {
        wxmass_api::Client::builder(APPID, SECRET)
            .base_url(self._wechat.base_url())
            .build()
            .expect("client")
    }

    /// The emulated WeChat's state: to set its quotas, move its clock, read
    /// its ledger.
    pub fn emulator(&self) -> &Arc<wxmass_emulator::Emulator> {
        &self._wechat.emulator
    }

    /// One call with a bearer `token` and a raw body of `content_type`
    /// (an upload): status and JSON body.
    pub async fn upload(
        &self,
        method: &str,
        path: &str,
        token: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> (u16, Value) {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", content_type)
            .body(Body::from(body))
            .expect("request");
        let response = self.app.clone().oneshot(request).await.expect("answer");
        let status = response.status().as_u16();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("body");
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    /// A user `name` with `role`, made by `admin`, and an API token of
    /// that role for it.
    pub async fn user_with_token(&self, admin: &str, name: &str, role: &str) -> String {
        let (status, user) = self
            .call(
                "POST",
                "/api/v1/users",
                Some(admin),
                Some(serde_json::json!({"name": name, "role": role, "password": PASSWORD})),
            )
            .await;
        assert_eq!(status, 201, "{user}");
        let (status, token) = self
            .call(
                "POST",
                "/api/v1/tokens",
                Some(admin),
                Some(serde_json::json!({"user": name, "role": role, "label": name})),
            )
            .await;
        assert_eq!(status, 201, "{token}");
        token["token"].as_str().expect("token").to_owned()
    }

    /// An account of the emulated WeChat, added by `admin` (its
    /// credentials tried there, as any account's are).
    pub async fn account(&self, admin: &str, appid: &str) {
        let (status, answer) = self
            .call(
                "POST",
                "/api/v1/accounts",
                Some(admin),
                Some(
                    serde_json::json!({"appid": appid, "name": "Newsroom", "account_type": "service",
                        "secret": SECRET, "callback_token": "t0ken",
                        "aes_key": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"}),
                ),
            )
            .await;
        assert_eq!(status, 201, "{answer}");
    }
}

/// A small PNG of one colour.
pub fn png(rgb: [u8; 3]) -> Vec<u8> {
    let image = image::RgbImage::from_pixel(64, 48, image::Rgb(rgb));
    let mut out = Vec::new();
    image::DynamicImage::ImageRgb8(image)
        .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .expect("encode");
    out
}

/// A signed-in browser's cookie and CSRF token.
pub struct Session {
    pub cookie: String,
    pub csrf: String,
}

impl Session {
    /// Signs `name` in, which must succeed.
    pub async fn sign_in(app: &TestApp, name: &str) -> Session {
        let (status, headers, answer) = app
            .call_with(
                "POST",
                "/api/v1/session",
                &[],
                Some(serde_json::json!({"name": name, "password": PASSWORD})),
            )
            .await;
        assert_eq!(status, 200, "{answer}");
        let set = headers
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .expect("a cookie");
        Session {
            cookie: set.split(';').next().expect("name=value").to_owned(),
            csrf: answer["csrf_token"].as_str().expect("csrf").to_owned(),
        }
    }

    /// The request headers, with the CSRF token or not.
    pub fn headers(&self, csrf: bool) -> Vec<(&str, &str)> {
        let mut headers = vec![("cookie", self.cookie.as_str())];
        if csrf {
            headers.push(("x-csrf-token", self.csrf.as_str()));
        }
        headers
    }
}
