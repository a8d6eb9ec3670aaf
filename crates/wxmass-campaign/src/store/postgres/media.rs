//! Uploads to WeChat and the files campaigns send, by content, in PostgreSQL.

use async_trait::async_trait;

use super::PgStore;
use crate::beijing;
use crate::error::Result;
use crate::store::*;

#[async_trait]
impl MediaStore for PgStore {
    async fn media(
        &self,
        appid: &str,
        hash: &str,
        kind: &str,
        after: i64,
    ) -> Result<Option<String>> {
        Ok(self
            .with(async |c| {
                c.query_opt(
                    &c.prepare_cached(
                        "SELECT media_id FROM wxmass_media
                     WHERE appid = $1 AND content_hash = $2 AND kind = $3 AND uploaded_at > $4",
                    )
                    .await?,
                    &[&appid, &hash, &kind, &after],
                )
                .await
            })
            .await?
            .map(|r| r.get(0)))
    }
    async fn forget_media(&self, appid: &str, kind: &str, media_id: &str) -> Result<()> {
        self.with(async |c| {
            c.execute(
                &c.prepare_cached(
                    "DELETE FROM wxmass_media WHERE appid = $1 AND kind = $2 AND media_id = $3",
                )
                .await?,
                &[&appid, &kind, &media_id],
            )
            .await
        })
        .await?;
        Ok(())
    }
    async fn record_media(
        &self,
        appid: &str,
        hash: &str,
        kind: &str,
        media_id: &str,
        url: Option<&str>,
    ) -> Result<()> {
        let at = beijing::now();
        self.with(async |c| {
            c.execute(
                &c.prepare_cached("INSERT INTO wxmass_media (appid, content_hash, kind, media_id, url, uploaded_at)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (appid, content_hash, kind) DO UPDATE SET media_id = excluded.media_id,
                 url = excluded.url, uploaded_at = excluded.uploaded_at").await?,
                &[&appid, &hash, &kind, &media_id, &url, &at],
            )
            .await
        })
        .await?;
        Ok(())
    }
    async fn delete_blob(&self, sha256: &str) -> Result<bool> {
        let n = self
            .with(async |c| {
                c.execute(
                    &c.prepare_cached("DELETE FROM wxmass_blobs WHERE sha256 = $1")
                        .await?,
                    &[&sha256],
                )
                .await
            })
            .await?;
        Ok(n == 1)
    }

    async fn blobs_bytes(&self) -> Result<u64> {
        let row = self
            .with(async |c| {
                c.query_one(
                    &c.prepare_cached(
                        "SELECT coalesce(sum(octet_length(data)), 0)::BIGINT FROM wxmass_blobs",
                    )
                    .await?,
                    &[],
                )
                .await
            })
            .await?;
        Ok(u64::try_from(row.get::<_, i64>(0)).unwrap_or(0))
    }

    async fn blob(&self, sha256: &str) -> Result<Option<Vec<u8>>> {
        Ok(self
            .with(async |c| {
                c.query_opt(
                    &c.prepare_cached("SELECT data FROM wxmass_blobs WHERE sha256 = $1")
                        .await?,
                    &[&sha256],
                )
                .await
            })
            .await?
            .map(|r| r.get(0)))
    }
    async fn keep_blob(&self, sha256: &str, data: &[u8]) -> Result<()> {
        self.with(async |c| {
            c.execute(
                &c.prepare_cached("INSERT INTO wxmass_blobs (sha256, data) VALUES ($1, $2) ON CONFLICT DO NOTHING").await?,
                &[&sha256, &data],
            )
            .await
        })
        .await?;
        Ok(())
    }
}
