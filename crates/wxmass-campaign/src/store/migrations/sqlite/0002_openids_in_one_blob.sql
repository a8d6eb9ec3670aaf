-- A batch's openids in one blob on its row instead of a row each (a
-- million-follower list was 1M rows and 60 MB); the files a campaign sends kept
-- by content. The runner then rewrites each campaign's content in its typed
-- form (legacy::content), which SQL cannot do.
ALTER TABLE batches ADD COLUMN openids BLOB;
UPDATE batches SET openids = (
    SELECT CAST(X'00' || group_concat(m.openid, char(10) ORDER BY m.rowid) AS BLOB)
    FROM members m JOIN campaigns c ON c.rowid = m.cid
    WHERE c.id = batches.campaign AND m.idx = batches.idx)
WHERE EXISTS (SELECT 1 FROM campaigns c JOIN members m ON m.cid = c.rowid
              WHERE c.id = batches.campaign AND m.idx = batches.idx);
DROP TABLE members;
CREATE TABLE blobs (sha256 TEXT PRIMARY KEY, data BLOB NOT NULL);
CREATE INDEX batches_submitted ON batches (submitted_at);
