//! Helpers: an in-process emulator and a client pointed at it.

#![allow(dead_code)]

use std::time::Duration;

use serde_json::{Value, json};
use wxmass_api::{Client, RetryPolicy};
use wxmass_emulator::config::{DEFAULT_APPID, DEFAULT_SECRET};
use wxmass_emulator::{EmulatorConfig, RunningEmulator};

pub struct Emu {
    pub running: RunningEmulator,
    pub admin: reqwest::Client,
}

pub async fn emulator(config: EmulatorConfig) -> Emu {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let running = wxmass_emulator::start(config, listener).expect("start");
    Emu {
        running,
        admin: reqwest::Client::new(),
    }
}

pub async fn default_emulator() -> Emu {
    emulator(EmulatorConfig {
        followers: 40,
        tags: 2,
        job_delay: Duration::from_millis(30),
        ..EmulatorConfig::default()
    })
    .await
}

/// Quick retries, so that fault tests finish fast.
pub fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        max_retries: 6,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(50),
    }
}

impl Emu {
    pub fn url(&self) -> String {
        self.running.base_url()
    }

    pub fn client(&self) -> Client {
        Client::builder(DEFAULT_APPID, DEFAULT_SECRET)
            .base_url(self.url())
            .retry(fast_retry())
            .build()
            .expect("client")
    }

    pub async fn stats(&self) -> Value {
        self.admin_get("/_emulator/stats").await
    }

    pub async fn admin_get(&self, path: &str) -> Value {
        self.admin
            .get(format!("{}{path}", self.url()))
            .send()
            .await
            .expect("admin")
            .json()
            .await
            .expect("json")
    }

    pub async fn admin_post(&self, path: &str, body: Value) -> Value {
        self.admin
            .post(format!("{}{path}", self.url()))
            .json(&body)
            .send()
            .await
            .expect("admin")
            .json()
            .await
            .expect("json")
    }

    pub async fn advance(&self, seconds: i64) {
        self.admin_post("/_emulator/clock", json!({"advance_seconds": seconds}))
            .await;
    }

    pub async fn token_fetches(&self) -> u64 {
        let stats = self.stats().await;
        let f = &stats["token_fetches"];
        f["classic"].as_u64().unwrap_or(0)
            + f["stable"].as_u64().unwrap_or(0)
            + f["stable_forced"].as_u64().unwrap_or(0)
    }
}

#[allow(unused_imports)] // each test binary uses some of them
pub use wxmass_testkit::{start_postgres, start_redis};

/// The smallest JPEG the emulator takes.
pub const JPEG: &[u8] = &[
    0xFF, 0xD8, 0xFF, 0xE0, 0, 16, b'J', b'F', b'I', b'F', 0, 1, 1, 0, 0, 1,
];

/// Sends articles titled `titles` to every follower and waits for the
/// job to end; its (msg_id, msg_data_id).
pub async fn send_articles(client: &Client, titles: &[&str]) -> (i64, i64) {
    use wxmass_api::{Article, Audience, MediaKind, Message, Sent};
    let thumb = client
        .media()
        .upload(MediaKind::Thumb, "c.jpg", JPEG)
        .await
        .expect("thumb")
        .media_id;
    let articles: Vec<Article> = titles
        .iter()
        .map(|t| Article::new(*t, &thumb, "<p>body</p>"))
        .collect();
    let news = client.news().upload(&articles).await.expect("news");
    let sent = client
        .mass()
        .send(&Message::mpnews(&news), &Audience::All)
        .await
        .expect("send");
    let Sent::Submitted {
        msg_id,
        msg_data_id: Some(data_id),
        ..
    } = sent
    else {
        panic!("no msg_data_id: {sent:?}");
    };
    for _ in 0..200 {
        if client.mass().get(msg_id).await.expect("get").is_final() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    (msg_id, data_id)
}

/// The emulator's first follower.
pub async fn follower(client: &Client) -> String {
    client
        .users()
        .followers_page(None)
        .await
        .expect("followers")
        .openids
        .swap_remove(0)
}

/// WeChat's errcode for a refused call (a panic for anything else).
pub fn errcode<T: std::fmt::Debug>(result: wxmass_api::Result<T>) -> Option<wxmass_api::Errcode> {
    match result {
        Err(wxmass_api::Error::Api { code, .. }) => Some(code),
        other => panic!("expected WeChat's refusal, got {other:?}"),
    }
}
