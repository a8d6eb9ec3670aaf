//! wxmass end to end: the binary driven as a user drives it, against the
//! emulator, real PostgreSQL and redis, and headless Chromium. These are the
//! tests that need a process (kill -9, two servers, a worker killed ten
//! times, the browser); the server's behaviour is tested in process in
//! `crates/wxmass-server/tests`. One binary, a module per area, so that
//! it is linked once.

mod common;

mod article;
mod cli;
mod crash;
mod dashboard;
mod demo_serve;
mod notices;
mod platform;
mod send;
mod serve_hardening;
mod server;
mod truth;
mod upgrade;
mod workers;
