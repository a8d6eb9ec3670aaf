-- The journal as PostgreSQL first had it: campaigns, batches (openids in one
-- blob, leases), reports, uploads, blobs and the minute's pace, all at once.
-- Made under an advisory lock held until it commits.
CREATE TABLE wxmass_campaigns (
    id TEXT PRIMARY KEY, appid TEXT NOT NULL, content TEXT NOT NULL,
    audience_kind TEXT NOT NULL, tag_id BIGINT, audience_size BIGINT NOT NULL,
    created_at BIGINT NOT NULL, message TEXT);
CREATE TABLE wxmass_batches (
    campaign TEXT NOT NULL REFERENCES wxmass_campaigns (id), idx INTEGER NOT NULL,
    clientmsgid TEXT NOT NULL, size BIGINT NOT NULL, state TEXT NOT NULL,
    msg_id BIGINT, msg_data_id BIGINT, status TEXT, submitted_at BIGINT,
    updated_at BIGINT NOT NULL, openids BYTEA, lease_owner TEXT, lease_expires_at BIGINT,
    sent_by TEXT, takeovers INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (campaign, idx));
CREATE INDEX wxmass_batches_msg_id ON wxmass_batches (msg_id);
CREATE INDEX wxmass_batches_submitted ON wxmass_batches (submitted_at);
CREATE TABLE wxmass_pushes (
    appid TEXT NOT NULL, msg_id BIGINT NOT NULL, status TEXT NOT NULL,
    total_count BIGINT NOT NULL, filter_count BIGINT NOT NULL, sent_count BIGINT NOT NULL,
    error_count BIGINT NOT NULL, check_state BIGINT, article_urls TEXT NOT NULL,
    event TEXT NOT NULL, received_at BIGINT NOT NULL, PRIMARY KEY (appid, msg_id));
CREATE TABLE wxmass_media (
    content_hash TEXT NOT NULL, kind TEXT NOT NULL, media_id TEXT NOT NULL,
    url TEXT, uploaded_at BIGINT NOT NULL, PRIMARY KEY (content_hash, kind));
CREATE TABLE wxmass_blobs (sha256 TEXT PRIMARY KEY, data BYTEA NOT NULL);
CREATE TABLE wxmass_pace (appid TEXT NOT NULL, minute BIGINT NOT NULL, used INTEGER NOT NULL,
    PRIMARY KEY (appid, minute));
