-- The server's users, API tokens, accounts (secrets sealed), audit log,
-- campaigns' lifecycle and saved openid lists.
CREATE TABLE accounts (
    appid TEXT PRIMARY KEY, name TEXT NOT NULL, account_type TEXT,
    sealed TEXT NOT NULL, api_base TEXT, created_at INTEGER NOT NULL);
CREATE TABLE users (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, role TEXT NOT NULL,
    password_hash TEXT NOT NULL, created_at INTEGER NOT NULL);
CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users (id), role TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE, label TEXT NOT NULL, created_at INTEGER NOT NULL);
CREATE TABLE audit (
    id INTEGER PRIMARY KEY, at INTEGER NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
    target TEXT NOT NULL, detail TEXT NOT NULL);
CREATE TABLE server_campaigns (
    id TEXT PRIMARY KEY, appid TEXT NOT NULL, name TEXT NOT NULL, content TEXT NOT NULL,
    audience TEXT NOT NULL, list TEXT, batch_size INTEGER, state TEXT NOT NULL, send_at INTEGER, created_by TEXT NOT NULL,
    approved_by TEXT, note TEXT NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
CREATE INDEX server_campaigns_state ON server_campaigns (state, send_at);
CREATE TABLE lists (
    name TEXT PRIMARY KEY, count INTEGER NOT NULL, distinct_count INTEGER NOT NULL,
    sha256 TEXT NOT NULL, created_by TEXT NOT NULL, created_at INTEGER NOT NULL, data BLOB NOT NULL);
