-- A follower's consent to an account's subscription notice template, as last
-- learnt: from the receiver (a pop-up's accept or reject, a withdrawal in their
-- settings) or from a send WeChat refused for want of one (43101). A notice by
-- subscription then a later channel skips the subscription where it is known
-- withheld. granted: 1 or 0; at: Unix seconds of what was learnt.
CREATE TABLE wxmass_consents (
    appid TEXT NOT NULL, openid TEXT NOT NULL, template_id TEXT NOT NULL,
    granted INTEGER NOT NULL, at INTEGER NOT NULL,
    PRIMARY KEY (appid, openid, template_id));
