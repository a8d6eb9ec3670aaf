-- When the last request for a batch left. WeChat answers 45066, without the
-- job's msg_id, to a clientmsgid sent within the last minute: a batch it took
-- without naming the job is sent again for its name only once its minute has
-- passed since this time.
ALTER TABLE wxmass_batches ADD COLUMN last_sent_at BIGINT;
