-- A user an admin disabled (Unix seconds): it cannot sign in, and its
-- tokens and sessions were ended when it was.
ALTER TABLE wxmass_users ADD COLUMN disabled_at BIGINT;
