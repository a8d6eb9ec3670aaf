-- Nothing: PostgreSQL kept a batch's openids in one blob from 0001.
SELECT 1;
