-- What `wxmass serve` keeps, so that a receiver records into the database its
-- workers share: requests for the replay guard, and reports that contradict
-- the first one for their job. (Leases and pace came with 0001 here.)
CREATE TABLE wxmass_seen_requests (
    timestamp BIGINT NOT NULL, nonce TEXT NOT NULL, content BYTEA NOT NULL,
    expires_at BIGINT NOT NULL, PRIMARY KEY (timestamp, nonce));
CREATE INDEX wxmass_seen_requests_expiry ON wxmass_seen_requests (expires_at);
CREATE TABLE wxmass_push_conflicts (
    appid TEXT NOT NULL, msg_id BIGINT NOT NULL, event TEXT NOT NULL, received_at BIGINT NOT NULL);
