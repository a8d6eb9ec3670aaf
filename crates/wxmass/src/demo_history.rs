//! The history `wxmass server --demo` starts with, made through the
//! server's own API as a person would make it: the demo article sent to
//! every follower and read for two days (the clocks moved, the reads
//! pulled), a text scheduled for tomorrow, and one awaiting approval.

use anyhow::{Context, Result};
use serde_json::{Value, json};

use crate::demo::{ARTICLE, CHART, COVER};
use crate::server_client::ServerClient;

/// A draft campaign `id`, submitted for approval.
async fn submitted(
    api: &ServerClient,
    id: &str,
    appid: &str,
    name: &str,
    content: Value,
    audience: Value,
) -> Result<()> {
    api.post(
        "/api/v1/campaigns",
        Some(json!({"id": id, "appid": appid, "name": name, "content": content, "audience": audience})),
    )
    .await?;
    api.post(&format!("/api/v1/campaigns/{id}/submit"), None)
        .await?;
    Ok(())
}
/// Makes the history on the server at `base` for `appid`, as the admin
/// whose token is `token`. Moves the server's clock (and so the
/// emulator's) two days on.
pub async fn seed(base: &str, token: &str, appid: &str) -> Result<()> {
    let api = ServerClient::new(base, token)?;
    let cover = api.upload("demo-cover.png", COVER).await?;
    let chart = api.upload("demo-chart.png", CHART).await?;
    let post = api.upload("demo-article.md", ARTICLE.as_bytes()).await?;
    let article = json!({"type": "articles", "draft": false, "theme": null, "fetch_remote_images": false,
        "ignore_reprint": false,
        "articles": [{"file": post, "cover": cover, "pictures": [{"src": "demo-chart.png", "file": chart}]}]});
    submitted(
        &api,
        "autumn-news",
        appid,
        "Autumn news",
        article,
        json!({"kind": "all"}),
    )
    .await?;
    let clock = api.get("/api/v1/clock").await?;
    let now = clock["now"].as_str().context("the clock")?.to_owned();
    api.post(
        "/api/v1/campaigns/autumn-news/approve",
        Some(json!({"send_at": now})),
    )
    .await?;
    api.until("/api/v1/campaigns/autumn-news", |c| {
        c["state"] == "finished" && c["reported"] == c["submitted"]
    })
    .await?;

    // Two days on, after 08:00 Beijing time: WeChat has the first day's reads.
    let now = wxmass_campaign::beijing::parse_rfc3339(&now).context("the clock's time")?;
    let day = wxmass_api::api::datacube::Date::of_unix(now);
    let advance = day.plus(2).unix_at(9) - now;
    api.post("/api/v1/clock", Some(json!({"advance_seconds": advance})))
        .await?;
    api.until("/api/v1/campaigns/autumn-news/reads", |r| {
        !r["pulled_on"].is_null()
    })
    .await?;

    let tomorrow = day.plus(3).unix_at(10);
    submitted(
        &api,
        "weekend-offer",
        appid,
        "Weekend offer",
        json!({"type": "text", "text": "周末见：本周六门店开放日。"}),
        json!({"kind": "tag", "tag_id": 100}),
    )
    .await?;
    api.post(
        "/api/v1/campaigns/weekend-offer/approve",
        Some(json!({"send_at": wxmass_campaign::beijing::rfc3339(tomorrow)})),
    )
    .await?;
    submitted(
        &api,
        "winter-preview",
        appid,
        "Winter preview",
        json!({"type": "text", "text": "Winter is coming: a preview next week."}),
        json!({"kind": "all"}),
    )
    .await?;
    Ok(())
}
