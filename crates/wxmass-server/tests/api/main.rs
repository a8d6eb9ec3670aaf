//! wxmass-server tested in process: each test builds the whole app on a
//! store of its own (a temporary SQLite file) and calls it through tower's
//! `oneshot`, with no socket and no other process. The end-to-end tests
//! that need the binary (kill -9, two servers, the browser) stay in
//! `crates/wxmass/tests`.

mod across;
mod approval;
mod counts;
mod edits;
mod helpers;
mod input;
mod message;
mod notices;
mod operators;
mod origin;
mod people;
mod platform;
mod publishes;
mod scopes;
mod sign_ins;
mod testers;
mod walk;
