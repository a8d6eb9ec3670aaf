-- Accounts a third-party platform acts for: they authorised it with a scan
-- instead of giving their AppSecret. platform: the component appid;
-- permission_sets: the sets granted, comma-separated ids; user_name: the
-- original id (gh_...) its pushes carry; withdrawn_at: Unix seconds of an
-- `unauthorized` push (the account is then disabled and its history kept).
-- Their sealed secrets hold the refresh token.
ALTER TABLE wxmass_accounts ADD COLUMN platform TEXT;
ALTER TABLE wxmass_accounts ADD COLUMN permission_sets TEXT;
ALTER TABLE wxmass_accounts ADD COLUMN user_name TEXT;
ALTER TABLE wxmass_accounts ADD COLUMN withdrawn_at INTEGER;
-- Each authorization code is exchanged once across every server: the one
-- that claims it here (the authorized push and the browser's redirect both
-- carry it; a second exchange may spoil the tokens).
CREATE TABLE wxmass_authorization_codes (
    code TEXT PRIMARY KEY, appid TEXT NOT NULL, claimed_at INTEGER NOT NULL);
