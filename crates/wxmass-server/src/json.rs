//! The JSON body of a request: axum's `Json`, with its rejection (bad
//! JSON, a wrong type, an unknown field, a missing one) turned into a 400
//! that names the field; and [`Params`], the same for the query string.

use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// A request body of type `T`.
#[derive(Debug)]
pub struct Body<T>(pub T);

impl<S, T> FromRequest<S> for Body<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Body<T>, ApiError> {
        let axum::Json(value) = axum::Json::<T>::from_request(req, state).await?;
        Ok(Body(value))
    }
}

/// A request's query string as `T`: axum's `Query`, with its rejection (a
/// missing, unknown or mistyped parameter) a JSON 400 naming it.
#[derive(Debug)]
pub struct Params<T>(pub T);

impl<S, T> axum::extract::FromRequestParts<S> for Params<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Params<T>, ApiError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Params(value)),
            Err(rejection) => {
                let text = rejection.body_text();
                let message = text
                    .strip_prefix("Failed to deserialize query string: ")
                    .unwrap_or(&text)
                    .to_owned();
                // serde names the parameter in backticks: "missing field `name`".
                let field = message
                    .split('`')
                    .nth(1)
                    .filter(|f| !f.is_empty())
                    .unwrap_or("query")
                    .to_owned();
                Err(ApiError::invalid(&field, message))
            }
        }
    }
}
