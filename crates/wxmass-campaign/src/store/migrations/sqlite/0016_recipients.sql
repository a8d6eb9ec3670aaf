-- Fan-out campaigns: a notice sent follower by follower keeps its recipients
-- in chunks of 1,000, a row each: the openids packed as a batch's are, and one
-- fixed-width record per recipient (state, channel, errcode, first attempt,
-- msgid: notices.rs). A million recipients are a thousand rows. Beside them,
-- how many recipients are in each state, so that a campaign's counts are a sum
-- (planned + sending: what a worker still has to do). A chunk is worked under
-- a lease, as a batch is.
CREATE TABLE wxmass_recipient_chunks (
    campaign TEXT NOT NULL, idx INTEGER NOT NULL, openids BLOB NOT NULL, records BLOB NOT NULL,
    planned INTEGER NOT NULL, sending INTEGER NOT NULL,
    sent INTEGER NOT NULL, failed INTEGER NOT NULL, unknown INTEGER NOT NULL, lease_owner TEXT, lease_expires_at INTEGER,
    takeovers INTEGER NOT NULL DEFAULT 0, updated_at INTEGER NOT NULL,
    PRIMARY KEY (campaign, idx));
