-- Many workers, one delivery: a batch is claimed by a lease (owner and expiry)
-- before it is sent and says which worker recorded it and how often it was
-- taken over; a campaign keeps its prepared message (media ids) so that every
-- worker sends the same; the minute's sends per account are counted for
-- WeChat's pace.
ALTER TABLE campaigns ADD COLUMN message TEXT;
ALTER TABLE batches ADD COLUMN lease_owner TEXT;
ALTER TABLE batches ADD COLUMN lease_expires_at INTEGER;
ALTER TABLE batches ADD COLUMN sent_by TEXT;
ALTER TABLE batches ADD COLUMN takeovers INTEGER NOT NULL DEFAULT 0;
CREATE TABLE pace (appid TEXT NOT NULL, minute INTEGER NOT NULL, used INTEGER NOT NULL,
                   PRIMARY KEY (appid, minute));
