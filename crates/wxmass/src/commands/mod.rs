//! One module per command. Each prints a table or sentence for people, or
//! JSON with `--json`, on stdout; progress and logs go to stderr.

pub mod api;
pub mod comments;
pub mod followers;
pub mod init;
pub mod publish;
pub mod remote;
pub mod stats;
pub mod status;
pub mod tags;
pub mod templates;
pub mod token;

pub use crate::output::{clean, confirm, emit, emit_bytes, print};
