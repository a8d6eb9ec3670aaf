//! One handler per API area, reached from the [`Client`](crate::Client):
//! `client.comments()`, `client.custom()`, `client.datacube()`, `client.mass()`, `client.media()`, `client.news()`,
//! `client.publish()`, `client.quota()`, `client.subscribe()`, `client.tags()`, `client.templates()`, `client.users()`;
//! and [`component`], a third-party platform's authorisation page.

pub mod comments;
pub mod component;
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

/// Percent-encodes everything but unreserved characters (a value in an
/// address WeChat opens).
pub(crate) fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

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
