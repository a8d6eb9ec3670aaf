//! Saved openid lists: a list uploaded once under a name, kept in the store
//! (so that every server, on any host, plans from the same bytes), and
//! never changed: a campaign approved for a list sends to what was
//! approved. Checked ([`crate::OpenIdList::read`]) before it is saved.

use serde::Serialize;

/// A saved list, as shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SavedList {
    /// Its name.
    pub name: String,
    /// Lines (openids, repeats included).
    pub count: u64,
    /// Different openids.
    pub distinct: u64,
    /// Hex SHA-256 of its bytes.
    pub sha256: String,
    /// Who saved it.
    pub created_by: String,
    /// Unix seconds.
    pub created_at: i64,
}
