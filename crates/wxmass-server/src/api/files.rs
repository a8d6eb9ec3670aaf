//! Files (`POST /api/v1/files`): the pictures, voices, videos, covers,
//! Markdown and themes a campaign's content names, uploaded before the
//! campaign is written. Each is kept once, by its SHA-256, in the store
//! (so every server behind the load balancer has it); the content names
//! it as `{"path": NAME, "sha256": HASH}`. What a file may be is checked
//! when a campaign names it, for the use it is put to.

use axum::Json;
use axum::body::Body as RequestBody;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use wxmass_api::api::media::Format;

use crate::AppState;
use crate::auth::{Allowed, ToEdit};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::json::Params;

/// The largest file taken: WeChat's largest (a permanent picture or a
/// video, 10 MB).
pub const FILE_MAX_BYTES: usize = 10 * 1024 * 1024;

/// Which file.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct FileQuery {
    /// Its name, as the content names it (a Markdown article's pictures by
    /// the address it writes, e.g. `photo.png`): 1 to 128 characters, no
    /// `/`, `\` or control characters, not `.` or `..`.
    #[param(
        pattern = "^(?!\\.{1,2}$)[^/\\\\\\u0000-\\u001f\\u007f-\\u009f]{1,128}$",
        min_length = 1,
        max_length = 128
    )]
    pub name: String,
}

/// A file kept.
#[derive(Debug, Serialize, ToSchema)]
pub struct FileView {
    /// Its name.
    pub path: String,
    /// Hex SHA-256 of its bytes: the content names it by this.
    pub sha256: String,
    /// Its size.
    pub bytes: u64,
    /// What its first bytes say it is (`jpeg`, `png`, `gif`, `bmp`, `amr`,
    /// `mp3`, `wav`, `wma`, `mp4`), if one of those.
    pub format: Option<String>,
}

fn check_file_name(name: &str) -> ApiResult<()> {
    let n = name.chars().count();
    if !(1..=128).contains(&n)
        || name.contains(['/', '\\'])
        || name.chars().any(char::is_control)
        || name == "."
        || name == ".."
    {
        return Err(ApiError::invalid(
            "name",
            "1 to 128 characters, no `/`, `\\` or control characters",
        ));
    }
    Ok(())
}

/// Keeps a file (the body, any type) for campaigns to name.
#[utoipa::path(post, path = "/api/v1/files", tag = "campaigns", security(("token" = ["edit"])),
    params(FileQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The file's bytes, at most 10 MB"),
    responses((status = 201, body = FileView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 413, body = ErrorBody)))]
pub async fn upload_file(
    Allowed(caller, _): Allowed<ToEdit>,
    State(state): State<AppState>,
    Params(query): Params<FileQuery>,
    body: RequestBody,
) -> ApiResult<(StatusCode, Json<FileView>)> {
    check_file_name(&query.name)?;
    let mut data = Vec::new();
    let mut stream = body.into_data_stream();
    while let Some(chunk) = futures_util::StreamExt::next(&mut stream).await {
        let chunk =
            chunk.map_err(|e| ApiError::invalid("body", format!("the upload broke off: {e}")))?;
        if data.len() + chunk.len() > FILE_MAX_BYTES {
            return Err(ApiError::too_large(
                "a file is at most 10 MB (WeChat's largest: a picture or a video)",
            ));
        }
        data.extend_from_slice(&chunk);
    }
    if data.is_empty() {
        return Err(ApiError::invalid("body", "the file is empty"));
    }
    state.check_storage(data.len() as u64).await?;
    let sha256 = state.journal().store_blob(&data).await?;
    state
        .journal()
        .audit(
            &caller.user.name,
            "file.upload",
            &query.name,
            &format!("{} bytes, sha256 {sha256}", data.len()),
            state.now(),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(FileView {
            path: query.name,
            sha256,
            bytes: data.len() as u64,
            format: Format::detect(&data).map(|f| f.name().to_lowercase()),
        }),
    ))
}

/// Forgets a kept file no campaign still uses (a campaign not yet
/// finished, cancelled or failed whose message names it is named in the
/// 409).
#[utoipa::path(delete, path = "/api/v1/files/{sha256}", tag = "campaigns", security(("token" = ["edit"])),
    params(("sha256" = String, Path, description = "The file's hex SHA-256, as POST /api/v1/files answered")),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn delete_file(
    Allowed(caller, _): Allowed<ToEdit>,
    State(state): State<AppState>,
    axum::extract::Path(sha256): axum::extract::Path<String>,
) -> ApiResult<StatusCode> {
    crate::api::campaigns::refuse_if_used(&state, &format!("the file {sha256}"), |c| {
        c.content.files().iter().any(|f| f.sha256 == sha256)
    })
    .await?;
    if !state.journal().delete_blob(&sha256).await? {
        return Err(ApiError::not_found(format!("no file {sha256:?}")));
    }
    state
        .journal()
        .audit(&caller.user.name, "file.delete", &sha256, "", state.now())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
