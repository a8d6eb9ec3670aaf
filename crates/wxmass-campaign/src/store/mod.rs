//! The store: every table wxmass keeps, on SQLite or PostgreSQL.

pub mod migrations;
