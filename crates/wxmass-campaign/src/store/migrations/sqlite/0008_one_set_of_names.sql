-- One set of names on both backends: SQLite's tables take the `wxmass_` prefix
-- PostgreSQL's have had from the start (a PostgreSQL database may be shared
-- with other programs). Indexes are made again under the same names.
ALTER TABLE campaigns RENAME TO wxmass_campaigns;
ALTER TABLE batches RENAME TO wxmass_batches;
ALTER TABLE pushes RENAME TO wxmass_pushes;
ALTER TABLE push_conflicts RENAME TO wxmass_push_conflicts;
ALTER TABLE seen_requests RENAME TO wxmass_seen_requests;
ALTER TABLE media RENAME TO wxmass_media;
ALTER TABLE blobs RENAME TO wxmass_blobs;
ALTER TABLE pace RENAME TO wxmass_pace;
ALTER TABLE accounts RENAME TO wxmass_accounts;
ALTER TABLE users RENAME TO wxmass_users;
ALTER TABLE api_tokens RENAME TO wxmass_api_tokens;
ALTER TABLE audit RENAME TO wxmass_audit;
ALTER TABLE server_campaigns RENAME TO wxmass_server_campaigns;
ALTER TABLE lists RENAME TO wxmass_lists;
ALTER TABLE publishes RENAME TO wxmass_publishes;
ALTER TABLE read_points RENAME TO wxmass_read_points;
ALTER TABLE read_pulls RENAME TO wxmass_read_pulls;
ALTER TABLE sign_in_failures RENAME TO wxmass_sign_in_failures;
DROP INDEX seen_requests_expiry;
CREATE INDEX wxmass_seen_requests_expiry ON wxmass_seen_requests (expires_at);
DROP INDEX batches_msg_id;
CREATE INDEX wxmass_batches_msg_id ON wxmass_batches (msg_id);
DROP INDEX batches_submitted;
CREATE INDEX wxmass_batches_submitted ON wxmass_batches (submitted_at);
DROP INDEX server_campaigns_state;
CREATE INDEX wxmass_server_campaigns_state ON wxmass_server_campaigns (state, send_at);
DROP INDEX sign_in_failures_by_name;
CREATE INDEX wxmass_sign_in_failures_by_name ON wxmass_sign_in_failures (name, at);
DROP INDEX sign_in_failures_by_time;
CREATE INDEX wxmass_sign_in_failures_by_time ON wxmass_sign_in_failures (at);
