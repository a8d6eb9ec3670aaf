//! A third-party platform (开放平台·第三方平台, wechat-notifications.md §1):
//! the component credentials, a ticket pushed every 10 minutes of the
//! emulated clock, the `/cgi-bin/component/...` endpoints with their
//! lifetimes and errcodes, and accounts of its own that authorise it.
//!
//! Each account is a whole emulator (followers, quotas, ledger, pushes) on
//! the platform's clock. A call carrying an authorizer token is served by
//! that account's emulator, after the platform checks the token and that
//! the account granted the API's permission set (61007). The account's
//! pushes go to the platform's message URL, `$APPID$` replaced, sealed
//! with the platform's token, key and component appid.
//!
//! Where the reference is unsure (§0), the emulator decides:
//! - a new component token or authorizer token leaves the previous one
//!   working 5 more minutes (as `/cgi-bin/token` does), never longer than
//!   its own expiry: a second fetcher breaks the first 5 minutes later;
//! - a refresh token stays the same on `api_authorizer_token`, and is
//!   replaced (the old one dead at once) by a new authorisation;
//! - a pre-auth code and an authorization code last 600 s, once each;
//! - a ticket is good 12 hours after its push, whichever came later.
//!
//! The admin routes (`/_emulator/platform/...`) stand for what people do:
//! an admin's scan (authorise, with the permission sets ticked), a
//! revocation, and each account's own admin API.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::extract::Request;
use axum::http::Method;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Value, json};
use wxmass_callback::crypto::{AesKey, MessageCrypto};
use wxmass_callback::signature;
use wxmass_callback::xml::write_cdata_element;

use crate::call::{Call, int_field, str_field};
use crate::clock::{Clock, wall_ms};
pub use crate::config::PlatformConfig;
use crate::config::{CallbackMode, CallbackTarget, EmulatorConfig};
use crate::error::{WxError, WxResult, ok};
use crate::push::{REPLY_TIMEOUT, SealedPush};
use crate::state::{TOKEN_OVERLAP_MS, TOKEN_TTL_MS};
use crate::{Emulator, ids, lock};

/// How often WeChat pushes a ticket (§1.2).
pub const TICKET_EVERY_S: i64 = 600;
/// How long a ticket is good.
pub const TICKET_TTL_S: i64 = 12 * 3600;
/// How long a pre-auth code and an authorization code are good.
pub const CODE_TTL_MS: i64 = 600_000;
/// The most accounts `api_get_authorizer_list` gives at once.
pub const LIST_MAX: i64 = 500;

/// The five 全网发布 test accounts (§1.17): appid and original id.
pub const RELEASE_TEST_ACCOUNTS: [(&str, &str); 5] = [
    ("wx570bc396a51b8ff8", "gh_3c884a361561"),
    ("wx9252c5e0bb1836fc", "gh_c0f28a78b318"),
    ("wx8e1097c5bc82cde9", "gh_3f222ed8d140"),
    ("wx14550af28c71a144", "gh_26128078e9ab"),
    ("wxa35b9c23cfe664eb", "gh_2b3713f184a6"),
];

/// The permission sets an admin grants when the scan does not say: every
/// one a sender needs (§1.8).
pub const ALL_SETS: [u32; 7] = [1, 2, 3, 6, 7, 11, 89];

/// The platform the emulator was started with.
#[derive(Debug)]
pub struct Platform {
    /// Its settings (the URLs as started; [`Platform::set_urls`] moves them).
    pub config: PlatformConfig,
    event_url: Mutex<Option<String>>,
    accounts: Vec<Arc<Emulator>>,
    by_appid: HashMap<String, usize>,
    state: Mutex<State>,
    wake: tokio::sync::Notify,
}

#[derive(Debug, Default)]
struct State {
    /// Tickets pushed, newest last (at most a day's).
    tickets: VecDeque<(String, i64)>,
    /// When the last ticket was pushed (emulated seconds).
    last_ticket_s: Option<i64>,
    /// A push asked for (`api_start_push_ticket`, the admin route).
    ticket_asked: bool,
    component_tokens: HashMap<String, Issued>,
    component_token: Option<String>,
    pre_auth_codes: HashMap<String, i64>,
    auth_codes: HashMap<String, AuthCode>,
    grants: BTreeMap<String, Grant>,
    /// Every authorizer token issued, for routing a call to its account.
    authorizer_tokens: HashMap<String, (String, Issued)>,
    stats: Stats,
}

#[derive(Debug, Clone, Copy)]
struct Issued {
    expires_ms: i64,
    /// Set when a newer token supersedes this one.
    valid_until_ms: Option<i64>,
}

impl Issued {
    fn new(now_ms: i64) -> Self {
        Issued {
            expires_ms: now_ms + TOKEN_TTL_MS,
            valid_until_ms: None,
        }
    }

    /// 42001 when expired, 40001 when superseded and past the overlap (an
    /// expired token says so, whether or not a newer one exists).
    fn check(&self, now_ms: i64) -> WxResult<()> {
        if now_ms >= self.expires_ms {
            return Err(WxError::new(42001));
        }
        if self.valid_until_ms.is_some_and(|until| now_ms >= until) {
            return Err(WxError::new(40001));
        }
        Ok(())
    }

    fn supersede(&mut self, now_ms: i64) {
        let until = (now_ms + TOKEN_OVERLAP_MS).min(self.expires_ms);
        self.valid_until_ms = Some(self.valid_until_ms.map_or(until, |u| u.min(until)));
    }
}

#[derive(Debug, Clone)]
struct AuthCode {
    appid: String,
    expires_ms: i64,
    used: bool,
}

#[derive(Debug, Clone)]
struct Grant {
    refresh_token: String,
    permission_sets: Vec<u32>,
    auth_time: i64,
    /// The latest authorizer token issued.
    token: Option<String>,
}

/// What the platform counted: what tests assert on.
#[derive(Debug, Default, Clone, Serialize)]
struct Stats {
    component_token_fetches: u64,
    authorizer_token_fetches: BTreeMap<String, u64>,
    tickets_pushed: u64,
    authorizations: u64,
    revocations: u64,
}

/// The accounts' appids: `wx` and 16 hex digits, derived from the platform
/// and the index.
pub fn account_appid(component_appid: &str, index: u32) -> String {
    let mix = ids::fnv1a(format!("{component_appid}/{index}").as_bytes());
    format!("wx{mix:016x}")
}

impl Platform {
    /// The platform and its accounts, on `clock`.
    pub fn new(config: PlatformConfig, parent: &EmulatorConfig, clock: &Arc<Clock>) -> Platform {
        let mut accounts = Vec::new();
        let mut by_appid = HashMap::new();
        let callback = |appid: &str| {
            config.message_url.as_ref().map(|url| CallbackTarget {
                url: url.replace("$APPID$", appid),
                token: config.token.clone(),
                aes_key: Some(config.aes_key.clone()),
                mode: CallbackMode::Safe,
            })
        };
        let mut add = |appid: String, user_name: Option<String>, followers: u32, seed: u64| {
            let account = EmulatorConfig {
                // Its own AppSecret, which a platform never sees.
                secret: format!(
                    "{:016x}{:016x}",
                    ids::fnv1a(appid.as_bytes()),
                    ids::fnv1a(format!("{appid}/secret").as_bytes())
                ),
                followers,
                callback: callback(&appid),
                seed,
                user_name,
                sealed_for: Some(config.component_appid.clone()),
                platform: None,
                appid: appid.clone(),
                ..parent.clone()
            };
            by_appid.insert(appid, accounts.len());
            accounts.push(Emulator::with_clock(account, clock.clone(), None));
        };
        for i in 0..config.accounts {
            let appid = account_appid(&config.component_appid, i);
            add(
                appid,
                None,
                config.followers,
                parent.seed + u64::from(i) + 1,
            );
        }
        for (appid, user_name) in RELEASE_TEST_ACCOUNTS {
            // A test fan, who writes the scripted messages.
            add(appid.to_owned(), Some(user_name.to_owned()), 1, parent.seed);
        }
        Platform {
            event_url: Mutex::new(config.event_url.clone()),
            config,
            accounts,
            by_appid,
            state: Mutex::new(State::default()),
            wake: tokio::sync::Notify::new(),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// The authorization event URL now.
    pub fn event_url(&self) -> Option<String> {
        lock(&self.event_url).clone()
    }

    /// Points the platform at a server started after the emulator: its
    /// authorization event URL and its message URL (`$APPID$` standing for
    /// each account), as set in the open platform's console.
    pub fn set_urls(&self, event_url: Option<String>, message_url: Option<String>) {
        *lock(&self.event_url) = event_url;
        for account in &self.accounts {
            let target = message_url.as_ref().map(|url| CallbackTarget {
                url: url.replace("$APPID$", &account.config.appid),
                token: self.config.token.clone(),
                aes_key: Some(self.config.aes_key.clone()),
                mode: CallbackMode::Safe,
            });
            account.set_callback(target);
        }
    }

    /// Every account that may authorise the platform.
    pub fn accounts(&self) -> impl Iterator<Item = &Arc<Emulator>> {
        self.accounts.iter()
    }

    /// The account `appid`, if it is one of the platform's.
    pub fn account(&self, appid: &str) -> Option<&Arc<Emulator>> {
        self.by_appid.get(appid).map(|&i| &self.accounts[i])
    }

    /// Whether `appid` authorised the platform.
    pub fn is_authorized(&self, appid: &str) -> bool {
        self.state().grants.contains_key(appid)
    }

    /// Asks for a ticket push now.
    pub fn ask_ticket(&self) {
        self.state().ticket_asked = true;
        self.wake.notify_one();
    }

    /// The account a call's `access_token` belongs to, checked: `None`
    /// when it is not an authorizer token (the account's own, or unknown).
    pub fn route(&self, token: &str, now_ms: i64, path: &str) -> Option<WxResult<Arc<Emulator>>> {
        let state = self.state();
        if state.component_tokens.contains_key(token) {
            // The platform's token on an account's API.
            return Some(Err(WxError::new(61015)));
        }
        let (appid, issued) = state.authorizer_tokens.get(token)?;
        let checked = issued.check(now_ms).and_then(|()| {
            let grant = state.grants.get(appid).ok_or_else(|| WxError::new(40001))?;
            match permission_sets_of(path) {
                Some(sets) if !sets.iter().any(|s| grant.permission_sets.contains(s)) => {
                    Err(WxError::new(61007))
                }
                _ => Ok(()),
            }
        });
        Some(checked.and_then(|()| {
            self.account(appid)
                .cloned()
                .ok_or_else(|| WxError::new(40001))
        }))
    }

    /// What the admin route and the tests read.
    pub fn summary(&self) -> Value {
        let state = self.state();
        json!({
            "component_appid": self.config.component_appid,
            "accounts": self.accounts.len(),
            "authorized": state.grants.iter().map(|(appid, g)| json!({
                "appid": appid,
                "permission_sets": g.permission_sets,
                "auth_time": g.auth_time,
            })).collect::<Vec<_>>(),
            "stats": state.stats,
            "latest_ticket": state.tickets.back().map(|(t, at)| json!({"ticket": t, "create_time": at})),
        })
    }

    /// The admin's scan: `appid` authorises the platform with
    /// `permission_sets`, through `pre_auth_code` (used up) when given. A
    /// new authorisation replaces the refresh token (the old one dies) and
    /// is pushed as `authorized`, or `updateauthorized` when the account
    /// had authorised before. Returns the authorization code.
    pub fn authorize(
        &self,
        appid: &str,
        pre_auth_code: Option<&str>,
        permission_sets: Vec<u32>,
        now_ms: i64,
    ) -> Result<(String, &'static str, String), String> {
        if self.account(appid).is_none() {
            return Err(format!("{appid} is not one of the platform's accounts"));
        }
        let mut state = self.state();
        if let Some(code) = pre_auth_code {
            match state.pre_auth_codes.remove(code) {
                Some(expires) if expires > now_ms => {}
                Some(_) => return Err("the pre-auth code expired".into()),
                None => return Err("no such pre-auth code (each is used once)".into()),
            }
        }
        let mut sets = permission_sets;
        sets.sort_unstable();
        sets.dedup();
        let info_type = if state.grants.contains_key(appid) {
            "updateauthorized"
        } else {
            "authorized"
        };
        let code = format!("queryauthcode@@@{}", ids::random_id(60));
        state.auth_codes.insert(
            code.clone(),
            AuthCode {
                appid: appid.to_owned(),
                expires_ms: now_ms + CODE_TTL_MS,
                used: false,
            },
        );
        // The old refresh token dies; the account's token lives on until
        // it ends, as tokens do.
        let token = state.grants.remove(appid).and_then(|old| old.token);
        state.grants.insert(
            appid.to_owned(),
            Grant {
                refresh_token: format!("refreshtoken@@@{}", ids::random_id(43)),
                permission_sets: sets,
                auth_time: now_ms / 1000,
                token,
            },
        );
        state.stats.authorizations += 1;
        let xml = authorization_xml(
            &self.config.component_appid,
            info_type,
            appid,
            Some((
                &code,
                now_ms / 1000 + CODE_TTL_MS / 1000,
                pre_auth_code.unwrap_or(""),
            )),
            now_ms / 1000,
        );
        Ok((code, info_type, xml))
    }

    /// The admin withdraws: the refresh token and tokens die; pushed as
    /// `unauthorized`.
    pub fn revoke(&self, appid: &str, now_ms: i64) -> Result<String, String> {
        let mut state = self.state();
        let Some(grant) = state.grants.remove(appid) else {
            return Err(format!("{appid} has not authorised the platform"));
        };
        if let Some(token) = grant.token
            && let Some((_, issued)) = state.authorizer_tokens.get_mut(&token)
        {
            issued.valid_until_ms = Some(now_ms);
        }
        state.stats.revocations += 1;
        Ok(authorization_xml(
            &self.config.component_appid,
            "unauthorized",
            appid,
            None,
            now_ms / 1000,
        ))
    }

    /// A ticket, kept and returned as its push.
    fn new_ticket(&self, now_s: i64) -> String {
        let ticket = format!("ticket@@@{}", ids::random_id(86));
        let mut state = self.state();
        state.tickets.push_back((ticket.clone(), now_s));
        while state.tickets.len() > 200 {
            state.tickets.pop_front();
        }
        state.last_ticket_s = Some(now_s);
        state.ticket_asked = false;
        state.stats.tickets_pushed += 1;
        let mut xml = String::from("<xml>");
        write_cdata_element(&mut xml, "AppId", &self.config.component_appid);
        xml.push_str(&format!("<CreateTime>{now_s}</CreateTime>"));
        write_cdata_element(&mut xml, "InfoType", "component_verify_ticket");
        write_cdata_element(&mut xml, "ComponentVerifyTicket", &ticket);
        xml.push_str("</xml>");
        xml
    }

    /// Whether a ticket push is due: asked for, or 10 minutes since the last.
    fn ticket_due(&self, now_s: i64) -> bool {
        let state = self.state();
        state.ticket_asked
            || state
                .last_ticket_s
                .is_none_or(|last| now_s - last >= TICKET_EVERY_S)
    }

    /// Checks the component token of a call (`component_access_token`, or
    /// `access_token` as newer pages write it).
    fn check_component_token(&self, call: &Call, now_ms: i64) -> WxResult<()> {
        let token = call
            .query("component_access_token")
            .or_else(|| call.query("access_token"))
            .filter(|t| !t.is_empty())
            .ok_or_else(|| WxError::new(41001))?;
        let state = self.state();
        match state.component_tokens.get(token) {
            Some(issued) => issued.check(now_ms),
            // An account's token on the platform's API.
            None if state.authorizer_tokens.contains_key(token) => Err(WxError::new(61014)),
            None => Err(WxError::new(40001)),
        }
    }

    fn check_component_appid(&self, body: &Value) -> WxResult<()> {
        let appid = str_field(body, "component_appid", 41002)?;
        if appid != self.config.component_appid {
            return Err(WxError::new(61011));
        }
        Ok(())
    }

    /// `api_component_token`.
    fn component_token(&self, body: &Value, now_ms: i64) -> WxResult<Value> {
        let appid = str_field(body, "component_appid", 41002)?;
        if appid != self.config.component_appid {
            return Err(WxError::new(61011));
        }
        let secret = body
            .get("component_appsecret")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| WxError::new(41004))?;
        if secret != self.config.component_secret {
            let well_formed = secret.len() == 32 && secret.bytes().all(|b| b.is_ascii_hexdigit());
            return Err(WxError::new(if well_formed { 40001 } else { 40125 }));
        }
        let ticket = body
            .get("component_verify_ticket")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let mut state = self.state();
        let pushed_at = state
            .tickets
            .iter()
            .rev()
            .find(|(t, _)| t == ticket)
            .map(|(_, at)| *at);
        match pushed_at {
            None => return Err(WxError::new(61006)),
            Some(at) if now_ms / 1000 - at >= TICKET_TTL_S => return Err(WxError::new(61005)),
            Some(_) => {}
        }
        let token = ids::random_id(136);
        if let Some(previous) = state.component_token.take()
            && let Some(issued) = state.component_tokens.get_mut(&previous)
        {
            issued.supersede(now_ms);
        }
        state
            .component_tokens
            .insert(token.clone(), Issued::new(now_ms));
        state.component_token = Some(token.clone());
        state.stats.component_token_fetches += 1;
        state
            .component_tokens
            .retain(|_, t| t.expires_ms > now_ms - 86_400_000);
        Ok(json!({"component_access_token": token, "expires_in": TOKEN_TTL_MS / 1000}))
    }

    /// `api_create_preauthcode`.
    fn create_preauthcode(&self, body: &Value, now_ms: i64) -> WxResult<Value> {
        self.check_component_appid(body)?;
        let code = format!("preauthcode@@@{}", ids::random_id(60));
        let mut state = self.state();
        state.pre_auth_codes.retain(|_, expires| *expires > now_ms);
        state
            .pre_auth_codes
            .insert(code.clone(), now_ms + CODE_TTL_MS);
        Ok(json!({"pre_auth_code": code, "expires_in": CODE_TTL_MS / 1000}))
    }

    /// Issues `appid`'s next authorizer token, the previous one kept 5
    /// minutes.
    fn issue_authorizer_token(state: &mut State, appid: &str, now_ms: i64) -> String {
        let token = ids::random_id(136);
        let previous = state
            .grants
            .get_mut(appid)
            .and_then(|g| g.token.replace(token.clone()));
        if let Some(previous) = previous
            && let Some((_, issued)) = state.authorizer_tokens.get_mut(&previous)
        {
            issued.supersede(now_ms);
        }
        state
            .authorizer_tokens
            .insert(token.clone(), (appid.to_owned(), Issued::new(now_ms)));
        if state.authorizer_tokens.len() > 8192 {
            state
                .authorizer_tokens
                .retain(|_, (_, t)| t.expires_ms > now_ms - 86_400_000);
        }
        token
    }

    /// `api_query_auth`: the code once, within its 600 s.
    fn query_auth(&self, body: &Value, now_ms: i64) -> WxResult<Value> {
        self.check_component_appid(body)?;
        let code = str_field(body, "authorization_code", 61009)?;
        let mut state = self.state();
        let appid = match state.auth_codes.get_mut(code) {
            None => return Err(WxError::new(61009)),
            Some(c) if c.used => return Err(WxError::new(61009)),
            Some(c) if c.expires_ms <= now_ms => return Err(WxError::new(61010)),
            Some(c) => {
                c.used = true;
                c.appid.clone()
            }
        };
        let Some(grant) = state.grants.get(&appid).cloned() else {
            // Withdrawn since the code was given.
            return Err(WxError::new(61003));
        };
        let token = Self::issue_authorizer_token(&mut state, &appid, now_ms);
        Ok(json!({"authorization_info": {
            "authorizer_appid": appid,
            "authorizer_access_token": token,
            "expires_in": TOKEN_TTL_MS / 1000,
            "authorizer_refresh_token": grant.refresh_token,
            "func_info": func_info(&grant.permission_sets),
        }}))
    }

    /// `api_authorizer_token`: the stored refresh token, given back.
    fn authorizer_token(&self, body: &Value, now_ms: i64) -> WxResult<Value> {
        self.check_component_appid(body)?;
        let appid = str_field(body, "authorizer_appid", 40013)?.to_owned();
        let refresh = str_field(body, "authorizer_refresh_token", 61023)?;
        let mut state = self.state();
        let Some(grant) = state.grants.get(&appid) else {
            return Err(WxError::new(61003));
        };
        if grant.refresh_token != refresh {
            return Err(WxError::new(61023));
        }
        let refresh = grant.refresh_token.clone();
        let token = Self::issue_authorizer_token(&mut state, &appid, now_ms);
        *state
            .stats
            .authorizer_token_fetches
            .entry(appid)
            .or_insert(0) += 1;
        Ok(json!({
            "authorizer_access_token": token,
            "expires_in": TOKEN_TTL_MS / 1000,
            "authorizer_refresh_token": refresh,
        }))
    }

    /// `api_get_authorizer_info`.
    fn authorizer_info(&self, body: &Value) -> WxResult<Value> {
        self.check_component_appid(body)?;
        let appid = str_field(body, "authorizer_appid", 40013)?;
        let grant = self
            .state()
            .grants
            .get(appid)
            .cloned()
            .ok_or_else(|| WxError::new(61003))?;
        let account = self.account(appid).ok_or_else(|| WxError::new(61003))?;
        let config = &account.config;
        let service = config.account_type == crate::AccountType::Service;
        Ok(json!({
            "authorizer_info": {
                "nick_name": format!("Emulated {}", &appid[appid.len() - 6..]),
                "head_img": "",
                "service_type_info": {"id": if service { 2 } else { 0 }},
                "verify_type_info": {"id": 0},
                "user_name": config.original_id(),
                "alias": "",
                "principal_name": "wxmass emulator",
                "qrcode_url": "",
                "account_status": 1,
                "business_info": {"open_pay": 0, "open_shake": 0, "open_scan": 0, "open_card": 0, "open_store": 0},
            },
            "authorization_info": {
                "authorizer_appid": appid,
                "authorizer_refresh_token": grant.refresh_token,
                "func_info": func_info(&grant.permission_sets),
            },
        }))
    }

    /// `api_get_authorizer_list`: by authorisation time, `count` ≤ 500.
    fn authorizer_list(&self, body: &Value) -> WxResult<Value> {
        self.check_component_appid(body)?;
        let offset = int_field(body, "offset", 47001)?;
        let count = int_field(body, "count", 47001)?;
        if offset < 0 || !(1..=LIST_MAX).contains(&count) {
            return Err(WxError::with_message(
                40097,
                "invalid args: count is 1 to 500",
            ));
        }
        let state = self.state();
        let mut grants: Vec<_> = state.grants.iter().collect();
        grants.sort_by_key(|(appid, g)| (g.auth_time, (*appid).clone()));
        let list: Vec<Value> = grants
            .iter()
            .skip(offset as usize)
            .take(count as usize)
            .map(|(appid, g)| {
                json!({"authorizer_appid": appid, "refresh_token": g.refresh_token, "auth_time": g.auth_time})
            })
            .collect();
        Ok(json!({"total_count": grants.len(), "list": list}))
    }

    /// `api_start_push_ticket`.
    fn start_push_ticket(&self, body: &Value) -> WxResult<Value> {
        self.check_component_appid(body)?;
        let secret = str_field(body, "component_secret", 41004)?;
        if secret != self.config.component_secret {
            return Err(WxError::new(40125));
        }
        self.ask_ticket();
        Ok(ok())
    }
}

/// `func_info` as WeChat writes it.
fn func_info(sets: &[u32]) -> Value {
    sets.iter()
        .map(|id| json!({"funcscope_category": {"id": id}}))
        .collect()
}

/// The permission sets an account API belongs to (§1.8, §1.14): one of
/// them must be granted, or the call is 61007. `None`: not checked.
pub fn permission_sets_of(path: &str) -> Option<&'static [u32]> {
    let sets: &'static [u32] = if path.starts_with("/cgi-bin/message/mass/")
        || path.starts_with("/cgi-bin/message/template/")
        || path.starts_with("/cgi-bin/template/")
        || path == "/cgi-bin/media/uploadnews"
    {
        &[7]
    } else if path.starts_with("/cgi-bin/message/custom/")
        || path == "/cgi-bin/customservice/getkflist"
    {
        &[1, 6, 19]
    } else if path == "/cgi-bin/message/subscribe/bizsend" || path.starts_with("/wxaapi/newtmpl/") {
        &[89]
    } else if path.starts_with("/cgi-bin/tags/")
        || path.starts_with("/cgi-bin/user/")
        || path.starts_with("/cgi-bin/groups/")
    {
        &[2]
    } else if path.starts_with("/cgi-bin/media/") || path.starts_with("/cgi-bin/material/") {
        &[11]
    } else {
        return None;
    };
    Some(sets)
}

/// An authorisation change as pushed (§1.7).
fn authorization_xml(
    component_appid: &str,
    info_type: &str,
    appid: &str,
    code: Option<(&str, i64, &str)>,
    now_s: i64,
) -> String {
    let mut xml = String::from("<xml>");
    write_cdata_element(&mut xml, "AppId", component_appid);
    xml.push_str(&format!("<CreateTime>{now_s}</CreateTime>"));
    write_cdata_element(&mut xml, "InfoType", info_type);
    write_cdata_element(&mut xml, "AuthorizerAppid", appid);
    if let Some((code, expires, pre_auth_code)) = code {
        write_cdata_element(&mut xml, "AuthorizationCode", code);
        // A Unix timestamp, as real pushes carry (§0.2).
        xml.push_str(&format!(
            "<AuthorizationCodeExpiredTime>{expires}</AuthorizationCodeExpiredTime>"
        ));
        write_cdata_element(&mut xml, "PreAuthCode", pre_auth_code);
    }
    xml.push_str("</xml>");
    xml
}

/// Serves `/cgi-bin/component/...`: method, body, token, handler.
pub async fn serve(
    emulator: &Arc<Emulator>,
    platform: &Platform,
    path: &str,
    request: Request,
) -> Response {
    let answer = async {
        let needs_token = match path {
            "/cgi-bin/component/api_component_token"
            | "/cgi-bin/component/api_start_push_ticket" => false,
            "/cgi-bin/component/api_create_preauthcode"
            | "/cgi-bin/component/api_query_auth"
            | "/cgi-bin/component/api_authorizer_token"
            | "/cgi-bin/component/api_get_authorizer_info"
            | "/cgi-bin/component/api_get_authorizer_list" => true,
            _ => return Err(WxError::new(40066)),
        };
        if request.method() != Method::POST {
            return Err(WxError::new(43002));
        }
        let call = Call::read(request).await?;
        let now_ms = emulator.clock.now_ms();
        if needs_token {
            platform.check_component_token(&call, now_ms)?;
        }
        let body = call.json()?;
        match path {
            "/cgi-bin/component/api_component_token" => platform.component_token(&body, now_ms),
            "/cgi-bin/component/api_start_push_ticket" => platform.start_push_ticket(&body),
            "/cgi-bin/component/api_create_preauthcode" => {
                platform.create_preauthcode(&body, now_ms)
            }
            "/cgi-bin/component/api_query_auth" => platform.query_auth(&body, now_ms),
            "/cgi-bin/component/api_authorizer_token" => platform.authorizer_token(&body, now_ms),
            "/cgi-bin/component/api_get_authorizer_info" => platform.authorizer_info(&body),
            _ => platform.authorizer_list(&body),
        }
    }
    .await;
    match answer {
        Ok(v) => axum::Json(v).into_response(),
        Err(e) => {
            emulator.count_error(e.code);
            e.into_response()
        }
    }
}

/// Pushes the platform's tickets: one at start, then every 10 minutes of
/// the clock, and whenever one is asked for.
pub async fn run(emulator: Arc<Emulator>) {
    let Some(platform) = emulator.platform() else {
        return;
    };
    loop {
        let now_s = emulator.clock.now();
        if platform.ticket_due(now_s) {
            let xml = platform.new_ticket(now_s);
            tokio::spawn(push_event(emulator.clone(), "component_verify_ticket", xml));
        }
        tokio::select! {
            () = platform.wake.notified() => {}
            () = tokio::time::sleep(Duration::from_millis(250)) => {}
        }
    }
}

/// Pushes a platform event (`xml`, decrypted form) to the authorization
/// event URL: sealed with the component appid, its envelope naming `AppId`
/// (§1.2), three attempts at most; each attempt is recorded.
pub async fn push_event(emulator: Arc<Emulator>, event: &'static str, xml: String) {
    let Some(platform) = emulator.platform() else {
        return;
    };
    let Some(url) = platform.event_url() else {
        return;
    };
    let config = &platform.config;
    // A platform's event is delivered by `success` only.
    let sealing = || seal_event(config, &xml);
    crate::push::post_with_retries(
        &emulator,
        (event, 0),
        CallbackMode::Safe,
        &url,
        sealing,
        |reply| reply == "success",
    )
    .await;
}

/// The query and body of a platform push.
fn seal_event(config: &PlatformConfig, xml: &str) -> Result<SealedPush, String> {
    let timestamp = (wall_ms() / 1000).to_string();
    let nonce = ids::nonce();
    let key = AesKey::from_encoding_aes_key(&config.aes_key).map_err(|e| e.to_string())?;
    let crypto = MessageCrypto::new(config.component_appid.clone(), key);
    let sealed = crypto.seal(&config.token, xml, &timestamp, &nonce);
    let mut body = String::from("<xml>");
    write_cdata_element(&mut body, "AppId", &config.component_appid);
    write_cdata_element(&mut body, "Encrypt", &sealed.encrypt);
    body.push_str("</xml>");
    let query = vec![
        (
            "signature",
            signature::url_signature(&config.token, &timestamp, &nonce),
        ),
        ("timestamp", timestamp),
        ("nonce", nonce),
        ("encrypt_type", "aes".to_owned()),
        ("msg_signature", sealed.msg_signature.clone()),
    ];
    Ok(SealedPush { query, body })
}

/// The texts of the release test (§1.17).
pub const RELEASE_TEXT: &str = "TESTCOMPONENT_MSG_TYPE_TEXT";
/// The passive reply it expects to [`RELEASE_TEXT`].
pub const RELEASE_TEXT_REPLY: &str = "TESTCOMPONENT_MSG_TYPE_TEXT_callback";
/// How long WeChat waits for a reply.
const REPLY_WITHIN: Duration = Duration::from_secs(5);
/// How long the release test waits for the customer-service message.
const API_REPLY_WITHIN: Duration = Duration::from_secs(10);

fn account_has_no_callback(platform: &Platform, appid: &str) -> bool {
    platform
        .account(appid)
        .is_none_or(|a| a.callback().is_none())
}

/// One case of the release test, as the console shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ReleaseCase {
    /// `ticket`, `text` or `api`.
    pub case: &'static str,
    /// Whether it passed.
    pub passed: bool,
    /// What was seen.
    pub detail: String,
}

impl Platform {
    fn code_used(&self, code: &str) -> bool {
        self.state().auth_codes.get(code).is_some_and(|c| c.used)
    }
}

/// Runs the 全网发布 release test of `group` (1 to 5) against the
/// platform's URLs, as WeChat does before a release: a ticket answered
/// `success`; the test account's authorisation; its fan's text answered
/// passively (encrypted) with [`RELEASE_TEXT_REPLY`]; and
/// `QUERY_AUTH_CODE:$code$` answered empty within 5 s, then the code
/// exchanged and `$code$_from_api` sent to the fan by customer service.
pub async fn release_test(
    emulator: Arc<Emulator>,
    group: usize,
) -> Result<Vec<ReleaseCase>, String> {
    let platform = emulator.platform().ok_or("no open platform")?;
    let (appid, _) = group
        .checked_sub(1)
        .and_then(|i| RELEASE_TEST_ACCOUNTS.get(i))
        .ok_or("the release test's groups are 1 to 5")?;
    if platform.event_url().is_none() || account_has_no_callback(platform, appid) {
        return Err("the release test needs the platform's event URL and message URL".into());
    }
    let account = platform.account(appid).cloned().ok_or("no test account")?;
    let mut cases = Vec::new();

    let xml = platform.new_ticket(emulator.clock.now());
    let pushes_before = emulator.pushes().len();
    push_event(emulator.clone(), "component_verify_ticket", xml).await;
    let ticket_answer = emulator
        .pushes()
        .into_iter()
        .skip(pushes_before)
        .find(|p| p.event == "component_verify_ticket");
    cases.push(ReleaseCase {
        case: "ticket",
        passed: ticket_answer.as_ref().is_some_and(|p| p.accepted),
        detail: match ticket_answer {
            Some(p) => format!("answered {:?} with {:?}", p.status, p.reply),
            None => "no answer".into(),
        },
    });

    let now_ms = emulator.clock.now_ms();
    let (code, info_type, xml) = platform.authorize(appid, None, ALL_SETS.to_vec(), now_ms)?;
    push_event(emulator.clone(), info_type, xml).await;
    let fan = account.account().openid_of(0);

    let (answer, took) = push_user_text(&account, platform, &fan, RELEASE_TEXT).await;
    let text = answer.and_then(|(status, body)| {
        if status != 200 {
            return Err(format!("HTTP {status}"));
        }
        open_reply(platform, &body)
    });
    cases.push(match text {
        Ok(content) if content == RELEASE_TEXT_REPLY && took <= REPLY_WITHIN => ReleaseCase {
            case: "text",
            passed: true,
            detail: format!("replied {content:?} in {} ms", took.as_millis()),
        },
        Ok(content) => ReleaseCase {
            case: "text",
            passed: false,
            detail: format!(
                "replied {content:?} in {} ms; expected {RELEASE_TEXT_REPLY:?} within 5 s",
                took.as_millis()
            ),
        },
        Err(e) => ReleaseCase {
            case: "text",
            passed: false,
            detail: e,
        },
    });

    // The fan wrote: their window is open for the customer-service reply.
    let follower = account.account().index_of(&fan).unwrap_or(0);
    account.windows().open(
        follower,
        crate::api::custom::Interaction::Message,
        emulator.clock.now_ms(),
    );
    let query = format!("QUERY_AUTH_CODE:{code}");
    let (answer, took) = push_user_text(&account, platform, &fan, &query).await;
    let quick = match answer {
        Ok((200, body)) if matches!(body.trim(), "" | "success") && took <= REPLY_WITHIN => Ok(()),
        Ok((status, body)) => Err(format!(
            "answered HTTP {status} {:?} in {} ms; expected an empty answer within 5 s",
            body.chars().take(80).collect::<String>(),
            took.as_millis()
        )),
        Err(e) => Err(e),
    };
    let expected = format!("{code}_from_api");
    let give_up = tokio::time::Instant::now() + API_REPLY_WITHIN;
    let mut sent = false;
    while quick.is_ok() && tokio::time::Instant::now() < give_up {
        if account.windows().was_sent(follower, &expected) {
            sent = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let exchanged = platform.code_used(&code);
    cases.push(match quick {
        Err(e) => ReleaseCase {
            case: "api",
            passed: false,
            detail: e,
        },
        Ok(()) => ReleaseCase {
            case: "api",
            passed: sent && exchanged,
            detail: format!(
                "code exchanged: {exchanged}; customer-service text {expected:?} sent: {sent}"
            ),
        },
    });
    Ok(cases)
}

/// The fan's text pushed to the account's message URL; the answer (HTTP
/// status and body) and how long it took.
async fn push_user_text(
    account: &Arc<Emulator>,
    platform: &Platform,
    fan: &str,
    content: &str,
) -> (Result<(u16, String), String>, Duration) {
    let started = std::time::Instant::now();
    let Some(target) = account.callback() else {
        return (Err("no message URL".into()), started.elapsed());
    };
    let original_id = account.config.original_id();
    let now_s = account.clock.now();
    let mut xml = String::from("<xml>");
    write_cdata_element(&mut xml, "ToUserName", &original_id);
    write_cdata_element(&mut xml, "FromUserName", fan);
    xml.push_str(&format!("<CreateTime>{now_s}</CreateTime>"));
    write_cdata_element(&mut xml, "MsgType", "text");
    write_cdata_element(&mut xml, "Content", content);
    xml.push_str(&format!(
        "<MsgId>{}</MsgId></xml>",
        ids::fnv1a(content.as_bytes()) >> 1
    ));
    let push = match crate::push::seal(
        &target,
        &platform.config.component_appid,
        &original_id,
        &xml,
    ) {
        Ok(p) => p,
        Err(e) => return (Err(e), started.elapsed()),
    };
    let query: Vec<(&str, String)> = push
        .query
        .into_iter()
        .map(|(k, v)| {
            if k == "openid" {
                (k, fan.to_owned())
            } else {
                (k, v)
            }
        })
        .collect();
    let sent = account
        .http
        .post(&target.url)
        .query(&query)
        .header("content-type", "text/xml")
        .timeout(REPLY_TIMEOUT)
        .body(push.body)
        .send()
        .await;
    let answer = match sent {
        Ok(response) => {
            let status = response.status().as_u16();
            Ok((status, response.text().await.unwrap_or_default()))
        }
        Err(e) => Err(format!("no answer: {e}")),
    };
    (answer, started.elapsed())
}

/// A passive reply's text: its signature checked and its body decrypted
/// with the platform's key and component appid.
fn open_reply(platform: &Platform, body: &str) -> Result<String, String> {
    use wxmass_callback::xml::Document;
    let config = &platform.config;
    let doc = Document::parse(body).map_err(|e| format!("the reply is not XML ({e}): {body:?}"))?;
    let root = doc.root();
    let field = |name: &str| {
        root.child_text(name)
            .ok_or_else(|| format!("the reply has no {name}: it must be encrypted"))
    };
    let (encrypt, signature, timestamp, nonce) = (
        field("Encrypt")?,
        field("MsgSignature")?,
        field("TimeStamp")?,
        field("Nonce")?,
    );
    if signature::msg_signature(&config.token, timestamp, nonce, encrypt) != signature {
        return Err("the reply's MsgSignature is wrong".into());
    }
    let key = AesKey::from_encoding_aes_key(&config.aes_key).map_err(|e| e.to_string())?;
    let plain = MessageCrypto::new(config.component_appid.clone(), key)
        .decrypt(encrypt)
        .map_err(|e| format!("the reply does not decrypt with the platform's key: {e}"))?;
    let inner = Document::parse(&plain).map_err(|e| e.to_string())?;
    let root = inner.root();
    if root.child_text("MsgType") != Some("text") {
        return Err(format!("the reply is not a text: {plain:?}"));
    }
    Ok(root.child_text("Content").unwrap_or_default().to_owned())
}
