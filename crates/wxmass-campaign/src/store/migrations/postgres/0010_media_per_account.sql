-- Uploads belong to one account: WeChat knows a media id only for the
-- account that uploaded it (another answers 40007). Kept per AppID from
-- here on. What was kept before is kept for the store's one account, when
-- its campaigns name only one; else each account uploads again, once.
CREATE TABLE wxmass_media_per_account (
    appid TEXT NOT NULL, content_hash TEXT NOT NULL, kind TEXT NOT NULL, media_id TEXT NOT NULL,
    url TEXT, uploaded_at BIGINT NOT NULL, PRIMARY KEY (appid, content_hash, kind));
INSERT INTO wxmass_media_per_account
    SELECT (SELECT MIN(appid) FROM wxmass_campaigns), m.content_hash, m.kind, m.media_id, m.url, m.uploaded_at
    FROM wxmass_media m
    WHERE (SELECT COUNT(DISTINCT appid) FROM wxmass_campaigns) = 1;
DROP TABLE wxmass_media;
ALTER TABLE wxmass_media_per_account RENAME TO wxmass_media;
