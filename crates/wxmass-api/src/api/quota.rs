//! The account's API quotas (wechat-notifications.md §4.3–§4.5): how much
//! of an API's daily quota is used and its per-minute rate, what a failed
//! request was (`rid`), and clearing the daily counters. Reach it with
//! [`Client::quota`].

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::api::decode;
use crate::client::{Call, Client};
use crate::error::{Error, Result};

/// Quota calls.
#[derive(Debug, Clone)]
pub struct QuotaHandler<'c> {
    client: &'c Client,
}

impl Client {
    /// Quotas: an API's daily use and rate, a request by its rid, clearing.
    pub fn quota(&self) -> QuotaHandler<'_> {
        QuotaHandler { client: self }
    }
}

/// An API's daily quota.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
pub struct DailyQuota {
    /// Calls a day.
    pub daily_limit: u64,
    /// Used today.
    pub used: u64,
    /// Left today.
    pub remain: u64,
}

/// An API's rate: `call_count` calls every `refresh_second` seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
pub struct RateLimit {
    /// Calls in each period.
    pub call_count: u64,
    /// The period, in seconds.
    pub refresh_second: u64,
}

/// An API's quotas, as `openapi/quota/get` reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
pub struct ApiQuota {
    /// The daily quota.
    pub quota: DailyQuota,
    /// The per-period rate, when WeChat reports one (the only published
    /// source of an API's minute limit).
    #[serde(default)]
    pub rate_limit: Option<RateLimit>,
    /// A platform's rate on the account's behalf, when reported.
    #[serde(default)]
    pub component_rate_limit: Option<RateLimit>,
}

/// A request WeChat remembers by its rid (7 days).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct RidRequest {
    /// Unix seconds.
    #[serde(default)]
    pub invoke_time: i64,
    /// How long it took.
    #[serde(default)]
    pub cost_in_ms: i64,
    /// The URL called.
    #[serde(default)]
    pub request_url: String,
    /// What was sent.
    #[serde(default)]
    pub request_body: String,
    /// What WeChat answered.
    #[serde(default)]
    pub response_body: String,
    /// From where.
    #[serde(default)]
    pub client_ip: String,
}

/// Clears allowed a month, per account, counting the console's and the
/// API's together (past them: 48006).
pub const CLEARS_PER_MONTH: u32 = 10;

impl QuotaHandler<'_> {
    /// `cgi_path`'s quotas (`/cgi-bin/message/template/send`: a path, no
    /// host, no query).
    ///
    /// `POST /cgi-bin/openapi/quota/get`.
    pub async fn get(&self, cgi_path: &str) -> Result<ApiQuota> {
        if !cgi_path.starts_with('/') || cgi_path.contains(['?', ' ']) || cgi_path.contains("://") {
            return Err(Error::Invalid(format!(
                "cgi_path {cgi_path:?}: the API's path, as /cgi-bin/message/template/send"
            )));
        }
        let path = "/cgi-bin/openapi/quota/get";
        let answer = self
            .client
            .call(Call::post(path, json!({"cgi_path": cgi_path})))
            .await?;
        decode(path, Some(&answer))
    }

    /// What the request `rid` was (the `rid:` at the end of an errmsg).
    ///
    /// `POST /cgi-bin/openapi/rid/get`.
    pub async fn rid(&self, rid: &str) -> Result<RidRequest> {
        if rid.trim().is_empty() || rid.len() > 64 {
            return Err(Error::Invalid(format!(
                "rid {rid:?}: the id after `rid:` in WeChat's errmsg"
            )));
        }
        let path = "/cgi-bin/openapi/rid/get";
        let answer = self
            .client
            .call(Call::post(path, json!({"rid": rid.trim()})))
            .await?;
        decode(path, answer.get("request"))
    }

    /// Clears the account's daily counters: at most
    /// [`CLEARS_PER_MONTH`] times a month (then 48006).
    ///
    /// `POST /cgi-bin/clear_quota`.
    pub async fn clear(&self) -> Result<()> {
        self.client
            .call(
                Call::post(
                    "/cgi-bin/clear_quota",
                    json!({"appid": self.client.appid()}),
                )
                .unsafe_to_repeat(),
            )
            .await?;
        Ok(())
    }
}
