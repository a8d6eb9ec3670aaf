//! Failed sign-ins, kept in the store so that every server on it counts
//! the same ones: behind a load balancer, a name gets its few tries in
//! all, not a few per instance. The server decides how many are too many
//! (and for how long); this module keeps the times.
//!
//! Each failure keeps the address it came from. Names are kept as given
//! (the server folds their case first). Rows older
//! than the window the server asks about are removed as failures are
//! added, so the table holds at most one window's worth.

/// Failed sign-ins since a time, as the server's limits count them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SignInFailures {
    /// The name's failures, from any address.
    pub name: u64,
    /// The name's failures from this address.
    pub name_here: u64,
    /// The oldest of those (Unix seconds), if any.
    pub name_here_oldest: Option<i64>,
    /// This address's failures, for any name.
    pub here: u64,
    /// The oldest of those, if any.
    pub here_oldest: Option<i64>,
}
