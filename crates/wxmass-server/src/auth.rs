//! Who is calling, and whether they may: API tokens (`Authorization:
//! Bearer wxm_...`, shown once, kept as a SHA-256 hash: they are 256 random
//! bits, so a slow hash adds nothing), passwords (argon2id), and the
//! permission each route needs, checked before anything else by its
//! handler's [`Allowed`] argument. The API document names the same permission for
//! each operation (its security requirement), and a test walks them all.

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use rand::RngExt as _;
use wxmass_campaign::people::{Permission, Role, User};

use crate::AppState;
use crate::error::ApiError;

/// The prefix of every token (so that a leaked one is easy to search for).
const TOKEN_PREFIX: &str = "wxm_";

/// A new API token.
pub fn new_token() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    format!("{TOKEN_PREFIX}{}", hex::encode(bytes))
}

/// What the store keeps of a token.
pub fn token_hash(token: &str) -> String {
    wxmass_campaign::sha256_hex(token.as_bytes())
}

/// Passwords shorter than this are refused.
pub const MIN_PASSWORD_CHARS: usize = 12;

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
        let header = parts
            .headers
            .get(AUTHORIZATION)
            .ok_or_else(|| ApiError::unauthorized("sign in: send `Authorization: Bearer TOKEN`"))?;
        let token = header
            .to_str()
            .ok()
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| t.starts_with(TOKEN_PREFIX))
            .ok_or_else(|| {
                ApiError::unauthorized("the Authorization header is not `Bearer wxm_...`")
            })?;
        let (user, role) = state
            .journal()
            .token_owner(&token_hash(token))
            .await?
            .ok_or_else(|| ApiError::unauthorized("this token is not known (revoked?)"))?;
        // A user whose role was lowered keeps no more through an old token.
        let role = if user.role.covers(role) {
            role
        } else {
            user.role
        };
        Ok(Caller { user, role })
    }
}
