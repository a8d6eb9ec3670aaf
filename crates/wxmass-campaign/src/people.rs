//! Who may do what, and which accounts a server sends for: users and their
//! roles, API tokens, Official Accounts with their secrets (sealed by the
//! server before they reach the store: the journal never holds them in
//! the clear), and the audit log. The same tables on both backends.
//!
//! Passwords and tokens arrive here already hashed; this module keeps
//! rows, the server decides.

use serde::{Deserialize, Serialize};

/// What a role may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// Read campaigns, accounts, reports.
    Read,
    /// Write drafts, upload, send tests.
    Edit,
    /// Approve, schedule, send, pause, cancel.
    Send,
    /// Manage users, tokens, accounts; read the audit log.
    Admin,
}

impl Permission {
    /// Its name in the API's security requirements.
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::Read => "read",
            Permission::Edit => "edit",
            Permission::Send => "send",
            Permission::Admin => "admin",
        }
    }
}

/// A user's (or a token's) role.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything.
    Admin,
    /// Drafts, uploads and test sends.
    Editor,
    /// Approves, schedules, sends and cancels.
    Approver,
    /// Reads.
    Viewer,
}

impl Role {
    /// Every role, strongest first.
    pub const ALL: [Role; 4] = [Role::Admin, Role::Editor, Role::Approver, Role::Viewer];

    /// Whether it may do `p`.
    pub fn grants(self, p: Permission) -> bool {
        match self {
            Role::Admin => true,
            Role::Editor => matches!(p, Permission::Read | Permission::Edit),
            Role::Approver => matches!(p, Permission::Read | Permission::Send),
            Role::Viewer => p == Permission::Read,
        }
    }

    /// Whether everything `other` may do, this may do too (a token's role
    /// must be covered by its user's).
    pub fn covers(self, other: Role) -> bool {
        [
            Permission::Read,
            Permission::Edit,
            Permission::Send,
            Permission::Admin,
        ]
        .into_iter()
        .all(|p| !other.grants(p) || self.grants(p))
    }

    /// Its name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Editor => "editor",
            Role::Approver => "approver",
            Role::Viewer => "viewer",
        }
    }

    /// The role named `s`.
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// A user, as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    /// Its id.
    pub id: i64,
    /// Its login name.
    pub name: String,
    /// What it may do.
    pub role: Role,
    /// Unix seconds.
    pub created_at: i64,
    /// An admin disabled it: it cannot sign in and has no credentials.
    pub disabled: bool,
}

/// An API token or browser session as an admin lists it (never its hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    /// Its id.
    pub id: i64,
    /// Whose (the user's name).
    pub user: String,
    /// What it may do.
    pub role: Role,
    /// What it is for, or `session`.
    pub label: String,
    /// Unix seconds.
    pub created_at: i64,
}

/// A credential as the store keeps it: an API token, or a browser
/// session (kept the same way, under its own label).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    /// Its id (a token's, as `GET /api/v1/tokens` lists it).
    pub id: i64,
    /// What it may do (at most its user's role).
    pub role: Role,
    /// What it is for, e.g. `deploy bot`, or `session`.
    pub label: String,
    /// Unix seconds (sessions expire from this).
    pub created_at: i64,
}

/// An Official Account the server sends for, as the API shows it (its
/// secrets are in [`Account::sealed`], which the API never shows).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// Its AppID.
    pub appid: String,
    /// A name for people.
    pub name: String,
    /// Service or subscription (the quotas depend on it).
    pub account_type: Option<AccountType>,
    /// AppSecret, callback token and EncodingAESKey, sealed by the server.
    pub sealed: String,
    /// Where its API calls go when not to WeChat itself (a proxy with the
    /// whitelisted IP, or the emulator).
    pub api_base: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
    /// Set when the server acts for it through a third-party platform it
    /// authorised (its sealed secrets then hold the refresh token).
    pub authorised: Option<Authorised>,
}

impl Account {
    /// Whether it withdrew its authorisation of the platform (nothing is
    /// sent for it until its admin authorises again).
    pub fn is_withdrawn(&self) -> bool {
        self.authorised
            .as_ref()
            .is_some_and(|a| a.withdrawn_at.is_some())
    }
}

/// An account's authorisation of a third-party platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorised {
    /// The platform's component appid.
    pub component_appid: String,
    /// The permission sets granted (7: mass messages and template
    /// messages; 89: subscription notices).
    pub permission_sets: Vec<u32>,
    /// Its original id (`gh_...`), the `ToUserName` of its pushes.
    pub user_name: String,
    /// When it withdrew (Unix seconds): it is disabled, its history kept.
    pub withdrawn_at: Option<i64>,
}

impl Authorised {
    /// Whether permission set `id` was granted.
    pub fn grants(&self, id: u32) -> bool {
        self.permission_sets.contains(&id)
    }
}

/// What a scope belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scoped {
    /// A user (by id).
    User,
    /// An API token or a browser session (by id).
    Token,
}

impl Scoped {
    /// Its name in the store.
    pub fn as_str(self) -> &'static str {
        match self {
            Scoped::User => "user",
            Scoped::Token => "token",
        }
    }
}

/// The accounts a caller sees: a user's scope narrowed by its token's.
/// `None` is every account.
pub fn narrowed(user: Option<Vec<String>>, token: Option<Vec<String>>) -> Option<Vec<String>> {
    match (user, token) {
        (None, token) => token,
        (user, None) => user,
        (Some(user), Some(token)) => Some(user.into_iter().filter(|a| token.contains(a)).collect()),
    }
}

/// Who may receive an account's test sends.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Testers {
    /// Followers, by openid.
    pub openids: Vec<String>,
    /// People, by WeChat ID (微信号).
    pub wechat_ids: Vec<String>,
}

impl Testers {
    /// Whether `openid` (or, with `wechat_id`, that WeChat ID) is one.
    pub fn includes(&self, openid: Option<&str>, wechat_id: Option<&str>) -> bool {
        openid.is_some_and(|o| self.openids.iter().any(|t| t == o))
            || wechat_id.is_some_and(|w| self.wechat_ids.iter().any(|t| t == w))
    }
}

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    /// Its id, increasing.
    pub id: i64,
    /// Unix seconds.
    pub at: i64,
    /// Who (a user's name).
    pub actor: String,
    /// What, e.g. `user.create`, `campaign.approve`.
    pub action: String,
    /// On what, e.g. a user's name or a campaign's id.
    pub target: String,
    /// More, for people.
    pub detail: String,
}

/// The kind of Official Account, which decides its quotas.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AccountType {
    /// 服务号: `mass/send` to lists; each follower gets at most 4 mass
    /// messages a month; at most 4 sends to all a month.
    Service,
    /// 订阅号: one mass message (to a tag or to all) a day; no lists.
    Subscription,
}

impl AccountType {
    /// The type a profile names (`service` or `subscription`).
    pub fn parse(s: &str) -> Option<AccountType> {
        match s {
            "service" => Some(AccountType::Service),
            "subscription" => Some(AccountType::Subscription),
            _ => None,
        }
    }
}
