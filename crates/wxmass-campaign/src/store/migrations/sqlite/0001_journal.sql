-- The journal: campaigns, batches, reports keyed by (appid, msg_id), uploads, and
-- the replay guard's requests. The first release (user_version 0) made the
-- `IF NOT EXISTS` tables without numbering them; this step adopts them.
CREATE TABLE IF NOT EXISTS campaigns (
    id TEXT PRIMARY KEY, appid TEXT NOT NULL, content TEXT NOT NULL,
    audience_kind TEXT NOT NULL, tag_id INTEGER, audience_size INTEGER NOT NULL,
    created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS batches (
    campaign TEXT NOT NULL, idx INTEGER NOT NULL, clientmsgid TEXT NOT NULL,
    size INTEGER NOT NULL, state TEXT NOT NULL, msg_id INTEGER, msg_data_id INTEGER,
    status TEXT, submitted_at INTEGER, updated_at INTEGER NOT NULL,
    PRIMARY KEY (campaign, idx));
CREATE TABLE IF NOT EXISTS members (
    cid INTEGER NOT NULL, idx INTEGER NOT NULL, openid TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS members_batch ON members (cid, idx);
CREATE TABLE IF NOT EXISTS pushes (
    msg_id INTEGER PRIMARY KEY, status TEXT NOT NULL, total_count INTEGER NOT NULL,
    filter_count INTEGER NOT NULL, sent_count INTEGER NOT NULL, error_count INTEGER NOT NULL,
    check_state INTEGER, article_urls TEXT NOT NULL, event TEXT NOT NULL, received_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS media (
    content_hash TEXT NOT NULL, kind TEXT NOT NULL, media_id TEXT NOT NULL,
    url TEXT, uploaded_at INTEGER NOT NULL, PRIMARY KEY (content_hash, kind));
CREATE TABLE reports (
    appid TEXT NOT NULL, msg_id INTEGER NOT NULL, status TEXT NOT NULL,
    total_count INTEGER NOT NULL, filter_count INTEGER NOT NULL, sent_count INTEGER NOT NULL,
    error_count INTEGER NOT NULL, check_state INTEGER, article_urls TEXT NOT NULL,
    event TEXT NOT NULL, received_at INTEGER NOT NULL, PRIMARY KEY (appid, msg_id));
-- Old reports belong to the account of the campaign that sent the job.
INSERT INTO reports
    SELECT COALESCE((SELECT c.appid FROM batches b JOIN campaigns c ON c.id = b.campaign
                     WHERE b.msg_id = p.msg_id LIMIT 1), ''),
           p.msg_id, p.status, p.total_count, p.filter_count, p.sent_count, p.error_count,
           p.check_state, p.article_urls, p.event, p.received_at
    FROM pushes p;
DROP TABLE pushes;
ALTER TABLE reports RENAME TO pushes;
CREATE TABLE push_conflicts (
    appid TEXT NOT NULL, msg_id INTEGER NOT NULL, event TEXT NOT NULL, received_at INTEGER NOT NULL);
CREATE TABLE seen_requests (
    timestamp INTEGER NOT NULL, nonce TEXT NOT NULL, content BLOB NOT NULL,
    expires_at INTEGER NOT NULL, PRIMARY KEY (timestamp, nonce)) WITHOUT ROWID;
CREATE INDEX seen_requests_expiry ON seen_requests (expires_at);
CREATE INDEX batches_msg_id ON batches (msg_id);
