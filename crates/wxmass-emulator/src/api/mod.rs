//! The `/cgi-bin/...` endpoints, one module per API area, as in
//! wechat-api.md §1–§14. Each handler gets the emulator and a parsed
//! [`Call`](crate::call::Call); routing, method checks, token checks, quotas
//! and fault injection happen before, in [`crate::http`].

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
pub mod token;
pub mod users;
