//! Who is calling, and whether they may: API tokens (`Authorization:
//! Bearer wxm_...`, shown once, kept as a SHA-256 hash: they are 256 random
//! bits, so a slow hash adds nothing), browser sessions (an HttpOnly,
//! SameSite=Strict cookie holding another such secret, `wxs_...`, kept the
//! same way, ending [`SESSION_SECONDS`] after sign-in; every request that
//! changes something also carries the session's CSRF token in
//! `X-CSRF-Token`), passwords (argon2id), and the permission each route
//! needs, checked before anything else by its handler's [`Allowed`]
//! argument. The API document names the same permission for each
//! operation (its security requirement), and a test walks them all.

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use axum::extract::FromRequestParts;
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::request::Parts;
use rand::RngExt as _;
use subtle::ConstantTimeEq as _;
use wxmass_campaign::people::{Permission, Role, User};
use wxmass_campaign::store::prelude::*;

use crate::AppState;
use crate::error::ApiError;

/// The prefix of every token (so that a leaked one is easy to search for).
const TOKEN_PREFIX: &str = "wxm_";

/// A new API token.
pub fn new_token() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    format!("{TOKEN_PREFIX}{}", hex::encode(bytes))
}

/// The prefix of every session secret.
const SESSION_PREFIX: &str = "wxs_";

/// The cookie a browser session travels in.
pub const SESSION_COOKIE: &str = "wxmass_session";

/// The label a session is kept under among the tokens.
pub const SESSION_LABEL: &str = "session";

/// How long a session lasts from sign-in (a working day).
pub const SESSION_SECONDS: i64 = 12 * 3600;

/// The header a session's requests that change something carry its CSRF
/// token in.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// What the store keeps of a token.
pub fn token_hash(token: &str) -> String {
    wxmass_campaign::sha256_hex(token.as_bytes())
}

/// A new session secret.
pub fn new_session() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    format!("{SESSION_PREFIX}{}", hex::encode(bytes))
}

/// Whether a browser's request comes from this server's own page: its
/// `Origin`, when it sends one, names the host the request is for. (A
/// request without one is an older browser's or not a browser's; the CSRF
/// token still holds it.) Checked beside the token, so that a token that
/// leaked into another site's page is still refused there.
pub fn same_origin(headers: &axum::http::HeaderMap) -> bool {
    let Some(origin) = headers.get(axum::http::header::ORIGIN) else {
        return true;
    };
    let Some(authority) = origin.to_str().ok().and_then(|o| {
        o.strip_prefix("https://")
            .or_else(|| o.strip_prefix("http://"))
    }) else {
        return false;
    };
    // The host asked for, or the one a proxy in front says it was asked
    // for (another site's page cannot set X-Forwarded-Host: it is not a
    // header a cross-site request may carry without the server's consent).
    ["host", "x-forwarded-host"]
        .iter()
        .filter_map(|name| headers.get(*name)?.to_str().ok())
        .filter_map(|v| v.split(',').next())
        .any(|host| host.trim().eq_ignore_ascii_case(authority))
}

/// The CSRF token of the session `secret`: derived from it, so a page
/// that cannot read the cookie (it is HttpOnly), nor any other site, can
/// make it; the server gives it to the page at sign-in.
pub fn csrf_token(secret: &str) -> String {
    wxmass_campaign::sha256_hex(format!("wxmass csrf\0{secret}").as_bytes())
}

/// Passwords shorter than this are refused.
pub const MIN_PASSWORD_CHARS: usize = 12;

/// The longest password taken, in characters (a passphrase fits; a
/// megabyte to hash does not).
pub const MAX_PASSWORD_CHARS: usize = 256;

/// An argon2id hash (PHC string, salted) of `password`.
pub fn hash_password(password: &str) -> Result<String, ApiError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| ApiError::internal(&e))
}

/// Whether `password` matches `hash`.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The user.
    pub user: User,
    /// What this credential may do (a token's role, at most its user's).
    pub role: Role,
    /// The session, when the caller is a signed-in browser.
    pub session: Option<Session>,
    /// The accounts it sees and acts on: its user's scope narrowed by its
    /// token's; `None`: every account.
    pub accounts: Option<Vec<String>>,
}

/// A signed-in browser's session.
#[derive(Debug, Clone)]
pub struct Session {
    /// Its secret (the cookie's value).
    pub secret: String,
    /// Unix seconds it began (it ends [`SESSION_SECONDS`] later).
    pub started_at: i64,
}

impl Caller {
    /// 403 unless the caller may do `p`.
    pub fn require(&self, p: Permission) -> Result<(), ApiError> {
        if self.role.grants(p) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "this needs the {} permission; the {} role does not have it",
                p.as_str(),
                self.role.as_str()
            )))
        }
    }
}

/// A permission a route needs, as a type: [`Allowed<ToAdmin>`] in a
/// handler's arguments checks it before the body is read, so a caller
/// without it learns nothing about the input (403 before 400).
pub trait Need: Send + Sync {
    /// The permission.
    const PERMISSION: Permission;
}

/// Needs [`Permission::Read`].
#[derive(Debug)]
pub struct ToRead;
/// Needs [`Permission::Edit`].
#[derive(Debug)]
pub struct ToEdit;
/// Needs [`Permission::Send`].
#[derive(Debug)]
pub struct ToSend;
/// Needs [`Permission::Admin`].
#[derive(Debug)]
pub struct ToAdmin;

impl Need for ToRead {
    const PERMISSION: Permission = Permission::Read;
}
impl Need for ToEdit {
    const PERMISSION: Permission = Permission::Edit;
}
impl Need for ToSend {
    const PERMISSION: Permission = Permission::Send;
}
impl Need for ToAdmin {
    const PERMISSION: Permission = Permission::Admin;
}

/// A caller allowed what `N` needs.
#[derive(Debug)]
pub struct Allowed<N: Need>(pub Caller, pub std::marker::PhantomData<N>);

impl<N: Need> FromRequestParts<AppState> for Allowed<N> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Allowed<N>, ApiError> {
        let caller = Caller::from_request_parts(parts, state).await?;
        caller.require(N::PERMISSION)?;
        Ok(Allowed(caller, std::marker::PhantomData))
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Caller, ApiError> {
        if let Some(header) = parts.headers.get(AUTHORIZATION) {
            let token = header
                .to_str()
                .ok()
                .and_then(|h| h.strip_prefix("Bearer "))
                .map(str::trim)
                .filter(|t| t.starts_with(TOKEN_PREFIX))
                .ok_or_else(|| {
                    ApiError::unauthorized("the Authorization header is not `Bearer wxm_...`")
                })?;
            let (user, credential, accounts) = owner(state, parts, &token_hash(token))
                .await?
                .ok_or_else(|| ApiError::unauthorized("this token is not known (revoked?)"))?;
            return Ok(Caller::new(user, credential.role, None, accounts));
        }
        let Some(secret) = session_cookie(parts) else {
            return Err(ApiError::unauthorized(
                "sign in: send `Authorization: Bearer TOKEN`, or sign in with POST /api/v1/session",
            ));
        };
        let (user, credential, accounts) = owner(state, parts, &token_hash(&secret))
            .await?
            .filter(|(_, c, _)| c.label == SESSION_LABEL)
            .ok_or_else(|| ApiError::unauthorized("this session has ended: sign in again"))?;
        // Sessions end by the machine's clock, whatever the scheduling clock says.
        if wxmass_campaign::beijing::now() >= credential.created_at + SESSION_SECONDS {
            return Err(ApiError::unauthorized(
                "this session has ended (12 hours): sign in again",
            ));
        }
        if !parts.method.is_safe() {
            if !same_origin(&parts.headers) {
                return Err(ApiError::forbidden(
                    "this request comes from another site's page (its Origin is not this server)",
                ));
            }
            let expected = csrf_token(&secret);
            let sent = parts
                .headers
                .get(CSRF_HEADER)
                .map(|v| v.as_bytes())
                .unwrap_or_default();
            if !bool::from(sent.ct_eq(expected.as_bytes())) {
                return Err(ApiError::forbidden(
                    "a signed-in browser's request that changes something carries X-CSRF-Token (from the sign-in answer or GET /api/v1/session)",
                ));
            }
        }
        let session = Session {
            secret,
            started_at: credential.created_at,
        };
        Ok(Caller::new(user, credential.role, Some(session), accounts))
    }
}

impl Caller {
    fn new(
        user: User,
        role: Role,
        session: Option<Session>,
        accounts: Option<Vec<String>>,
    ) -> Caller {
        // A user whose role was lowered keeps no more through an old token.
        let role = if user.role.covers(role) {
            role
        } else {
            user.role
        };
        Caller {
            user,
            role,
            session,
            accounts,
        }
    }

    /// Whether it sees and acts on account `appid`.
    pub fn sees(&self, appid: &str) -> bool {
        self.accounts
            .as_ref()
            .is_none_or(|a| a.iter().any(|x| x == appid))
    }

    /// Refuses (403) a scoped caller: what it asks spans every account.
    pub fn require_every_account(&self) -> Result<(), ApiError> {
        match self.accounts {
            None => Ok(()),
            Some(_) => Err(ApiError::forbidden(
                "this credential is scoped to some accounts; this covers every account",
            )),
        }
    }
}

/// The accounts a user's credential sees: its user's scope narrowed by the
/// credential's own.
/// A credential's owner: its user, the credential, and the accounts it is
/// scoped to.
type Owner = (
    User,
    wxmass_campaign::people::Credential,
    Option<Vec<String>>,
);

/// How long a credential looked up is taken as it was, for reads.
const OWNER_FOR: std::time::Duration = std::time::Duration::from_secs(1);

/// Most credentials remembered at once (then all are forgotten).
const OWNERS_MAX: usize = 10_000;

/// Credentials looked up in the last second, by their hash: a burst of
/// reads (a dashboard's page, a script polling a campaign) costs the store
/// one lookup of the token, its user and their scopes, not one each. Only
/// reads use it, and any request that changes something forgets them all
/// first, so a revocation, a disabled user or a narrowed scope holds on
/// this server at once; on another server on the same store, within
/// [`OWNER_FOR`].
#[derive(Debug, Default)]
pub struct Owners {
    remembered: std::sync::Mutex<std::collections::HashMap<String, (std::time::Instant, Owner)>>,
    /// Bumped by every change: a lookup that began before one is not kept.
    generation: std::sync::atomic::AtomicU64,
}

impl Owners {
    fn get(&self, hash: &str) -> Option<Owner> {
        let owners = self.remembered.lock().unwrap_or_else(|e| e.into_inner());
        owners
            .get(hash)
            .filter(|(at, _)| at.elapsed() < OWNER_FOR)
            .map(|(_, owner)| owner.clone())
    }

    fn generation(&self) -> u64 {
        self.generation.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Keeps `owner`, looked up in `generation`, unless a change came since.
    fn keep(&self, hash: &str, owner: &Owner, generation: u64) {
        let mut owners = self.remembered.lock().unwrap_or_else(|e| e.into_inner());
        if self.generation() != generation {
            return;
        }
        if owners.len() >= OWNERS_MAX {
            owners.clear();
        }
        owners.insert(hash.to_owned(), (std::time::Instant::now(), owner.clone()));
    }

    fn forget_all(&self) {
        let mut owners = self.remembered.lock().unwrap_or_else(|e| e.into_inner());
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        owners.clear();
    }
}

/// Forgets every remembered credential once a request that may have
/// changed one is answered (and [`owner`] forgets them before it runs).
pub async fn forget_owners_after_changes(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let changes = !request.method().is_safe();
    let response = next.run(request).await;
    if changes {
        state.owners().forget_all();
    }
    response
}

/// The owner of the credential with hash `hash`: remembered for a read,
/// looked up otherwise.
async fn owner(state: &AppState, parts: &Parts, hash: &str) -> Result<Option<Owner>, ApiError> {
    let reading = parts.method.is_safe();
    if reading {
        if let Some(owner) = state.owners().get(hash) {
            return Ok(Some(owner));
        }
    } else {
        state.owners().forget_all();
    }
    let generation = state.owners().generation();
    let Some((user, credential)) = state.journal().token_owner(hash).await? else {
        return Ok(None);
    };
    let accounts = scope_of(state, &user, &credential).await?;
    let owner = (user, credential, accounts);
    if reading {
        state.owners().keep(hash, &owner, generation);
    }
    Ok(Some(owner))
}

async fn scope_of(
    state: &AppState,
    user: &User,
    credential: &wxmass_campaign::people::Credential,
) -> Result<Option<Vec<String>>, ApiError> {
    use wxmass_campaign::people::{Scoped, narrowed};
    let journal = state.journal();
    Ok(narrowed(
        journal.scope(Scoped::User, user.id).await?,
        journal.scope(Scoped::Token, credential.id).await?,
    ))
}

/// The session secret in the request's cookies, if one is there.
fn session_cookie(parts: &Parts) -> Option<String> {
    parts
        .headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|h| h.to_str().ok())
        .flat_map(|h| h.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, value)| *name == SESSION_COOKIE && value.starts_with(SESSION_PREFIX))
        .map(|(_, value)| value.to_owned())
}

/// Failed sign-ins for one name from one address in [`SIGN_IN_WINDOW`]
/// before that address must wait to try the name again.
pub const SIGN_IN_FAILURES: usize = 5;

/// Failed sign-ins from one address, for any names, in [`SIGN_IN_WINDOW`]
/// before it must wait (one guess at many names).
pub const SIGN_IN_FAILURES_HERE: usize = 20;

/// The window failed sign-ins are counted over.
pub const SIGN_IN_WINDOW: std::time::Duration = std::time::Duration::from_secs(300);

/// The longest a sign-in for a name failing from many addresses is slowed.
pub const SIGN_IN_SLOWEST: std::time::Duration = std::time::Duration::from_secs(8);

/// What a sign-in attempt may do now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInTurn {
    /// Go on, after this long (a name that fails from many addresses is
    /// slowed, never locked: its owner can still sign in).
    Go(std::time::Duration),
    /// Refused (429) for this long: this address failed too often, for
    /// this name or for any.
    Wait(std::time::Duration),
}

/// Failed sign-ins, counted in the store: every server on it sees the same
/// ones, so an address gets its few tries however many servers share the
/// load. Limits are per address and per name from an address, never on
/// everyone: a stranger can slow a name down but not lock its owner out.
/// Times are the machine's (not the movable scheduling clock, which would
/// let an admin clear them).
pub struct SignIns<'a> {
    journal: &'a dyn Store,
}

impl<'a> SignIns<'a> {
    /// The sign-ins kept in `journal`.
    pub fn new(journal: &'a dyn Store) -> SignIns<'a> {
        SignIns { journal }
    }

    /// What a sign-in for `name` from `address` may do now.
    pub async fn check(&self, name: &str, address: &str) -> wxmass_campaign::Result<SignInTurn> {
        let window = SIGN_IN_WINDOW.as_secs() as i64;
        let now = wxmass_campaign::beijing::now();
        let failures = self
            .journal
            .sign_in_failures(&name.to_lowercase(), address, now - window)
            .await?;
        let wait = |oldest: Option<i64>| {
            let left = oldest.map_or(window, |t| t + window - now).clamp(1, window);
            std::time::Duration::from_secs(left as u64)
        };
        Ok(if failures.here >= SIGN_IN_FAILURES_HERE as u64 {
            SignInTurn::Wait(wait(failures.here_oldest))
        } else if failures.name_here >= SIGN_IN_FAILURES as u64 {
            SignInTurn::Wait(wait(failures.name_here_oldest))
        } else {
            // A second for each failure past the fifth, from anywhere.
            let past = failures.name.saturating_sub(SIGN_IN_FAILURES as u64 - 1);
            SignInTurn::Go(std::time::Duration::from_secs(past).min(SIGN_IN_SLOWEST))
        })
    }

    /// Counts a failure for `name` from `address` (and forgets those past
    /// the window).
    pub async fn failed(&self, name: &str, address: &str) -> wxmass_campaign::Result<()> {
        let now = wxmass_campaign::beijing::now();
        self.journal
            .sign_in_failed(
                &name.to_lowercase(),
                address,
                now,
                now - SIGN_IN_WINDOW.as_secs() as i64,
            )
            .await
    }

    /// Forgets `name`'s failures from `address` (it signed in there).
    pub async fn succeeded(&self, name: &str, address: &str) -> wxmass_campaign::Result<()> {
        self.journal
            .sign_in_succeeded(&name.to_lowercase(), address)
            .await
    }
}

/// The client's address, as [`client_address`] finds it.
pub struct ClientAddress(pub String);

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<ClientAddress, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip());
        Ok(ClientAddress(client_address(
            peer,
            &parts.headers,
            state.trusted_proxies(),
        )))
    }
}

/// The address a request came from: the connection's peer, or, when the
/// peer is one of `trusted` proxies, the last address in X-Forwarded-For
/// that is not one (a client may write any X-Forwarded-For of its own:
/// only what the proxies appended is believed).
pub fn client_address(
    peer: Option<std::net::IpAddr>,
    headers: &axum::http::HeaderMap,
    trusted: &[std::net::IpAddr],
) -> String {
    let Some(peer) = peer else {
        return "unknown".into();
    };
    if !trusted.contains(&peer) {
        return peer.to_string();
    }
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|a| a.trim().parse::<std::net::IpAddr>().ok())
        .rev()
        .find(|a| !trusted.contains(a))
        .unwrap_or(peer)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lookup_that_began_before_a_change_is_not_remembered() {
        let owners = Owners::default();
        let owner: Owner = (
            User {
                id: 1,
                name: "bob".into(),
                role: Role::Editor,
                created_at: 0,
                disabled: false,
            },
            wxmass_campaign::people::Credential {
                id: 2,
                role: Role::Editor,
                label: "bot".into(),
                created_at: 0,
            },
            None,
        );
        let before = owners.generation();
        owners.forget_all();
        owners.keep("h", &owner, before);
        assert!(owners.get("h").is_none(), "kept across a change");
        owners.keep("h", &owner, owners.generation());
        assert_eq!(owners.get("h"), Some(owner));
        owners.forget_all();
        assert!(owners.get("h").is_none(), "a change forgets every owner");
    }

    fn store(dir: &tempfile::TempDir) -> std::sync::Arc<dyn Store> {
        wxmass_campaign::store::open_sqlite(&dir.path().join("j.db")).expect("journal")
    }

    #[tokio::test]
    async fn a_name_waits_after_five_failures_from_one_address_and_a_success_clears_it() {
        let dir = tempfile::tempdir().expect("dir");
        let journal = store(&dir);
        let sign_ins = SignIns::new(&*journal);
        let go = SignInTurn::Go(std::time::Duration::ZERO);
        for _ in 0..SIGN_IN_FAILURES {
            assert_eq!(
                sign_ins.check("Alice", "10.0.0.1").await.expect("check"),
                go
            );
            sign_ins.failed("Alice", "10.0.0.1").await.expect("failed");
        }
        let SignInTurn::Wait(wait) = sign_ins.check("alice", "10.0.0.1").await.expect("check")
        else {
            panic!("not limited");
        };
        assert!(
            wait <= SIGN_IN_WINDOW && wait > SIGN_IN_WINDOW / 2,
            "{wait:?}"
        );
        assert_eq!(
            sign_ins.check("bob", "10.0.0.1").await.expect("check"),
            go,
            "other names are not"
        );
        // From elsewhere (its owner), Alice is slowed, never refused.
        assert_eq!(
            sign_ins.check("alice", "10.0.0.2").await.expect("check"),
            SignInTurn::Go(std::time::Duration::from_secs(1))
        );
        sign_ins
            .succeeded("ALICE", "10.0.0.1")
            .await
            .expect("succeeded");
        assert_eq!(
            sign_ins.check("alice", "10.0.0.1").await.expect("check"),
            go
        );
    }

    #[tokio::test]
    async fn many_names_failing_stop_only_their_address() {
        let dir = tempfile::tempdir().expect("dir");
        let journal = store(&dir);
        let sign_ins = SignIns::new(&*journal);
        for i in 0..100 {
            sign_ins
                .failed(&format!("user{i}"), "10.0.0.66")
                .await
                .expect("failed");
        }
        assert!(matches!(
            sign_ins
                .check("someone-else", "10.0.0.66")
                .await
                .expect("check"),
            SignInTurn::Wait(_)
        ));
        assert_eq!(
            sign_ins
                .check("someone-else", "10.0.0.7")
                .await
                .expect("check"),
            SignInTurn::Go(std::time::Duration::ZERO),
            "never a lockout of everyone"
        );
    }

    #[tokio::test]
    async fn failures_past_the_window_are_forgotten() {
        let dir = tempfile::tempdir().expect("dir");
        let journal = store(&dir);
        let window = SIGN_IN_WINDOW.as_secs() as i64;
        let now = wxmass_campaign::beijing::now();
        for _ in 0..SIGN_IN_FAILURES {
            journal
                .sign_in_failed("carol", "10.0.0.1", now - window - 10, now - 10 * window)
                .await
                .expect("an old failure");
        }
        let sign_ins = SignIns::new(&*journal);
        assert_eq!(
            sign_ins.check("carol", "10.0.0.1").await.expect("check"),
            SignInTurn::Go(std::time::Duration::ZERO)
        );
        // A new failure removes the old rows.
        sign_ins.failed("dave", "10.0.0.1").await.expect("failed");
        let here = journal
            .sign_in_failures("x", "10.0.0.1", 0)
            .await
            .expect("count")
            .here;
        assert_eq!(here, 1);
    }

    #[test]
    fn only_a_trusted_proxy_names_the_client() {
        let mut headers = axum::http::HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            "6.6.6.6, 203.0.113.9".parse().expect("header"),
        );
        let proxy: std::net::IpAddr = "10.0.0.1".parse().expect("ip");
        let stranger: std::net::IpAddr = "198.51.100.4".parse().expect("ip");
        assert_eq!(
            client_address(Some(proxy), &headers, &[proxy]),
            "203.0.113.9"
        );
        assert_eq!(
            client_address(Some(stranger), &headers, &[proxy]),
            "198.51.100.4",
            "a client's own header is not believed"
        );
        assert_eq!(client_address(Some(proxy), &headers, &[]), "10.0.0.1");
    }

    #[test]
    fn the_csrf_token_is_the_sessions_own() {
        let (a, b) = (new_session(), new_session());
        assert_ne!(csrf_token(&a), csrf_token(&b));
        assert_eq!(csrf_token(&a), csrf_token(&a));
        assert!(a.starts_with(SESSION_PREFIX) && a.len() == 4 + 64);
    }
}
