//! Saved openid lists (`/api/v1/lists`): uploaded once, one openid a line,
//! streamed to a file (a million lines do not sit in memory while they
//! arrive), checked as the CLI checks `--openids`, and kept in the store
//! under a name that campaigns then name (`"audience": {"kind":
//! "openids"}, "list": NAME`). A list does not change once saved.

use axum::Json;
use axum::body::Body as RequestBody;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;
use wxmass_campaign::audience::Spool;
use wxmass_campaign::lists::SavedList;
use wxmass_campaign::{OpenIdList, sha256_hex};

use crate::AppState;
use crate::auth::{Allowed, ToEdit, ToRead};
use crate::error::{ApiError, ApiResult, ErrorBody};

/// The largest list taken, in bytes (a million openids are 29 MB).
pub const LIST_MAX_BYTES: usize = 64 * 1024 * 1024;

/// A saved list, as shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListView {
    /// Its name.
    pub name: String,
    /// Lines (openids, repeats included).
    pub count: u64,
    /// Different openids: what a campaign to it addresses.
    pub distinct: u64,
    /// Hex SHA-256 of what was uploaded.
    pub sha256: String,
    /// Who saved it.
    pub created_by: String,
    /// Unix seconds.
    pub created_at: i64,
}

impl From<SavedList> for ListView {
    fn from(l: SavedList) -> ListView {
        ListView {
            name: l.name,
            count: l.count,
            distinct: l.distinct,
            sha256: l.sha256,
            created_by: l.created_by,
            created_at: l.created_at,
        }
    }
}

/// Every saved list.
#[utoipa::path(get, path = "/api/v1/lists", tag = "lists", security(("token" = ["read"])),
    responses((status = 200, body = Vec<ListView>), (status = 401, body = ErrorBody)))]
pub async fn list_lists(
    _: Allowed<ToRead>,
    State(state): State<AppState>,
) -> ApiResult<Json<Vec<ListView>>> {
    let lists = state.journal().lists().await?;
    Ok(Json(lists.into_iter().map(ListView::from).collect()))
}

/// Saves a list: the body is the openids, one a line (text/plain).
#[utoipa::path(put, path = "/api/v1/lists/{name}", tag = "lists", security(("token" = ["edit"])),
    params(("name" = String, Path, description = "The list's name: 1 to 64 of A-Z a-z 0-9 . _ -")),
    request_body(content = String, content_type = "text/plain", description = "One openid a line"),
    responses((status = 201, body = ListView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 413, body = ErrorBody)))]
pub async fn save_list(
    Allowed(caller, _): Allowed<ToEdit>,
    State(state): State<AppState>,
    Path(name): Path<String>,
    body: RequestBody,
) -> ApiResult<(StatusCode, Json<ListView>)> {
    crate::api::people::check_name("name", &name)?;
    let mut spool = Spool::new_in(None).map_err(|e| ApiError::internal(&e))?;
    let mut stream = body.into_data_stream();
    let mut size = 0usize;
    while let Some(chunk) = futures_util::StreamExt::next(&mut stream).await {
        let chunk =
            chunk.map_err(|e| ApiError::invalid("body", format!("the upload broke off: {e}")))?;
        size += chunk.len();
        if size > LIST_MAX_BYTES {
            return Err(ApiError::too_large(format!(
                "a list is at most {} MB",
                LIST_MAX_BYTES / (1024 * 1024)
            )));
        }
        spool.write(&chunk).map_err(|e| ApiError::internal(&e))?;
    }
    let path = spool.path().to_owned();
    // The reader names the file it read: the client's is "the list", not
    // this server's temporary path.
    let shown = path.display().to_string();
    let checked = tokio::task::spawn_blocking(move || OpenIdList::read(&path))
        .await
        .map_err(|e| ApiError::internal(&e))?
        .map_err(|e| ApiError::invalid("body", e.to_string().replace(&shown, "the list")))?;
    let data = std::fs::read(spool.path()).map_err(|e| ApiError::internal(&e))?;
    state.check_storage(data.len() as u64).await?;
    let now = state.now();
    let saved = SavedList {
        name,
        count: checked.count(),
        distinct: checked.distinct(),
        sha256: sha256_hex(&data),
        created_by: caller.user.name.clone(),
        created_at: now,
    };
    state.journal().save_list(&saved, &data).await?;
    state
        .journal()
        .audit(
            &caller.user.name,
            "list.save",
            &saved.name,
            &format!("{} openids", saved.distinct),
            now,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(saved.into())))
}

/// Deletes a saved list no campaign still uses (a campaign not yet
/// finished, cancelled or failed that names it is named in the 409).
#[utoipa::path(delete, path = "/api/v1/lists/{name}", tag = "lists", security(("token" = ["edit"])),
    params(("name" = String, Path, description = "The list's name")),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn delete_list(
    Allowed(caller, _): Allowed<ToEdit>,
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    crate::api::campaigns::refuse_if_used(&state, &format!("the list {name:?}"), |c| {
        c.list.as_deref() == Some(name.as_str())
    })
    .await?;
    if !state.journal().delete_list(&name).await? {
        return Err(ApiError::not_found(format!("no list {name:?}")));
    }
    state
        .journal()
        .audit(&caller.user.name, "list.delete", &name, "", state.now())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
