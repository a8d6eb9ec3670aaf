//! Official Accounts (`/api/v1/accounts`): the AppID and kind every
//! campaign is sent for, with the AppSecret, callback token and
//! EncodingAESKey sealed by the server key before they are stored. The API
//! takes secrets and never gives them back.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use wxmass_campaign::AccountType;
use wxmass_campaign::people::{Account, Testers};

use crate::AppState;
use crate::auth::{Allowed, ToAdmin, ToRead};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::json::Body;

/// An account, as shown: never its secrets.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountView {
    /// Its AppID.
    pub appid: String,
    /// A name for people.
    pub name: String,
    /// `service` or `subscription`, when known.
    pub account_type: Option<String>,
    /// Where WeChat pushes its reports: `/callback/{appid}`, or
    /// `/platform/callback/{appid}` for an account a platform acts for.
    pub callback_path: String,
    /// Where its API calls go, when not to WeChat itself.
    pub api_base: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
    /// Set when the server acts for it as a third-party platform it
    /// authorised (no AppSecret).
    pub authorised: Option<AuthorisedView>,
    /// Its tags, sorted: a campaign may go to every account with a tag
    /// (PUT /api/v1/accounts/{appid}/tags).
    pub tags: Vec<String>,
}

/// An account's authorisation of the server's platform.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuthorisedView {
    /// The platform's component appid.
    pub component_appid: String,
    /// The permission sets granted.
    pub permission_sets: Vec<u32>,
    /// Its original id (`gh_...`).
    pub user_name: String,
    /// When it withdrew (Unix seconds): nothing is sent for it since.
    pub withdrawn_at: Option<i64>,
    /// What it cannot do for want of a permission set.
    pub warnings: Vec<String>,
}

impl From<Account> for AccountView {
    fn from(a: Account) -> AccountView {
        let authorised = a.authorised.map(|g| {
            let mut warnings = Vec::new();
            if !g.grants(7) {
                warnings.push("permission set 7 (群发与通知) not granted: no mass or template messages; its admin authorises again with it".to_owned());
            }
            if !g.grants(89) {
                warnings.push("permission set 89 (服务号订阅通知) not granted: no subscription notices".to_owned());
            }
            AuthorisedView {
                component_appid: g.component_appid,
                permission_sets: g.permission_sets,
                user_name: g.user_name,
                withdrawn_at: g.withdrawn_at,
                warnings,
            }
        });
        let callback_path = match authorised {
            Some(_) => format!("/platform/callback/{}", a.appid),
            None => format!("/callback/{}", a.appid),
        };
        AccountView {
            callback_path,
            account_type: a.account_type.map(|t| type_name(t).to_owned()),
            api_base: a.api_base,
            appid: a.appid,
            name: a.name,
            created_at: a.created_at,
            authorised,
            tags: Vec::new(),
        }
    }
}

fn type_name(t: AccountType) -> &'static str {
    match t {
        AccountType::Service => "service",
        AccountType::Subscription => "subscription",
    }
}

/// A new account.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAccount {
    /// The AppID (`wx` and 16 characters), from mp.weixin.qq.com > Settings and Development > Basic Configuration.
    #[schema(pattern = "^wx[A-Za-z0-9]{16}$", min_length = 18, max_length = 18)]
    pub appid: String,
    /// A name for people, 1 to 64 characters.
    #[schema(
        pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f\\u200b\\u200e\\u200f\\u202a-\\u202e\\u2060-\\u2069\\ufeff]*$",
        min_length = 1,
        max_length = 64
    )]
    pub name: String,
    /// `service` or `subscription`.
    #[schema(value_type = wxmass_campaign::AccountType)]
    pub account_type: String,
    /// The AppSecret (32 letters or digits).
    #[schema(pattern = "^[A-Za-z0-9]{32}$", min_length = 32, max_length = 32)]
    pub secret: String,
    /// The callback token (3 to 32 letters and digits) set on the same page.
    #[schema(pattern = "^[A-Za-z0-9]{3,32}$", min_length = 3, max_length = 32)]
    pub callback_token: String,
    /// The EncodingAESKey (43 letters, digits, `+` or `/`): pushes are
    /// taken in safe mode only.
    #[schema(pattern = "^[A-Za-z0-9+/]{43}$", min_length = 43, max_length = 43)]
    pub aes_key: String,
    /// Where its API calls go instead of WeChat's own (a proxy on the
    /// whitelisted IP, or the emulator): an http(s) URL of at most 200
    /// characters. Optional.
    #[schema(pattern = "^https?://[^\\u0000-\\u0020\\u007f]*$", max_length = 200)]
    pub api_base: Option<String>,
}

/// What is sealed: the three secrets together.
#[derive(Serialize, Deserialize)]
pub(crate) struct Secrets {
    /// The AppSecret.
    pub secret: String,
    /// The callback token.
    pub callback_token: String,
    /// The EncodingAESKey.
    pub aes_key: String,
}

/// The account `appid`, if the store has it.
async fn find(state: &AppState, appid: &str) -> Result<Option<Account>, wxmass_campaign::Error> {
    state.journal().account(appid).await
}

/// The account `appid` and its secrets, opened with the server key;
/// `None` for an account a platform acts for, which has none of its own.
pub(crate) async fn open(
    state: &AppState,
    appid: &str,
) -> Result<Option<(Account, Secrets)>, wxmass_campaign::Error> {
    let Some(account) = find(state, appid).await?.filter(|a| a.authorised.is_none()) else {
        return Ok(None);
    };
    let secrets = state
        .key()
        .open(&account.sealed)
        .ok()
        .and_then(|plain| serde_json::from_slice(&plain).ok())
        .ok_or_else(|| {
            wxmass_campaign::Error::Invalid(format!(
                "the secrets of account {appid} do not open with this server's key (WXMASS_SERVER_KEY or the key file)"
            ))
        })?;
    Ok(Some((account, secrets)))
}

/// A WeChat client for the account `appid`.
pub(crate) async fn client(
    state: &AppState,
    appid: &str,
) -> Result<(Account, wxmass_api::Client), wxmass_campaign::Error> {
    if let Some(account) = find(state, appid).await?
        && let Some(grant) = &account.authorised
    {
        if let Some(at) = grant.withdrawn_at {
            return Err(wxmass_campaign::Error::Invalid(format!(
                "the account {appid} withdrew its authorisation of the platform at {}: nothing is sent for it until its admin authorises again",
                wxmass_campaign::beijing::shown(at)
            )));
        }
        let platform = state.platform().filter(|p| p.appid() == grant.component_appid).ok_or_else(|| {
            wxmass_campaign::Error::Invalid(format!(
                "the account {appid} authorised the platform {}, and this server does not run as it (--platform)",
                grant.component_appid
            ))
        })?;
        let client = platform.component().authorizer(appid)?;
        return Ok((account, client));
    }
    let (account, secrets) = open(state, appid)
        .await?
        .ok_or_else(|| wxmass_campaign::Error::Invalid(format!("the account {appid} is gone")))?;
    let mut builder = wxmass_api::Client::builder(appid.to_owned(), secrets.secret)
        .token_store(state.tokens())
        .clock(state.token_clock());
    if let Some(base) = account.api_base.as_deref().or(state.wechat_base()) {
        builder = builder.base_url(base);
    }
    Ok((account, builder.build()?))
}

/// Asks WeChat for the account's access token with the AppID and
/// AppSecret given, so that a wrong one is said now rather than by the
/// first send (40013, 40125). The token is the stable one: fetching it
/// changes nothing at WeChat, and it is kept for the sends to come. An
/// `api_base` that cannot be reached is a 400 naming it; WeChat itself
/// unreachable is a 502. Nothing is stored unchecked.
async fn try_credentials(state: &AppState, new: &NewAccount) -> ApiResult<()> {
    let mut builder = wxmass_api::Client::builder(new.appid.clone(), new.secret.clone())
        .token_store(state.tokens())
        .timeout(std::time::Duration::from_secs(5))
        .retry(wxmass_api::RetryPolicy {
            max_retries: 1,
            base_delay: std::time::Duration::from_millis(200),
            max_delay: std::time::Duration::from_secs(1),
        });
    if let Some(base) = new.api_base.as_deref().or(state.wechat_base()) {
        builder = builder.base_url(base);
    }
    let client = builder.build().map_err(|e| {
        ApiError::invalid("api_base", format!("not an address calls can go to: {e}"))
    })?;
    // WeChat's answers to a token request that say the credentials (or
    // this server's address) are wrong: the AppID (40013), the AppSecret
    // (40001 when fetching a token, 40125), or an address not whitelisted
    // (40164, 61004). Anything else is WeChat or the network failing.
    let refused = |code: i64| matches!(code, 40001 | 40013 | 40125 | 40164 | 61004);
    match client.access_token().await {
        Ok(_) => Ok(()),
        Err(e) if e.errcode().is_some_and(|c| refused(c.code())) => {
            let field = match e.errcode().map(|c| c.code()) {
                Some(40013) => "appid",
                Some(40164 | 61004) => "api_base",
                _ => "secret",
            };
            let advice = e.advice().map(|a| format!("; {a}")).unwrap_or_default();
            Err(ApiError::invalid(
                field,
                format!("WeChat refused these credentials: {e}{advice}"),
            ))
        }
        // The address the admin gave is the one at fault.
        Err(e) if new.api_base.is_some() => Err(ApiError::invalid(
            "api_base",
            format!("could not ask it for a token: {e}"),
        )),
        Err(e) => Err(ApiError::wechat(e)),
    }
}

fn check(new: &NewAccount) -> Result<AccountType, ApiError> {
    if !wxmass_api::is_appid(&new.appid) {
        return Err(ApiError::invalid(
            "appid",
            "an AppID is `wx` and 16 letters or digits",
        ));
    }
    crate::api::people::check_display_name("name", &new.name, 64)?;
    let kind = AccountType::parse(&new.account_type)
        .ok_or_else(|| ApiError::invalid("account_type", "`service` or `subscription`"))?;
    if new.secret.len() != 32 || !new.secret.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(ApiError::invalid(
            "secret",
            "an AppSecret is 32 letters or digits",
        ));
    }
    if let Some(base) = &new.api_base {
        let ok = (base.starts_with("http://") || base.starts_with("https://"))
            && base.chars().count() <= 200
            && !base
                .bytes()
                .any(|b| b.is_ascii_whitespace() || b.is_ascii_control());
        if !ok {
            return Err(ApiError::invalid(
                "api_base",
                "an http:// or https:// URL of at most 200 characters",
            ));
        }
    }
    let key_ok = new.aes_key.len() == 43
        && new
            .aes_key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/');
    if !key_ok {
        return Err(ApiError::invalid(
            "aes_key",
            "an EncodingAESKey is 43 letters, digits, `+` or `/`",
        ));
    }
    // The receiver's own checks, so that what is stored can serve pushes.
    wxmass_callback::CallbackConfig::builder(new.callback_token.clone(), new.appid.clone())
        .aes_key(new.aes_key.clone())
        .build()
        .map_err(|e| {
            let field = if e.to_string().to_lowercase().contains("token") {
                "callback_token"
            } else {
                "aes_key"
            };
            ApiError::invalid(field, e.to_string())
        })?;
    Ok(kind)
}

/// Every account.
#[utoipa::path(get, path = "/api/v1/accounts", tag = "accounts", security(("token" = ["read"])),
    responses((status = 200, body = Vec<AccountView>), (status = 401, body = ErrorBody)))]
pub async fn list_accounts(
    Allowed(caller, _): Allowed<ToRead>,
    State(state): State<AppState>,
) -> ApiResult<Json<Vec<AccountView>>> {
    let accounts = state.journal().accounts().await?;
    let tags = state.journal().account_tags().await?;
    Ok(Json(
        accounts
            .into_iter()
            .filter(|a| caller.sees(&a.appid))
            .map(|a| {
                let mut view = AccountView::from(a);
                view.tags = tags_of(&tags, &view.appid);
                view
            })
            .collect(),
    ))
}

/// `appid`'s tags among every account's (sorted by appid, then tag).
fn tags_of(tags: &[(String, String)], appid: &str) -> Vec<String> {
    tags.iter()
        .filter(|(a, _)| a == appid)
        .map(|(_, t)| t.clone())
        .collect()
}

/// An account's tags.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TagsBody {
    /// At most 20, each 1 to 32 letters (any script), digits, `-`, `_` or `.`.
    #[schema(max_items = 20)]
    pub tags: Vec<String>,
}

/// The most tags an account has.
const TAGS_MAX: usize = 20;

/// Tags an account (replacing its tags): a campaign may go to every
/// account with a tag (`"accounts": {"kind": "tagged", "tag": ...}`).
#[utoipa::path(put, path = "/api/v1/accounts/{appid}/tags", tag = "accounts", security(("token" = ["admin"])),
    params(("appid" = String, Path, description = "The account's AppID")),
    request_body = TagsBody,
    responses((status = 200, body = TagsBody), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn set_account_tags(
    Allowed(caller, _): Allowed<ToAdmin>,
    State(state): State<AppState>,
    axum::extract::Path(appid): axum::extract::Path<String>,
    Body(body): Body<TagsBody>,
) -> ApiResult<Json<TagsBody>> {
    if find(&state, &appid).await?.is_none() || !caller.sees(&appid) {
        return Err(ApiError::not_found(format!("no account {appid:?}")));
    }
    if body.tags.len() > TAGS_MAX {
        return Err(ApiError::invalid(
            "tags",
            format!("{} tags: at most {TAGS_MAX}", body.tags.len()),
        ));
    }
    if let Some(bad) = body
        .tags
        .iter()
        .find(|t| !wxmass_campaign::across::is_tag(t))
    {
        return Err(ApiError::invalid(
            "tags",
            format!(
                "{:?} is not a tag: 1 to {} letters, digits, '-', '_' or '.'",
                bad.escape_debug().to_string(),
                wxmass_campaign::across::TAG_MAX_CHARS
            ),
        ));
    }
    let mut tags = body.tags;
    tags.sort();
    tags.dedup();
    state.journal().set_account_tags(&appid, &tags).await?;
    state
        .journal()
        .audit(
            &caller.user.name,
            "account.tags",
            &appid,
            &tags.join(", "),
            state.now(),
        )
        .await?;
    let tags = tags_of(&state.journal().account_tags().await?, &appid);
    Ok(Json(TagsBody { tags }))
}

/// What is left of an account's mass-send quota, and this month's sends by day.
#[derive(Debug, Serialize, ToSchema)]
pub struct QuotaView {
    /// The account.
    pub appid: String,
    /// `day` (a subscription account: one mass message a day) or `month`
    /// (a service account: 4 sends to all a month; each follower gets at
    /// most 4 mass messages a month).
    pub period: String,
    /// What the period allows.
    pub limit: u64,
    /// Sent in it so far.
    pub sent: u64,
    /// Left.
    pub left: u64,
    /// When it returns, Beijing time (RFC 3339).
    pub resets_at: String,
    /// Each day of this month so far.
    pub days: Vec<QuotaDay>,
}

/// One day's mass sends.
#[derive(Debug, Serialize, ToSchema)]
pub struct QuotaDay {
    /// YYYY-MM-DD, Beijing time.
    pub date: String,
    /// Campaigns to all or to a tag that went out on it.
    pub sends: u64,
}

/// An account's quota: what is left today or this month, and the month's
/// sends by day (as the store knows them).
#[utoipa::path(get, path = "/api/v1/accounts/{appid}/quota", tag = "accounts", security(("token" = ["read"])),
    params(("appid" = String, Path, description = "The account's AppID")),
    responses((status = 200, body = QuotaView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn account_quota(
    Allowed(caller, _): Allowed<ToRead>,
    State(state): State<AppState>,
    axum::extract::Path(appid): axum::extract::Path<String>,
) -> ApiResult<Json<QuotaView>> {
    let Some(account) = find(&state, &appid)
        .await?
        .filter(|a| caller.sees(&a.appid))
    else {
        return Err(ApiError::not_found(format!("no account {appid:?}")));
    };
    let q =
        wxmass_campaign::quota::left(state.journal(), &appid, account.account_type, state.now())
            .await?;
    Ok(Json(QuotaView {
        appid,
        period: q.period.to_owned(),
        limit: q.limit,
        sent: q.sent,
        left: q.limit.saturating_sub(q.sent),
        resets_at: wxmass_campaign::beijing::rfc3339(q.resets_at),
        days: q
            .days
            .into_iter()
            .map(|(start, sends)| QuotaDay {
                date: wxmass_campaign::beijing::rfc3339(start)[..10].to_owned(),
                sends,
            })
            .collect(),
    }))
}

/// Adds an account.
#[utoipa::path(post, path = "/api/v1/accounts", tag = "accounts", security(("token" = ["admin"])),
    request_body = NewAccount,
    responses((status = 201, body = AccountView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 502, body = ErrorBody, description = "WeChat could not be reached to try the credentials")))]
pub async fn create_account(
    Allowed(caller, _): Allowed<ToAdmin>,
    State(state): State<AppState>,
    Body(new): Body<NewAccount>,
) -> ApiResult<(StatusCode, Json<AccountView>)> {
    let account = add(&state, &caller.user.name, &new).await?;
    Ok((StatusCode::CREATED, Json(account.into())))
}

/// Checks `new`, seals its secrets and stores it, for `actor` (the audit
/// log's name for who did it).
pub async fn add(state: &AppState, actor: &str, new: &NewAccount) -> ApiResult<Account> {
    let kind = check(new)?;
    try_credentials(state, new).await?;
    let secrets = serde_json::to_vec(&Secrets {
        secret: new.secret.clone(),
        callback_token: new.callback_token.clone(),
        aes_key: new.aes_key.clone(),
    })
    .map_err(|e| ApiError::internal(&e))?;
    let now = state.now();
    let account = Account {
        appid: new.appid.clone(),
        name: new.name.clone(),
        account_type: Some(kind),
        sealed: state.key().seal(&secrets),
        api_base: new.api_base.clone(),
        created_at: now,
        authorised: None,
    };
    state.journal().create_account(&account).await?;
    state
        .journal()
        .audit(
            actor,
            "account.create",
            &account.appid,
            type_name(kind),
            now,
        )
        .await?;
    Ok(account)
}

/// The most testers an account has: enough for a team's phones, few
/// enough that a test send stays a test.
const MAX_TESTERS: usize = 100;

/// An account's testers: the only people its test sends go to.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TestersBody {
    /// Followers' openids, each 1 to 64 of `A-Z a-z 0-9 _ -`; at most 100
    /// testers in all.
    #[schema(max_items = 100, value_type = Vec<TesterId>)]
    pub openids: Vec<String>,
    /// WeChat IDs (微信号), each 1 to 64 of `A-Z a-z 0-9 _ -`.
    #[schema(max_items = 100, value_type = Vec<TesterId>)]
    pub wechat_ids: Vec<String>,
}

/// An openid or a WeChat ID, as the document describes it.
#[derive(ToSchema)]
#[schema(pattern = "^[A-Za-z0-9_-]{1,64}$", min_length = 1, max_length = 64)]
#[allow(dead_code)]
pub struct TesterId(String);

fn check_testers(body: &TestersBody) -> Result<(), ApiError> {
    if body.openids.len() + body.wechat_ids.len() > MAX_TESTERS {
        return Err(ApiError::invalid(
            "openids",
            format!("at most {MAX_TESTERS} testers an account"),
        ));
    }
    for (field, values) in [("openids", &body.openids), ("wechat_ids", &body.wechat_ids)] {
        for (i, v) in values.iter().enumerate() {
            let fine = (1..=64).contains(&v.len())
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
            if !fine {
                return Err(ApiError::invalid(
                    &format!("{field}[{i}]"),
                    format!(
                        "{:?} is not one: 1 to 64 of A-Z a-z 0-9 _ -",
                        v.escape_debug().to_string()
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// An account's testers.
#[utoipa::path(get, path = "/api/v1/accounts/{appid}/testers", tag = "accounts", security(("token" = ["read"])),
    params(("appid" = String, Path, description = "The account's AppID")),
    responses((status = 200, body = TestersBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn account_testers(
    Allowed(caller, _): Allowed<ToRead>,
    State(state): State<AppState>,
    axum::extract::Path(appid): axum::extract::Path<String>,
) -> ApiResult<Json<TestersBody>> {
    if find(&state, &appid).await?.is_none() || !caller.sees(&appid) {
        return Err(ApiError::not_found(format!("no account {appid:?}")));
    }
    let t = state.journal().testers(&appid).await?;
    Ok(Json(TestersBody {
        openids: t.openids,
        wechat_ids: t.wechat_ids,
    }))
}

/// Names an account's testers (replacing the list): test sends of its
/// campaigns go to them and nobody else.
#[utoipa::path(put, path = "/api/v1/accounts/{appid}/testers", tag = "accounts", security(("token" = ["admin"])),
    params(("appid" = String, Path, description = "The account's AppID")),
    request_body = TestersBody,
    responses((status = 200, body = TestersBody), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn set_account_testers(
    Allowed(caller, _): Allowed<ToAdmin>,
    State(state): State<AppState>,
    axum::extract::Path(appid): axum::extract::Path<String>,
    Body(body): Body<TestersBody>,
) -> ApiResult<Json<TestersBody>> {
    if find(&state, &appid).await?.is_none() {
        return Err(ApiError::not_found(format!("no account {appid:?}")));
    }
    check_testers(&body)?;
    let testers = Testers {
        openids: body.openids,
        wechat_ids: body.wechat_ids,
    };
    state.journal().set_testers(&appid, &testers).await?;
    let detail = format!(
        "{} openid(s), {} WeChat ID(s)",
        testers.openids.len(),
        testers.wechat_ids.len()
    );
    state
        .journal()
        .audit(
            &caller.user.name,
            "account.testers",
            &appid,
            &detail,
            state.now(),
        )
        .await?;
    let t = state.journal().testers(&appid).await?;
    Ok(Json(TestersBody {
        openids: t.openids,
        wechat_ids: t.wechat_ids,
    }))
}

/// A template message template the account added, as WeChat lists it.
#[derive(Debug, Serialize, ToSchema)]
pub struct TemplateView {
    /// Its id, for a notice's `content.template.template_id`.
    pub template_id: String,
    /// Its title.
    pub title: String,
    /// Its text, with `{{key.DATA}}` where each keyword goes.
    pub content: String,
    /// WeChat's example.
    pub example: String,
    /// The keys its text names (`thing1`, `time2`, ...), in order: a
    /// notice's `data` names exactly these.
    pub keys: Vec<String>,
}

/// The account's templates for template messages (WeChat's
/// `template/get_all_private_template`, asked now): what a notice may
/// send, and the keywords each takes.
#[utoipa::path(get, path = "/api/v1/accounts/{appid}/templates", tag = "accounts", security(("token" = ["read"])),
    params(("appid" = String, Path, description = "The account's AppID")),
    responses((status = 200, body = Vec<TemplateView>), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 502, body = ErrorBody)))]
pub async fn account_templates(
    Allowed(caller, _): Allowed<ToRead>,
    State(state): State<AppState>,
    axum::extract::Path(appid): axum::extract::Path<String>,
) -> ApiResult<Json<Vec<TemplateView>>> {
    if find(&state, &appid).await?.is_none() || !caller.sees(&appid) {
        return Err(ApiError::not_found(format!("no account {appid:?}")));
    }
    let (_, client) = client(&state, &appid).await?;
    let templates = client.templates().list().await.map_err(ApiError::wechat)?;
    Ok(Json(
        templates
            .into_iter()
            .map(|t| TemplateView {
                keys: t.keys(),
                template_id: t.template_id,
                title: t.title,
                content: t.content,
                example: t.example,
            })
            .collect(),
    ))
}

/// What an authorisation page needs.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAuthorization {
    /// Where WeChat sends the admin back: this server's
    /// `https://HOST/platform/authorized`, on the platform's launch domain
    /// (授权发起页域名).
    #[schema(max_length = 1024)]
    pub redirect_uri: String,
    /// `pc` (a QR code to scan; the default) or `mobile` (a link opened in
    /// WeChat).
    pub page: Option<String>,
}

/// An authorisation page's address, good once.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuthorizationPageView {
    /// Open it by a link on a page of the launch domain (WeChat checks
    /// where the visit came from).
    pub url: String,
    /// Seconds it stays good.
    pub expires_in: u32,
}

/// The address of a page where an account's admin authorises this server's
/// third-party platform (`--platform`): the account appears in the
/// accounts once they have, with what they granted.
#[utoipa::path(post, path = "/api/v1/accounts/authorization", tag = "accounts", security(("token" = ["admin"])),
    request_body = NewAuthorization,
    responses((status = 200, body = AuthorizationPageView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody, description = "This server is not a third-party platform (--platform)"),
        (status = 502, body = ErrorBody, description = "WeChat could not be reached")))]
pub async fn authorization_page(
    Allowed(_, _): Allowed<ToAdmin>,
    State(state): State<AppState>,
    Body(new): Body<NewAuthorization>,
) -> ApiResult<Json<AuthorizationPageView>> {
    use wxmass_api::api::component::{AuthorizationPage, Offered, authorization_url};
    let platform = state.platform().ok_or_else(|| {
        ApiError::not_found("this server is not a third-party platform: start it with --platform")
    })?;
    let page = match new.page.as_deref() {
        None | Some("pc") => AuthorizationPage::Pc,
        Some("mobile") => AuthorizationPage::Mobile,
        Some(_) => return Err(ApiError::invalid("page", "`pc` or `mobile`")),
    };
    let back = url::Url::parse(&new.redirect_uri)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.path() == "/platform/authorized");
    if back.is_none() || new.redirect_uri.len() > 1024 {
        return Err(ApiError::invalid(
            "redirect_uri",
            "this server's https://HOST/platform/authorized, HOST on the platform's launch domain",
        ));
    }
    let code = platform
        .component()
        .create_preauthcode()
        .await
        .map_err(ApiError::wechat)?;
    let url = authorization_url(
        platform.appid(),
        &code.code,
        &new.redirect_uri,
        page,
        &Offered::OfficialAccounts,
    )
    .map_err(|e| ApiError::invalid("redirect_uri", e.to_string()))?;
    Ok(Json(AuthorizationPageView {
        url,
        expires_in: code.expires_in,
    }))
}
