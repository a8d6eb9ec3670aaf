-- A campaign across accounts: one approval and one schedule, sent to each
-- account as a part of its own (an ordinary campaign of that account, with
-- its quota, leases and reports). accounts: on the campaign across
-- accounts, the set it names as JSON ({"kind": "listed", "appids": [...]}
-- or {"kind": "tagged", "tag": ...}); its appid is ''. part_of: on each
-- part, the campaign it is part of. The parts are written together, in the
-- transaction that marks the campaign planned, so one server makes them.
ALTER TABLE wxmass_campaigns ADD COLUMN accounts TEXT;
ALTER TABLE wxmass_campaigns ADD COLUMN part_of TEXT;
CREATE INDEX wxmass_campaigns_part_of ON wxmass_campaigns (part_of) WHERE part_of IS NOT NULL;
-- Tags an admin gives accounts ("brand-east"), for campaigns to every
-- authorised account with a tag.
CREATE TABLE wxmass_account_tags (
    appid TEXT NOT NULL, tag TEXT NOT NULL,
    PRIMARY KEY (appid, tag));
