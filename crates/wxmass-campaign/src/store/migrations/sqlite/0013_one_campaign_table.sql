-- One campaign table. The campaigns the engine sent (from the CLI, workers or a
-- server) and the server's campaigns (drafted, approved, scheduled) were two
-- tables, so a campaign sent with the CLI never appeared in the server's list.
-- The server's columns join the engine's table: a server campaign already planned
-- becomes one row, a draft becomes a row not yet planned (planned_at NULL,
-- audience_size 0). A campaign sent with the CLI has no created_by: servers show
-- it and leave it alone; it is running until its last batch is submitted.
ALTER TABLE wxmass_campaigns ADD COLUMN name TEXT;
ALTER TABLE wxmass_campaigns ADD COLUMN list TEXT;
ALTER TABLE wxmass_campaigns ADD COLUMN batch_size INTEGER;
ALTER TABLE wxmass_campaigns ADD COLUMN state TEXT NOT NULL DEFAULT 'running';
ALTER TABLE wxmass_campaigns ADD COLUMN send_at INTEGER;
ALTER TABLE wxmass_campaigns ADD COLUMN created_by TEXT;
ALTER TABLE wxmass_campaigns ADD COLUMN approved_by TEXT;
ALTER TABLE wxmass_campaigns ADD COLUMN note TEXT NOT NULL DEFAULT '';
ALTER TABLE wxmass_campaigns ADD COLUMN updated_at INTEGER;
ALTER TABLE wxmass_campaigns ADD COLUMN planned_at INTEGER;
UPDATE wxmass_campaigns SET name = id, send_at = created_at, updated_at = created_at,
    planned_at = created_at,
    state = CASE WHEN EXISTS (SELECT 1 FROM wxmass_batches b
                              WHERE b.campaign = wxmass_campaigns.id AND b.state != 'submitted')
                 THEN 'running' ELSE 'finished' END;
UPDATE wxmass_campaigns SET (name, list, batch_size, state, send_at, created_by, approved_by, note,
                             created_at, updated_at) =
    (SELECT s.name, s.list, s.batch_size, s.state, s.send_at, s.created_by, s.approved_by, s.note,
            s.created_at, s.updated_at
     FROM wxmass_server_campaigns s WHERE s.id = wxmass_campaigns.id)
WHERE id IN (SELECT id FROM wxmass_server_campaigns);
INSERT INTO wxmass_campaigns (id, appid, content, audience_kind, tag_id, audience_size, created_at,
                              name, list, batch_size, state, send_at, created_by, approved_by, note,
                              updated_at)
    SELECT id, appid, content, json_extract(audience, '$.kind'), json_extract(audience, '$.tag_id'),
           0, created_at, name, list, batch_size, state, send_at, created_by, approved_by, note,
           updated_at
    FROM wxmass_server_campaigns WHERE id NOT IN (SELECT id FROM wxmass_campaigns);
DROP TABLE wxmass_server_campaigns;
CREATE INDEX wxmass_campaigns_state ON wxmass_campaigns (state, send_at);
