-- Failed sign-ins, counted for every server on the store.
CREATE TABLE sign_in_failures (name TEXT NOT NULL, at INTEGER NOT NULL);
CREATE INDEX sign_in_failures_by_name ON sign_in_failures (name, at);
CREATE INDEX sign_in_failures_by_time ON sign_in_failures (at);
