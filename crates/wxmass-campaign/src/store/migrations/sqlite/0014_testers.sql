-- Who may receive an account's test sends (mass/preview): an admin names them;
-- an editor's test send goes to them only, never to any openid or WeChat ID.
CREATE TABLE wxmass_testers (
    appid TEXT NOT NULL, kind TEXT NOT NULL, value TEXT NOT NULL,
    PRIMARY KEY (appid, kind, value));
