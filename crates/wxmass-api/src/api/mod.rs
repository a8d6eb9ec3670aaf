//! One handler per API area, reached from the [`Client`](crate::Client):
//! `client.comments()`, `client.custom()`, `client.datacube()`, `client.mass()`, `client.media()`, `client.news()`,
//! `client.publish()`, `client.quota()`, `client.subscribe()`, `client.tags()`, `client.templates()`, `client.users()`.

pub mod comments;
pub mod custom;
pub mod datacube;
pub mod mass;
pub mod media;
pub mod news;
pub mod publish;
pub mod quota;
pub mod subscribe;
pub mod tags;
pub mod templates;
pub mod users;

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{Error, Result};

/// A field of an answer as `T` (absent: JSON null), or [`Error::Decode`]
/// naming the call.
pub(crate) fn decode<T: DeserializeOwned>(path: &str, v: Option<&Value>) -> Result<T> {
    serde_json::from_value(v.cloned().unwrap_or_default()).map_err(|e| Error::Decode {
        path: path.into(),
        message: e.to_string(),
    })
}

/// A list of an answer (absent: empty), as [`decode`] does.
pub(crate) fn decode_list<T: DeserializeOwned>(path: &str, v: Option<&Value>) -> Result<Vec<T>> {
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        some => decode(path, some),
    }
}
