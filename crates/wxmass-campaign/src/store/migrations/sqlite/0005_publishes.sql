-- Free publishing's submissions and reports.
CREATE TABLE publishes (
    appid TEXT NOT NULL, publish_id INTEGER NOT NULL, campaign TEXT, media_id TEXT,
    msg_data_id INTEGER, submitted_at INTEGER, status INTEGER, article_id TEXT,
    article_urls TEXT NOT NULL DEFAULT '[]', fail_idx TEXT NOT NULL DEFAULT '[]', event TEXT,
    reported_at INTEGER, conflicting_event TEXT, PRIMARY KEY (appid, publish_id));
