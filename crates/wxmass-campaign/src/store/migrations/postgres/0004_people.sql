-- The server's users, API tokens, accounts (secrets sealed), audit log,
-- campaigns' lifecycle and saved openid lists.
CREATE TABLE wxmass_accounts (
    appid TEXT PRIMARY KEY, name TEXT NOT NULL, account_type TEXT,
    sealed TEXT NOT NULL, api_base TEXT, created_at BIGINT NOT NULL);
CREATE TABLE wxmass_users (
    id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL UNIQUE, role TEXT NOT NULL,
    password_hash TEXT NOT NULL, created_at BIGINT NOT NULL);
CREATE TABLE wxmass_api_tokens (
    id BIGSERIAL PRIMARY KEY, user_id BIGINT NOT NULL REFERENCES wxmass_users (id), role TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE, label TEXT NOT NULL, created_at BIGINT NOT NULL);
CREATE TABLE wxmass_audit (
    id BIGSERIAL PRIMARY KEY, at BIGINT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
    target TEXT NOT NULL, detail TEXT NOT NULL);
CREATE TABLE wxmass_server_campaigns (
    id TEXT PRIMARY KEY, appid TEXT NOT NULL, name TEXT NOT NULL, content TEXT NOT NULL,
    audience TEXT NOT NULL, list TEXT, batch_size BIGINT, state TEXT NOT NULL, send_at BIGINT, created_by TEXT NOT NULL,
    approved_by TEXT, note TEXT NOT NULL, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL);
CREATE INDEX wxmass_server_campaigns_state ON wxmass_server_campaigns (state, send_at);
CREATE TABLE wxmass_lists (
    name TEXT PRIMARY KEY, count BIGINT NOT NULL, distinct_count BIGINT NOT NULL,
    sha256 TEXT NOT NULL, created_by TEXT NOT NULL, created_at BIGINT NOT NULL, data BYTEA NOT NULL);
