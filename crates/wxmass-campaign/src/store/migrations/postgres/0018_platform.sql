-- Accounts a third-party platform acts for: they authorised it with a scan
-- instead of giving their AppSecret. platform: the component appid;
-- permission_sets: the sets granted, comma-separated ids; user_name: the
-- original id (gh_...) its pushes carry; withdrawn_at: Unix seconds of an
-- `unauthorized` push (the account is then disabled and its history kept).
-- Their sealed secrets hold the refresh token.
ALTER TABLE wxmass_accounts ADD COLUMN platform TEXT;
ALTER TABLE wxmass_accounts ADD COLUMN permission_sets TEXT;
ALTER TABLE wxmass_accounts ADD COLUMN user_name TEXT;
ALTER TABLE wxmass_accounts ADD COLUMN withdrawn_at BIGINT;
-- Each authorization code is exchanged once across every server: the one
-- that claims it here (the authorized push and the browser's redirect both
-- carry it; a second exchange may spoil the tokens).
CREATE TABLE wxmass_authorization_codes (
    code TEXT PRIMARY KEY, appid TEXT NOT NULL, claimed_at BIGINT NOT NULL);
-- The account a request was for, so that an account's receiver, made on
-- its first push, reads its own requests of the last minutes and not
-- every account's (a platform acts for thousands). Earlier rows: NULL,
-- read by every account's receiver as before. No index on it: the window
-- is found by expires_at, and an index on (appid, ...) cost a quarter of
-- the pushes/s when a thousand accounts' pushes come round (each insert
-- a page of its own: bench/platform.sh, 0.74 of one account's rate with
-- it, 0.93 without).
ALTER TABLE wxmass_seen_requests ADD COLUMN appid TEXT;
