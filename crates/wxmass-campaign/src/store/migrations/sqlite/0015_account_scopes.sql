-- Users and API tokens scoped to some accounts: a row names the accounts
-- (a JSON list of AppIDs) a user, or a token, sees and acts on; no row:
-- every account. A token's scope narrows its user's, never widens it.
CREATE TABLE wxmass_scopes (
    kind TEXT NOT NULL, owner INTEGER NOT NULL, accounts TEXT NOT NULL,
    PRIMARY KEY (kind, owner));
