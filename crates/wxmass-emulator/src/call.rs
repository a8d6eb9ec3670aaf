//! One API call as the handlers see it: query parameters, the JSON body or
//! the multipart parts, and helpers that turn missing or mistyped fields into
//! WeChat's errcodes.

use std::collections::HashMap;

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::header;
use serde_json::Value;

use crate::error::{WxError, WxResult};

/// Largest body read; uploads above their type's limit get that type's
/// errcode, anything above this gets 45001.
pub const MAX_BODY_BYTES: usize = 24 * 1024 * 1024;

/// A file part of a multipart upload.
#[derive(Debug, Clone)]
pub struct Part {
    /// The form field name.
    pub name: String,
    /// The file name, if given.
    pub file_name: Option<String>,
    /// The bytes.
    pub data: Bytes,
}

/// A parsed request.
#[derive(Debug, Default)]
pub struct Call {
    /// Query parameters (the last value of a repeated one wins).
    pub query: HashMap<String, String>,
    /// The raw body.
    pub body: Bytes,
    /// Multipart parts, when the body was `multipart/form-data`.
    pub parts: Vec<Part>,
}

impl Call {
    /// A query parameter.
    pub fn query(&self, name: &str) -> Option<&str> {
        self.query.get(name).map(String::as_str)
    }

    /// The JSON body: 44002 when empty, 47001 when not JSON.
    pub fn json(&self) -> WxResult<Value> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Err(WxError::new(44002));
        }
        serde_json::from_slice(&self.body).map_err(|_| WxError::new(47001))
    }

    /// The JSON body, or `{}` when empty (for calls whose body is optional).
    pub fn json_or_empty(&self) -> WxResult<Value> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Value::Object(Default::default()));
        }
        serde_json::from_slice(&self.body).map_err(|_| WxError::new(47001))
    }

    /// The multipart part named `name`.
    pub fn part(&self, name: &str) -> Option<&Part> {
        self.parts.iter().find(|p| p.name == name)
    }
}

/// A string field; `missing` when absent, 47001 when not a string.
pub fn str_field<'v>(v: &'v Value, name: &str, missing: i64) -> WxResult<&'v str> {
    match v.get(name) {
        None | Some(Value::Null) => Err(WxError::new(missing)),
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(WxError::new(47001)),
    }
}

/// An optional string field.
pub fn opt_str<'v>(v: &'v Value, name: &str) -> WxResult<Option<&'v str>> {
    match v.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(WxError::new(47001)),
    }
}

/// An integer field that may be sent as a number or a numeric string (WeChat
/// accepts both, e.g. `msg_id` and `tag_id`).
pub fn int_field(v: &Value, name: &str, missing: i64) -> WxResult<i64> {
    match v.get(name) {
        None | Some(Value::Null) => Err(WxError::new(missing)),
        Some(Value::Number(n)) => n.as_i64().ok_or_else(|| WxError::new(47001)),
        Some(Value::String(s)) => s.trim().parse().map_err(|_| WxError::new(47001)),
        Some(_) => Err(WxError::new(47001)),
    }
}

/// An optional integer field (number or numeric string).
pub fn opt_int(v: &Value, name: &str) -> WxResult<Option<i64>> {
    match v.get(name) {
        None | Some(Value::Null) => Ok(None),
        _ => int_field(v, name, 47001).map(Some),
    }
}

/// A 0/1 flag sent as a number, a string or a bool.
pub fn flag(v: &Value, name: &str) -> WxResult<bool> {
    match v.get(name) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        _ => Ok(int_field(v, name, 47001)? != 0),
    }
}

impl Call {
    /// Reads a request: its query, and its body (multipart parts apart),
    /// at most [`MAX_BODY_BYTES`] (45001 beyond).
    pub async fn read(request: Request) -> WxResult<Call> {
        let query = request
            .uri()
            .query()
            .map(|q| {
                url_pairs(q)
                    .into_iter()
                    .collect::<HashMap<String, String>>()
            })
            .unwrap_or_default();
        let is_multipart = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("multipart/form-data"));
        let (parts, body) = request.into_parts();
        let body = axum::body::to_bytes(body, MAX_BODY_BYTES)
            .await
            .map_err(|_| WxError::new(45001))?;
        let mut call = Call {
            query,
            body: Bytes::new(),
            parts: Vec::new(),
        };
        if is_multipart {
            let request = Request::from_parts(parts, Body::from(body));
            let mut multipart = Multipart::from_request(request, &())
                .await
                .map_err(|_| WxError::new(41005))?;
            while let Some(field) = multipart
                .next_field()
                .await
                .map_err(|_| WxError::new(41005))?
            {
                let name = field.name().unwrap_or_default().to_owned();
                let file_name = field.file_name().map(str::to_owned);
                let data = field.bytes().await.map_err(|_| WxError::new(41005))?;
                call.parts.push(Part {
                    name,
                    file_name,
                    data,
                });
            }
        } else {
            call.body = body;
        }
        Ok(call)
    }
}

/// Decodes `a=1&b=%E4%B8%AD` into pairs; `+` is a space.
pub fn url_pairs(query: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}
