-- Fan-out campaigns: a notice sent follower by follower keeps its recipients
-- in chunks of 1,000, a row each: the openids packed as a batch's are, and one
-- fixed-width record per recipient (state, channel, errcode, first attempt,
-- msgid, report: notices.rs). A million recipients are a thousand rows. Beside
-- them, how many recipients are in each state and how many were reported
-- delivered, so that a campaign's counts are a sum (planned + sending: what a
-- worker still has to do). A chunk is worked under a lease, as a batch is.
CREATE TABLE wxmass_recipient_chunks (
    campaign TEXT NOT NULL, idx INTEGER NOT NULL,
    planned INTEGER NOT NULL, sending INTEGER NOT NULL,
    sent INTEGER NOT NULL, failed INTEGER NOT NULL, unknown INTEGER NOT NULL,
    delivered INTEGER NOT NULL, lease_owner TEXT, lease_expires_at INTEGER,
    takeovers INTEGER NOT NULL DEFAULT 0, updated_at INTEGER NOT NULL,
    openids BLOB NOT NULL, records BLOB NOT NULL,
    PRIMARY KEY (campaign, idx));
-- The small columns come first: SQLite keeps a row's first bytes on its page
-- and the rest in overflow pages, so a claim that read the counts and lease
-- behind two blobs of 19 and 28 KB walked their overflow pages, row after
-- row. The chunks left to send, in order, for claims.
CREATE INDEX wxmass_recipient_chunks_pending ON wxmass_recipient_chunks (campaign, idx)
    WHERE planned + sending > 0;
-- TEMPLATESENDJOBFINISH reports, as the receiver got them, until they are
-- joined to their recipient (by msgid, or by follower and time when WeChat
-- gives MsgID 0) and folded into its record; then they are deleted, so that
-- a million recipients stay a thousand rows.
CREATE TABLE wxmass_notice_reports (
    appid TEXT NOT NULL, openid TEXT NOT NULL, msg_id INTEGER NOT NULL, created_at INTEGER NOT NULL,
    status INTEGER NOT NULL, received_at INTEGER NOT NULL,
    PRIMARY KEY (appid, openid, msg_id, created_at));
CREATE INDEX wxmass_notice_reports_received ON wxmass_notice_reports (received_at);
-- WeChat's limits on one-by-one APIs, shared by every worker of an account:
-- the calls made each Beijing day (with the daily limit and rate WeChat's
-- openapi/quota/get reported that day, asked once), and the calls made in
-- each period of that rate.
CREATE TABLE wxmass_api_days (
    appid TEXT NOT NULL, api TEXT NOT NULL, day INTEGER NOT NULL, used INTEGER NOT NULL,
    asked INTEGER NOT NULL DEFAULT 0, daily_limit INTEGER, rate_calls INTEGER, rate_seconds INTEGER,
    PRIMARY KEY (appid, api, day));
CREATE TABLE wxmass_api_periods (
    appid TEXT NOT NULL, api TEXT NOT NULL, period INTEGER NOT NULL, used INTEGER NOT NULL,
    PRIMARY KEY (appid, api, period));
-- What is known of reaching each follower of an account: from the receiver
-- (the last action that opened a customer-service window and its kind, unfollows
-- and follows) and from what was sent (WeChat refused the window: 45015, 45047;
-- the follower: 43004). A notice sent by customer service then a template goes
-- by customer service only to those whose window is known open.
CREATE TABLE wxmass_reach (
    appid TEXT NOT NULL, openid TEXT NOT NULL,
    window_opened_at INTEGER, window_kind INTEGER, window_closed_at INTEGER,
    unfollowed_at INTEGER, followed_at INTEGER,
    PRIMARY KEY (appid, openid));
