-- Failed sign-ins, counted for every server on the store.
CREATE TABLE wxmass_sign_in_failures (name TEXT NOT NULL, at BIGINT NOT NULL);
CREATE INDEX wxmass_sign_in_failures_by_name ON wxmass_sign_in_failures (name, at);
CREATE INDEX wxmass_sign_in_failures_by_time ON wxmass_sign_in_failures (at);
