//! A third-party platform (开放平台·第三方平台, wechat-notifications.md §1):
//! the [`Component`] client, the authorisation page an account's admin
//! opens, and the redirect that comes back with its `auth_code`.
//!
//! The flow: WeChat pushes a `component_verify_ticket` every 10 minutes
//! ([`Component::save_ticket`]); the platform's token comes from the latest
//! ticket; a pre-auth code makes an [`authorization_url`]; the admin's
//! consent comes back as a code that [`Component::query_auth`] exchanges,
//! once, for the account's refresh token; and [`Component::authorizer`] is
//! a [`Client`] for that account whose token comes from the refresh token,
//! so that every handler (`mass()`, `templates()`, ...) works unchanged.
//!
//! Three credentials, each fetched by one caller at a time across
//! processes and hosts (the token store's lock): the ticket (kept, never
//! fetched), the platform's token, and each account's token. Every answer
//! that carries a refresh token replaces the stored one.
//!
//! The page must be opened by a real navigation from a page on the
//! platform's launch domain (WeChat checks the Referer), and `redirect_uri`
//! must be on that domain: neither can be checked here. The redirect names
//! no account: `api_query_auth` with its code says which one.

use serde::Deserialize;
use serde_json::{Value, json};

use std::sync::Arc;

use crate::client::{Call, Client, ClientBuilder, Credential, TokenSource, token_of};
use crate::error::{Errcode, Error, Result};
use crate::ids::is_appid;
use crate::secret::Secret;
use crate::token::{CachedToken, MemoryStore, RefreshTokens, StoreFuture, StoredRefreshTokens};

/// Where the admin authorises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthorizationPage {
    /// A QR code to scan, on a computer (`componentloginpage`).
    Pc,
    /// A link opened inside WeChat on the phone (`bindcomponent`, the 2.0
    /// address).
    Mobile,
}

/// Which accounts the admin may pick: kinds (`auth_type`), or one account
/// (`biz_appid`). WeChat takes one or the other, never both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Offered {
    /// Official Accounts only (`auth_type=1`): what wxmass sends for.
    OfficialAccounts,
    /// Mini Programs only (`auth_type=2`).
    MiniPrograms,
    /// Either (`auth_type=3`).
    Both,
    /// This account only (`biz_appid`).
    Account(String),
}

/// The authorisation page's address for `pre_auth_code` (single use, from
/// `api_create_preauthcode`), sending the admin back to `redirect_uri`.
pub fn authorization_url(
    component_appid: &str,
    pre_auth_code: &str,
    redirect_uri: &str,
    page: AuthorizationPage,
    offered: &Offered,
) -> Result<String> {
    if !is_appid(component_appid) {
        return Err(Error::Invalid(format!(
            "component_appid {component_appid:?}: the platform's AppID, `wx` and 16 letters or digits"
        )));
    }
    if pre_auth_code.trim().is_empty() || pre_auth_code.len() > 512 {
        return Err(Error::Invalid(
            "pre_auth_code: the code api_create_preauthcode answered (each is used once)".into(),
        ));
    }
    let web = redirect_uri.starts_with("https://") || redirect_uri.starts_with("http://");
    if !web || redirect_uri.len() > 1024 || redirect_uri.bytes().any(|b| b.is_ascii_control()) {
        return Err(Error::Invalid(format!(
            "redirect_uri {redirect_uri:?}: a web address on the platform's launch domain (授权发起页域名)"
        )));
    }
    let which = match offered {
        Offered::OfficialAccounts => "auth_type=1".to_owned(),
        Offered::MiniPrograms => "auth_type=2".to_owned(),
        Offered::Both => "auth_type=3".to_owned(),
        Offered::Account(appid) if is_appid(appid) => format!("biz_appid={appid}"),
        Offered::Account(appid) => {
            return Err(Error::Invalid(format!(
                "biz_appid {appid:?}: an AppID, `wx` and 16 letters or digits"
            )));
        }
    };
    let query = format!(
        "component_appid={component_appid}&pre_auth_code={}&redirect_uri={}&{which}",
        super::percent_encode(pre_auth_code),
        super::percent_encode(redirect_uri),
    );
    Ok(match page {
        AuthorizationPage::Pc => {
            format!("https://mp.weixin.qq.com/cgi-bin/componentloginpage?{query}")
        }
        AuthorizationPage::Mobile => format!(
            "https://open.weixin.qq.com/wxaopen/safe/bindcomponent?action=bindcomponent&no_scan=1&{query}#wechat_redirect"
        ),
    })
}

/// What the authorisation page sends back: `redirect_uri?auth_code=...&
/// expires_in=600`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationRedirect {
    /// The code `api_query_auth` exchanges, once, for the account's tokens.
    pub auth_code: String,
    /// Seconds it stays good (600 when the redirect does not say).
    pub expires_in: u32,
}

impl AuthorizationRedirect {
    /// Reads the redirect's query (without the `?`). It comes from a
    /// browser: anything else in it is ignored, a code that is missing,
    /// empty, over 512 bytes or not printable ASCII is refused, and so is
    /// an `expires_in` that is not 1 to 86,400.
    pub fn parse(query: &str) -> Result<AuthorizationRedirect> {
        let mut code = None;
        let mut expires_in = None;
        for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
            match key.as_ref() {
                "auth_code" if code.is_none() => code = Some(value.into_owned()),
                "auth_code" => {
                    return Err(Error::Invalid("auth_code: given twice".into()));
                }
                "expires_in" => expires_in = Some(value.into_owned()),
                _ => {}
            }
        }
        let auth_code = code.ok_or_else(|| {
            Error::Invalid(
                "auth_code: missing (the admin cancelled, or this is not the authorisation page's redirect)"
                    .into(),
            )
        })?;
        if auth_code.is_empty()
            || auth_code.len() > 512
            || !auth_code.bytes().all(|b| b.is_ascii_graphic())
        {
            return Err(Error::Invalid(
                "auth_code: 1 to 512 printable characters".into(),
            ));
        }
        let expires_in = match expires_in {
            None => 600,
            Some(v) => v
                .parse::<u32>()
                .ok()
                .filter(|s| (1..=86_400).contains(s))
                .ok_or_else(|| Error::Invalid(format!("expires_in {v:?}: seconds, 1 to 86,400")))?,
        };
        Ok(AuthorizationRedirect {
            auth_code,
            expires_in,
        })
    }
}

/// How long a ticket is good after WeChat pushed it (§1.2).
const TICKET_LIFETIME_MS: i64 = 12 * 3600 * 1000;

/// The most `api_get_authorizer_list` gives in a page.
pub const AUTHORIZER_PAGE: u32 = 500;

/// A third-party platform's client. Build it with
/// [`ClientBuilder::build_component`](crate::ClientBuilder::build_component)
/// from the component appid and secret; cheap to clone.
///
/// ```no_run
/// # async fn run() -> wxmass_api::Result<()> {
/// use wxmass_api::Client;
/// let platform = Client::builder("wx134c8103faa5a59e", "the component secret")
///     .build_component()?;
/// // From the authorization event URL's push:
/// platform.save_ticket("ticket@@@...", 1_700_000_000).await?;
/// let account = platform.authorizer("wxba5fad812f8e6fb9")?;
/// let tags = account.tags().list().await?;
/// # let _ = tags; Ok(()) }
/// ```
#[derive(Clone)]
pub struct Component {
    client: Client,
    secret: Secret,
    refresh_tokens: Arc<dyn RefreshTokens>,
}

impl std::fmt::Debug for Component {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Component")
            .field("appid", &self.appid())
            .finish_non_exhaustive()
    }
}

impl ClientBuilder {
    /// Builds the client of a third-party platform from its component
    /// appid and secret (the builder's `appid` and `secret`): see
    /// [`Component`]. Token mode does not apply.
    pub fn build_component(mut self) -> Result<Component> {
        let store = self
            .store
            .get_or_insert_with(|| Arc::new(MemoryStore::new()))
            .clone();
        let refresh_tokens = self
            .refresh_tokens
            .take()
            .unwrap_or_else(|| Arc::new(StoredRefreshTokens::new(store, self.appid.clone())));
        let secret = self.secret.clone();
        let source = Arc::new(PlatformToken {
            secret: secret.clone(),
        });
        Ok(Component {
            client: self.build_with(Credential::Source(source))?,
            secret,
            refresh_tokens,
        })
    }
}

/// The platform's own token: `api_component_token` with the latest ticket.
struct PlatformToken {
    secret: Secret,
}

impl TokenSource for PlatformToken {
    fn fetch<'a>(&'a self, client: &'a Client) -> StoreFuture<'a, CachedToken> {
        Box::pin(fetch_platform_token(client, &self.secret))
    }

    fn kind(&self) -> String {
        "component".into()
    }

    fn param(&self) -> &'static str {
        "component_access_token"
    }
}

/// An authorised account's token: `api_authorizer_token` with its refresh
/// token, through the platform.
struct AuthorizerToken {
    component: Component,
}

impl TokenSource for AuthorizerToken {
    fn fetch<'a>(&'a self, client: &'a Client) -> StoreFuture<'a, CachedToken> {
        Box::pin(self.component.fetch_authorizer_token(client.appid()))
    }

    fn kind(&self) -> String {
        format!("authorizer:{}", self.component.appid())
    }

    fn param(&self) -> &'static str {
        "access_token"
    }
}

/// The store's key for the platform's ticket.
fn ticket_key(component_appid: &str) -> String {
    format!("wxmass:ticket:{component_appid}")
}

/// `api_component_token` with the ticket `client`'s store keeps.
async fn fetch_platform_token(client: &Client, secret: &Secret) -> Result<CachedToken> {
    let ticket = client
        .token_store()
        .load(&ticket_key(client.appid()))
        .await?
        .ok_or_else(|| {
            Error::Invalid(
                "no component_verify_ticket yet: WeChat pushes one every 10 minutes to the \
                 authorization event URL (api_start_push_ticket asks for one)"
                    .into(),
            )
        })?;
    let call = Call {
        needs_token: false,
        ..Call::post(
            "/cgi-bin/component/api_component_token",
            json!({
                "component_appid": client.appid(),
                "component_appsecret": secret.expose(),
                "component_verify_ticket": ticket.token.expose(),
            }),
        )
    };
    let path = call.path;
    metrics::counter!("wxmass_component_token_fetches_total").increment(1);
    let body = client.call(call).await?;
    token_of(path, &body, "component_access_token", client.now_ms())
}

/// A pre-auth code, for one [`authorization_url`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreAuthCode {
    /// `preauthcode@@@...`: used once.
    pub code: String,
    /// Seconds it stays good.
    pub expires_in: u32,
}

/// What an account granted, from `api_query_auth`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    /// The account.
    pub authorizer_appid: String,
    /// The permission sets granted (`funcscope_category` ids: 7 is mass
    /// messaging and template messages, 89 subscription notices).
    pub permission_sets: Vec<u32>,
    /// The account's refresh token, when the answer carried tokens (only
    /// when the account has API permissions). It is stored already
    /// ([`RefreshTokens`]); here for a caller that keeps it with the
    /// account it is about to create.
    pub refresh_token: Option<Secret>,
}

impl Authorization {
    /// Whether permission set `id` was granted.
    pub fn grants(&self, id: u32) -> bool {
        self.permission_sets.contains(&id)
    }
}

/// An account as `api_get_authorizer_info` describes it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AuthorizerInfo {
    /// The account.
    #[serde(default)]
    pub authorizer_appid: String,
    /// Its name.
    #[serde(default)]
    pub nick_name: String,
    /// Its avatar's URL.
    #[serde(default)]
    pub head_img: String,
    /// 0 or 1: a subscription account; 2: a service account.
    #[serde(default)]
    pub service_type: i64,
    /// -1: unverified; 0 and up: verified one way or another.
    #[serde(default = "unverified")]
    pub verify_type: i64,
    /// Its original id (`gh_...`), the `ToUserName` of its pushes.
    #[serde(default)]
    pub user_name: String,
    /// Its WeChat ID, if it has one.
    #[serde(default)]
    pub alias: String,
    /// Who owns it.
    #[serde(default)]
    pub principal_name: String,
    /// 1 normal, 14 deregistered, 16 banned, 18 warned, 19 frozen.
    #[serde(default = "normal")]
    pub account_status: i64,
    /// The permission sets granted.
    #[serde(default)]
    pub permission_sets: Vec<u32>,
}

fn unverified() -> i64 {
    -1
}

fn normal() -> i64 {
    1
}

impl AuthorizerInfo {
    /// A verified service account: what mass sends to openid lists and
    /// template messages need.
    pub fn is_verified_service(&self) -> bool {
        self.service_type == 2 && self.verify_type >= 0
    }
}

/// One account of `api_get_authorizer_list`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedAuthorizer {
    /// The account.
    pub authorizer_appid: String,
    /// Its current refresh token; `None` when nobody exchanged its code in
    /// time (the admin authorises again).
    pub refresh_token: Option<Secret>,
    /// When it authorised, Unix seconds.
    pub auth_time: i64,
}

/// A page of `api_get_authorizer_list`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizerPage {
    /// Accounts in all.
    pub total_count: u32,
    /// This page's.
    pub list: Vec<ListedAuthorizer>,
}

fn check_appid(what: &str, appid: &str) -> Result<()> {
    if is_appid(appid) {
        Ok(())
    } else {
        Err(Error::Invalid(format!(
            "{what} {appid:?}: an AppID, `wx` and 16 letters or digits"
        )))
    }
}

/// `func_info`'s permission set ids.
fn permission_sets(path: &str, func_info: Option<&Value>) -> Result<Vec<u32>> {
    #[derive(Deserialize)]
    struct Func {
        funcscope_category: Category,
    }
    #[derive(Deserialize)]
    struct Category {
        id: u32,
    }
    let funcs: Vec<Func> = super::decode_list(path, func_info)?;
    let mut ids: Vec<u32> = funcs.into_iter().map(|f| f.funcscope_category.id).collect();
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}

impl Component {
    /// The platform's component appid.
    pub fn appid(&self) -> &str {
        self.client.appid()
    }

    fn ticket_key(&self) -> String {
        ticket_key(self.appid())
    }

    fn refresh_tokens(&self) -> Result<&Arc<dyn RefreshTokens>> {
        Ok(&self.refresh_tokens)
    }

    /// Keeps a `component_verify_ticket` WeChat pushed at `create_time`
    /// (Unix seconds), unless the store holds a newer one: pushes can come
    /// out of order, and every instance behind the URL may get one.
    pub async fn save_ticket(&self, ticket: &str, create_time: i64) -> Result<()> {
        if ticket.trim().is_empty() || ticket.len() > 512 {
            return Err(Error::Invalid(
                "component_verify_ticket: 1 to 512 characters (an empty ticket is 61006)".into(),
            ));
        }
        let store = self.client.token_store();
        let key = self.ticket_key();
        let expires_at_ms = create_time.saturating_mul(1000) + TICKET_LIFETIME_MS;
        if let Some(held) = store.load(&key).await?
            && held.expires_at_ms >= expires_at_ms
        {
            return Ok(());
        }
        let token = CachedToken {
            token: Secret::new(ticket),
            expires_at_ms,
        };
        store.save(&key, &token).await
    }

    /// The latest ticket and when it stops being good, if one was kept.
    pub async fn ticket(&self) -> Result<Option<CachedToken>> {
        self.client.token_store().load(&self.ticket_key()).await
    }

    /// The platform's `component_access_token`, fetched with the latest
    /// ticket when needed (one fetch at a time across processes).
    pub async fn access_token(&self) -> Result<Secret> {
        self.client.access_token().await
    }

    /// `api_start_push_ticket`: asks WeChat to push a ticket again (after
    /// pushes stopped, or before the first).
    pub async fn start_push_ticket(&self) -> Result<()> {
        let secret = &self.secret;
        let call = Call {
            needs_token: false,
            ..Call::post(
                "/cgi-bin/component/api_start_push_ticket",
                json!({"component_appid": self.appid(), "component_secret": secret.expose()}),
            )
        };
        self.client.call(call).await.map(drop)
    }

    /// `api_create_preauthcode`: a code for one authorisation page.
    pub async fn create_preauthcode(&self) -> Result<PreAuthCode> {
        let path = "/cgi-bin/component/api_create_preauthcode";
        let body = self
            .client
            .call(Call::post(path, json!({"component_appid": self.appid()})).unsafe_to_repeat())
            .await?;
        let code = body
            .get("pre_auth_code")
            .and_then(Value::as_str)
            .filter(|c| !c.is_empty())
            .ok_or_else(|| Error::Decode {
                path: path.into(),
                message: "no pre_auth_code".into(),
            })?;
        let expires_in = body
            .get("expires_in")
            .and_then(Value::as_u64)
            .and_then(|s| u32::try_from(s).ok())
            .unwrap_or(600);
        Ok(PreAuthCode {
            code: code.to_owned(),
            expires_in,
        })
    }

    /// `api_query_auth`: exchanges an authorization code (from the
    /// redirect or the `authorized` push: exchange each once) for the
    /// account's tokens. The refresh token is stored, the access token
    /// kept as the account's, and what was granted returned.
    pub async fn query_auth(&self, authorization_code: &str) -> Result<Authorization> {
        if authorization_code.trim().is_empty() || authorization_code.len() > 512 {
            return Err(Error::Invalid(
                "authorization_code: the code of the redirect or the authorized push".into(),
            ));
        }
        let path = "/cgi-bin/component/api_query_auth";
        // Not repeated: a second exchange of one code may spoil the tokens
        // (wechat-notifications.md §0.6).
        let call = Call::post(
            path,
            json!({"component_appid": self.appid(), "authorization_code": authorization_code}),
        )
        .unsafe_to_repeat();
        let body = self.client.call(call).await?;
        let info = body
            .get("authorization_info")
            .ok_or_else(|| Error::Decode {
                path: path.into(),
                message: "no authorization_info".into(),
            })?;
        let appid = info
            .get("authorizer_appid")
            .and_then(Value::as_str)
            .filter(|a| is_appid(a))
            .ok_or_else(|| Error::Decode {
                path: path.into(),
                message: "no authorizer_appid".into(),
            })?
            .to_owned();
        let permission_sets = permission_sets(path, info.get("func_info"))?;
        let refresh = info
            .get("authorizer_refresh_token")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty());
        if let Some(refresh) = refresh {
            // The refresh token first: it is the credential that lasts.
            self.refresh_tokens()?
                .save(&appid, &Secret::new(refresh))
                .await?;
            if let Ok(token) = token_of(path, info, "authorizer_access_token", self.client.now_ms())
            {
                self.authorizer(&appid)?.keep_token(&token).await?;
            }
        }
        Ok(Authorization {
            authorizer_appid: appid,
            permission_sets,
            refresh_token: refresh.map(Secret::new),
        })
    }

    /// A [`Client`] for an account that authorised the platform: its token
    /// comes from `api_authorizer_token` with the stored refresh token.
    pub fn authorizer(&self, authorizer_appid: &str) -> Result<Client> {
        check_appid("authorizer_appid", authorizer_appid)?;
        let source = Arc::new(AuthorizerToken {
            component: self.clone(),
        });
        Ok(self.client.sharing(source, authorizer_appid))
    }

    /// `api_authorizer_token` for the token manager: with the stored
    /// refresh token, which is replaced when the answer carries another.
    /// On 61023 (the token was replaced) the current one is looked for,
    /// in the store (another instance saved it) and then in WeChat's
    /// list, and the call made once more with it.
    pub(crate) async fn fetch_authorizer_token(&self, appid: &str) -> Result<CachedToken> {
        let refresh_tokens = self.refresh_tokens()?;
        let held = refresh_tokens.load(appid).await?;
        let refresh = match held {
            Some(r) => r,
            None => self.listed_refresh_token(appid).await?.ok_or_else(|| {
                Error::Invalid(format!(
                    "no refresh token for {appid}: the account has not authorised the platform (or nobody exchanged its code)"
                ))
            })?,
        };
        match self.authorizer_token(appid, &refresh).await {
            Err(e) if e.errcode() == Some(Errcode::RefreshTokenInvalid) => {
                let stored = refresh_tokens.load(appid).await?;
                let current = match stored.filter(|s| *s != refresh) {
                    Some(s) => Some(s),
                    None => self.listed_refresh_token(appid).await?,
                };
                match current.filter(|c| *c != refresh) {
                    Some(current) => self.authorizer_token(appid, &current).await,
                    None => Err(e),
                }
            }
            other => other,
        }
    }

    /// One `api_authorizer_token` call, storing a refresh token that came
    /// back different.
    async fn authorizer_token(&self, appid: &str, refresh: &Secret) -> Result<CachedToken> {
        let path = "/cgi-bin/component/api_authorizer_token";
        let call = Call::post(
            path,
            json!({
                "component_appid": self.appid(),
                "authorizer_appid": appid,
                "authorizer_refresh_token": refresh.expose(),
            }),
        );
        metrics::counter!("wxmass_authorizer_token_fetches_total").increment(1);
        let body = self.client.call(call).await?;
        let token = token_of(path, &body, "authorizer_access_token", self.client.now_ms())?;
        let returned = body
            .get("authorizer_refresh_token")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .map(Secret::new);
        match returned {
            Some(new) if new != *refresh => self.refresh_tokens()?.save(appid, &new).await?,
            // Saved even when unchanged if the store lost it meanwhile.
            _ => self.refresh_tokens()?.save(appid, refresh).await?,
        }
        Ok(token)
    }

    /// `api_get_authorizer_info`: the account's name, kind, verification,
    /// original id and what it granted.
    pub async fn authorizer_info(&self, authorizer_appid: &str) -> Result<AuthorizerInfo> {
        check_appid("authorizer_appid", authorizer_appid)?;
        let path = "/cgi-bin/component/api_get_authorizer_info";
        let body = self
            .client
            .call(Call::post(
                path,
                json!({"component_appid": self.appid(), "authorizer_appid": authorizer_appid}),
            ))
            .await?;
        let mut info: AuthorizerInfo = super::decode(path, body.get("authorizer_info"))?;
        let id_of = |field: &str| {
            body.get("authorizer_info")
                .and_then(|i| i.get(field))
                .and_then(|t| t.get("id"))
                .and_then(Value::as_i64)
        };
        info.service_type = id_of("service_type_info").unwrap_or(0);
        info.verify_type = id_of("verify_type_info").unwrap_or(-1);
        let authorization = body.get("authorization_info");
        info.permission_sets =
            permission_sets(path, authorization.and_then(|a| a.get("func_info")))?;
        info.authorizer_appid = authorizer_appid.to_owned();
        if let Some(refresh) = authorization
            .and_then(|a| a.get("authorizer_refresh_token"))
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
        {
            self.refresh_tokens()?
                .save(authorizer_appid, &Secret::new(refresh))
                .await?;
        }
        Ok(info)
    }

    /// `api_get_authorizer_list`: one page of the accounts that authorised
    /// the platform (`count` at most 500).
    pub async fn authorizer_list(&self, offset: u32, count: u32) -> Result<AuthorizerPage> {
        if !(1..=AUTHORIZER_PAGE).contains(&count) {
            return Err(Error::Invalid(format!(
                "count {count}: 1 to {AUTHORIZER_PAGE} a page"
            )));
        }
        #[derive(Deserialize)]
        struct Listed {
            authorizer_appid: String,
            #[serde(default)]
            refresh_token: String,
            #[serde(default)]
            auth_time: i64,
        }
        let path = "/cgi-bin/component/api_get_authorizer_list";
        let body = self
            .client
            .call(Call::post(
                path,
                json!({"component_appid": self.appid(), "offset": offset, "count": count}),
            ))
            .await?;
        let total_count = body
            .get("total_count")
            .and_then(Value::as_u64)
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(0);
        let listed: Vec<Listed> = super::decode_list(path, body.get("list"))?;
        Ok(AuthorizerPage {
            total_count,
            list: listed
                .into_iter()
                .map(|l| ListedAuthorizer {
                    authorizer_appid: l.authorizer_appid,
                    refresh_token: Some(l.refresh_token)
                        .filter(|t| !t.is_empty())
                        .map(Secret::new),
                    auth_time: l.auth_time,
                })
                .collect(),
        })
    }

    /// Every account of `api_get_authorizer_list`, page by page, each
    /// listed refresh token stored: the recovery for refresh tokens lost or
    /// replaced (61023), and the nightly reconcile.
    pub async fn reconcile(&self) -> Result<Vec<ListedAuthorizer>> {
        let refresh_tokens = self.refresh_tokens()?;
        let mut all = Vec::new();
        let mut offset = 0u32;
        loop {
            let page = self.authorizer_list(offset, AUTHORIZER_PAGE).await?;
            let got = page.list.len() as u32;
            for listed in &page.list {
                if let Some(token) = &listed.refresh_token
                    && refresh_tokens
                        .load(&listed.authorizer_appid)
                        .await?
                        .as_ref()
                        != Some(token)
                {
                    refresh_tokens.save(&listed.authorizer_appid, token).await?;
                }
            }
            all.extend(page.list);
            offset += got;
            if got == 0 || offset >= page.total_count {
                return Ok(all);
            }
        }
    }

    /// The refresh token WeChat lists for `appid`, stored when found.
    async fn listed_refresh_token(&self, appid: &str) -> Result<Option<Secret>> {
        let mut offset = 0u32;
        loop {
            let page = self.authorizer_list(offset, AUTHORIZER_PAGE).await?;
            let got = page.list.len() as u32;
            if let Some(token) = page
                .list
                .into_iter()
                .find(|l| l.authorizer_appid == appid)
                .and_then(|l| l.refresh_token)
            {
                self.refresh_tokens()?.save(appid, &token).await?;
                return Ok(Some(token));
            }
            offset += got;
            if got == 0 || offset >= page.total_count {
                return Ok(None);
            }
        }
    }

    /// Whether a stored ticket is still good now.
    pub async fn has_fresh_ticket(&self) -> Result<bool> {
        Ok(self
            .ticket()
            .await?
            .is_some_and(|t| t.expires_at_ms > self.client.now_ms()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLATFORM: &str = "wx134c8103faa5a59e";

    #[test]
    fn the_pc_and_mobile_pages_carry_the_code_and_the_encoded_redirect() {
        let pc = authorization_url(
            PLATFORM,
            "preauthcode@@@abc",
            "https://launch.example.com/authorised?team=7",
            AuthorizationPage::Pc,
            &Offered::OfficialAccounts,
        )
        .expect("pc");
        assert_eq!(
            pc,
            "https://mp.weixin.qq.com/cgi-bin/componentloginpage?component_appid=wx134c8103faa5a59e\
             &pre_auth_code=preauthcode%40%40%40abc\
             &redirect_uri=https%3A%2F%2Flaunch.example.com%2Fauthorised%3Fteam%3D7&auth_type=1"
        );
        let mobile = authorization_url(
            PLATFORM,
            "preauthcode@@@abc",
            "https://launch.example.com/back",
            AuthorizationPage::Mobile,
            &Offered::Account("wxba5fad812f8e6fb9".into()),
        )
        .expect("mobile");
        assert!(mobile.starts_with(
            "https://open.weixin.qq.com/wxaopen/safe/bindcomponent?action=bindcomponent&no_scan=1&component_appid=wx134c8103faa5a59e&"
        ));
        assert!(mobile.ends_with("&biz_appid=wxba5fad812f8e6fb9#wechat_redirect"));
        assert!(!mobile.contains("auth_type"), "one or the other: {mobile}");
    }

    #[test]
    fn what_wechat_would_refuse_is_refused_here() {
        let url = |appid: &str, code: &str, redirect: &str, offered: Offered| {
            authorization_url(appid, code, redirect, AuthorizationPage::Pc, &offered)
                .expect_err("refused")
                .to_string()
        };
        let ok = "https://launch.example.com/back";
        assert!(url("wx123", "c", ok, Offered::Both).contains("component_appid"));
        assert!(url(PLATFORM, " ", ok, Offered::Both).contains("pre_auth_code"));
        assert!(url(PLATFORM, "c", "javascript:alert(1)", Offered::Both).contains("redirect_uri"));
        assert!(url(PLATFORM, "c", "https://a/\nb", Offered::Both).contains("redirect_uri"));
        assert!(url(PLATFORM, "c", ok, Offered::Account("gh_1".into())).contains("biz_appid"));
    }

    #[test]
    fn the_redirect_is_read_as_hostile_input() {
        let back = AuthorizationRedirect::parse(
            "auth_code=queryauthcode%40%40%40xyz&expires_in=600&state=9",
        )
        .expect("redirect");
        assert_eq!(back.auth_code, "queryauthcode@@@xyz");
        assert_eq!(back.expires_in, 600);
        assert_eq!(
            AuthorizationRedirect::parse("auth_code=c")
                .expect("no expiry")
                .expires_in,
            600
        );
        for bad in [
            "",
            "state=1",
            "auth_code=",
            "auth_code=a%0Ab",
            "auth_code=a&auth_code=b",
            "auth_code=a&expires_in=-1",
            "auth_code=a&expires_in=99999999999",
        ] {
            assert!(AuthorizationRedirect::parse(bad).is_err(), "{bad:?}");
        }
        let long = format!("auth_code={}", "a".repeat(513));
        assert!(AuthorizationRedirect::parse(&long).is_err());
    }
}
