-- Nothing: PostgreSQL's tables have had the `wxmass_` prefix from 0001, and
-- SQLite's take it in this step.
SELECT 1;
