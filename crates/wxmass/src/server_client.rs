//! A client of a `wxmass server`'s JSON API, as one user or machine (its
//! API token): what `wxmass --server URL --token T campaigns` reads, and
//! what `wxmass server --demo` makes its history with.
//!
//! The token travels in the `Authorization` header only; it is never part
//! of an error, a log line or `--json` output, and this type has no
//! `Debug` that could print it.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde_json::Value;

/// The API of the server at one base URL, as one token.
pub struct ServerClient {
    base: String,
    token: String,
    http: reqwest::Client,
}

impl ServerClient {
    /// A client of the server at `base` (`http://` or `https://`, no path
    /// needed), calling as `token`.
    pub fn new(base: &str, token: &str) -> Result<ServerClient> {
        let url = reqwest::Url::parse(base).map_err(|e| {
            anyhow::anyhow!("--server {base:?} is not a URL ({e}): give the server's address, e.g. https://wxmass.example.com")
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            bail!("--server {base:?} must start with http:// or https://");
        }
        if !url.username().is_empty() || url.password().is_some() {
            bail!(
                "--server: put no name or password in the URL; the server takes an API token (--token)"
            );
        }
        if token.trim().is_empty() {
            bail!(
                "--server needs an API token: --token or WXMASS_SERVER_TOKEN (`wxmass server init-admin` prints the first; the dashboard's People page makes more)"
            );
        }
        let _ = rustls::crypto::ring::default_provider().install_default();
        Ok(ServerClient {
            base: base.trim_end_matches('/').to_owned(),
            token: token.trim().to_owned(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .connect_timeout(Duration::from_secs(5))
                .build()
                .context("HTTP client")?,
        })
    }

    /// The server's address, for messages.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Calls `method path` with a JSON `body`; a 4xx or 5xx becomes an
    /// error that says what the server said and, where it helps, what to
    /// do.
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value> {
        let mut request = self
            .http
            .request(method.clone(), format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.map_err(|e| self.unreachable(&e))?;
        let status = response.status();
        let answer: Value = response.json().await.unwrap_or(Value::Null);
        if status.is_success() {
            return Ok(answer);
        }
        let said = answer["error"]["message"]
            .as_str()
            .map(crate::output::clean)
            .unwrap_or_default();
        let advice = match status.as_u16() {
            401 => {
                " (check --token or WXMASS_SERVER_TOKEN: the token is wrong, revoked, or its user was removed)"
            }
            403 => " (this token's role may not do that: ask an admin for a stronger one)",
            _ => "",
        };
        bail!("{method} {path}: the server answered {status}: {said}{advice}")
    }

    /// A request that got no answer, with its causes (reqwest's text names
    /// the URL, never the token, which is a header).
    fn unreachable(&self, error: &reqwest::Error) -> anyhow::Error {
        let mut text = error.to_string();
        let mut cause = std::error::Error::source(error);
        while let Some(c) = cause {
            text.push_str(&format!(": {c}"));
            cause = c.source();
        }
        anyhow::anyhow!("cannot reach the server at {}: {text}", self.base)
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> Result<Value> {
        self.call(reqwest::Method::GET, path, None).await
    }

    /// `POST path` with a JSON `body`.
    pub async fn post(&self, path: &str, body: Option<Value>) -> Result<Value> {
        self.call(reqwest::Method::POST, path, body).await
    }

    /// Uploads a file (`POST /api/v1/files`); returns its reference.
    pub async fn upload(&self, name: &str, data: &[u8]) -> Result<Value> {
        let response = self
            .http
            .post(format!("{}/api/v1/files", self.base))
            .query(&[("name", name)])
            .bearer_auth(&self.token)
            .header("content-type", "application/octet-stream")
            .body(data.to_vec())
            .send()
            .await
            .map_err(|e| self.unreachable(&e))?;
        if !response.status().is_success() {
            bail!(
                "uploading {name}: the server answered {}",
                response.status()
            );
        }
        let kept: Value = response.json().await?;
        // The reference a content names the file by: its name and hash
        // (the answer's size and format are not part of it).
        Ok(serde_json::json!({"path": kept["path"], "sha256": kept["sha256"]}))
    }

    /// Waits (at most a minute) until `check` holds for what `path` answers.
    pub async fn until(&self, path: &str, check: impl Fn(&Value) -> bool) -> Result<()> {
        for _ in 0..600 {
            if check(&self.get(path).await?) {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!("{path} never became ready");
    }
}

/// `/api/v1/campaigns/{id}` and below, with the id encoded as one path
/// segment.
pub fn campaign_path(id: &str, rest: &str) -> String {
    let mut encoded = String::new();
    for b in id.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("/api/v1/campaigns/{encoded}{rest}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_one_path_segment() {
        assert_eq!(
            campaign_path("a b/../c", "/batches"),
            "/api/v1/campaigns/a%20b%2F..%2Fc/batches"
        );
        assert_eq!(
            campaign_path("weekly-49", ""),
            "/api/v1/campaigns/weekly-49"
        );
    }

    #[test]
    fn bad_addresses_and_missing_tokens_are_explained() {
        let e =
            |base: &str, token: &str| ServerClient::new(base, token).err().map(|e| e.to_string());
        assert!(e("ftp://x", "t").is_some_and(|m| m.contains("http://")));
        assert!(e("not a url", "t").is_some_and(|m| m.contains("not a URL")));
        assert!(e("http://u:p@x", "t").is_some_and(|m| m.contains("no name or password")));
        assert!(e("http://x", " ").is_some_and(|m| m.contains("WXMASS_SERVER_TOKEN")));
        assert!(e("http://127.0.0.1:1/", "wxm_x").is_none());
    }
}
