//! Uploads to WeChat and the files campaigns send, by content, in SQLite.

use async_trait::async_trait;
use rusqlite::{OptionalExtension, params};

use super::SqliteStore;
use crate::beijing;
use crate::error::Result;
use crate::store::*;

#[async_trait]
impl MediaStore for SqliteStore {
    async fn media(
        &self,
        appid: &str,
        content_hash: &str,
        kind: &str,
        uploaded_after: i64,
    ) -> Result<Option<String>> {
        let conn = self.conn();
        Ok(conn
            .query_row(
                "SELECT media_id FROM wxmass_media
                 WHERE appid = ?1 AND content_hash = ?2 AND kind = ?3 AND uploaded_at > ?4",
                params![appid, content_hash, kind, uploaded_after],
                |r| r.get(0),
            )
            .optional()?)
    }

    async fn record_media(
        &self,
        appid: &str,
        content_hash: &str,
        kind: &str,
        media_id: &str,
        url: Option<&str>,
    ) -> Result<()> {
        let conn = self.conn();
        let at = beijing::now();
        conn.execute(
            "INSERT OR REPLACE INTO wxmass_media (appid, content_hash, kind, media_id, url, uploaded_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![appid, content_hash, kind, media_id, url, at],
        )?;
        Ok(())
    }
    async fn forget_media(&self, appid: &str, kind: &str, media_id: &str) -> Result<()> {
        let conn = self.conn();
        conn.execute(
            "DELETE FROM wxmass_media WHERE appid = ?1 AND kind = ?2 AND media_id = ?3",
            params![appid, kind, media_id],
        )?;
        Ok(())
    }

    /// Keeps `data` under its `sha256` ahead of any campaign (the server's
    /// uploads), once.
    async fn keep_blob(&self, sha256: &str, data: &[u8]) -> Result<()> {
        let conn = self.conn();
        conn.execute(
            "INSERT OR IGNORE INTO wxmass_blobs (sha256, data) VALUES (?1, ?2)",
            params![sha256, data],
        )?;
        Ok(())
    }

    /// The bytes kept for a file when its campaign was planned (or
    /// uploaded to the server).
    async fn delete_blob(&self, sha256: &str) -> Result<bool> {
        let conn = self.conn();
        let n = conn.execute("DELETE FROM wxmass_blobs WHERE sha256 = ?1", [sha256])?;
        Ok(n == 1)
    }

    async fn blobs_bytes(&self) -> Result<u64> {
        let conn = self.conn();
        let n: i64 = conn.query_row(
            "SELECT coalesce(sum(length(data)), 0) FROM wxmass_blobs",
            [],
            |r| r.get(0),
        )?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn blob(&self, sha256: &str) -> Result<Option<Vec<u8>>> {
        let conn = self.conn();
        Ok(conn
            .query_row(
                "SELECT data FROM wxmass_blobs WHERE sha256 = ?1",
                params![sha256],
                |r| r.get(0),
            )
            .optional()?)
    }
}
