-- Free publishing's submissions and reports.
CREATE TABLE wxmass_publishes (
    appid TEXT NOT NULL, publish_id BIGINT NOT NULL, campaign TEXT, media_id TEXT,
    msg_data_id BIGINT, submitted_at BIGINT, status BIGINT, article_id TEXT,
    article_urls TEXT NOT NULL DEFAULT '[]', fail_idx TEXT NOT NULL DEFAULT '[]', event TEXT,
    reported_at BIGINT, conflicting_event TEXT, PRIMARY KEY (appid, publish_id));
