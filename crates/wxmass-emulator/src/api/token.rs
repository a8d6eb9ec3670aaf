//! Access tokens (wechat-api.md §1): `/cgi-bin/token` and `/cgi-bin/stable_token`.

use serde_json::{Value, json};

use crate::Emulator;
use crate::call::{Call, flag, opt_str};
use crate::error::{WxError, WxResult};

/// Checks grant_type, appid and secret, in WeChat's order.
fn check_credentials(
    emulator: &Emulator,
    grant_type: Option<&str>,
    appid: Option<&str>,
    secret: Option<&str>,
) -> WxResult<()> {
    if grant_type != Some("client_credential") {
        return Err(WxError::new(40002));
    }
    let appid = appid
        .filter(|a| !a.is_empty())
        .ok_or_else(|| WxError::new(41002))?;
    let secret = secret
        .filter(|s| !s.is_empty())
        .ok_or_else(|| WxError::new(41004))?;
    if appid != emulator.config.appid {
        return Err(WxError::new(40013));
    }
    if secret != emulator.config.secret {
        // A well-formed secret of another account is 40001; garbage is 40125.
        let well_formed = secret.len() == 32 && secret.bytes().all(|b| b.is_ascii_hexdigit());
        return Err(WxError::new(if well_formed { 40001 } else { 40125 }));
    }
    Ok(())
}

/// `GET /cgi-bin/token?grant_type=client_credential&appid=APPID&secret=APPSECRET`
pub fn token(emulator: &Emulator, call: &Call) -> WxResult<Value> {
    check_credentials(
        emulator,
        call.query("grant_type"),
        call.query("appid"),
        call.query("secret"),
    )?;
    let mut account = emulator.account();
    account.use_quota("token", &emulator.clock)?;
    let (token, expires_in) = account.classic_token(emulator.clock.now_ms());
    Ok(json!({"access_token": token, "expires_in": expires_in}))
}

/// `POST /cgi-bin/stable_token` with `{"grant_type","appid","secret","force_refresh"}`.
pub fn stable_token(emulator: &Emulator, call: &Call) -> WxResult<Value> {
    let body = call.json()?;
    check_credentials(
        emulator,
        opt_str(&body, "grant_type")?,
        opt_str(&body, "appid")?,
        opt_str(&body, "secret")?,
    )?;
    let force = flag(&body, "force_refresh")?;
    let mut account = emulator.account();
    account.use_quota("stable_token", &emulator.clock)?;
    let (token, expires_in) =
        account.stable_token(force, emulator.clock.now_ms(), emulator.clock.day())?;
    Ok(json!({"access_token": token, "expires_in": expires_in}))
}
