//! The API's errors: a status and a JSON body that says what was wrong
//! and, for bad input, which field (`content.articles[2].title`). Bad input
//! is always a 4xx; a 5xx means the server or its store failed, and its
//! cause goes to the log, not to the client.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// The body of every error answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// A stable name: `unauthorized`, `forbidden`, `invalid`, `exists`,
    /// `not_found`, `wrong_state` (the message says the state it is in),
    /// `quota` (the message says when it frees), `conflict`, `wechat`
    /// (WeChat refused a call: 502), `too_large`, `unrecorded` (WeChat took a publish the store could
    /// not record: do not submit again), `too_many` (sign-ins:
    /// `Retry-After` says when), `unavailable` (503: the store does not
    /// answer), `internal`.
    pub code: &'static str,
    /// For people.
    pub message: String,
    /// The field at fault, as a path, when one is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// WeChat's errcode, when WeChat refused the call (`code` is `wechat`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errcode: Option<i64>,
    /// What to do about it, when there is advice for it (the same words
    /// the CLI shows).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub what_to_do: Option<String>,
}

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    detail: Box<ErrorDetail>,
    /// Seconds, for a `Retry-After` header.
    retry_after: Option<u64>,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            detail: Box::new(ErrorDetail {
                code,
                message: message.into(),
                field: None,
                errcode: None,
                what_to_do: None,
            }),
            retry_after: None,
        }
    }

    /// 401: no credentials, or ones that are not valid.
    pub fn unauthorized(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    /// 403: valid credentials, too weak a role.
    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// 403 for `field`: a value the caller may not use (a test send to
    /// someone not a tester).
    pub fn forbidden_field(field: &str, message: impl Into<String>) -> ApiError {
        let mut e = ApiError::new(StatusCode::FORBIDDEN, "forbidden", message);
        e.detail.field = Some(field.to_owned());
        e
    }

    /// 400 for `field`.
    pub fn invalid(field: &str, message: impl Into<String>) -> ApiError {
        let mut e = ApiError::new(StatusCode::BAD_REQUEST, "invalid", message);
        e.detail.field = Some(field.to_owned());
        e
    }

    /// 413.
    pub fn too_large(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", message)
    }

    /// 409: not in a state that allows it (the message says which).
    pub fn wrong_state(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::CONFLICT, "wrong_state", message)
    }

    /// 409: still in use (the message says by what).
    pub fn conflict(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::CONFLICT, "conflict", message)
    }

    /// 429, with when to try again.
    pub fn too_many(message: impl Into<String>, retry_after: std::time::Duration) -> ApiError {
        let mut e = ApiError::new(StatusCode::TOO_MANY_REQUESTS, "too_many", message);
        e.retry_after = Some(retry_after.as_secs().max(1));
        e
    }

    /// 503: the server cannot serve now (its store does not answer); the
    /// cause is logged, the client reads that much.
    pub fn unavailable(cause: impl Into<String>) -> ApiError {
        let cause = cause.into();
        tracing::warn!(error = %cause.escape_debug(), "not ready");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the server's store does not answer; see its log",
        )
    }

    /// 404.
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// 500; `cause` is logged, the client reads a generic sentence.
    pub fn internal(cause: &dyn std::fmt::Display) -> ApiError {
        tracing::error!(error = %cause.to_string().escape_debug(), "request failed");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the server could not complete the request; see its log",
        )
    }

    /// 502: WeChat refused or failed the call; its errcode is in the
    /// message (never a token).
    pub fn wechat(e: wxmass_api::Error) -> ApiError {
        let mut error = ApiError::new(StatusCode::BAD_GATEWAY, "wechat", format!("WeChat: {e}"));
        error.detail.errcode = e.errcode().map(|c| c.code());
        error.detail.what_to_do = e.advice();
        error
    }

    /// The HTTP status it is answered with.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The sentence for people (with the field, when one is at fault).
    pub fn message(&self) -> String {
        match &self.detail.field {
            Some(field) => format!("{field}: {}", self.detail.message),
            None => self.detail.message.clone(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (
            self.status,
            Json(ErrorBody {
                error: *self.detail,
            }),
        )
            .into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, seconds.into());
        }
        response
    }
}

impl From<wxmass_campaign::Error> for ApiError {
    fn from(e: wxmass_campaign::Error) -> ApiError {
        use wxmass_campaign::Error as E;
        match e {
            E::Exists(why) => ApiError::new(StatusCode::CONFLICT, "exists", why),
            E::WrongState { .. } => ApiError::wrong_state(e.to_string()),
            E::Invalid(why) => ApiError::new(StatusCode::BAD_REQUEST, "invalid", why),
            E::Quota(_) => ApiError::new(StatusCode::CONFLICT, "quota", e.to_string()),
            E::ContentChanged(_) | E::FileChanged(_) => {
                ApiError::new(StatusCode::CONFLICT, "conflict", e.to_string())
            }
            E::Api(e) => ApiError::wechat(e),
            E::AlreadyPublished { .. } => {
                ApiError::new(StatusCode::CONFLICT, "conflict", e.to_string())
            }
            E::PublishUnrecorded { publish_id, source } => {
                tracing::error!(publish_id, error = %source, "a publish WeChat took was not recorded");
                ApiError::new(
                    StatusCode::BAD_GATEWAY,
                    "unrecorded",
                    format!(
                        "publish {publish_id} was submitted but could not be recorded; do not submit again before GET /api/v1/publishes shows it"
                    ),
                )
            }
            other => ApiError::internal(&other),
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> ApiError {
        let status = match r.status() {
            StatusCode::PAYLOAD_TOO_LARGE => StatusCode::PAYLOAD_TOO_LARGE,
            StatusCode::UNSUPPORTED_MEDIA_TYPE => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            _ => StatusCode::BAD_REQUEST,
        };
        // axum names the field path in its text: "name: unknown field ...".
        let text = r.body_text();
        let message = text
            .strip_prefix("Failed to deserialize the JSON body into the target type: ")
            .unwrap_or(&text)
            .to_owned();
        let field = message
            .split_once(": ")
            .map(|(path, _)| path.to_owned())
            .filter(|p| !p.contains(' '));
        // Too large is not invalid: the client must send less, not other.
        let code = if status == StatusCode::PAYLOAD_TOO_LARGE {
            "too_large"
        } else {
            "invalid"
        };
        let mut e = ApiError::new(status, code, message);
        e.detail.field = field;
        e
    }
}

/// What a handler returns.
pub type ApiResult<T> = Result<T, ApiError>;
