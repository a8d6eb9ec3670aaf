//! `wxmass token`: the access token's status, masked; `--refresh` fetches one.

use anyhow::Result;
use serde_json::json;

use crate::config::Settings;

/// Shows a token as its first four characters: enough to tell two apart.
fn mask(token: &str) -> String {
    format!(
        "{}…({} chars)",
        token.chars().take(4).collect::<String>(),
        token.len()
    )
}

pub async fn run(settings: &Settings, refresh: bool, json: bool) -> Result<()> {
    let client = settings.client()?;
    let before = client.cached_token().await?;
    let token = if refresh {
        client.refresh_token().await?
    } else {
        client.access_token().await?;
        client
            .cached_token()
            .await?
            .ok_or_else(|| anyhow::anyhow!("the token cache is empty after a fetch"))?
    };
    let expires_in = (token.expires_at_ms - wxmass_api::token::now_ms()) / 1000;
    // WeChat answers a forced refresh less than 30 s after the last one
    // with the current token: say so rather than claim a new one.
    let same = before
        .as_ref()
        .is_some_and(|b| b.token.expose() == token.token.expose());
    let refreshed = refresh && !same;
    let value = json!({
        "profile": settings.profile,
        "appid": settings.appid,
        "token": mask(token.token.expose()),
        "expires_in": expires_in,
        "refreshed": refreshed,
    });
    super::print(json, &value, || {
        let note = match (refresh, refreshed) {
            (true, true) => " (new: just issued; the previous one keeps working for a few minutes)",
            (true, false) => {
                " (WeChat returned the current token: it issues a new one at most every 30 s and 20 times a day)"
            }
            _ => "",
        };
        format!(
            "{} ({}): token {} valid for {} min{note}",
            settings.appid,
            settings.profile,
            mask(token.token.expose()),
            expires_in / 60,
        )
    });
    Ok(())
}
