-- Failed sign-ins keep the address they came from: the server limits each
-- address, and each name from each address, instead of every sign-in at
-- once (a stranger failing for many names locked everyone out).
ALTER TABLE wxmass_sign_in_failures ADD COLUMN address TEXT NOT NULL DEFAULT '';
CREATE INDEX wxmass_sign_in_failures_by_address ON wxmass_sign_in_failures (address, at);
