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
    let value = json!({
        "profile": settings.profile,
        "appid": settings.appid,
        "token": mask(token.token.expose()),
        "expires_in": expires_in,
        "refreshed": refresh,
    });
    super::print(json, &value, || {
        format!(
            "{} ({}): token {} valid for {} min{}",
            settings.appid,
            settings.profile,
            mask(token.token.expose()),
            expires_in / 60,
            if refresh { " (just fetched)" } else { "" }
        )
    });
    Ok(())
}
