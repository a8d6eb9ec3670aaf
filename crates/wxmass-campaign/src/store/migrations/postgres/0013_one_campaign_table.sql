-- One campaign table. The campaigns the engine sent (from the CLI, workers or a
-- server) and the server's campaigns (drafted, approved, scheduled) were two
-- tables, so a campaign sent with the CLI never appeared in the server's list.
-- The server's columns join the engine's table: a server campaign already planned
-- becomes one row, a draft becomes a row not yet planned (planned_at NULL,
-- audience_size 0). A campaign sent with the CLI has no created_by: servers show
-- it and leave it alone; it is running until its last batch is submitted.
ALTER TABLE wxmass_campaigns ADD COLUMN name TEXT, ADD COLUMN list TEXT,
    ADD COLUMN batch_size BIGINT, ADD COLUMN state TEXT NOT NULL DEFAULT 'running',
    ADD COLUMN send_at BIGINT, ADD COLUMN created_by TEXT, ADD COLUMN approved_by TEXT,
    ADD COLUMN note TEXT NOT NULL DEFAULT '', ADD COLUMN updated_at BIGINT,
    ADD COLUMN planned_at BIGINT;
UPDATE wxmass_campaigns c SET name = id, send_at = created_at, updated_at = created_at,
    planned_at = created_at,
    state = CASE WHEN EXISTS (SELECT 1 FROM wxmass_batches b
                              WHERE b.campaign = c.id AND b.state != 'submitted')
                 THEN 'running' ELSE 'finished' END;
UPDATE wxmass_campaigns c SET name = s.name, list = s.list, batch_size = s.batch_size,
    state = s.state, send_at = s.send_at, created_by = s.created_by,
    approved_by = s.approved_by, note = s.note, created_at = s.created_at,
    updated_at = s.updated_at
FROM wxmass_server_campaigns s WHERE s.id = c.id;
INSERT INTO wxmass_campaigns (id, appid, content, audience_kind, tag_id, audience_size, created_at,
                              name, list, batch_size, state, send_at, created_by, approved_by, note,
                              updated_at)
    SELECT id, appid, content, audience::jsonb ->> 'kind', (audience::jsonb ->> 'tag_id')::bigint,
           0, created_at, name, list, batch_size, state, send_at, created_by, approved_by, note,
           updated_at
    FROM wxmass_server_campaigns s
    WHERE NOT EXISTS (SELECT 1 FROM wxmass_campaigns c WHERE c.id = s.id);
DROP TABLE wxmass_server_campaigns;
CREATE INDEX wxmass_campaigns_state ON wxmass_campaigns (state, send_at);
