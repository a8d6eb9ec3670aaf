//! One handler per API area, reached from the [`Client`](crate::Client):
//! `client.comments()`, `client.datacube()`, `client.mass()`, `client.media()`, `client.news()`,
//! `client.publish()`, `client.tags()`, `client.users()`.

pub mod comments;
pub mod datacube;
pub mod mass;
pub mod media;
pub mod news;
pub mod publish;
pub mod tags;
pub mod users;
