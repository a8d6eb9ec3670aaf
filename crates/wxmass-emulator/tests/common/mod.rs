//! Helpers for the emulator's HTTP tests: start one on 127.0.0.1:0, get a
//! token, call endpoints, and read errcodes.

#![allow(dead_code)]

use std::time::Duration;

use serde_json::{Value, json};
use wxmass_emulator::{EmulatorConfig, RunningEmulator};

pub const JPEG: &[u8] = &[
    0xFF, 0xD8, 0xFF, 0xE0, 0, 16, b'J', b'F', b'I', b'F', 0, 1, 1, 0, 0, 1,
];
pub const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
pub const GIF: &[u8] = b"GIF89a\x01\0\x01\0";
pub const MP3: &[u8] = b"ID3\x03\0\0\0\0\0\0";
pub const AMR: &[u8] = b"#!AMR\n\x3c\x48";
pub const MP4: &[u8] = b"\0\0\0\x18ftypmp42\0\0\0\0";

pub struct Emu {
    pub running: RunningEmulator,
    pub http: reqwest::Client,
    pub base: String,
}

pub async fn start(config: EmulatorConfig) -> Emu {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let running = wxmass_emulator::start(config, listener).expect("start");
    let base = running.base_url();
    Emu {
        running,
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .build()
            .expect("client"),
        base,
    }
}

pub async fn start_default() -> Emu {
    start(EmulatorConfig {
        followers: 30,
        tags: 2,
        job_delay: Duration::from_millis(50),
        ..EmulatorConfig::default()
    })
    .await
}

/// The errcode of a body (0 when absent, as WeChat's success bodies omit it).
pub fn code(v: &Value) -> i64 {
    v.get("errcode").and_then(Value::as_i64).unwrap_or(0)
}

#[track_caller]
pub fn assert_code(v: &Value, expected: i64) {
    assert_eq!(code(v), expected, "body: {v}");
    if expected != 0 {
        let msg = v["errmsg"].as_str().unwrap_or_default();
        assert!(msg.contains(" rid: "), "errmsg without rid: {msg}");
    }
}

impl Emu {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get_raw(&self, path: &str, query: &[(&str, &str)]) -> reqwest::Response {
        self.http
            .get(self.url(path))
            .query(query)
            .send()
            .await
            .expect("request")
    }

    pub async fn get(&self, path: &str, query: &[(&str, &str)]) -> Value {
        let resp = self.get_raw(path, query).await;
        assert_eq!(resp.status().as_u16(), 200, "API errors are HTTP 200");
        resp.json().await.expect("json body")
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Value {
        self.post_text(path, token, &body.to_string()).await
    }

    /// Posts `body` and asserts the answer's errcode (see [`assert_code`]).
    pub async fn post_expect(&self, path: &str, token: &str, body: Value, expected: i64) {
        assert_code(&self.post(path, token, body).await, expected);
    }

    pub async fn post_text(&self, path: &str, token: &str, body: &str) -> Value {
        let resp = self
            .http
            .post(self.url(path))
            .query(&[("access_token", token)])
            .body(body.to_owned())
            .send()
            .await
            .expect("request");
        assert_eq!(resp.status().as_u16(), 200, "API errors are HTTP 200");
        resp.json().await.expect("json body")
    }

    pub async fn token(&self) -> String {
        let v = self
            .get(
                "/cgi-bin/token",
                &[
                    ("grant_type", "client_credential"),
                    ("appid", wxmass_emulator::config::DEFAULT_APPID),
                    ("secret", wxmass_emulator::config::DEFAULT_SECRET),
                ],
            )
            .await;
        v["access_token"].as_str().expect("token").to_owned()
    }

    pub async fn upload(
        &self,
        path: &str,
        token: &str,
        kind: &str,
        data: &[u8],
        name: &str,
    ) -> Value {
        let form = reqwest::multipart::Form::new().part(
            "media",
            reqwest::multipart::Part::bytes(data.to_vec()).file_name(name.to_owned()),
        );
        self.http
            .post(self.url(path))
            .query(&[("access_token", token), ("type", kind)])
            .multipart(form)
            .send()
            .await
            .expect("request")
            .json()
            .await
            .expect("json")
    }

    pub async fn admin_get(&self, path: &str) -> Value {
        self.http
            .get(self.url(path))
            .send()
            .await
            .expect("request")
            .json()
            .await
            .expect("json")
    }

    pub async fn admin_post(&self, path: &str, body: Value) -> (u16, Value) {
        let resp = self
            .http
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .expect("request");
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    pub async fn advance(&self, seconds: i64) {
        let (status, _) = self
            .admin_post("/_emulator/clock", json!({"advance_seconds": seconds}))
            .await;
        assert_eq!(status, 200);
    }

    /// Moves the clock to the start of the next period (60 for a minute,
    /// 86,400 for a Beijing day), so that a test's calls cannot straddle a
    /// quota boundary in real time.
    pub async fn align(&self, period: i64) {
        let now = self.admin_get("/_emulator/clock").await["now"]
            .as_i64()
            .expect("now");
        let beijing = now + 8 * 3600;
        let to_next = period - beijing.rem_euclid(period);
        self.advance(to_next).await;
    }

    /// Openids of the first `n` followers.
    pub async fn openids(&self, token: &str, n: usize) -> Vec<String> {
        let v = self
            .get("/cgi-bin/user/get", &[("access_token", token)])
            .await;
        v["data"]["openid"]
            .as_array()
            .expect("openids")
            .iter()
            .take(n)
            .map(|o| o.as_str().expect("str").to_owned())
            .collect()
    }

    /// Waits until the job is no longer SENDING.
    pub async fn wait_job(&self, token: &str, msg_id: i64) -> String {
        for _ in 0..200 {
            let v = self
                .post(
                    "/cgi-bin/message/mass/get",
                    token,
                    json!({"msg_id": msg_id}),
                )
                .await;
            let status = v["msg_status"].as_str().unwrap_or_default().to_owned();
            if status != "SENDING" {
                return status;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("job {msg_id} did not finish");
    }
}
