//! Failed sign-ins, kept in the store so that every server on it counts
//! the same ones: behind a load balancer, a name gets its few tries in
//! all, not a few per instance. The server decides how many are too many
//! (and for how long); this module keeps the times.
//!
//! Names are kept as given (the server folds their case first). Rows older
//! than the window the server asks about are removed as failures are
//! added, so the table holds at most one window's worth.

/// Failed sign-ins since a time: for one name, and for every name.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SignInFailures {
    /// The name's failures.
    pub name: u64,
    /// The oldest of them (Unix seconds), if any.
    pub name_oldest: Option<i64>,
    /// Every name's failures.
    pub all: u64,
    /// The oldest of those, if any.
    pub all_oldest: Option<i64>,
}
